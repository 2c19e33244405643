import { requireEnv } from '../../config/config';
import { ENV } from '../../config/env';
import { once } from '../../runtime/lazy';
import { buildIdempotencyStore } from '../idempotency';
import { dynamoClient } from './connections';

/** Powertools Idempotency's table: one persistence layer per container (one handler each). */
export const idempotencyStore = /* @__PURE__ */ once(() =>
  buildIdempotencyStore(dynamoClient(), requireEnv(process.env, ENV.idempotencyTable)),
);
