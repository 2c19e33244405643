import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import type { Log } from '../src/ports/log';
import { type LocalCredentials, newLocalCredentials } from './clients';
import { closeServer, guardServer, listen } from './net';
import { LOCAL_ACCOUNT, LOCAL_REGION, type LocalHandler, requestTime } from './lambda-types';
import { handshakeProblem, rejectUpgrade, type RequestMaps, requestMaps } from './ws-handshake';
import { managementListener } from './ws-management';

/** What a connection keeps from its upgrade for its $disconnect event. */
interface ConnectionOrigin {
  readonly connectedAt: number;
  readonly identity: { readonly sourceIp: string; readonly userAgent: string | undefined };
  readonly authorizer: Record<string, unknown>;
  readonly headers: Pick<RequestMaps, 'headers' | 'multiValueHeaders'>;
}

/** API Gateway's limits, mirrored so local behaviour matches the cloud. */
export const GATEWAY_LIMITS = {
  /** Largest message API Gateway accepts or posts (128 KB). */
  maxMessageBytes: 128 * 1024,
  /** Idle connections are closed after 10 minutes. */
  idleTimeoutMs: 10 * 60 * 1000,
  /** Every connection is closed after 2 hours. */
  maxDurationMs: 2 * 60 * 60 * 1000,
} as const;

/** Options of {@link startWsGateway}. */
export interface WsGatewayOptions {
  readonly host?: string;
  /** 0 picks a free port. */
  readonly port?: number;
  readonly stage?: string;
  readonly apiId?: string;
  readonly log: Log;
  readonly idleTimeoutMs?: number;
  readonly maxDurationMs?: number;
  /**
   * The only key pair `@connections` accepts SigV4 signatures from (default: a fresh random
   * pair, readable as {@link WsGateway.credentials}). Give the runtime's management client the
   * same pair.
   */
  readonly credentials?: LocalCredentials;
  /**
   * The account's `@connections` quota in POSTs per second: above it the endpoint answers 429
   * LimitExceededException as API Gateway does (default: env `TASKWIRE_WS_POST_RPS`, else none).
   */
  readonly postRateLimit?: number;
  /** Posts the quota lets through at once (default a tenth of a second's worth). */
  readonly postBurst?: number;
}

/** `TASKWIRE_WS_POST_RPS`: a positive number of POSTs per second, or undefined when unset. */
export function postRateFromEnv(raw = process.env.TASKWIRE_WS_POST_RPS): number | undefined {
  if (raw === undefined || raw.trim() === '') return undefined;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) {
    throw new Error(
      `TASKWIRE_WS_POST_RPS must be a positive number of posts per second, not "${raw}"`,
    );
  }
  return n;
}

/** What the gateway routes to; set after start because handlers need the gateway's URL. */
export interface WsRoutes {
  readonly authorizer: LocalHandler;
  /** Route key → handler; `$connect`, `$disconnect` and `$default` included. */
  readonly routes: Readonly<Record<string, LocalHandler>>;
}

interface LiveConnection extends ConnectionOrigin {
  readonly socket: WebSocket;
  lastActiveAt: number;
  /** Set when the socket is dropped on purpose without a $disconnect (tests). */
  silent: boolean;
}

/** A running local WebSocket gateway. */
export interface WsGateway {
  /** ws://host:port/ — where clients connect. */
  readonly url: string;
  /** http://host:port/{stage} — the `@connections` endpoint for ApiGatewayManagementApiClient. */
  readonly managementEndpoint: string;
  /** The key pair `@connections` requests must be SigV4-signed with (service `execute-api`). */
  readonly credentials: LocalCredentials;
  /** Installs the handlers (before the first client connects). */
  setRoutes(routes: WsRoutes): void;
  /** Ids of the sockets open now. */
  connectionIds(): Promise<string[]>;
  /**
   * Closes a socket without invoking $disconnect, as when API Gateway loses a connection's
   * disconnect event; its records stay until a push meets 410 or they expire.
   */
  dropWithoutDisconnect(connectionId: string): Promise<void>;
  /**
   * Makes the `@connections` POST answer 429 (LimitExceededException) whenever `throttle`
   * returns true, as API Gateway does past its rate limits (tests of the retry path).
   */
  setThrottle(throttle: ((connectionId: string) => boolean | Promise<boolean>) | undefined): void;
  /**
   * POSTs the quota (`postRateLimit`) has answered 429 so far, whoever sent them: the bench's
   * count when the fan-out's environments run in processes of their own.
   */
  quotaRefusals(): Promise<number>;
  close(): Promise<void>;
}

const postQuota = (options: WsGatewayOptions) => {
  const postRateLimit = options.postRateLimit ?? postRateFromEnv();
  for (const [name, v] of [
    ['postRateLimit', postRateLimit],
    ['postBurst', options.postBurst],
  ] as const) {
    if (v !== undefined && (!Number.isFinite(v) || v <= 0)) {
      throw new RangeError(`${name} must be a positive number, not ${v}`);
    }
  }
  return {
    ...(postRateLimit !== undefined ? { postRateLimit } : {}),
    ...(options.postBurst !== undefined ? { postBurst: options.postBurst } : {}),
  };
};

const newConnectionId = () => `${randomBytes(12).toString('base64url')}=`;

/** Route keys API Gateway never selects from a message. */
const LIFECYCLE_ROUTES: ReadonlySet<string> = new Set(['$connect', '$disconnect']);

const errorText = (e: unknown) => (e instanceof Error ? e.message : String(e));

/**
 * The route a message goes to: `$request.body.action` when it names one of the route table's
 * own message routes, else `$default` (so `__proto__`, `toString` or `$disconnect` are just
 * unknown actions, as in API Gateway).
 */
export function selectRoute(messageRoutes: ReadonlySet<string>, body: string): string {
  let action: unknown;
  try {
    const parsed: unknown = JSON.parse(body);
    if (typeof parsed === 'object' && parsed !== null && Object.hasOwn(parsed, 'action')) {
      action = (parsed as { action?: unknown }).action;
    }
  } catch {
    // Not JSON: API Gateway falls back to $default, and so do we.
  }
  return typeof action === 'string' && messageRoutes.has(action) ? action : '$default';
}

/**
 * Starts a WebSocket gateway on `ws` that behaves like API Gateway's WebSocket API: the
 * authorizer runs on upgrade (401 when it throws `Unauthorized`), $connect/$disconnect and
 * message routes get API Gateway's event shapes, routes are selected on `$request.body.action`
 * with `$default` as fallback, a route's returned body is sent back (route responses), and the
 * same port serves the `@connections` management API (SigV4-signed POST/GET/DELETE, 410 for
 * gone connections) so the real ApiGatewayManagementApiClient works unchanged.
 *
 * Like API Gateway it survives any client: a request that is not a sound handshake is refused
 * before the authorizer runs, a client that resets mid-upgrade is dropped (with $disconnect when
 * $connect already ran), and a frame `ws` refuses (over 128 KB, invalid UTF-8, a bad close code,
 * unmasked, reserved bits) closes that one connection with 1009/1007/1002 and runs $disconnect.
 */
export async function startWsGateway(options: WsGatewayOptions): Promise<WsGateway> {
  const host = options.host ?? '127.0.0.1';
  const stage = options.stage ?? 'local';
  const apiId = options.apiId ?? 'local';
  const log = options.log;
  const idleTimeoutMs = options.idleTimeoutMs ?? GATEWAY_LIMITS.idleTimeoutMs;
  const maxDurationMs = options.maxDurationMs ?? GATEWAY_LIMITS.maxDurationMs;
  const credentials = options.credentials ?? newLocalCredentials();
  const live = new Map<string, LiveConnection>();
  /** Sockets between the upgrade request and the open WebSocket (authorizer, $connect). */
  const pending = new Set<Duplex>();
  let handlers = new Map<string, LocalHandler>();
  // API Gateway's idle limit and 2-hour cap, for every connection from one timer (two timers per
  // connection cost more memory than the connection itself): a connection is closed 1001 within
  // a check period of its limit.
  const limitCheckMs = Math.max(50, Math.min(1000, idleTimeoutMs / 2, maxDurationMs / 2));
  const limits = setInterval(() => {
    const now = Date.now();
    for (const conn of live.values()) {
      if (now - conn.lastActiveAt >= idleTimeoutMs || now - conn.connectedAt >= maxDurationMs) {
        conn.socket.close(1001, 'Going away');
      }
    }
  }, limitCheckMs);
  limits.unref();
  let messageRoutes: ReadonlySet<string> = new Set();
  let authorizerHandler: LocalHandler | undefined;
  let throttle: ((connectionId: string) => boolean | Promise<boolean>) | undefined;
  let domainName = host;
  let closing = false;
  let quotaRefusals = 0;

  const wss = new WebSocketServer({ noServer: true, maxPayload: GATEWAY_LIMITS.maxMessageBytes });
  const server: Server = createServer(
    managementListener({
      stage,
      credentials,
      maxBodyBytes: GATEWAY_LIMITS.maxMessageBytes,
      log,
      connection: (id) => live.get(id),
      throttled: (id) => throttle?.(id) ?? false,
      onQuotaRefused: () => void quotaRefusals++,
      ...postQuota(options),
    }),
  );
  guardServer(server, log, 'ws gateway');

  const baseContext = (
    connectionId: string,
    routeKey: string,
    eventType: string,
    connectedAt: number,
  ) => {
    const now = new Date();
    return {
      routeKey,
      eventType,
      extendedRequestId: randomUUID(),
      requestTime: requestTime(now),
      messageDirection: 'IN',
      stage,
      connectedAt,
      requestTimeEpoch: now.getTime(),
      requestId: randomUUID(),
      domainName,
      connectionId,
      apiId,
    };
  };

  /** Handler invocations under way: close() lets them finish before the stores go away. */
  const inFlight = new Set<Promise<unknown>>();

  async function invoke(routeKey: string, event: unknown): Promise<unknown> {
    const handler = handlers.get(routeKey);
    if (!handler) throw new Error(`no handler for route ${routeKey}`);
    const run = handler(event);
    inFlight.add(run);
    try {
      return await run;
    } finally {
      inFlight.delete(run);
    }
  }

  /** API Gateway's $disconnect event; failures are logged, never thrown. */
  function disconnect(
    connectionId: string,
    origin: ConnectionOrigin,
    code: number,
    reason: string,
  ): void {
    invoke('$disconnect', {
      headers: origin.headers.headers,
      multiValueHeaders: origin.headers.multiValueHeaders,
      requestContext: {
        ...baseContext(connectionId, '$disconnect', 'DISCONNECT', origin.connectedAt),
        identity: { ...origin.identity },
        authorizer: origin.authorizer,
        disconnectStatusCode: code,
        disconnectReason: reason,
      },
      isBase64Encoded: false,
    }).catch((e: unknown) =>
      log.error('$disconnect failed', { connectionId, error: errorText(e) }),
    );
  }

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    // Node hands the raw socket over without an error listener: a reset while the authorizer
    // or $connect runs would otherwise be an unhandled 'error' and end the process.
    socket.on('error', (e) => log.debug('upgrade socket error', { error: errorText(e) }));
    pending.add(socket);
    socket.once('close', () => pending.delete(socket));
    upgrade(req, socket, head).catch((e: unknown) => {
      log.error('upgrade failed', { error: errorText(e) });
      rejectUpgrade(socket, 500, 'Internal Server Error');
    });
  });

  async function upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const authorize = authorizerHandler;
    if (!authorize) return rejectUpgrade(socket, 503, 'Service Unavailable');
    const problem = handshakeProblem(req);
    if (problem) return rejectUpgrade(socket, problem.status, problem.message);
    const connectionId = newConnectionId();
    const connectedAt = Date.now();
    const maps = requestMaps(req);
    const identity = {
      sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
      userAgent: req.headers['user-agent'],
    };
    const context = {
      ...baseContext(connectionId, '$connect', 'CONNECT', connectedAt),
      identity,
    };
    let authorizer: Record<string, unknown>;
    try {
      const answer = (await authorize({
        type: 'REQUEST',
        methodArn: `arn:aws:execute-api:${LOCAL_REGION}:${LOCAL_ACCOUNT}:${apiId}/${stage}/$connect`,
        ...maps,
        stageVariables: {},
        requestContext: context,
      })) as {
        principalId?: string;
        policyDocument?: { Statement?: { Effect?: string }[] };
        context?: Record<string, unknown>;
      };
      const allowed = answer.policyDocument?.Statement?.some((s) => s.Effect === 'Allow');
      const denied = answer.policyDocument?.Statement?.some((s) => s.Effect === 'Deny');
      if (!allowed || denied) return rejectUpgrade(socket, 403, 'Forbidden');
      authorizer = { ...answer.context, principalId: answer.principalId, integrationLatency: 0 };
    } catch (e) {
      if (e instanceof Error && e.message === 'Unauthorized') {
        return rejectUpgrade(socket, 401, 'Unauthorized');
      }
      log.error('authorizer failed', { error: errorText(e) });
      return rejectUpgrade(socket, 500, 'Internal Server Error');
    }
    // The client left while the authorizer ran: there is no connection to make.
    if (socket.destroyed) return;
    try {
      const result = (await invoke('$connect', {
        headers: maps.headers,
        multiValueHeaders: maps.multiValueHeaders,
        queryStringParameters: maps.queryStringParameters,
        multiValueQueryStringParameters: maps.multiValueQueryStringParameters,
        requestContext: { ...context, authorizer },
        isBase64Encoded: false,
      })) as { statusCode?: number } | undefined;
      const status = result?.statusCode ?? 200;
      if (status < 200 || status >= 300) return rejectUpgrade(socket, status, 'Forbidden');
    } catch (e) {
      log.error('$connect failed', { connectionId, error: errorText(e) });
      return rejectUpgrade(socket, 500, 'Internal Server Error');
    }
    // $connect has run, so $disconnect must too, even when the socket never opens (the client
    // reset during $connect, or `ws` refused the handshake).
    const origin: ConnectionOrigin = {
      connectedAt,
      identity,
      authorizer,
      headers: { headers: maps.headers, multiValueHeaders: maps.multiValueHeaders },
    };
    const lost = () => disconnect(connectionId, origin, 1006, 'Going away');
    if (socket.destroyed) return lost();
    const lostEarly = () => {
      if (!closing) lost();
    };
    socket.once('close', lostEarly);
    wss.handleUpgrade(req, socket, head, (ws) => {
      // Open: from here the WebSocket's own 'close' runs $disconnect. Dropping this listener
      // lets the upgrade's closures (and its request maps) go.
      socket.removeListener('close', lostEarly);
      pending.delete(socket);
      open(ws, connectionId, origin);
    });
  }

  function open(ws: WebSocket, connectionId: string, origin: ConnectionOrigin): void {
    // Spelt out rather than spread: a literal keeps every field in the object itself (a spread
    // clone grows a separate property store for the fields added to it), once per connection.
    const conn: LiveConnection = {
      socket: ws,
      connectedAt: origin.connectedAt,
      lastActiveAt: Date.now(),
      identity: origin.identity,
      authorizer: origin.authorizer,
      headers: origin.headers,
      silent: false,
    };
    live.set(connectionId, conn);
    // A frame `ws` refuses (too big, invalid UTF-8, bad close code, unmasked, RSV bits): `ws`
    // has already started closing this one connection with 1009/1007/1002, as API Gateway does;
    // the error only needs a listener so that it does not end the process.
    ws.on('error', (e) =>
      log.info('connection closed on a protocol error', { connectionId, error: errorText(e) }),
    );
    ws.on('message', (data, isBinary) => {
      conn.lastActiveAt = Date.now();
      onMessage(connectionId, conn, data as Buffer, isBinary).catch((e: unknown) =>
        log.error('message failed', { connectionId, error: errorText(e) }),
      );
    });
    ws.on('close', (code, reason) => {
      live.delete(connectionId);
      if (conn.silent) return;
      disconnect(connectionId, conn, code, reason.toString());
    });
  }

  async function onMessage(
    connectionId: string,
    conn: LiveConnection,
    data: Buffer,
    isBinary: boolean,
  ) {
    const body = isBinary ? data.toString('base64') : data.toString('utf8');
    const routeKey = isBinary ? '$default' : selectRoute(messageRoutes, body);
    const context = {
      ...baseContext(connectionId, routeKey, 'MESSAGE', conn.connectedAt),
      messageId: randomBytes(8).toString('base64url'),
      identity: { ...conn.identity },
      authorizer: conn.authorizer,
    };
    let reply: string | undefined;
    try {
      const result = (await invoke(routeKey, {
        requestContext: context,
        body,
        isBase64Encoded: isBinary,
      })) as { body?: unknown } | undefined;
      if (typeof result?.body === 'string') reply = result.body;
    } catch (e) {
      log.error('route failed', { connectionId, routeKey, error: errorText(e) });
      reply = JSON.stringify({
        message: 'Internal server error',
        connectionId,
        requestId: context.requestId,
      });
    }
    if (reply !== undefined && conn.socket.readyState === WebSocket.OPEN) conn.socket.send(reply);
  }

  const port = await listen(server, host, options.port);
  domainName = `${host}:${port}`;

  return {
    url: `ws://${host}:${port}`,
    managementEndpoint: `http://${host}:${port}/${stage}`,
    credentials,
    setRoutes: (r) => {
      authorizerHandler = r.authorizer;
      // Own entries only: a Map, so no key of Object.prototype can ever be a route.
      handlers = new Map(Object.entries(r.routes));
      messageRoutes = new Set([...handlers.keys()].filter((k) => !LIFECYCLE_ROUTES.has(k)));
    },
    connectionIds: () => Promise.resolve([...live.keys()]),
    setThrottle: (t) => {
      throttle = t;
    },
    quotaRefusals: () => Promise.resolve(quotaRefusals),
    dropWithoutDisconnect: async (connectionId) => {
      const conn = live.get(connectionId);
      if (!conn) return;
      conn.silent = true;
      await new Promise<void>((resolve) => {
        conn.socket.once('close', () => resolve());
        conn.socket.terminate();
      });
    },
    close: async () => {
      closing = true;
      clearInterval(limits);
      for (const conn of live.values()) {
        conn.silent = true;
        conn.socket.terminate();
      }
      live.clear();
      for (const socket of pending) socket.destroy();
      pending.clear();
      wss.close();
      await closeServer(server);
      // Bounded: a handler that never settles must not hold the runtime's stop forever.
      const drained = Promise.allSettled([...inFlight]);
      await Promise.race([drained, new Promise((r) => setTimeout(r, 5000).unref())]);
    },
  };
}
