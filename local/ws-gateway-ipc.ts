/**
 * The messages between the runtime and its WebSocket gateway process (local/ws-gateway-process.ts
 * and local/ws-gateway-child.ts), and the one piece both sides need: calls answered by id.
 *
 * The gateway process owns the sockets and the `@connections` endpoint, as API Gateway is a
 * service of its own; the runtime owns the handlers. Only lifecycle events and messages cross
 * (an invocation each); the push path's posts go straight to the gateway's HTTP port.
 */

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
  | { readonly method: 'connectionIds' | 'close' }
  | { readonly method: 'drop'; readonly connectionId: string };

/** Gateway process → runtime. */
export type FromGateway =
  | { readonly op: 'ready'; readonly url: string; readonly managementEndpoint: string }
  | { readonly op: 'failed'; readonly message: string; readonly code?: string }
  | { readonly op: 'invoke'; readonly id: number; readonly route: string; readonly event: unknown }
  | { readonly op: 'throttled'; readonly id: number; readonly connectionId: string }
  | {
      readonly op: 'log';
      readonly level: 'debug' | 'info' | 'warn' | 'error';
      readonly message: string;
      readonly attributes: readonly Record<string, unknown>[];
    }
  | Answer;

/** The answer to a call or an invocation: a value, or the error's message. */
export type Answer =
  | { readonly op: 'answer'; readonly id: number; readonly ok: true; readonly value?: unknown }
  | { readonly op: 'answer'; readonly id: number; readonly ok: false; readonly message: string };

/** True for an IPC message with an `op` (anything else on the channel is ignored). */
export const hasOp = (m: unknown): m is { op: string } =>
  typeof m === 'object' && m !== null && typeof (m as { op?: unknown }).op === 'string';

/**
 * Calls across the channel, each answered by its id. `fail` rejects every call still waiting
 * (the other side went away), and every later one.
 */
export class PendingCalls {
  private next = 1;
  private readonly waiting = new Map<
    number,
    { resolve: (v: unknown) => void; reject: (e: Error) => void }
  >();
  private failure: Error | undefined;

  /** Sends what `build` makes of a fresh id and waits for its answer. */
  public call(build: (id: number) => void): Promise<unknown> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.next++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      try {
        build(id);
      } catch (e) {
        this.waiting.delete(id);
        reject(e instanceof Error ? e : new Error(String(e)));
      }
    });
  }

  /** Settles the call the answer is for (an unknown id is ignored: it timed out or failed). */
  public settle(answer: Answer): void {
    const w = this.waiting.get(answer.id);
    if (!w) return;
    this.waiting.delete(answer.id);
    if (answer.ok) w.resolve(answer.value);
    else w.reject(new Error(answer.message));
  }

  public fail(e: Error): void {
    this.failure ??= e;
    for (const w of this.waiting.values()) w.reject(e);
    this.waiting.clear();
  }
}

/** An answer from a settled promise (an error travels as its message, never its stack). */
export async function answerOf(id: number, run: () => Promise<unknown>): Promise<Answer> {
  try {
    return { op: 'answer', id, ok: true, value: await run() };
  } catch (e) {
    return { op: 'answer', id, ok: false, message: e instanceof Error ? e.message : String(e) };
  }
}
