import { AppError, type ErrorCode } from '../errors/app-error';

/**
 * Errors of the WeCom domain.
 *
 * Two kinds, kept apart on purpose:
 * - `WecomError`: something a caller sent (a forged signature, a garbled body, a message we
 *   cannot read). It is an AppError with WeCom's own codes; the callback's edge answers it with a
 *   4xx and enqueues nothing; it is never a 5xx.
 * - `WecomConfigError`: our own configuration is wrong (a malformed EncodingAESKey). That is a
 *   fault of ours, found at start-up, and must not be blamed on WeCom.
 */

/**
 * Why a callback was refused. The code is the stable part (tests and handlers switch on it);
 * the message is for logs and may change.
 *
 * - `bad_signature`: msg_signature does not match token/timestamp/nonce/ciphertext.
 * - `bad_base64`: the ciphertext is not strict, canonical base64.
 * - `bad_length`: ciphertext length is not a positive multiple of 16, the plaintext is too short,
 *   or its 4-byte length field points past the end.
 * - `bad_padding`: the PKCS#7 (32-byte block) padding is not valid.
 * - `bad_utf8`: the decrypted message or receive id (or a byte body) is not valid UTF-8.
 * - `bad_receive_id`: the message was encrypted for another corp / app.
 * - `bad_xml`: not well-formed XML, a DOCTYPE/ENTITY declaration, or an unexpected root element.
 * - `bad_json`: not valid JSON, or nested too deeply.
 * - `bad_format`: neither XML nor JSON.
 * - `missing_field`: a required field (Encrypt, MsgType, the sender, …) is absent or empty.
 * - `bad_field`: a field is present but has the wrong type or format.
 * - `empty_text`: a text message whose content is empty or only whitespace.
 * - `too_large`: the body exceeds the size cap.
 */
export type WecomErrorCode =
  | 'bad_signature'
  | 'bad_base64'
  | 'bad_length'
  | 'bad_padding'
  | 'bad_utf8'
  | 'bad_receive_id'
  | 'bad_xml'
  | 'bad_json'
  | 'bad_format'
  | 'missing_field'
  | 'bad_field'
  | 'empty_text'
  | 'too_large';

/** Every WecomErrorCode, for exhaustive tests and for handlers that map codes to statuses. */
export const WECOM_ERROR_CODES: readonly WecomErrorCode[] = [
  'bad_signature',
  'bad_base64',
  'bad_length',
  'bad_padding',
  'bad_utf8',
  'bad_receive_id',
  'bad_xml',
  'bad_json',
  'bad_format',
  'missing_field',
  'bad_field',
  'empty_text',
  'too_large',
];

/**
 * The general code each WeCom refusal falls under: a forged signature is `unauthorized`, an
 * oversized body `too_large`, and everything else a `bad_request`. Transports map these kinds
 * (lambdas/http/error-response.ts: 401, 413 and 400); no transport code appears here.
 */
export const WECOM_ERROR_KINDS: Readonly<Record<WecomErrorCode, ErrorCode>> = {
  bad_signature: 'unauthorized',
  bad_base64: 'bad_request',
  bad_length: 'bad_request',
  bad_padding: 'bad_request',
  bad_utf8: 'bad_request',
  bad_receive_id: 'bad_request',
  bad_xml: 'bad_request',
  bad_json: 'bad_request',
  bad_format: 'bad_request',
  missing_field: 'bad_request',
  bad_field: 'bad_request',
  empty_text: 'bad_request',
  too_large: 'too_large',
};

/**
 * A callback (or part of one) that we refuse because of what the caller sent. Part of the one
 * error hierarchy: an AppError whose `code` is WeCom's specific reason (what the 4xx body says)
 * and whose `kind` is the general code it falls under (always a caller's fault, never `internal`).
 */
export class WecomError extends AppError<WecomErrorCode> {
  /**
   * @param code the reason, stable across releases
   * @param message a human explanation; never contains secrets or the decrypted text
   */
  public constructor(code: WecomErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, { ...options, kind: WECOM_ERROR_KINDS[code] });
    this.name = 'WecomError';
  }
}

/** Our WeCom configuration is unusable (e.g. a malformed EncodingAESKey): a fault of ours. */
export class WecomConfigError extends Error {
  /** @param message what is wrong with the configuration, without echoing secret values */
  public constructor(message: string) {
    super(message);
    this.name = 'WecomConfigError';
  }
}

/** Narrows an unknown throwable to a WecomError, optionally of one code. */
export const isWecomError = (e: unknown, code?: WecomErrorCode): e is WecomError =>
  e instanceof WecomError && (code === undefined || e.code === code);
