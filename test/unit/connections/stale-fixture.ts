import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { type Emulator, startDynalite } from '../../../local/emulators';
import { createTableInput } from '../../../local/tables';
import { DynamoConnectionStore } from '../../../src/adapters/dynamodb/connection-store';
import { BROADCAST_SHARDS, CONNECTIONS_TABLE } from '../../../src/connections/schema';
import type { NewConnection } from '../../../src/connections/store';
import { ManualClock } from '../core/fakes';

/** The time every fixture starts at. */
export const T0 = new Date('2024-06-01T12:00:00.000Z');

/** dynalite for one test file, and a fresh connections table per store. */
export function dynamoFixture() {
  let emulator: Emulator | undefined;
  let raw: DynamoDBClient | undefined;
  let doc: DynamoDBDocumentClient | undefined;
  let tables = 0;
  beforeAll(async () => {
    emulator = await startDynalite();
    raw = new DynamoDBClient({
      endpoint: emulator.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    doc = DynamoDBDocumentClient.from(raw, { marshallOptions: { removeUndefinedValues: true } });
  });
  afterAll(async () => {
    raw?.destroy();
    await emulator?.close();
  });
  return {
    /** A store on a fresh table with a manual clock and round-robin shards. */
    async store(options: { pageSize?: number } = {}) {
      if (!raw || !doc) throw new Error('fixture used outside a test');
      const tableName = `stale-${++tables}`;
      await raw.send(new CreateTableCommand(createTableInput(tableName, CONNECTIONS_TABLE)));
      const clock = new ManualClock(T0);
      let next = 0;
      const client = doc;
      const store = new DynamoConnectionStore({
        client,
        tableName,
        clock,
        pickShard: () => next++ % BROADCAST_SHARDS,
        ...options,
      });
      return { store, clock, client };
    },
  };
}

/** A $connect at `at` (default T0). */
export const newConnection = (connectionId: string, userId: string, at = T0): NewConnection => ({
  connectionId,
  userId,
  roles: ['client'],
  allowedGroups: ['*'],
  connectedAt: at.toISOString(),
});
