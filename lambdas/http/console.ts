import { CONSOLE_ASSETS } from '../../console/generated/assets';
import { ENV } from '../config/env';
import type { HttpResult } from '../edge/http';

/**
 * The console's function (docs/protocol.md, "Console"): serves the live page from the assets
 * `npm run console:build` bundled into console/generated/assets.ts, and `config.json`, which
 * tells the page where the WebSocket is. Small on purpose: no SDK, no table, no secret. The page
 * is the same origin as the HTTP API, so it needs no CORS; it sends tokens in headers and on the
 * WebSocket only, never in a URL of this API (whose access log records paths).
 */

/** What `config.json` tells the page. */
export interface ConsoleConfig {
  /** The WebSocket URL (the stack's WebSocketUrl; ws://127.0.0.1:3001 locally). */
  readonly wsUrl: string;
  /** A token to pre-fill the sign-in field with (local runtime only: the dev token). */
  readonly token?: string;
}

/** The part of an HTTP API (payload 2.0) event the console reads. */
interface ConsoleEvent {
  readonly rawPath?: string;
  readonly requestContext?: { readonly http?: { readonly path?: string } };
}

const TYPES = {
  html: 'text/html; charset=utf-8',
  css: 'text/css; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  json: 'application/json; charset=utf-8',
} as const;

/** The origin of a ws:// or wss:// URL, for the CSP's connect-src. */
function originOf(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}`;
  } catch {
    return '';
  }
}

/** The security headers of every answer: only this origin and the WebSocket's may be reached. */
export function securityHeaders(wsUrl: string): Record<string, string> {
  const ws = originOf(wsUrl);
  return {
    'content-security-policy': [
      "default-src 'none'",
      "script-src 'self'",
      "style-src 'self'",
      "img-src 'self' data:",
      `connect-src 'self'${ws ? ` ${ws}` : ''}`,
      "base-uri 'none'",
      "form-action 'none'",
      "frame-ancestors 'none'",
    ].join('; '),
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'x-frame-options': 'DENY',
  };
}

/** The console's handler, for the given settings (read on each call: the local runtime's change). */
export function createConsoleHandler(settings: () => ConsoleConfig) {
  return async (raw: unknown): Promise<HttpResult> => {
    const event = (raw ?? {}) as ConsoleEvent;
    const config = settings();
    const headers = securityHeaders(config.wsUrl);
    const path = event.rawPath ?? event.requestContext?.http?.path ?? '';
    const at = path.indexOf('/console');
    const rest = at < 0 ? '' : path.slice(at + '/console'.length);
    const answer = (type: keyof typeof TYPES, body: string, cache = 'no-cache'): HttpResult => ({
      statusCode: 200,
      headers: { ...headers, 'content-type': TYPES[type], 'cache-control': cache },
      body,
    });
    switch (rest) {
      case '':
        // Relative, so the page's relative asset URLs resolve under /console/.
        return {
          statusCode: 308,
          headers: {
            ...headers,
            location: 'console/',
            'content-type': 'text/plain; charset=utf-8',
          },
          body: 'console/',
        };
      case '/':
      case '/index.html':
        return answer('html', CONSOLE_ASSETS.html);
      case '/app.js':
        return answer('js', CONSOLE_ASSETS.js);
      case '/console.css':
        return answer('css', CONSOLE_ASSETS.css);
      case '/config.json':
        return answer(
          'json',
          JSON.stringify({ wsUrl: config.wsUrl, ...(config.token ? { token: config.token } : {}) }),
          'no-store',
        );
      default:
        return {
          statusCode: 404,
          headers: { ...headers, 'content-type': TYPES.json },
          body: JSON.stringify({
            error: { code: 'not_found', message: `no console file ${rest}` },
          }),
        };
    }
  };
}

/** Lambda entry point: the WebSocket URL comes from the stack (the `webSocketUrl` need). */
export const handler = createConsoleHandler(() => ({
  wsUrl: process.env[ENV.webSocketUrl] ?? '',
}));
