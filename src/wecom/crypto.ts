/**
 * WeCom (企业微信) callback cryptography: the msg_signature check and the AES-256-CBC envelope
 * ("加解密方案说明", developer.work.weixin.qq.com/document/path/90968). The same scheme is used by
 * WeChat official accounts and the open platform, whose published samples are among our
 * known-answer vectors.
 *
 * Pure: node:crypto only, no I/O, no knowledge of HTTP or Lambda.
 *
 * Order matters for callers: verify the signature BEFORE decrypting. The decrypt errors are
 * distinguishable (bad_padding vs bad_length …); exposed on unsigned input they would be a
 * CBC padding oracle. Behind the signature check (the token is secret) an attacker cannot submit
 * modified ciphertexts, so the distinction is safe. `openCallback` in ./callback enforces this.
 */
import {
  createCipheriv,
  createDecipheriv,
  createHash,
  randomBytes,
  timingSafeEqual,
} from 'node:crypto';
import { WecomConfigError, WecomError } from './errors';

/** WeCom pads to multiples of 32 bytes (PKCS#7 with k = 32), not AES's own 16. */
export const WECOM_PAD_BLOCK = 32;

/** AES block size: every ciphertext length is a positive multiple of it. */
const AES_BLOCK = 16;

/** Plaintext layout: 16 random bytes, then a 4-byte big-endian message length. */
const RANDOM_BYTES = 16;
const LENGTH_BYTES = 4;
const HEADER_BYTES = RANDOM_BYTES + LENGTH_BYTES;

/**
 * Strict base64: standard alphabet, `=` padding only at the end and only as much as needed.
 * Buffer.from(…, 'base64') alone silently skips junk, so a garbled body would decrypt to garbage
 * and fail later with a misleading code.
 */
const BASE64_RE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** An EncodingAESKey is 43 base64 characters (32 bytes once `=` is appended). */
const AES_KEY_RE = /^[A-Za-z0-9+/]{43}$/;

/**
 * Decodes UTF-8 and fails on invalid sequences instead of inserting U+FFFD, so that a corrupted
 * plaintext is refused rather than half-read.
 */
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * The msg_signature WeCom computes: SHA-1 (hex, lowercase) over the lexicographically sorted
 * concatenation of token, timestamp, nonce and the ciphertext (or echostr).
 *
 * Sorting compares UTF-8 bytes (i.e. code points), as the official Go/PHP/Python SDKs do; JS's
 * default sort compares UTF-16 units, which differs for characters outside the BMP.
 */
export function signature(
  token: string,
  timestamp: string,
  nonce: string,
  encrypt: string,
): string {
  const parts = [token, timestamp, nonce, encrypt]
    .map((s) => Buffer.from(s, 'utf8'))
    .sort((a, b) => Buffer.compare(a, b));
  const hash = createHash('sha1');
  for (const part of parts) hash.update(part);
  return hash.digest('hex');
}

/**
 * True when `msgSignature` is the signature of the four strings. Compared in constant time so the
 * response time leaks nothing about how many leading characters were right. Hex case is ignored
 * (the digest is lowercase; an uppercase copy is still the same signature).
 */
export function verifySignature(
  token: string,
  timestamp: string,
  nonce: string,
  encrypt: string,
  msgSignature: string,
): boolean {
  const expected = Buffer.from(signature(token, timestamp, nonce, encrypt), 'utf8');
  const given = Buffer.from(msgSignature.toLowerCase(), 'utf8');
  // timingSafeEqual throws on unequal lengths; a wrong length is simply a wrong signature.
  if (given.length !== expected.length) return false;
  return timingSafeEqual(given, expected);
}

/** Like verifySignature, but throws WecomError('bad_signature') instead of returning false. */
export function assertSignature(
  token: string,
  timestamp: string,
  nonce: string,
  encrypt: string,
  msgSignature: string,
): void {
  if (!verifySignature(token, timestamp, nonce, encrypt, msgSignature)) {
    throw new WecomError('bad_signature', 'msg_signature does not match');
  }
}

/**
 * Decodes strict, canonical base64 (see BASE64_RE); also refuses non-zero trailing bits, which
 * no real encoder produces, so each ciphertext has exactly one accepted spelling.
 */
function decodeBase64Strict(text: string): Buffer {
  if (!BASE64_RE.test(text)) {
    throw new WecomError('bad_base64', 'ciphertext is not valid base64');
  }
  const bytes = Buffer.from(text, 'base64');
  if (bytes.toString('base64') !== text) {
    throw new WecomError('bad_base64', 'ciphertext is not canonical base64');
  }
  return bytes;
}

/**
 * Removes and checks PKCS#7 padding to WECOM_PAD_BLOCK: the last byte n must be 1..32, not
 * longer than the data, and the last n bytes must all equal n. Done by hand because OpenSSL's
 * auto-padding only knows 16-byte blocks and would reject WeCom's pads of 17..32.
 */
function stripPadding(padded: Buffer): Buffer {
  const n = padded[padded.length - 1];
  if (n === undefined || n < 1 || n > WECOM_PAD_BLOCK || n > padded.length) {
    throw new WecomError('bad_padding', 'invalid padding length');
  }
  for (let i = padded.length - n; i < padded.length; i += 1) {
    if (padded[i] !== n) throw new WecomError('bad_padding', 'inconsistent padding bytes');
  }
  return padded.subarray(0, padded.length - n);
}

/** Appends PKCS#7 padding to a multiple of WECOM_PAD_BLOCK (always 1..32 bytes). */
function addPadding(plain: Buffer): Buffer {
  const n = WECOM_PAD_BLOCK - (plain.length % WECOM_PAD_BLOCK);
  return Buffer.concat([plain, Buffer.alloc(n, n)]);
}

function decodeUtf8(bytes: Uint8Array, what: string): string {
  try {
    return utf8.decode(bytes);
  } catch (cause) {
    throw new WecomError('bad_utf8', `${what} is not valid UTF-8`, { cause });
  }
}

/** Configuration of a WecomCipher. */
export interface WecomCipherOptions {
  /**
   * The 43-character EncodingAESKey from the WeCom admin console. Surrounding whitespace is
   * ignored (env files and secrets often end in a newline).
   */
  encodingAesKey: string;
  /**
   * The receive id the plaintext must end with: the corp id (CorpID) for app callbacks, the app
   * id for WeChat official accounts, and the empty string for internal smart-bot callbacks.
   * Also written into the plaintext of replies we encrypt.
   */
  receiveId: string;
  /**
   * Accept any receive id when decrypting. Only allowed with `receiveId: ''`: bot callbacks may
   * carry an id we cannot know in advance, and the signature (secret token) already proves the
   * sender. Refused together with a non-empty receiveId, because then skipping would silently
   * accept messages meant for another corp.
   */
  skipReceiveIdCheck?: boolean;
}

/** What a ciphertext decrypts to. */
export interface DecryptedMessage {
  /** The message (callback XML/JSON, or the echostr plaintext), decoded as UTF-8. */
  message: string;
  /** The receive id found after the message (already checked unless the check is skipped). */
  receiveId: string;
  /** The 16 random bytes that lead the plaintext (useful only for tests and diagnostics). */
  random: Buffer;
}

/** Encrypts and decrypts WeCom payloads for one EncodingAESKey and receive id. */
export interface WecomCipher {
  /** The configured receive id. */
  readonly receiveId: string;
  /**
   * Decrypts a base64 ciphertext (the `Encrypt` field or a URL-check `echostr`).
   * @throws WecomError bad_base64 | bad_length | bad_padding | bad_utf8 | bad_receive_id
   */
  decrypt(encrypt: string): DecryptedMessage;
  /**
   * Encrypts a message (e.g. passive reply XML) for WeCom; returns base64.
   * @param random the 16 leading random bytes; fresh random bytes when omitted (pass them only
   *   for known-answer tests: reusing them leaks whether two replies start alike)
   */
  encrypt(message: string, random?: Uint8Array): string;
}

/**
 * Validates the EncodingAESKey and returns the AES key. Not canonical-checked: the key's 43rd
 * character carries 2 bits that base64(key + "=") drops, and real keys (e.g. the official
 * `abc…ABCDEFG` sample) have them non-zero.
 */
function decodeAesKey(encodingAesKey: string): Buffer {
  const trimmed = encodingAesKey.trim();
  if (!AES_KEY_RE.test(trimmed)) {
    throw new WecomConfigError(
      `WeCom EncodingAESKey must be 43 base64 characters (A-Z a-z 0-9 + /); got ${trimmed.length} characters`,
    );
  }
  const key = Buffer.from(`${trimmed}=`, 'base64');
  if (key.length !== 32) {
    throw new WecomConfigError(`WeCom EncodingAESKey must decode to 32 bytes; got ${key.length}`);
  }
  return key;
}

/**
 * Creates the cipher for one WeCom app or bot. AES-256-CBC, key = base64(EncodingAESKey + "="),
 * IV = the key's first 16 bytes (fixed by WeCom; the random prefix in the plaintext is what
 * keeps equal messages from encrypting alike).
 * @throws WecomConfigError when the key is malformed or the receive-id options contradict
 */
export function createWecomCipher(options: WecomCipherOptions): WecomCipher {
  const key = decodeAesKey(options.encodingAesKey);
  const iv = key.subarray(0, AES_BLOCK);
  const { receiveId } = options;
  const skipReceiveIdCheck = options.skipReceiveIdCheck === true;
  if (skipReceiveIdCheck && receiveId !== '') {
    throw new WecomConfigError('skipReceiveIdCheck is only allowed with an empty receiveId');
  }

  const decrypt = (encrypt: string): DecryptedMessage => {
    const cipherText = decodeBase64Strict(encrypt);
    if (cipherText.length === 0 || cipherText.length % AES_BLOCK !== 0) {
      throw new WecomError(
        'bad_length',
        `ciphertext length ${cipherText.length} is not a positive multiple of ${AES_BLOCK}`,
      );
    }
    const decipher = createDecipheriv('aes-256-cbc', key, iv);
    // WeCom pads to 32, OpenSSL would validate against 16: we strip the padding ourselves.
    decipher.setAutoPadding(false);
    const padded = Buffer.concat([decipher.update(cipherText), decipher.final()]);
    const plain = stripPadding(padded);
    if (plain.length < HEADER_BYTES) {
      throw new WecomError('bad_length', 'plaintext is shorter than its 20-byte header');
    }
    const messageLength = plain.readUInt32BE(RANDOM_BYTES);
    if (messageLength > plain.length - HEADER_BYTES) {
      throw new WecomError('bad_length', 'message length field points past the plaintext');
    }
    const messageEnd = HEADER_BYTES + messageLength;
    const message = decodeUtf8(plain.subarray(HEADER_BYTES, messageEnd), 'message');
    const foundReceiveId = decodeUtf8(plain.subarray(messageEnd), 'receive id');
    if (!skipReceiveIdCheck && foundReceiveId !== receiveId) {
      throw new WecomError('bad_receive_id', 'message was encrypted for another receive id');
    }
    return {
      message,
      receiveId: foundReceiveId,
      random: Buffer.from(plain.subarray(0, RANDOM_BYTES)),
    };
  };

  const encrypt = (message: string, random?: Uint8Array): string => {
    const prefix = random === undefined ? randomBytes(RANDOM_BYTES) : Buffer.from(random);
    if (prefix.length !== RANDOM_BYTES) {
      // A programming error, not caller input: hence not a WecomError.
      throw new RangeError(`random prefix must be ${RANDOM_BYTES} bytes`);
    }
    const body = Buffer.from(message, 'utf8');
    const length = Buffer.alloc(LENGTH_BYTES);
    length.writeUInt32BE(body.length, 0);
    const plain = addPadding(Buffer.concat([prefix, length, body, Buffer.from(receiveId, 'utf8')]));
    const cipher = createCipheriv('aes-256-cbc', key, iv);
    cipher.setAutoPadding(false);
    return Buffer.concat([cipher.update(plain), cipher.final()]).toString('base64');
  };

  return { receiveId, decrypt, encrypt };
}

/** Inputs of buildPassiveReply. */
export interface PassiveReplyOptions {
  /** The cipher of the app being answered. */
  cipher: WecomCipher;
  /** The callback token (signs the reply). */
  token: string;
  /** The plaintext reply XML, e.g. `<xml><MsgType>text</MsgType>…</xml>`. */
  message: string;
  /** Unix seconds as a decimal string (the request's or the current time). */
  timestamp: string;
  /** A nonce (the request's or a fresh one); letters, digits, `_` and `-`. */
  nonce: string;
  /** Fixed random prefix, for known-answer tests only. */
  random?: Uint8Array;
}

/** Timestamps and nonces are written into XML unescaped, so they are held to a safe alphabet. */
const TIMESTAMP_RE = /^\d{1,20}$/;
const NONCE_RE = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * Builds the encrypted passive reply WeCom expects in the callback's HTTP response:
 * `<xml><Encrypt/><MsgSignature/><TimeStamp/><Nonce/></xml>`, the signature computed over the
 * new ciphertext.
 * @throws WecomError('bad_field') when timestamp or nonce would not be safe inside the XML
 */
export function buildPassiveReply(options: PassiveReplyOptions): string {
  const { cipher, token, message, timestamp, nonce, random } = options;
  if (!TIMESTAMP_RE.test(timestamp)) {
    throw new WecomError('bad_field', 'timestamp must be decimal digits');
  }
  if (!NONCE_RE.test(nonce)) {
    throw new WecomError('bad_field', 'nonce must be 1-64 letters, digits, "_" or "-"');
  }
  const encrypted = cipher.encrypt(message, random);
  const msgSignature = signature(token, timestamp, nonce, encrypted);
  return (
    `<xml><Encrypt><![CDATA[${encrypted}]]></Encrypt>` +
    `<MsgSignature><![CDATA[${msgSignature}]]></MsgSignature>` +
    `<TimeStamp>${timestamp}</TimeStamp>` +
    `<Nonce><![CDATA[${nonce}]]></Nonce></xml>`
  );
}
