/**
 * JSON reading for WeCom bodies and bot messages.
 *
 * Two traps this avoids:
 * - Precision: WeCom message ids such as 4561255354251345929 are sent as bare JSON numbers and
 *   exceed 2^53, so JSON.parse would round them (…5929 → …6000) and two different messages
 *   would share a dedupe key. Integers that are not safe are kept as their exact digit string.
 * - Shape: keys are lower-cased (WeCom mixes `MsgType`, `msgtype`, `Encrypt`, `encrypt`), objects
 *   have no prototype, `__proto__` keys are dropped, and nesting is bounded, so no input can
 *   pollute prototypes or overflow the stack.
 */
import { WecomError } from './errors';

/** A JSON value after normalisation: records have lower-case keys and no prototype. */
export type JsonValue = string | number | boolean | null | JsonValue[] | JsonRecord;

/** A normalised JSON object. */
export interface JsonRecord {
  [key: string]: JsonValue;
}

/** Deepest nesting we accept; WeCom bodies are 2-3 levels deep. */
const MAX_DEPTH = 16;

/** Characters that may continue a JSON number token after its leading integer digits. */
const NUMBER_TAIL = /[.eE+\-0-9]/;

/**
 * Rewrites integer literals that are not safe JS integers as strings. Must only be given text
 * that is already known to be valid JSON: there, any number token outside a string is a value
 * (never a key), so quoting it keeps the document valid and changes nothing else.
 */
function quoteUnsafeIntegers(text: string): string {
  const out: string[] = [];
  let copiedUpTo = 0;
  let inString = false;
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i += 1;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') {
      inString = true;
      continue;
    }
    if (c !== '-' && !(c !== undefined && c >= '0' && c <= '9')) continue;
    let end = i + 1;
    while (end < text.length && NUMBER_TAIL.test(text[end] ?? '')) end += 1;
    const token = text.slice(i, end);
    if (/^-?\d+$/.test(token) && !Number.isSafeInteger(Number(token))) {
      out.push(text.slice(copiedUpTo, i), `"${token}"`);
      copiedUpTo = end;
    }
    i = end - 1;
  }
  out.push(text.slice(copiedUpTo));
  return out.join('');
}

function normalise(value: unknown, depth: number): JsonValue {
  if (depth > MAX_DEPTH) throw new WecomError('bad_json', 'JSON is nested too deeply');
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') return value;
  if (Array.isArray(value)) return value.map((v: unknown) => normalise(v, depth + 1));
  if (typeof value === 'object') {
    const record = Object.create(null) as JsonRecord;
    for (const [key, inner] of Object.entries(value)) {
      const lower = key.toLowerCase();
      if (lower === '__proto__') continue;
      if (Object.hasOwn(record, lower)) {
        throw new WecomError('bad_json', `duplicate key "${lower}" (keys are case-insensitive)`);
      }
      record[lower] = normalise(inner, depth + 1);
    }
    return record;
  }
  // JSON.parse yields nothing else; kept total so the function cannot return undefined.
  throw new WecomError('bad_json', 'unsupported JSON value');
}

/**
 * Parses JSON text strictly, keeping unsafe integers exact (as strings) and lower-casing keys.
 * @throws WecomError('bad_json') when the text is not valid JSON, nests too deeply, or has keys
 *   that differ only in case
 */
export function parseWecomJson(text: string): JsonValue {
  // The strict first parse validates; only then is the integer rewrite guaranteed safe.
  let parsed: unknown;
  try {
    JSON.parse(text);
    parsed = JSON.parse(quoteUnsafeIntegers(text));
  } catch (cause) {
    throw new WecomError('bad_json', 'malformed JSON', { cause });
  }
  return normalise(parsed, 0);
}

/** True when the value is a normalised JSON object (not an array or primitive). */
export const isJsonRecord = (value: JsonValue): value is JsonRecord =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
