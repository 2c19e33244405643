import type { Role } from '../auth/token';

/** A live WebSocket connection as the connections table records it. */
export interface Connection {
  readonly connectionId: string;
  readonly userId: string;
  readonly roles: readonly Role[];
  /** Groups this connection's token allows it to join (`*` = any). */
  readonly allowedGroups: readonly string[];
  /** Set by `register`; undefined until then. */
  readonly clientType?: string;
  /** Groups joined so far. */
  readonly groups: readonly string[];
  /** ISO time of $connect. */
  readonly connectedAt: string;
  /** Epoch seconds after which the record is dead (DynamoDB TTL attribute). */
  readonly expiresAt: number;
}

/** What presence shows of a connection. */
export interface ConnectionSummary {
  readonly connectionId: string;
  readonly clientType?: string;
  readonly connectedAt: string;
}
