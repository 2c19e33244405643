import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { localClientConfig } from '../../local/clients';
import { type Emulator, startDynalite } from '../../local/emulators';
import { createTableInput } from '../../local/tables';

/** The table shapes `createTableInput` takes (local/tables.ts). */
type TableSchema = Parameters<typeof createTableInput>[1];

/** A test file's DynamoDB emulator: its clients, and fresh tables on it. */
export interface TestDynamo {
  readonly ddb: DynamoDBClient;
  /** The document client, as the adapters are given it (undefined attributes removed). */
  readonly doc: DynamoDBDocumentClient;
  /** Creates a table of the schema named `<name>`; each test names its own, so none share. */
  createTable(name: string, schema: TableSchema): Promise<string>;
}

/**
 * Starts an in-process dynalite before the file's tests and closes it after them (jest's
 * beforeAll/afterAll, so call it at the top of a test file or a describe).
 */
export function useDynalite(): TestDynamo {
  let dynamo: Emulator | undefined;
  let clients: { ddb: DynamoDBClient; doc: DynamoDBDocumentClient } | undefined;
  beforeAll(async () => {
    dynamo = await startDynalite();
    const ddb = new DynamoDBClient(localClientConfig(dynamo.endpoint));
    clients = {
      ddb,
      doc: DynamoDBDocumentClient.from(ddb, { marshallOptions: { removeUndefinedValues: true } }),
    };
  });
  afterAll(async () => {
    clients?.ddb.destroy();
    await dynamo?.close();
  });
  const started = () => {
    if (!clients) throw new Error('useDynalite: the emulator starts in beforeAll');
    return clients;
  };
  return {
    get ddb() {
      return started().ddb;
    },
    get doc() {
      return started().doc;
    },
    async createTable(name, schema) {
      await started().ddb.send(new CreateTableCommand(createTableInput(name, schema)));
      return name;
    },
  };
}
