import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../local/lambda-types';
import { LOCAL_TABLES } from '../../local/tables';

/**
 * Reads every item of the local connections table. Tests only: it is how a test proves that
 * bad input wrote nothing (the product itself never Scans).
 */
export async function allConnectionItems(endpoint: string): Promise<Record<string, unknown>[]> {
  const client = new DynamoDBClient({
    endpoint,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
  });
  try {
    const out = await client.send(new ScanCommand({ TableName: LOCAL_TABLES.connections }));
    return (out.Items ?? []).map((item) =>
      Object.fromEntries(Object.entries(item).map(([k, v]) => [k, Object.values(v)[0]])),
    );
  } finally {
    client.destroy();
  }
}
