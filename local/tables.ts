import {
  CreateTableCommand,
  ResourceInUseException,
  type CreateTableCommandInput,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
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
} as const;

/** Powertools Idempotency's table layout: partition key `id`. */
export const IDEMPOTENCY_TABLE: TableDefinition = { partitionKey: 'id' };

/** Creates the local tables, keeping any that exist (a data folder from an earlier run). */
export async function createLocalTables(client: DynamoDBClient): Promise<void> {
  const tables: [string, TableDefinition][] = [
    [LOCAL_TABLES.connections, CONNECTIONS_TABLE],
    [LOCAL_TABLES.tasks, TASKS_TABLE],
    [LOCAL_TABLES.idempotency, IDEMPOTENCY_TABLE],
    [LOCAL_TABLES.messages, MESSAGES_TABLE],
  ];
  for (const [name, def] of tables) {
    try {
      await client.send(new CreateTableCommand(createTableInput(name, def)));
    } catch (e) {
      // On disk (TASKWIRE_DATA_DIR) the tables survive a restart: keep them.
      if (!(e instanceof ResourceInUseException)) throw e;
    }
  }
}
