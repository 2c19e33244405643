import { createHash, randomBytes } from 'node:crypto';
import type { Audience } from '../connections/audience';
import { CLIENT_TYPE_PATTERN, GROUP_PATTERN, USER_ID_PATTERN } from '../names/names';

/**
 * A stream is named after its audience (docs/protocol.md, "Streams"): `user:{userId}`,
 * `group:{group}`, `type:{clientType}` or `all`. A frame to one connection is in no stream.
 */
export type StreamName = string;

/** The stream of broadcasts. */
export const ALL_STREAM = 'all';

/** The stream a push to this audience is appended to; undefined for a single connection. */
export function streamOf(audience: Audience): StreamName | undefined {
  switch (audience.kind) {
    case 'user':
      return `user:${audience.userId}`;
    case 'group':
      return `group:${audience.group}`;
    case 'clientType':
      return `type:${audience.clientType}`;
    case 'all':
      return ALL_STREAM;
    case 'connection':
      return undefined;
  }
}

const PREFIXES: readonly [string, RegExp][] = [
  ['user:', USER_ID_PATTERN],
  ['group:', GROUP_PATTERN],
  ['type:', CLIENT_TYPE_PATTERN],
];

/** True when `name` is a well-formed stream name (its audience part obeys that name's rules). */
export function isStreamName(name: string): boolean {
  if (name === ALL_STREAM) return true;
  return PREFIXES.some(([prefix, pattern]) => {
    return name.startsWith(prefix) && pattern.test(name.slice(prefix.length));
  });
}

/** The streams a connection receives: its user's, its client type's, every group's, and `all`. */
export function streamsOfConnection(conn: {
  readonly userId: string;
  readonly clientType?: string;
  readonly groups: readonly string[];
}): StreamName[] {
  return [
    `user:${conn.userId}`,
    ...(conn.clientType ? [`type:${conn.clientType}`] : []),
    ...conn.groups.map((g) => `group:${g}`),
    ALL_STREAM,
  ];
}

/**
 * An epoch is `{tag}.{nonce}`: the tag is a short hash of the stream's name, so an epoch given
 * for the wrong stream is told apart from one of this stream's earlier histories. Opaque to
 * clients all the same.
 */
const tagOf = (stream: StreamName): string =>
  createHash('sha256').update(stream).digest('base64url').slice(0, 8);

/** A fresh epoch for a stream whose history starts now. */
export const newEpoch = (stream: StreamName, random: () => Buffer = () => randomBytes(9)): string =>
  `${tagOf(stream)}.${random().toString('base64url')}`;

/** A syntactically valid epoch (what `newEpoch` makes). */
export const EPOCH_PATTERN = /^[A-Za-z0-9_-]{8}\.[A-Za-z0-9_-]{1,32}$/;

/** True when the epoch was made for this stream (by `newEpoch`). */
export const epochBelongsTo = (epoch: string, stream: StreamName): boolean =>
  EPOCH_PATTERN.test(epoch) && epoch.startsWith(`${tagOf(stream)}.`);
