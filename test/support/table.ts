import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../local/lambda-types';
import { LOCAL_TABLES } from '../../local/tables';

/**
 * Every item of a local table, attribute values unwrapped. Tests only: it is how a test proves
 * that bad input wrote nothing (the product itself never Scans).
 */
export async function scanTable(
  endpoint: string,
  table: string,
): Promise<Record<string, unknown>[]> {
  const client = new DynamoDBClient({
    endpoint,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
  });
  try {
    const out = await client.send(new ScanCommand({ TableName: table }));
    return (out.Items ?? []).map((item) =>
      Object.fromEntries(Object.entries(item).map(([k, v]) => [k, Object.values(v)[0]])),
    );
  } finally {
    client.destroy();
  }
}

/** Every item of the local connections table. */
export const allConnectionItems = (endpoint: string) =>
  scanTable(endpoint, LOCAL_TABLES.connections);
