import { CONNECTIONS_TABLE } from '../../../src/connections/schema';
import { MESSAGES_TABLE } from '../../../src/deliveries/schema';
import { STREAMS_TABLE } from '../../../src/streams/schema';
import { TASKS_TABLE } from '../../../src/tasks/schema';
import type { TableSchema } from '../../../lib/constructs/schema-table';
import { IDEMPOTENCY_TABLE } from '../../../lib/taskwire-stack';
import {
  logicalIdOf,
  resourceById,
  type GetTaskwire,
  type TemplateResource,
} from '../support/taskwire-template';

// Set by the test file that registers the suite; read only inside tests.
let get: GetTaskwire = () => {
  throw new Error('suite used before its test file registered it');
};

interface KeySchemaElement {
  readonly AttributeName: string;
  readonly KeyType: 'HASH' | 'RANGE';
}

interface GsiJson {
  readonly IndexName: string;
  readonly KeySchema: KeySchemaElement[];
  readonly Projection: { ProjectionType: string; NonKeyAttributes?: string[] };
}

type TableKey = 'connections' | 'tasks' | 'idempotency' | 'messages' | 'streams';

const tables: [string, TableSchema, TableKey][] = [
  ['connections', CONNECTIONS_TABLE, 'connections'],
  ['tasks', TASKS_TABLE, 'tasks'],
  ['idempotency', IDEMPOTENCY_TABLE, 'idempotency'],
  ['messages', MESSAGES_TABLE, 'messages'],
  ['streams', STREAMS_TABLE, 'streams'],
];

const indexesOf = (schema: TableSchema) => Object.entries(schema.indexes ?? {});

/** Registers the table tests (every table, against the schema it is built from). */
export function describeTables(getTaskwire: GetTaskwire): void {
  get = getTaskwire;

  describe.each(tables)('%s table', (_name, schema, key) => {
    const tableOf = (): TemplateResource =>
      resourceById(get().template, logicalIdOf(get().stack[key].table));

    it('is keyed as the shared schema says, with string keys and on-demand billing', () => {
      // Prepare
      const expectedKeys: KeySchemaElement[] = [
        { AttributeName: schema.partitionKey, KeyType: 'HASH' },
        ...(schema.sortKey ? [{ AttributeName: schema.sortKey, KeyType: 'RANGE' as const }] : []),
      ];
      // Act
      const table = tableOf();
      // Assess
      expect(table.Properties?.KeySchema).toEqual(expectedKeys);
      expect(table.Properties?.BillingMode).toBe('PAY_PER_REQUEST');
      const attributes = table.Properties?.AttributeDefinitions as { AttributeType: string }[];
      expect(attributes.every((attribute) => attribute.AttributeType === 'S')).toBe(true);
    });

    it(`expires items by TTL on ${schema.ttlAttribute}`, () => {
      // Prepare / Act
      const table = tableOf();
      // Assess
      expect(table.Properties?.TimeToLiveSpecification).toEqual({
        AttributeName: schema.ttlAttribute,
        Enabled: true,
      });
    });

    // `it.each` refuses an empty table: a table without indexes has only the test below.
    const indexes = indexesOf(schema);
    if (indexes.length > 0)
      it.each(indexes)('has GSI %s with its keys and projection', (indexName, index) => {
        // Prepare
        const indexes = tableOf().Properties?.GlobalSecondaryIndexes as GsiJson[];
        const include = index.include ?? [];
        // Act
        const gsi = indexes.find((candidate) => candidate.IndexName === indexName);
        // Assess
        expect(gsi).toEqual({
          IndexName: indexName,
          KeySchema: [
            { AttributeName: index.partitionKey, KeyType: 'HASH' },
            ...(index.sortKey ? [{ AttributeName: index.sortKey, KeyType: 'RANGE' }] : []),
          ],
          Projection:
            include.length > 0
              ? { ProjectionType: 'INCLUDE', NonKeyAttributes: [...include] }
              : { ProjectionType: 'KEYS_ONLY' },
        });
      });

    it('has no index the schema does not declare', () => {
      // Prepare / Act
      const indexes = (
        (tableOf().Properties?.GlobalSecondaryIndexes as GsiJson[] | undefined) ?? []
      ).map((gsi) => gsi.IndexName);
      // Assess
      expect(indexes.sort()).toEqual(
        indexesOf(schema)
          .map(([name]) => name)
          .sort(),
      );
    });

    it('keeps point-in-time recovery and AWS-managed encryption on', () => {
      // Prepare / Act
      const table = tableOf();
      // Assess
      expect(table.Properties?.PointInTimeRecoverySpecification).toEqual({
        PointInTimeRecoveryEnabled: true,
      });
      // SSEEnabled without a key id is KMS with the AWS managed key (aws/dynamodb).
      expect(table.Properties?.SSESpecification).toEqual({ SSEEnabled: true });
    });

    it('is retained when the stack is deleted (no dev context)', () => {
      // Prepare / Act
      const table = tableOf();
      // Assess
      expect(table.DeletionPolicy).toBe('Retain');
      expect(table.UpdateReplacePolicy).toBe('Retain');
    });
  });

  it('keys the stream log by stream and position, expiring frames on expiresAt', () => {
    // Prepare: the literal names, not the schema object, so a schema edit shows up here.
    const table = resourceById(get().template, logicalIdOf(get().stack.streams.table));
    // Act
    const properties = table.Properties ?? {};
    // Assess
    expect(properties).toMatchObject({
      KeySchema: [
        { AttributeName: 'stream', KeyType: 'HASH' },
        { AttributeName: 'pos', KeyType: 'RANGE' },
      ],
      AttributeDefinitions: expect.arrayContaining([
        { AttributeName: 'stream', AttributeType: 'S' },
        { AttributeName: 'pos', AttributeType: 'S' },
      ]),
      BillingMode: 'PAY_PER_REQUEST',
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
    });
    expect(properties.GlobalSecondaryIndexes).toBeUndefined();
  });

  it('lists a user’s tasks from the listByUser index: ownerUserId and createdAt, every task field projected', () => {
    // Prepare: the literal names, not the schema object, so a schema edit shows up here.
    const table = resourceById(get().template, logicalIdOf(get().stack.tasks.table));
    // Act
    const indexes = (table.Properties?.GlobalSecondaryIndexes ?? []) as GsiJson[];
    const gsi = indexes.find((candidate) => candidate.IndexName === 'listByUser');
    // Assess
    expect(gsi?.KeySchema).toEqual([
      { AttributeName: 'ownerUserId', KeyType: 'HASH' },
      { AttributeName: 'createdAt', KeyType: 'RANGE' },
    ]);
    expect(gsi?.Projection.ProjectionType).toBe('INCLUDE');
    expect([...(gsi?.Projection.NonKeyAttributes ?? [])].sort()).toEqual(
      [
        'args',
        'enqueuedAt',
        'error',
        'expiresAt',
        'parentTaskId',
        'progress',
        'requester',
        'result',
        'source',
        'status',
        'taskType',
        'updatedAt',
      ].sort(),
    );
    expect(table.Properties?.AttributeDefinitions).toEqual(
      expect.arrayContaining([{ AttributeName: 'ownerUserId', AttributeType: 'S' }]),
    );
    // The bookkeeping attributes stay out of the listing.
    for (const internal of ['enqueueClaimAt', 'deadlineAt', 'reaps']) {
      expect(gsi?.Projection.NonKeyAttributes).not.toContain(internal);
    }
  });

  it('outputs the connections table name', () => {
    // Prepare
    const table = get().stack.connections.table;
    // Act
    const outputs = get().template.findOutputs('ConnectionsTableName');
    // Assess
    expect(outputs.ConnectionsTableName?.Value).toEqual({ Ref: logicalIdOf(table) });
  });
}
