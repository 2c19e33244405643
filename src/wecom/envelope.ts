/**
 * The outer body of a WeCom callback POST: it carries only the ciphertext and routing hints.
 *
 * Two shapes exist:
 * - XML (app callbacks, classic group robots):
 *   `<xml><ToUserName/><Encrypt/><AgentID/></xml>`
 * - JSON (newer smart-bot callbacks, and the JSON variant of the official C++ sample):
 *   `{"encrypt": "…", "tousername": "…", "agentid": "…"}` (keys matched case-insensitively).
 */
import { WecomError } from './errors';
import { isJsonRecord, parseWecomJson, type JsonValue } from './json';
import { parseWecomXml, type XmlValue } from './xml';

/**
 * Largest body we read. Real envelopes are a few KiB (a text message of WeCom's 2048-byte limit
 * grows by a third in base64 plus the XML around it); 64 KiB leaves room for long events while
 * keeping parse time and memory trivially bounded.
 */
export const MAX_BODY_BYTES = 64 * 1024;

/** The routing part of a callback body. */
export interface WecomEnvelope {
  /** Which of the two shapes the body had. */
  format: 'xml' | 'json';
  /** The base64 ciphertext to verify and decrypt. */
  encrypt: string;
  /** ToUserName / tousername: the corp id or bot id the callback is addressed to, if sent. */
  toUserName?: string;
  /** AgentID / agentid: the app the callback belongs to, if sent. */
  agentId?: string;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Decodes a byte body as UTF-8, refusing invalid sequences. */
function decodeBody(body: string | Uint8Array): string {
  if (typeof body === 'string') return body;
  try {
    return utf8.decode(body);
  } catch (cause) {
    throw new WecomError('bad_utf8', 'body is not valid UTF-8', { cause });
  }
}

/** Reads an optional scalar field as a string; ids arrive as numbers in some JSON bodies. */
function optionalText(value: XmlValue | JsonValue | undefined, name: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value.trim() === '' ? undefined : value.trim();
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  throw new WecomError('bad_field', `${name} must be a single text value`);
}

/** Picks the Encrypt field out of whichever record the body parsed to. */
function fromFields(
  format: 'xml' | 'json',
  get: (name: string) => XmlValue | JsonValue | undefined,
): WecomEnvelope {
  const encrypt = get('encrypt');
  if (encrypt === undefined || encrypt === null || encrypt === '') {
    throw new WecomError('missing_field', 'body has no Encrypt field');
  }
  if (typeof encrypt !== 'string') {
    throw new WecomError('bad_field', 'Encrypt must be a single text value');
  }
  // Kept exactly as sent: the signature covers these characters, so trimming or re-encoding
  // here would turn WeCom's own signature into a mismatch (stray whitespace fails as bad_base64).
  const envelope: WecomEnvelope = { format, encrypt };
  const toUserName = optionalText(get('tousername'), 'ToUserName');
  const agentId = optionalText(get('agentid'), 'AgentID');
  if (toUserName !== undefined) envelope.toUserName = toUserName;
  if (agentId !== undefined) envelope.agentId = agentId;
  return envelope;
}

/**
 * Parses a callback POST body into its envelope. Accepts a string or the raw bytes (which must be
 * UTF-8). Leading whitespace and a byte-order mark are ignored; the first character then selects
 * the shape: `<` XML, `{` JSON.
 * @throws WecomError too_large | bad_utf8 | bad_xml | bad_json | bad_format | missing_field |
 *   bad_field
 */
export function parseEnvelope(body: string | Uint8Array): WecomEnvelope {
  // Checked on bytes before any decoding or parsing, so a huge body costs nothing.
  const size = typeof body === 'string' ? Buffer.byteLength(body, 'utf8') : body.byteLength;
  if (size > MAX_BODY_BYTES) {
    throw new WecomError('too_large', `body exceeds ${MAX_BODY_BYTES} bytes`);
  }
  const text = decodeBody(body)
    .replace(/^\uFEFF/, '')
    .trim();
  if (text.startsWith('<')) {
    const root = parseWecomXml(text);
    if (typeof root === 'string' || Array.isArray(root)) {
      throw new WecomError('missing_field', 'body has no Encrypt field');
    }
    return fromFields('xml', (name) => (Object.hasOwn(root, name) ? root[name] : undefined));
  }
  if (text.startsWith('{')) {
    const root = parseWecomJson(text);
    if (!isJsonRecord(root)) throw new WecomError('bad_json', 'body is not a JSON object');
    return fromFields('json', (name) => (Object.hasOwn(root, name) ? root[name] : undefined));
  }
  throw new WecomError('bad_format', 'body is neither XML nor JSON');
}
