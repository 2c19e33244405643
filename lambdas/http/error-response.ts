import {
  type AppError,
  type ErrorCode,
  INTERNAL_ERROR_MESSAGE,
  isAppError,
} from '../../src/errors/app-error';
import type { Log } from '../../src/ports/log';
import { type HttpResult, json } from '../edge/http';
import { faultDetails } from '../runtime/logger';

/**
 * The HTTP status of each kind of error (docs/protocol.md, "Errors"): the one table of it.
 * `internal` is here for completeness only; a fault never gets past {@link httpErrorResult}
 * with more than a 500 and a fixed message.
 */
export const HTTP_STATUS: Readonly<Record<ErrorCode, number>> = {
  bad_request: 400,
  unknown_action: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  too_large: 413,
  // The task is no longer the caller's (a socket worker's late answer): a conflict of state.
  lease_lost: 409,
  internal: 500,
  // A store we depend on failed (the stream log): nothing was done; the caller may retry.
  unavailable: 503,
};

/** The HTTP status of a domain error, by its kind (a WeCom `bad_signature` is a 401). */
export const httpStatusOf = (e: AppError<string>): number => HTTP_STATUS[e.kind];

/**
 * The HTTP edge's one error mapper: every HTTP handler answers a thrown error with this. A
 * domain error (an {@link AppError}, WeCom's included) keeps its code and message and gets the
 * status of its kind; anything else is our fault, logged with its stack and answered 500
 * without detail.
 *
 * @param context logged with a fault (e.g. `{ routeKey }`) so the line says what failed
 */
export function httpErrorResult(
  e: unknown,
  log: Log,
  context: Record<string, unknown> = {},
): HttpResult {
  if (isAppError(e) && e.kind !== 'internal') {
    // Ours to look into, though the caller gets the plain reason.
    if (e.kind === 'unavailable') log.error('unavailable', { ...context, error: faultDetails(e) });
    return json(httpStatusOf(e), { error: { code: e.code, message: e.message } });
  }
  log.error('unhandled error', { ...context, error: faultDetails(e) });
  return json(500, { error: { code: 'internal', message: INTERNAL_ERROR_MESSAGE } });
}
