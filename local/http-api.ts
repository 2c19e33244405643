import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Log } from '../src/ports/log';
import { closeServer, listen } from './net';
import { LOCAL_ACCOUNT, type LocalHandler, requestTime } from './lambda-types';

/** HTTP API's own payload cap (10 MB). */
export const MAX_HTTP_BODY_BYTES = 10 * 1024 * 1024;

/** A route of the local HTTP API: API Gateway route syntax and its handler. */
export interface LocalHttpRoute {
  readonly method: string;
  readonly path: string;
  readonly handler: LocalHandler;
}

/** Options of {@link startHttpApi}. */
export interface HttpApiOptions {
  readonly host?: string;
  readonly port?: number;
  readonly log: Log;
  /** Invoked with routeKey `$default` for requests no route matches. */
  readonly fallback?: LocalHandler;
}

/** A running local HTTP API. */
export interface HttpApi {
  readonly url: string;
  setRoutes(routes: readonly LocalHttpRoute[]): void;
  /** The handler for requests no route matches (invoked with routeKey `$default`). */
  setFallback(handler: LocalHandler): void;
  close(): Promise<void>;
}

interface CompiledRoute {
  readonly route: LocalHttpRoute;
  readonly routeKey: string;
  readonly pattern: RegExp;
  readonly names: string[];
}

function compile(route: LocalHttpRoute): CompiledRoute {
  const names: string[] = [];
  const source = route.path
    .split('/')
    .map((segment) => {
      const m = /^\{(\w+)(\+?)\}$/.exec(segment);
      if (!m?.[1]) return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      names.push(m[1]);
      // {name+} is API Gateway's greedy parameter: the rest of the path.
      return m[2] ? '(.+)' : '([^/]+)';
    })
    .join('/');
  return {
    route,
    routeKey: `${route.method} ${route.path}`,
    pattern: new RegExp(`^${source}$`),
    names,
  };
}

interface HandlerResult {
  statusCode?: number;
  headers?: Record<string, string>;
  body?: string;
  isBase64Encoded?: boolean;
}

/**
 * Starts an HTTP server that invokes handlers with API Gateway HTTP API (payload 2.0) events
 * and maps their results back the way HTTP API does.
 */
export async function startHttpApi(options: HttpApiOptions): Promise<HttpApi> {
  const host = options.host ?? '127.0.0.1';
  let compiled: CompiledRoute[] = [];
  let fallback = options.fallback;
  let domainName = host;

  const server: Server = createServer((req, res) => {
    void serve(req, res).catch((e: unknown) => {
      options.log.error('local http api failed', {
        error: e instanceof Error ? e.message : String(e),
      });
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ message: 'Internal Server Error' }));
    });
  });

  async function serve(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? '/', `http://${host}`);
    const method = req.method ?? 'GET';
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size <= MAX_HTTP_BODY_BYTES) chunks.push(chunk as Buffer);
    }
    if (size > MAX_HTTP_BODY_BYTES) {
      res.writeHead(413, { 'content-type': 'application/json' });
      return res.end(JSON.stringify({ message: 'Request Entity Too Large' }));
    }
    let match: { c: CompiledRoute; params: Record<string, string> } | undefined;
    for (const c of compiled) {
      if (c.route.method !== method) continue;
      const m = c.pattern.exec(url.pathname);
      if (!m) continue;
      const params: Record<string, string> = {};
      c.names.forEach((n, i) => (params[n] = decodeURIComponent(m[i + 1] ?? '')));
      match = { c, params };
      break;
    }
    const handler = match?.c.route.handler ?? fallback;
    if (!handler) {
      res.writeHead(404, { 'content-type': 'application/json' });
      return res.end(JSON.stringify({ message: 'Not Found' }));
    }
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) {
      if (v !== undefined) headers[k.toLowerCase()] = Array.isArray(v) ? v.join(',') : v;
    }
    const query: Record<string, string> = {};
    for (const [k, v] of url.searchParams)
      query[k] = query[k] === undefined ? v : `${query[k]},${v}`;
    const now = new Date();
    const routeKey = match?.c.routeKey ?? '$default';
    const body = Buffer.concat(chunks);
    const event = {
      version: '2.0',
      routeKey,
      rawPath: url.pathname,
      rawQueryString: url.search.slice(1),
      headers,
      ...(Object.keys(query).length ? { queryStringParameters: query } : {}),
      ...(match && Object.keys(match.params).length ? { pathParameters: match.params } : {}),
      requestContext: {
        accountId: LOCAL_ACCOUNT,
        apiId: 'local',
        domainName,
        domainPrefix: 'local',
        http: {
          method,
          path: url.pathname,
          protocol: `HTTP/${req.httpVersion}`,
          sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
          userAgent: req.headers['user-agent'] ?? '',
        },
        requestId: randomUUID(),
        routeKey,
        stage: '$default',
        time: requestTime(now),
        timeEpoch: now.getTime(),
      },
      ...(body.length ? { body: body.toString('utf8') } : {}),
      isBase64Encoded: false,
    };
    let result: unknown;
    try {
      result = await handler(event);
    } catch (e) {
      options.log.error('handler failed', {
        routeKey,
        error: e instanceof Error ? e.message : String(e),
      });
      res.writeHead(500, { 'content-type': 'application/json' });
      return res.end(JSON.stringify({ message: 'Internal Server Error' }));
    }
    // HTTP API 2.0: a result without statusCode is taken as a 200 JSON body.
    const r: HandlerResult =
      typeof result === 'object' && result !== null && 'statusCode' in result
        ? (result as HandlerResult)
        : {
            statusCode: 200,
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify(result),
          };
    res.writeHead(r.statusCode ?? 200, r.headers ?? {});
    res.end(
      r.body === undefined ? undefined : Buffer.from(r.body, r.isBase64Encoded ? 'base64' : 'utf8'),
    );
  }

  const port = await listen(server, host, options.port);
  domainName = `${host}:${port}`;
  return {
    url: `http://${host}:${port}`,
    setRoutes: (routes) => {
      compiled = routes.map(compile);
    },
    setFallback: (handler) => {
      fallback = handler;
    },
    close: () => closeServer(server),
  };
}
