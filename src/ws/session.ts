import { AppError, badRequest, forbidden } from '../errors/app-error';
import { MAX_GROUPS_PER_CONNECTION } from '../names/names';
import { hasRole, mayJoin } from '../auth/token';
import type { Connection } from '../connections/connection';
import type { ConnectionStore } from '../connections/store';
import type { FrameFactory, ServerFrame } from '../push/frames';
import type { Clock } from '../ports/clock';
import { TASK_REGISTRY, type TaskRegistry } from '../tasks/registry';
import { OBSERVER_CLIENT_TYPE } from '../tasks/updates';
import type { ClientFrame } from './client-frames';
import { submitFromConnection, type WsSubmitPorts } from './submit';

/**
 * Client types that receive other users' task updates or run work: the observer of every
 * task (`http`) and each task type's `workerClientType`. Only tokens with the `worker` or
 * `admin` role may register as one.
 */
export const privilegedClientTypes = (types: Pick<TaskRegistry, 'workerClientTypes'>): string[] => [
  OBSERVER_CLIENT_TYPE,
  ...types.workerClientTypes,
];

/** The privileged client types of the shipped task types (`http`, `download`, `logic`). */
export const PRIVILEGED_CLIENT_TYPES: readonly string[] = privilegedClientTypes(TASK_REGISTRY);

/** What the session operations need. */
export interface SessionPorts {
  readonly store: ConnectionStore;
  readonly frames: FrameFactory;
  readonly clock: Clock;
  /** Default PRIVILEGED_CLIENT_TYPES; a deployment with other task types passes its own. */
  readonly privilegedClientTypes?: readonly string[];
  /** Task submission; without it `submit` is answered `unknown_action`. */
  readonly submit?: Omit<WsSubmitPorts, 'frames'>;
}

async function connectionOf(store: ConnectionStore, connectionId: string): Promise<Connection> {
  const conn = await store.get(connectionId);
  if (!conn) throw new AppError('not_found', 'connection is not registered; reconnect');
  return conn;
}

function checkGroups(conn: Connection, groups: readonly string[]): void {
  const denied = groups.find((g) => !mayJoin({ groups: conn.allowedGroups }, g));
  if (denied !== undefined) throw forbidden(`your token does not allow group "${denied}"`);
}

/** Refuses a change that would put the connection in more than the allowed number of groups. */
function checkGroupCount(conn: Connection, adding: readonly string[]): void {
  const total = new Set([...conn.groups, ...adding]).size;
  if (total > MAX_GROUPS_PER_CONNECTION) {
    throw badRequest(`a connection may be in at most ${MAX_GROUPS_PER_CONNECTION} groups`);
  }
}

const withRequestId = (requestId: string | undefined) => (requestId ? { requestId } : {});

/**
 * Applies one validated client frame for a connection and returns the reply frame (undefined
 * when the reply was already sent). Every permission check happens before any write, so a
 * refused frame changes nothing.
 * @throws AppError `forbidden` (role or group not allowed) or `not_found` (connection gone).
 */
export async function handleClientFrame(
  ports: SessionPorts,
  connectionId: string,
  frame: ClientFrame,
): Promise<ServerFrame | undefined> {
  // Every frame (a `ping` heartbeat above all) shows the client is alive: it moves the record's
  // last-seen deadline out (one write per refresh interval at most). Best-effort: the sweep asks
  // GetConnection before it deletes anything, so a lost refresh costs one check, never a record.
  const refreshed = ports.store.touch(connectionId).catch(() => false);
  const [answer] = await Promise.all([applyFrame(ports, connectionId, frame), refreshed]);
  return answer;
}

async function applyFrame(
  ports: SessionPorts,
  connectionId: string,
  frame: ClientFrame,
): Promise<ServerFrame | undefined> {
  const { store, frames } = ports;
  switch (frame.action) {
    case 'ping':
      return frames.make('pong', {
        ts: ports.clock.now().getTime(),
        ...withRequestId(frame.requestId),
      });
    case 'register': {
      const conn = await connectionOf(store, connectionId);
      const privileged = (ports.privilegedClientTypes ?? PRIVILEGED_CLIENT_TYPES).includes(
        frame.clientType,
      );
      if (privileged && !hasRole(conn, 'worker') && !hasRole(conn, 'admin')) {
        throw forbidden(`clientType "${frame.clientType}" needs the worker or admin role`);
      }
      const groups = [...new Set(frame.groups ?? [])];
      checkGroups(conn, groups);
      checkGroupCount(conn, groups);
      const updated = await store.register(connectionId, frame.clientType, groups);
      return frames.make('registered', {
        connectionId,
        userId: updated.userId,
        clientType: frame.clientType,
        groups: updated.groups,
        ...withRequestId(frame.requestId),
      });
    }
    case 'join': {
      const conn = await connectionOf(store, connectionId);
      checkGroups(conn, [frame.group]);
      checkGroupCount(conn, [frame.group]);
      await store.join(connectionId, frame.group);
      return frames.make('joined', { group: frame.group, ...withRequestId(frame.requestId) });
    }
    case 'submit': {
      if (!ports.submit) throw new AppError('unknown_action', 'this endpoint does not take tasks');
      const conn = await connectionOf(store, connectionId);
      return submitFromConnection({ ...ports.submit, frames }, conn, frame);
    }
    case 'leave': {
      await store.leave(connectionId, frame.group);
      return frames.make('left', { group: frame.group, ...withRequestId(frame.requestId) });
    }
  }
}
