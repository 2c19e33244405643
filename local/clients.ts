import { Agent } from 'node:http';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from './lambda-types';

/**
 * SDK client settings for a local emulator: the endpoint override, fake credentials, and a
 * keep-alive agent wide enough for a fan-out on loopback.
 */
export const localClientConfig = (endpoint: string) => ({
  endpoint,
  region: LOCAL_REGION,
  credentials: LOCAL_CREDENTIALS,
  requestHandler: { httpAgent: new Agent({ keepAlive: true, maxSockets: 256 }) },
});
