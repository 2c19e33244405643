import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Log } from '../src/ports/log';
import {
  closeServer,
  guardExchange,
  guardServer,
  listen,
  readBody,
  requestTarget,
  safeDecode,
} from './net';
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

  const log = options.log;
  const answer = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const badRequest = (res: ServerResponse, message: string) =>
    answer(res, 400, { error: { code: 'bad_request', message } });

  const server: Server = createServer((req, res) => {
    guardExchange(req, res, log);
    serve(req, res).catch((e: unknown) => {
      log.error('local http api failed', { error: e instanceof Error ? e.message : String(e) });
      if (res.headersSent || res.destroyed) res.destroy();
      else answer(res, 500, { message: 'Internal Server Error' });
    });
  });
  guardServer(server, log, 'local http api');

  async function serve(req: IncomingMessage, res: ServerResponse) {
    const target = requestTarget(req.url);
    if (!target) return badRequest(res, 'the request target is not a URL path');
    // Refused before any route sees them (URIError used to make these a 500).
    if (safeDecode(target.path) === undefined) {
      return badRequest(res, 'the path has malformed percent-encoding');
    }
    if (target.path.includes('//')) return badRequest(res, 'the path has an empty segment');
    const method = req.method ?? 'GET';
    let read;
    try {
      read = await readBody(req, MAX_HTTP_BODY_BYTES);
    } catch (e) {
      // The client reset or aborted mid-body: there is nobody to answer.
      log.debug('request aborted', { error: e instanceof Error ? e.message : String(e) });
      res.destroy();
      return;
    }
    if (read.tooLarge) return answer(res, 413, { message: 'Request Entity Too Large' });
    let match: { c: CompiledRoute; params: Record<string, string> } | undefined;
    for (const c of compiled) {
      if (c.route.method !== method) continue;
      const m = c.pattern.exec(target.path);
      if (!m) continue;
      const params = new Map<string, string>();
      for (const [i, n] of c.names.entries()) {
        const value = safeDecode(m[i + 1] ?? '');
        if (value === undefined) {
          return badRequest(res, `${n}: malformed percent-encoding in the path`);
        }
        params.set(n, value);
      }
      match = { c, params: Object.fromEntries(params) };
      break;
    }
    const handler = match?.c.route.handler ?? fallback;
    if (!handler) {
      res.writeHead(404, { 'content-type': 'application/json' });
      return res.end(JSON.stringify({ message: 'Not Found' }));
    }
    // Maps, then Object.fromEntries: a header or parameter named `__proto__` or `constructor`
    // is an own key like any other, never the object's prototype.
    const headerMap = new Map<string, string>();
    for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
      const k = (req.rawHeaders[i] ?? '').toLowerCase();
      const v = req.rawHeaders[i + 1] ?? '';
      const seen = headerMap.get(k);
      headerMap.set(k, seen === undefined ? v : `${seen},${v}`);
    }
    const headers = Object.fromEntries(headerMap);
    const queryMap = new Map<string, string>();
    // URLSearchParams never throws: malformed percent-encoding in the query is kept as sent.
    for (const [k, v] of new URLSearchParams(target.query)) {
      const seen = queryMap.get(k);
      queryMap.set(k, seen === undefined ? v : `${seen},${v}`);
    }
    const query = Object.fromEntries(queryMap);
    const now = new Date();
    const routeKey = match?.c.routeKey ?? '$default';
    const body = read.body;
    const event = {
      version: '2.0',
      routeKey,
      rawPath: target.path,
      rawQueryString: target.query,
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
          path: target.path,
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
      log.error('handler failed', { routeKey, error: e instanceof Error ? e.message : String(e) });
      return answer(res, 500, { message: 'Internal Server Error' });
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
