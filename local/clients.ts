import { randomBytes } from 'node:crypto';
import { Agent } from 'node:http';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from './lambda-types';

/** An access key pair for a local client. */
export interface LocalCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

/**
 * A fresh random access key pair: what the runtime's `@connections` client signs with and the
 * only pair the local gateway accepts, so nobody else on the machine can post to or close a
 * connection (API Gateway requires SigV4 from an identity allowed `execute-api:ManageConnections`).
 */
export function newLocalCredentials(): LocalCredentials {
  return {
    accessKeyId: `LOCAL${randomBytes(8).toString('hex').toUpperCase()}`,
    secretAccessKey: randomBytes(30).toString('base64url'),
  };
}

/**
 * SDK client settings for a local emulator: the endpoint override, credentials (the fixed fake
 * pair unless given; the emulators do not check them, the local gateway does), and a keep-alive
 * agent wide enough for a fan-out on loopback.
 */
export const localClientConfig = (
  endpoint: string,
  credentials: LocalCredentials = LOCAL_CREDENTIALS,
) => ({
  endpoint,
  region: LOCAL_REGION,
  credentials,
  requestHandler: { httpAgent: new Agent({ keepAlive: true, maxSockets: 256 }) },
});
