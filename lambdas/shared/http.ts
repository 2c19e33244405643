import { isAppError } from '../../src/errors/app-error';
import { isWecomError, type WecomErrorCode } from '../../src/wecom/errors';
import type { Log } from '../../src/ports/log';

/** An API Gateway HTTP API (payload 2.0) response. */
export interface HttpResult {
  readonly statusCode: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

/** A JSON response. */
export function json(statusCode: number, body: unknown): HttpResult {
  return {
    statusCode,
    headers: { 'content-type': 'application/json; charset=utf-8' },
    body: JSON.stringify(body),
  };
}

/** A plain text response. */
export function text(statusCode: number, body: string): HttpResult {
  return { statusCode, headers: { 'content-type': 'text/plain; charset=utf-8' }, body };
}

/** WeCom refusals keep their specific code; the status says which kind of 4xx. */
const WECOM_STATUS: Partial<Record<WecomErrorCode, number>> = {
  bad_signature: 401,
  too_large: 413,
};

/**
 * The one place where an error becomes an HTTP answer: a domain or WeCom error keeps its code
 * and message; anything else is our fault, logged with its stack and answered 500 without detail.
 */
export function errorResult(
  e: unknown,
  log: Log,
  context: Record<string, unknown> = {},
): HttpResult {
  if (isAppError(e)) {
    return json(e.status, { error: { code: e.code, message: e.message } });
  }
  if (isWecomError(e)) {
    return json(WECOM_STATUS[e.code] ?? 400, { error: { code: e.code, message: e.message } });
  }
  log.error('unhandled error', {
    ...context,
    error: e instanceof Error ? { name: e.name, message: e.message, stack: e.stack } : String(e),
  });
  return json(500, { error: { code: 'internal', message: 'internal error; it has been logged' } });
}
