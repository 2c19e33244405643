import { STREAMS_TABLE } from '../src/streams/schema';
import {
  type AttributeValue,
  BatchWriteItemCommand,
  CreateTableCommand,
  DeleteTableCommand,
  DescribeTableCommand,
  ResourceInUseException,
  ResourceNotFoundException,
  DeleteItemCommand,
  PutItemCommand,
  ScanCommand,
  type CreateTableCommandInput,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { type Log, silentLog } from '../src/ports/log';
import { CONNECTIONS_TABLE } from '../src/connections/schema';
import { TASKS_TABLE } from '../src/tasks/schema';
import { MESSAGES_TABLE } from '../src/deliveries/schema';

/** A table definition as src/ declares it: keys and INCLUDE-projected indexes, all strings. */
export interface TableDefinition {
  readonly partitionKey: string;
  readonly sortKey?: string;
  readonly indexes?: Readonly<
    Record<string, { partitionKey: string; sortKey?: string; include?: readonly string[] }>
  >;
}

/** The CreateTable input for a definition (on-demand, like the stack's tables). */
export function createTableInput(name: string, def: TableDefinition): CreateTableCommandInput {
  const attributes = new Set<string>([def.partitionKey]);
  if (def.sortKey) attributes.add(def.sortKey);
  const keySchema = (pk: string, sk?: string) => [
    { AttributeName: pk, KeyType: 'HASH' as const },
    ...(sk ? [{ AttributeName: sk, KeyType: 'RANGE' as const }] : []),
  ];
  const indexes = Object.entries(def.indexes ?? {}).map(([IndexName, ix]) => {
    attributes.add(ix.partitionKey);
    if (ix.sortKey) attributes.add(ix.sortKey);
    return {
      IndexName,
      KeySchema: keySchema(ix.partitionKey, ix.sortKey),
      Projection: ix.include?.length
        ? { ProjectionType: 'INCLUDE' as const, NonKeyAttributes: [...ix.include] }
        : { ProjectionType: 'KEYS_ONLY' as const },
    };
  });
  return {
    TableName: name,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [...attributes].map((AttributeName) => ({
      AttributeName,
      AttributeType: 'S' as const,
    })),
    KeySchema: keySchema(def.partitionKey, def.sortKey),
    ...(indexes.length ? { GlobalSecondaryIndexes: indexes } : {}),
  };
}

/** Local table names. */
export const LOCAL_TABLES = {
  connections: 'taskwire-connections',
  tasks: 'taskwire-tasks',
  idempotency: 'taskwire-idempotency',
  messages: 'taskwire-messages',
  streams: 'taskwire-streams',
} as const;

/** Powertools Idempotency's table layout: partition key `id`. */
export const IDEMPOTENCY_TABLE: TableDefinition = { partitionKey: 'id' };

/** Options of {@link createLocalTables}. */
export interface LocalTablesOptions {
  /**
   * Tables to empty when they exist (recreated). The local runtime empties the idempotency table
   * at start: its in-progress records belong to invocations of a process that is gone.
   */
  readonly fresh?: readonly string[];
  /** Reconcile the indexes of kept tables with their items (a data folder: see repairIndexes). */
  readonly repair?: boolean;
  readonly log?: Log;
}

/**
 * Creates the local tables, keeping any that exist (a data folder from an earlier run). A kept
 * table that lacks an index its schema now declares is rebuilt with the index (dynalite cannot
 * add one to a table), its items copied over.
 */
export async function createLocalTables(
  client: DynamoDBClient,
  options: LocalTablesOptions = {},
): Promise<void> {
  const log = options.log ?? silentLog;
  const tables: [string, TableDefinition][] = [
    [LOCAL_TABLES.connections, CONNECTIONS_TABLE],
    [LOCAL_TABLES.tasks, TASKS_TABLE],
    [LOCAL_TABLES.idempotency, IDEMPOTENCY_TABLE],
    [LOCAL_TABLES.messages, MESSAGES_TABLE],
    [LOCAL_TABLES.streams, STREAMS_TABLE],
  ];
  for (const [name, def] of tables) {
    const input = createTableInput(name, def);
    try {
      await createActive(client, input);
      continue;
    } catch (e) {
      // On disk (TASKWIRE_DATA_DIR) the tables survive a restart: keep them.
      if (!(e instanceof ResourceInUseException)) throw e;
    }
    if (options.fresh?.includes(name)) {
      await recreateTable(client, input);
      continue;
    }
    const missing = await missingIndexes(client, input);
    if (missing.length > 0) {
      log.warn('local table rebuilt with its new indexes', { table: name, indexes: missing });
      await rebuildTable(client, input);
    } else if (options.repair) {
      const fixed = await repairIndexes(client, input);
      if (fixed > 0) log.warn('local table indexes repaired', { table: name, entries: fixed });
    }
  }
}

type Item = Record<string, AttributeValue>;

/** The string values of `attributes` in an item, or undefined when one is missing. */
function keyOf(item: Item, attributes: readonly string[]): string | undefined {
  const parts: string[] = [];
  for (const a of attributes) {
    const v = item[a]?.S;
    if (v === undefined) return undefined;
    parts.push(v);
  }
  return JSON.stringify(parts);
}

/** Every item of a table, or of one of its indexes. */
async function scanAll(client: DynamoDBClient, table: string, index?: string): Promise<Item[]> {
  const items: Item[] = [];
  let startKey: Item | undefined;
  do {
    const page = await client.send(
      new ScanCommand({ TableName: table, IndexName: index, ExclusiveStartKey: startKey }),
    );
    items.push(...(page.Items ?? []));
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return items;
}

/**
 * Brings a table's index entries back in line with its items, and returns how many were wrong.
 * dynalite writes an item's index entries first and the item last, as separate LevelDB writes,
 * so a process killed in between (SIGKILL of the local runtime) leaves an index that disagrees
 * with the table: entries for an item never written or a state never reached (a key, or a
 * projected value such as `state`, the item does not have), and none for the state the item
 * has. The items are the truth: an item whose entry is missing or stale is written again; a
 * wrong entry is removed by writing its item with the entry's key once more and then restoring
 * (or deleting) the item, which is how dynalite moves an entry. Local data folders only (it
 * Scans, which the product itself never does).
 */
export async function repairIndexes(
  client: DynamoDBClient,
  input: CreateTableCommandInput,
): Promise<number> {
  const table = input.TableName ?? '';
  const tableKeys = (input.KeySchema ?? []).map((k) => k.AttributeName ?? '');
  const items = new Map<string, Item>();
  for (const item of await scanAll(client, table)) items.set(keyOf(item, tableKeys) ?? '', item);
  const missing = new Map<string, Item>();
  const wrong: { entry: Item; indexKeys: readonly string[] }[] = [];
  for (const index of input.GlobalSecondaryIndexes ?? []) {
    const indexKeys = (index.KeySchema ?? []).map((k) => k.AttributeName ?? '');
    const entries = await scanAll(client, table, index.IndexName);
    const present = new Set<string>();
    for (const entry of entries) {
      const id = keyOf(entry, tableKeys) ?? '';
      const item = items.get(id);
      const key = keyOf(entry, indexKeys);
      if (item && key !== undefined && keyOf(item, indexKeys) === key) {
        // Same key but a projected value of a write the kill cut short (e.g. `state` sent while
        // the item is still sending): left out of `present`, so the item is written again
        // (harmless when the values only differ in how they are spelt).
        if (Object.keys(entry).every((a) => JSON.stringify(entry[a]) === JSON.stringify(item[a]))) {
          present.add(id);
        }
      } else wrong.push({ entry, indexKeys });
    }
    for (const [id, item] of items) {
      if (keyOf(item, indexKeys) !== undefined && !present.has(id)) missing.set(id, item);
    }
  }
  for (const { entry, indexKeys } of wrong) {
    const id = keyOf(entry, tableKeys) ?? '';
    const item = items.get(id);
    const moved: Item = { ...(item ?? entry) };
    for (const k of indexKeys) if (entry[k]) moved[k] = entry[k];
    await client.send(new PutItemCommand({ TableName: table, Item: moved }));
    if (item) await client.send(new PutItemCommand({ TableName: table, Item: item }));
    else {
      const key = Object.fromEntries(tableKeys.map((k) => [k, entry[k] as AttributeValue]));
      await client.send(new DeleteItemCommand({ TableName: table, Key: key }));
    }
    missing.delete(id);
  }
  for (const item of missing.values()) {
    await client.send(new PutItemCommand({ TableName: table, Item: item }));
  }
  return wrong.length + missing.size;
}

/**
 * Creates a table and waits until it is ACTIVE: dynalite answers CreateTable while the table is
 * still CREATING (for a tick even with createTableMs 0) and calls it missing until then.
 */
async function createActive(client: DynamoDBClient, input: CreateTableCommandInput): Promise<void> {
  await client.send(new CreateTableCommand(input));
  for (let tries = 0; ; tries++) {
    const out = await client.send(new DescribeTableCommand({ TableName: input.TableName }));
    if (out.Table?.TableStatus === 'ACTIVE') return;
    if (tries >= 500) throw new Error(`table ${input.TableName ?? ''} did not become active`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Deletes a table and creates it anew, empty (dynalite finishes a delete a moment later). */
async function recreateTable(
  client: DynamoDBClient,
  input: CreateTableCommandInput,
): Promise<void> {
  await client.send(new DeleteTableCommand({ TableName: input.TableName }));
  for (let tries = 0; ; tries++) {
    try {
      await client.send(new DescribeTableCommand({ TableName: input.TableName }));
    } catch (e) {
      if (e instanceof ResourceNotFoundException) break;
      throw e;
    }
    if (tries >= 500) throw new Error(`table ${input.TableName ?? ''} was not deleted`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  await createActive(client, input);
}

/** Indexes the definition declares that the existing table lacks. */
async function missingIndexes(
  client: DynamoDBClient,
  input: CreateTableCommandInput,
): Promise<string[]> {
  const out = await client.send(new DescribeTableCommand({ TableName: input.TableName }));
  const existing = new Set((out.Table?.GlobalSecondaryIndexes ?? []).map((i) => i.IndexName));
  return (input.GlobalSecondaryIndexes ?? [])
    .map((i) => i.IndexName ?? '')
    .filter((n) => !existing.has(n));
}

/**
 * Recreates a table from its definition and copies its items back. Only for a local data folder
 * written by an older version (it Scans, which the product itself never does).
 */
async function rebuildTable(client: DynamoDBClient, input: CreateTableCommandInput): Promise<void> {
  const items = await scanAll(client, input.TableName ?? '');
  await recreateTable(client, input);
  const table = input.TableName ?? '';
  for (let i = 0; i < items.length; i += 25) {
    let requests = items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } }));
    while (requests.length > 0) {
      const out = await client.send(
        new BatchWriteItemCommand({ RequestItems: { [table]: requests } }),
      );
      requests = (out.UnprocessedItems?.[table] ?? []).flatMap((r) =>
        r.PutRequest?.Item ? [{ PutRequest: { Item: r.PutRequest.Item } }] : [],
      );
    }
  }
}
