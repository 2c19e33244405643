import type { Audience } from '../../../src/connections/audience';
import type { Connection, ConnectionSummary } from '../../../src/connections/connection';
import type { ConnectionStore, NewConnection } from '../../../src/connections/store';
import { AppError } from '../../../src/errors/app-error';
import type { Clock } from '../../../src/ports/clock';
import type { Log } from '../../../src/ports/log';

/** One log call as a {@link RecordingLog} saw it. */
export interface LogEntry {
  readonly level: 'debug' | 'info' | 'warn' | 'error';
  readonly message: string;
  readonly attributes: Record<string, unknown>[];
}

/** A log that keeps every entry so a test can look at what was logged. */
export class RecordingLog implements Log {
  public readonly entries: LogEntry[] = [];

  public debug(message: string, ...attributes: Record<string, unknown>[]): void {
    this.entries.push({ level: 'debug', message, attributes });
  }

  public info(message: string, ...attributes: Record<string, unknown>[]): void {
    this.entries.push({ level: 'info', message, attributes });
  }

  public warn(message: string, ...attributes: Record<string, unknown>[]): void {
    this.entries.push({ level: 'warn', message, attributes });
  }

  public error(message: string, ...attributes: Record<string, unknown>[]): void {
    this.entries.push({ level: 'error', message, attributes });
  }

  public at(level: LogEntry['level']): LogEntry[] {
    return this.entries.filter((e) => e.level === level);
  }
}

/** A clock a test moves by hand. */
export class ManualClock implements Clock {
  public constructor(private current: Date) {}

  public now(): Date {
    return new Date(this.current.getTime());
  }

  public set(d: Date): void {
    this.current = d;
  }

  public advanceSeconds(seconds: number): void {
    this.current = new Date(this.current.getTime() + seconds * 1000);
  }
}

/** Options of {@link MemoryConnectionStore}. */
export interface MemoryStoreOptions {
  /** Ids per recipients page (default 100). */
  readonly pageSize?: number;
}

/**
 * An in-memory ConnectionStore, good enough for tests of code that uses the port. Records never
 * expire; `removed` lists every id passed to `remove`.
 */
export class MemoryConnectionStore implements ConnectionStore {
  public readonly connections = new Map<string, Connection>();
  public readonly removed: string[] = [];
  private readonly pageSize: number;

  public constructor(options: MemoryStoreOptions = {}) {
    this.pageSize = options.pageSize ?? 100;
  }

  /** Seeds a connection directly. */
  public seed(c: Partial<Connection> & Pick<Connection, 'connectionId' | 'userId'>): Connection {
    const conn: Connection = {
      roles: ['client'],
      allowedGroups: [],
      groups: [],
      connectedAt: '2024-01-01T00:00:00.000Z',
      expiresAt: 4_000_000_000,
      ...c,
    };
    this.connections.set(conn.connectionId, conn);
    return conn;
  }

  public async add(c: NewConnection): Promise<Connection> {
    const conn: Connection = {
      ...c,
      groups: [],
      expiresAt: Math.floor(Date.parse(c.connectedAt) / 1000) + 8400,
    };
    this.connections.set(c.connectionId, conn);
    return conn;
  }

  public async get(connectionId: string): Promise<Connection | undefined> {
    return this.connections.get(connectionId);
  }

  private mustGet(connectionId: string): Connection {
    const conn = this.connections.get(connectionId);
    if (!conn) throw new AppError('not_found', 'connection is gone');
    return conn;
  }

  public async register(
    connectionId: string,
    clientType: string,
    groups: readonly string[],
  ): Promise<Connection> {
    const conn = this.mustGet(connectionId);
    const next: Connection = {
      ...conn,
      clientType,
      groups: [...new Set([...conn.groups, ...groups])].sort(),
    };
    this.connections.set(connectionId, next);
    return next;
  }

  public async join(connectionId: string, group: string): Promise<Connection> {
    const conn = this.mustGet(connectionId);
    const next: Connection = { ...conn, groups: [...new Set([...conn.groups, group])].sort() };
    this.connections.set(connectionId, next);
    return next;
  }

  public async leave(connectionId: string, group: string): Promise<Connection> {
    const conn = this.mustGet(connectionId);
    const next: Connection = { ...conn, groups: conn.groups.filter((g) => g !== group) };
    this.connections.set(connectionId, next);
    return next;
  }

  /** Options of remove, as the pusher passed them. */
  public readonly removeOptions: (
    { readonly unlessConnectedWithinSeconds?: number } | undefined
  )[] = [];

  public async remove(
    connectionId: string,
    options?: { readonly unlessConnectedWithinSeconds?: number },
  ): Promise<number> {
    this.removed.push(connectionId);
    this.removeOptions.push(options);
    return this.connections.delete(connectionId) ? 1 : 0;
  }

  private matches(c: Connection, a: Audience): boolean {
    switch (a.kind) {
      case 'connection':
        return c.connectionId === a.connectionId;
      case 'user':
        return c.userId === a.userId;
      case 'group':
        return c.groups.includes(a.group);
      case 'clientType':
        return c.clientType === a.clientType;
      case 'all':
        return true;
    }
  }

  public async *recipients(audience: Audience): AsyncIterable<readonly string[]> {
    const ids = [...this.connections.values()]
      .filter((c) => this.matches(c, audience))
      .map((c) => c.connectionId);
    for (let i = 0; i < ids.length; i += this.pageSize) yield ids.slice(i, i + this.pageSize);
  }

  public async listUser(userId: string): Promise<ConnectionSummary[]> {
    return [...this.connections.values()]
      .filter((c) => c.userId === userId)
      .map((c) => ({
        connectionId: c.connectionId,
        connectedAt: c.connectedAt,
        ...(c.clientType === undefined ? {} : { clientType: c.clientType }),
      }));
  }

  /** Ids passed to `touch`, in order (each call, written or not). */
  public readonly touched: string[] = [];

  public async touch(connectionId: string): Promise<boolean> {
    this.touched.push(connectionId);
    return this.connections.has(connectionId);
  }

  public async *staleRecords(): AsyncIterable<
    readonly { connectionId: string; expired: boolean }[]
  > {
    const all = [...this.connections.values()].map((c) => ({
      connectionId: c.connectionId,
      expired: false,
    }));
    if (all.length > 0) yield all;
  }

  public async countByClientType(): Promise<Record<string, number>> {
    const counts: Record<string, number> = {};
    for (const c of this.connections.values()) {
      const t = c.clientType ?? 'unregistered';
      counts[t] = (counts[t] ?? 0) + 1;
    }
    return counts;
  }
}

/** Pages of ids as an async source (what ConnectionStore.recipients yields). */
export async function* pagesOf(...pages: (readonly string[])[]): AsyncIterable<readonly string[]> {
  for (const page of pages) yield page;
}
