import { HTTP_STATUS } from '../../lambdas/http/error-response';
import type { HttpRoute } from '../../lambdas/http/routes';
import type { ErrorCode } from '../../src/errors/app-error';
import { WECOM_ERROR_CODES, WECOM_ERROR_KINDS, type WecomErrorCode } from '../../src/wecom/errors';

/** An error answer of the HTTP API: its status, the codes its body may carry, what it means. */
export interface ErrorResponseDoc {
  readonly status: number;
  readonly codes: readonly [ErrorCode | WecomErrorCode, ...(ErrorCode | WecomErrorCode)[]];
  readonly description: string;
}

/** The WeCom codes that fall under a general kind (src/wecom/errors.ts). */
function wecomCodesOf(kind: ErrorCode): [WecomErrorCode, ...WecomErrorCode[]] {
  const codes = WECOM_ERROR_CODES.filter((c) => WECOM_ERROR_KINDS[c] === kind);
  const [first, ...rest] = codes;
  if (first === undefined) throw new Error(`no WeCom error code falls under ${kind}`);
  return [first, ...rest];
}

/** The error answers, published as `components.responses`. */
export const ERROR_RESPONSES = {
  BadRequest: {
    status: 400,
    codes: ['bad_request'],
    description:
      'Bad input: a body that is empty, not JSON or not the schema (the message names the first bad field), a bad path parameter or header, JSON nested more than 24 levels, an unknown task type or bad task arguments.',
  },
  Unauthorized: {
    status: 401,
    codes: ['unauthorized'],
    description:
      'No bearer token, or one that is malformed, wrongly signed, expired, of another issuer or audience, or with claims outside the rules. Checked before the body is read.',
  },
  Forbidden: {
    status: 403,
    codes: ['forbidden'],
    description: 'A valid token without the `admin` role.',
  },
  NotFound: { status: 404, codes: ['not_found'], description: 'No such record.' },
  Conflict: {
    status: 409,
    codes: ['conflict'],
    description: 'The scheduled message is already sending or sent.',
  },
  TooLarge: { status: 413, codes: ['too_large'], description: 'The body is over the route’s cap.' },
  Internal: {
    status: 500,
    codes: ['internal'],
    description: 'A fault of ours, logged with its stack; never caused by anything a caller sent.',
  },
  WecomRefused: {
    status: 400,
    codes: wecomCodesOf('bad_request'),
    description:
      'A refused callback (missing query parameter, timestamp over 300 s away, bad base64, length, padding or UTF-8, wrong receive id, bad XML or JSON, …); nothing is queued.',
  },
  WecomBadSignature: {
    status: 401,
    codes: wecomCodesOf('unauthorized'),
    description: '`msg_signature` does not match; checked before anything is decrypted.',
  },
  WecomTooLarge: {
    status: 413,
    codes: wecomCodesOf('too_large'),
    description: 'The body is over 64 KiB.',
  },
} as const satisfies Record<string, ErrorResponseDoc>;

/** The name of an error answer. */
export type ErrorResponseName = keyof typeof ERROR_RESPONSES;

const isWecomCode = (c: string): c is WecomErrorCode =>
  (WECOM_ERROR_CODES as readonly string[]).includes(c);

/**
 * Holds each error answer to the one status table (lambdas/http/error-response.ts): every code
 * it lists must map to its status.
 * @throws Error naming the first code whose status differs
 */
export function checkErrorResponses(): void {
  for (const [name, doc] of Object.entries(ERROR_RESPONSES) as [string, ErrorResponseDoc][]) {
    for (const code of doc.codes) {
      const kind = isWecomCode(code) ? WECOM_ERROR_KINDS[code] : code;
      if (HTTP_STATUS[kind] !== doc.status) {
        throw new Error(`${name}: ${code} is answered ${HTTP_STATUS[kind]}, not ${doc.status}`);
      }
    }
  }
}

/** What a route takes, as far as its error answers go. */
export interface RouteInputs {
  readonly hasInput: boolean;
  readonly hasBody: boolean;
  /** Route-specific answers (404, 409). */
  readonly extra: readonly ErrorResponseName[];
}

/**
 * The error answers of a route: from its auth (401/403 for admin routes, 401 for a WeCom
 * signature), its inputs (400 when it reads any, 413 with a body), its own extras, and 500.
 */
export function errorResponsesOf(route: HttpRoute, inputs: RouteInputs): ErrorResponseName[] {
  const wecom = route.auth === 'wecomSignature';
  const auth: Record<HttpRoute['auth'], ErrorResponseName[]> = {
    public: [],
    adminToken: ['Unauthorized', 'Forbidden'],
    wecomSignature: ['WecomBadSignature'],
  };
  const names: ErrorResponseName[] = [
    ...(inputs.hasInput ? [wecom ? 'WecomRefused' : 'BadRequest'] : []),
    ...auth[route.auth],
    ...inputs.extra,
    ...(inputs.hasBody ? [wecom ? 'WecomTooLarge' : 'TooLarge'] : []),
    'Internal',
  ] as ErrorResponseName[];
  return [...new Set(names)].sort(
    (a, b) => ERROR_RESPONSES[a].status - ERROR_RESPONSES[b].status || a.localeCompare(b),
  );
}
