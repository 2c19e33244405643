import type { Audience } from './audience';
import type { Connection, ConnectionSummary } from './connection';

/** What $connect knows about a new connection. */
export type NewConnection = Pick<
  Connection,
  'connectionId' | 'userId' | 'roles' | 'allowedGroups' | 'connectedAt'
>;

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
  /** Deletes every record of the connection; returns how many items went. */
  remove(connectionId: string): Promise<number>;
  /**
   * The live connection ids of an audience, a page at a time, read with Query only. Expired
   * records are skipped.
   */
  recipients(audience: Audience): AsyncIterable<readonly string[]>;
  /** The live connections of a user (presence). */
  listUser(userId: string): Promise<ConnectionSummary[]>;
  /**
   * Every connection record, expired ones included (flagged), a Query page at a time: what the
   * clean-up sweep walks.
   */
  everyRecord(): AsyncIterable<readonly { connectionId: string; expired: boolean }[]>;
  /** Live connections counted by clientType (`unregistered` for those without one). */
  countByClientType(): Promise<Record<string, number>>;
}
