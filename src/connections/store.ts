import type { Audience } from './audience';
import type { Connection, ConnectionSummary } from './connection';

/** What $connect knows about a new connection. */
export type NewConnection = Pick<
  Connection,
  'connectionId' | 'userId' | 'roles' | 'allowedGroups' | 'connectedAt'
>;

/** A record the sweep must check: past its last-seen deadline, or expired outright. */
export interface StaleRecord {
  readonly connectionId: string;
  /** Past expiresAt: API Gateway has closed it (2-hour limit); no check needed. */
  readonly expired: boolean;
}

/**
 * The port through which the domain reads and writes who is connected. The DynamoDB adapter
 * is {@link DynamoConnectionStore}; tests may pass any other implementation.
 */
export interface ConnectionStore {
  /** Records a new connection (idempotent: a repeated $connect overwrites the same record). */
  add(connection: NewConnection): Promise<Connection>;
  /** The connection, or undefined when unknown or expired. */
  get(connectionId: string): Promise<Connection | undefined>;
  /**
   * Sets the connection's clientType and joins the given groups.
   * @throws AppError `not_found` when the connection is gone.
   */
  register(
    connectionId: string,
    clientType: string,
    groups: readonly string[],
  ): Promise<Connection>;
  /** Adds the connection to a group. @throws AppError `not_found` when the connection is gone. */
  join(connectionId: string, group: string): Promise<Connection>;
  /** Removes the connection from a group (a no-op when it was not a member). */
  leave(connectionId: string, group: string): Promise<Connection>;
  /**
   * Deletes every record of the connection; returns how many items went (0 when nothing was
   * deleted). With `unlessConnectedWithinSeconds`, a connection that opened more recently than
   * that and has not registered yet is left alone: it may still be in its `$connect`, when API
   * Gateway answers a post to it with 410 although it is about to be live. (A registered one has
   * sent a frame, so its `$connect` has returned.)
   */
  remove(
    connectionId: string,
    options?: { readonly unlessConnectedWithinSeconds?: number },
  ): Promise<number>;
  /**
   * The live connection ids of an audience, a page at a time, read with Query only. Expired
   * records are skipped.
   */
  recipients(audience: Audience): AsyncIterable<readonly string[]>;
  /** The live connections of a user (presence); records past their last-seen deadline are left out. */
  listUser(userId: string): Promise<ConnectionSummary[]>;
  /**
   * Records that the client was heard from now: moves the record's last-seen deadline out. It
   * writes at most once per refresh interval per connection (per process) unless `force` (the
   * sweep, after GetConnection found the connection alive); a gone connection is a no-op.
   * @returns whether it wrote.
   */
  touch(connectionId: string, options?: { readonly force?: boolean }): Promise<boolean>;
  /**
   * The records past their last-seen deadline, expired ones flagged, a Query page at a time:
   * what the clean-up sweep checks. Records before their deadline are never read, except with
   * `withinSeconds`: then also those whose deadline falls within that many seconds from now (an
   * on-demand sweep of the local runtime passes the stale window and so checks every record).
   */
  staleRecords(options?: {
    readonly withinSeconds?: number;
  }): AsyncIterable<readonly StaleRecord[]>;
  /**
   * Live connections counted by clientType (`unregistered` for those without one); records past
   * their last-seen deadline are not counted.
   */
  countByClientType(): Promise<Record<string, number>>;
}
