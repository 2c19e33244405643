/**
 * The two WeCom callback flows, composed from the pieces in the right order: signature first,
 * then decryption (see ./crypto on why the order matters). Still pure: the handler extracts the
 * query parameters and body from its event shape and passes them in.
 */
import { assertSignature, type WecomCipher } from './crypto';
import { parseEnvelope, type WecomEnvelope } from './envelope';

/** The query parameters WeCom adds to every callback request. */
export interface CallbackQuery {
  /** `msg_signature` */
  msgSignature: string;
  /** `timestamp` */
  timestamp: string;
  /** `nonce` */
  nonce: string;
}

/** Secrets and keys of one WeCom app or bot. */
export interface CallbackKeys {
  /** The app's cipher (EncodingAESKey and receive id). */
  cipher: WecomCipher;
  /** The callback token. */
  token: string;
}

/**
 * Answers the URL check (`GET /wecom/callback?msg_signature&timestamp&nonce&echostr`): verifies
 * the signature over echostr and returns its plaintext, which the handler sends back verbatim.
 * `echostr` must already be URL-decoded exactly once (a `+` must arrive as `%2B`; a query parser
 * that turns `+` into a space breaks the signature).
 * @throws WecomError bad_signature, or any decrypt error
 */
export function verifyUrl(keys: CallbackKeys, query: CallbackQuery & { echostr: string }): string {
  assertSignature(keys.token, query.timestamp, query.nonce, query.echostr, query.msgSignature);
  return keys.cipher.decrypt(query.echostr).message;
}

/** A callback POST after envelope parsing, signature check and decryption. */
export interface OpenedCallback {
  /** The outer body (format, ToUserName, AgentID, ciphertext). */
  envelope: WecomEnvelope;
  /** The decrypted message text, to hand to parseMessage. */
  message: string;
  /** The receive id found in the plaintext. */
  receiveId: string;
}

/**
 * Opens a callback POST: parses the envelope, verifies msg_signature over its ciphertext, then
 * decrypts. Parsing the message itself is left to the caller (parseMessage), so a handler can
 * choose to acknowledge authentic but unusable messages with `success` instead of a 4xx that
 * WeCom would retry.
 * @throws WecomError from parseEnvelope, bad_signature, or any decrypt error
 */
export function openCallback(
  keys: CallbackKeys,
  query: CallbackQuery,
  body: string | Uint8Array,
): OpenedCallback {
  const envelope = parseEnvelope(body);
  assertSignature(keys.token, query.timestamp, query.nonce, envelope.encrypt, query.msgSignature);
  const { message, receiveId } = keys.cipher.decrypt(envelope.encrypt);
  return { envelope, message, receiveId };
}
