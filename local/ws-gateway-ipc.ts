/**
 * The messages between the runtime and its WebSocket gateway process (local/ws-gateway-process.ts
 * and local/ws-gateway-child.ts).
 *
 * The gateway process owns the sockets and the `@connections` endpoint, as API Gateway is a
 * service of its own; the runtime owns the handlers. Only lifecycle events and messages cross
 * (an invocation each); the push path's posts go straight to the gateway's HTTP port. The
 * calls, answers and log lines themselves are local/ipc.ts's.
 */

import type { Answer, LogLine } from './ipc';

/** What the child needs to start the gateway (the credentials travel here, not in argv/env). */
export interface GatewayStart {
  readonly host: string;
  readonly port: number;
  readonly stage?: string;
  readonly apiId?: string;
  readonly idleTimeoutMs?: number;
  readonly maxDurationMs?: number;
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
  readonly postRateLimit?: number;
  readonly postBurst?: number;
}

/** The route key that stands for the `$connect` authorizer in an invocation. */
export const AUTHORIZER_ROUTE = '$authorizer';

/** Runtime → gateway process. */
export type ToGateway =
  | { readonly op: 'start'; readonly options: GatewayStart }
  | { readonly op: 'routes'; readonly routes: readonly string[] }
  | { readonly op: 'throttle'; readonly on: boolean }
  | ({ readonly op: 'call'; readonly id: number } & GatewayCall)
  | Answer;

/** What the runtime asks of the gateway process. */
export type GatewayCall =
  | { readonly method: 'connectionIds' | 'quotaRefusals' | 'close' }
  | { readonly method: 'drop'; readonly connectionId: string };

/** Gateway process → runtime. */
export type FromGateway =
  | { readonly op: 'ready'; readonly url: string; readonly managementEndpoint: string }
  | { readonly op: 'failed'; readonly message: string; readonly code?: string }
  | { readonly op: 'invoke'; readonly id: number; readonly route: string; readonly event: unknown }
  | { readonly op: 'throttled'; readonly id: number; readonly connectionId: string }
  | LogLine
  | Answer;
