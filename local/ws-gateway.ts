import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import type { Log } from '../src/ports/log';
import { closeServer, listen } from './net';
import { LOCAL_ACCOUNT, LOCAL_REGION, type LocalHandler, requestTime } from './lambda-types';

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
}

/** What the gateway routes to; set after start because handlers need the gateway's URL. */
export interface WsRoutes {
  readonly authorizer: LocalHandler;
  /** Route key → handler; `$connect`, `$disconnect` and `$default` included. */
  readonly routes: Readonly<Record<string, LocalHandler>>;
}

interface LiveConnection {
  readonly socket: WebSocket;
  readonly connectedAt: number;
  lastActiveAt: number;
  readonly sourceIp: string;
  readonly userAgent: string | undefined;
  readonly authorizer: Record<string, unknown>;
  /** Set when the socket is dropped on purpose without a $disconnect (tests). */
  silent: boolean;
  readonly timers: NodeJS.Timeout[];
}

/** A running local WebSocket gateway. */
export interface WsGateway {
  /** ws://host:port/ — where clients connect. */
  readonly url: string;
  /** http://host:port/{stage} — the `@connections` endpoint for ApiGatewayManagementApiClient. */
  readonly managementEndpoint: string;
  /** Installs the handlers (before the first client connects). */
  setRoutes(routes: WsRoutes): void;
  /** Ids of the sockets open now. */
  connectionIds(): string[];
  /**
   * Closes a socket without invoking $disconnect, as when API Gateway loses a connection's
   * disconnect event; its records stay until a push meets 410 or they expire.
   */
  dropWithoutDisconnect(connectionId: string): Promise<void>;
  /**
   * Makes the `@connections` POST answer 429 (LimitExceededException) whenever `throttle`
   * returns true, as API Gateway does past its rate limits (tests of the retry path).
   */
  setThrottle(throttle: ((connectionId: string) => boolean) | undefined): void;
  close(): Promise<void>;
}

const newConnectionId = () => `${randomBytes(12).toString('base64url')}=`;

function singleValues(params: URLSearchParams): Record<string, string> | null {
  const out: Record<string, string> = {};
  for (const [k, v] of params) out[k] = v;
  return Object.keys(out).length ? out : null;
}

function headerMaps(req: IncomingMessage) {
  const headers: Record<string, string> = {};
  const multi: Record<string, string[]> = {};
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const k = req.rawHeaders[i] ?? '';
    const v = req.rawHeaders[i + 1] ?? '';
    headers[k] = headers[k] === undefined ? v : `${headers[k]},${v}`;
    (multi[k] ??= []).push(v);
  }
  return { headers, multi };
}

function rejectUpgrade(socket: Duplex, status: number, message: string) {
  const body = JSON.stringify({ message });
  socket.end(
    `HTTP/1.1 ${status} ${message}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(
      body,
    )}\r\nConnection: close\r\n\r\n${body}`,
  );
}

/**
 * Starts a WebSocket gateway on `ws` that behaves like API Gateway's WebSocket API: the
 * authorizer runs on upgrade (401 when it throws `Unauthorized`), $connect/$disconnect and
 * message routes get API Gateway's event shapes, routes are selected on `$request.body.action`
 * with `$default` as fallback, a route's returned body is sent back (route responses), and the
 * same port serves the `@connections` management API (POST/GET/DELETE, 410 for gone
 * connections) so the real ApiGatewayManagementApiClient works unchanged.
 */
export async function startWsGateway(options: WsGatewayOptions): Promise<WsGateway> {
  const host = options.host ?? '127.0.0.1';
  const stage = options.stage ?? 'local';
  const apiId = options.apiId ?? 'local';
  const log = options.log;
  const idleTimeoutMs = options.idleTimeoutMs ?? GATEWAY_LIMITS.idleTimeoutMs;
  const maxDurationMs = options.maxDurationMs ?? GATEWAY_LIMITS.maxDurationMs;
  const live = new Map<string, LiveConnection>();
  let routes: WsRoutes | undefined;
  let throttle: ((connectionId: string) => boolean) | undefined;
  let domainName = host;

  const wss = new WebSocketServer({ noServer: true, maxPayload: GATEWAY_LIMITS.maxMessageBytes });
  const server: Server = createServer((req, res) => {
    void serveManagement(req, res);
  });

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

  async function invoke(routeKey: string, event: unknown): Promise<unknown> {
    const handler = routes?.routes[routeKey];
    if (!handler) throw new Error(`no handler for route ${routeKey}`);
    return handler(event);
  }

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    void (async () => {
      if (!routes) return rejectUpgrade(socket, 503, 'Service Unavailable');
      const url = new URL(req.url ?? '/', `http://${host}`);
      const connectionId = newConnectionId();
      const connectedAt = Date.now();
      const { headers, multi } = headerMaps(req);
      const query = singleValues(url.searchParams);
      const multiQuery: Record<string, string[]> = {};
      for (const [k, v] of url.searchParams) (multiQuery[k] ??= []).push(v);
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
        const answer = (await routes.authorizer({
          type: 'REQUEST',
          methodArn: `arn:aws:execute-api:${LOCAL_REGION}:${LOCAL_ACCOUNT}:${apiId}/${stage}/$connect`,
          headers,
          multiValueHeaders: multi,
          queryStringParameters: query,
          multiValueQueryStringParameters: Object.keys(multiQuery).length ? multiQuery : null,
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
        log.error('authorizer failed', { error: e instanceof Error ? e.message : String(e) });
        return rejectUpgrade(socket, 500, 'Internal Server Error');
      }
      try {
        const result = (await invoke('$connect', {
          headers,
          multiValueHeaders: multi,
          queryStringParameters: query,
          multiValueQueryStringParameters: Object.keys(multiQuery).length ? multiQuery : null,
          requestContext: { ...context, authorizer },
          isBase64Encoded: false,
        })) as { statusCode?: number } | undefined;
        const status = result?.statusCode ?? 200;
        if (status < 200 || status >= 300) return rejectUpgrade(socket, status, 'Forbidden');
      } catch (e) {
        log.error('$connect failed', {
          connectionId,
          error: e instanceof Error ? e.message : String(e),
        });
        return rejectUpgrade(socket, 500, 'Internal Server Error');
      }
      wss.handleUpgrade(req, socket, head, (ws) => {
        const conn: LiveConnection = {
          socket: ws,
          connectedAt,
          lastActiveAt: Date.now(),
          sourceIp: identity.sourceIp,
          userAgent: identity.userAgent,
          authorizer,
          silent: false,
          timers: [],
        };
        live.set(connectionId, conn);
        const idle = setInterval(
          () => {
            if (Date.now() - conn.lastActiveAt >= idleTimeoutMs) ws.close(1001, 'Going away');
          },
          Math.min(idleTimeoutMs, 60_000),
        );
        const max = setTimeout(() => ws.close(1001, 'Going away'), maxDurationMs);
        idle.unref();
        max.unref();
        conn.timers.push(idle, max);
        ws.on('message', (data, isBinary) => {
          conn.lastActiveAt = Date.now();
          void onMessage(connectionId, conn, data as Buffer, isBinary);
        });
        ws.on('close', (code, reason) => {
          for (const t of conn.timers) clearTimeout(t);
          live.delete(connectionId);
          if (conn.silent) return;
          void invoke('$disconnect', {
            headers,
            multiValueHeaders: multi,
            requestContext: {
              ...baseContext(connectionId, '$disconnect', 'DISCONNECT', connectedAt),
              identity,
              authorizer,
              disconnectStatusCode: code,
              disconnectReason: reason.toString(),
            },
            isBase64Encoded: false,
          }).catch((e: unknown) =>
            log.error('$disconnect failed', {
              connectionId,
              error: e instanceof Error ? e.message : String(e),
            }),
          );
        });
      });
    })();
  });

  async function onMessage(
    connectionId: string,
    conn: LiveConnection,
    data: Buffer,
    isBinary: boolean,
  ) {
    const body = isBinary ? data.toString('base64') : data.toString('utf8');
    let routeKey = '$default';
    if (!isBinary) {
      try {
        const action = (JSON.parse(body) as { action?: unknown })?.action;
        if (typeof action === 'string' && routes?.routes[action]) routeKey = action;
      } catch {
        // Not JSON: API Gateway falls back to $default, and so do we.
      }
    }
    const context = {
      ...baseContext(connectionId, routeKey, 'MESSAGE', conn.connectedAt),
      messageId: randomBytes(8).toString('base64url'),
      identity: { sourceIp: conn.sourceIp, userAgent: conn.userAgent },
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
      log.error('route failed', {
        connectionId,
        routeKey,
        error: e instanceof Error ? e.message : String(e),
      });
      reply = JSON.stringify({
        message: 'Internal server error',
        connectionId,
        requestId: context.requestId,
      });
    }
    if (reply !== undefined && conn.socket.readyState === WebSocket.OPEN) conn.socket.send(reply);
  }

  async function serveManagement(req: IncomingMessage, res: ServerResponse) {
    const path = new URL(req.url ?? '/', `http://${host}`).pathname;
    const at = path.indexOf('/@connections/');
    const fail = (status: number, type: string, message: string) => {
      res.writeHead(status, { 'content-type': 'application/json', 'x-amzn-errortype': type });
      res.end(JSON.stringify({ message, __type: type }));
    };
    if (at < 0) return fail(404, 'NotFoundException', 'Not Found');
    const connectionId = decodeURIComponent(path.slice(at + '/@connections/'.length));
    const conn = live.get(connectionId);
    if (req.method === 'POST') {
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of req) {
        size += (chunk as Buffer).length;
        if (size <= GATEWAY_LIMITS.maxMessageBytes) chunks.push(chunk as Buffer);
      }
      if (size > GATEWAY_LIMITS.maxMessageBytes) {
        return fail(413, 'PayloadTooLargeException', 'Message too long');
      }
      if (!conn || conn.socket.readyState !== WebSocket.OPEN) return fail(410, 'GoneException', '');
      if (throttle?.(connectionId)) return fail(429, 'LimitExceededException', 'Rate exceeded');
      // A text frame from the bytes as they came; like API Gateway, answer once it is queued
      // on the socket rather than after the client has read it.
      conn.socket.send(Buffer.concat(chunks), { binary: false });
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end();
    }
    if (!conn) return fail(410, 'GoneException', '');
    if (req.method === 'GET') {
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end(
        JSON.stringify({
          ConnectedAt: new Date(conn.connectedAt).toISOString(),
          LastActiveAt: new Date(conn.lastActiveAt).toISOString(),
          Identity: { SourceIp: conn.sourceIp, UserAgent: conn.userAgent },
        }),
      );
    }
    if (req.method === 'DELETE') {
      conn.socket.close(1000, 'Closed by server');
      res.writeHead(204);
      return res.end();
    }
    return fail(405, 'MethodNotAllowedException', 'Method Not Allowed');
  }

  const port = await listen(server, host, options.port);
  domainName = `${host}:${port}`;

  return {
    url: `ws://${host}:${port}`,
    managementEndpoint: `http://${host}:${port}/${stage}`,
    setRoutes: (r) => {
      routes = r;
    },
    connectionIds: () => [...live.keys()],
    setThrottle: (t) => {
      throttle = t;
    },
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
      for (const conn of live.values()) {
        conn.silent = true;
        conn.socket.terminate();
      }
      live.clear();
      wss.close();
      await closeServer(server);
    },
  };
}
