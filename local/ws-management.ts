import type { IncomingMessage, ServerResponse } from 'node:http';
import { WebSocket } from 'ws';
import type { Log } from '../src/ports/log';
import { LOCAL_REGION } from './lambda-types';
import { guardExchange, readBody, safeDecode } from './net';
import { type SigV4Credentials, verifySigV4 } from './sigv4-verify';

/** What `@connections` needs to know about an open connection. */
export interface ManagedConnection {
  readonly socket: WebSocket;
  readonly connectedAt: number;
  readonly lastActiveAt: number;
  readonly identity: { readonly sourceIp: string; readonly userAgent: string | undefined };
}

/** What the `@connections` endpoint serves. */
export interface ManagementOptions {
  readonly stage: string;
  /** The only key pair whose SigV4 signatures are accepted. */
  readonly credentials: SigV4Credentials;
  /** Largest POST body (API Gateway's message limit). */
  readonly maxBodyBytes: number;
  readonly log: Log;
  connection(connectionId: string): ManagedConnection | undefined;
  /** True when a POST to this connection should be answered 429 (a test hook; may be async). */
  throttled(connectionId: string): boolean | Promise<boolean>;
  /**
   * The account's `@connections` quota: POSTs per second past which the endpoint answers 429
   * LimitExceededException, as API Gateway does (default: none).
   */
  readonly postRateLimit?: number;
  /** Posts the quota lets through at once after a quiet spell (default a tenth of a second's). */
  readonly postBurst?: number;
  /** Called for each POST the quota answers 429 (the gateway counts them). */
  readonly onQuotaRefused?: () => void;
  /** Monotonic milliseconds (injected for tests). */
  readonly now?: () => number;
}

/**
 * A token bucket: `rate` tokens a second up to `burst`; `take` spends one when there is one.
 * How API Gateway meters an account's requests (a steady rate and a burst).
 */
export function tokenBucket(rate: number, burst: number, now: () => number): () => boolean {
  let tokens = burst;
  let at = now();
  return () => {
    const t = now();
    tokens = Math.min(burst, tokens + ((t - at) * rate) / 1000);
    at = t;
    if (tokens < 1) return false;
    tokens -= 1;
    return true;
  };
}

const monotonicMs = (): number => performance.now();

const errorText = (e: unknown) => (e instanceof Error ? e.message : String(e));

function headerRecord(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    const k = (req.rawHeaders[i] ?? '').toLowerCase();
    const v = req.rawHeaders[i + 1] ?? '';
    const seen = Object.hasOwn(out, k) ? out[k] : undefined;
    Object.defineProperty(out, k, {
      value: seen === undefined ? v : `${seen},${v}`,
      enumerable: true,
      writable: true,
    });
  }
  return out;
}

/**
 * The `@connections` management API (POST/GET/DELETE `/{stage}/@connections/{id}`) as API
 * Gateway serves it: every request must carry a SigV4 signature (service `execute-api`, the
 * local region) made with the runtime's own credentials, else 403 with AWS's error type; then
 * 413 past the message limit, 410 for a connection that is gone, 429 when throttled.
 * @returns the server's request listener; it never throws and never leaves a promise unhandled.
 */
export function managementListener(options: ManagementOptions) {
  const { log } = options;
  const prefix = `/${options.stage}/@connections/`;
  const rate = options.postRateLimit;
  const withinQuota =
    rate !== undefined && rate > 0
      ? tokenBucket(
          rate,
          Math.max(1, options.postBurst ?? Math.ceil(rate / 10)),
          options.now ?? monotonicMs,
        )
      : () => true;

  const fail = (res: ServerResponse, status: number, type: string, message: string) => {
    res.writeHead(status, { 'content-type': 'application/json', 'x-amzn-errortype': type });
    res.end(JSON.stringify({ message, __type: type }));
  };

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const headers = headerRecord(req);
    if (!headers.authorization) {
      return fail(res, 403, 'MissingAuthenticationTokenException', 'Missing Authentication Token');
    }
    let read;
    try {
      read = await readBody(req, options.maxBodyBytes);
    } catch (e) {
      // The client went away mid-body: nobody is left to answer.
      log.debug('@connections request aborted', { error: errorText(e) });
      res.destroy();
      return;
    }
    if (read.tooLarge) return fail(res, 413, 'PayloadTooLargeException', 'Message too long');
    const target = req.url ?? '/';
    const refusal = await verifySigV4(
      { method: req.method ?? 'GET', target, headers, body: read.body },
      { credentials: options.credentials, region: LOCAL_REGION, service: 'execute-api' },
    );
    if (refusal) return fail(res, 403, refusal.type, refusal.message);

    const q = target.indexOf('?');
    const path = q < 0 ? target : target.slice(0, q);
    const rawId = path.startsWith(prefix) ? path.slice(prefix.length) : '';
    if (rawId === '' || rawId.includes('/'))
      return fail(res, 404, 'NotFoundException', 'Not Found');
    const connectionId = safeDecode(rawId);
    if (connectionId === undefined) {
      return fail(res, 400, 'BadRequestException', 'Invalid connectionId');
    }
    const conn = options.connection(connectionId);
    if (req.method === 'POST') {
      if (!conn || conn.socket.readyState !== WebSocket.OPEN) {
        return fail(res, 410, 'GoneException', '');
      }
      // The quota is spent by every POST it meters, as the account's is (checked before the
      // test hook, so a hook's 429 does not spend a token).
      if (!withinQuota()) {
        options.onQuotaRefused?.();
        return fail(res, 429, 'LimitExceededException', 'Rate exceeded');
      }
      const hooked = options.throttled(connectionId);
      const asked = typeof hooked !== 'boolean';
      if (asked ? await hooked : hooked) {
        return fail(res, 429, 'LimitExceededException', 'Rate exceeded');
      }
      // An asked hook let time pass: the socket may have closed meanwhile.
      if (asked && conn.socket.readyState !== WebSocket.OPEN) {
        return fail(res, 410, 'GoneException', '');
      }
      // A text frame from the bytes as they came; like API Gateway, answer once it is queued
      // on the socket rather than after the client has read it.
      conn.socket.send(read.body, { binary: false });
      res.writeHead(200, { 'content-type': 'application/json' });
      return void res.end();
    }
    if (!conn) return fail(res, 410, 'GoneException', '');
    if (req.method === 'GET') {
      res.writeHead(200, { 'content-type': 'application/json' });
      return void res.end(
        // The wire names of GetConnection (the SDK maps them to ConnectedAt, Identity, …).
        JSON.stringify({
          connectedAt: new Date(conn.connectedAt).toISOString(),
          lastActiveAt: new Date(conn.lastActiveAt).toISOString(),
          identity: { ...conn.identity },
        }),
      );
    }
    if (req.method === 'DELETE') {
      conn.socket.close(1000, 'Closed by server');
      res.writeHead(204);
      return void res.end();
    }
    return fail(res, 405, 'MethodNotAllowedException', 'Method Not Allowed');
  }

  return (req: IncomingMessage, res: ServerResponse): void => {
    guardExchange(req, res, log);
    serve(req, res).catch((e: unknown) => {
      log.error('@connections request failed', { error: errorText(e) });
      if (res.headersSent || res.destroyed) res.destroy();
      else fail(res, 500, 'InternalServerErrorException', 'Internal Server Error');
    });
  };
}
