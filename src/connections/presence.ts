import type { ConnectionStore } from './store';

/** Default and largest `limit` of {@link readPresence}: connections read per call. */
export const PRESENCE_DEFAULT_LIMIT = 200;
export const PRESENCE_MAX_LIMIT = 1000;

/** One online user: how many live connections it has, by clientType. */
export interface OnlineUser {
  readonly userId: string;
  readonly connections: number;
  /** clientType → connections (`unregistered` before `register`). */
  readonly clientTypes: Readonly<Record<string, number>>;
}

/** Who is online: users sorted by id, and whether the read stopped at the limit. */
export interface Presence {
  readonly users: readonly OnlineUser[];
  /** Live connections read (at most `limit`). */
  readonly connections: number;
  /** True when more live connections exist than `limit` allowed reading. */
  readonly truncated: boolean;
}

/** Connection records read at once after the index Query. */
const LOOKUPS_AT_ONCE = 25;

/**
 * Who is online, from the connections table: the broadcast audience (`recipients({kind:'all'})`,
 * a Query per broadcast shard, never a Scan) up to `limit` connection ids, then each record
 * (userId, clientType). Costs O(limit) reads whatever the table's size.
 */
export async function readPresence(
  store: Pick<ConnectionStore, 'recipients' | 'get'>,
  limit: number = PRESENCE_DEFAULT_LIMIT,
): Promise<Presence> {
  const ids: string[] = [];
  let truncated = false;
  for await (const page of store.recipients({ kind: 'all' })) {
    for (const id of page) {
      if (ids.length >= limit) {
        truncated = true;
        break;
      }
      ids.push(id);
    }
    if (truncated) break;
  }
  const byUser = new Map<string, { connections: number; clientTypes: Map<string, number> }>();
  let connections = 0;
  for (let i = 0; i < ids.length; i += LOOKUPS_AT_ONCE) {
    const records = await Promise.all(ids.slice(i, i + LOOKUPS_AT_ONCE).map((id) => store.get(id)));
    for (const record of records) {
      if (!record) continue; // gone since the Query
      connections++;
      const entry = byUser.get(record.userId) ?? { connections: 0, clientTypes: new Map() };
      entry.connections++;
      const type = record.clientType ?? 'unregistered';
      entry.clientTypes.set(type, (entry.clientTypes.get(type) ?? 0) + 1);
      byUser.set(record.userId, entry);
    }
  }
  const users = [...byUser.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([userId, e]) => ({
      userId,
      connections: e.connections,
      clientTypes: Object.fromEntries([...e.clientTypes.entries()].sort()),
    }));
  return { users, connections, truncated };
}
