import type { Node } from 'constructs';

/**
 * Readers of single CDK context values. `-c key=value` gives strings, cdk.json gives numbers,
 * booleans and objects: each reader accepts both forms and fails synth naming the key.
 */

/** The raw context value (tryGetContext is typed `any`; unknown keeps the parsing honest). */
export function readContext(node: Node, key: string): unknown {
  const value: unknown = node.tryGetContext(key);
  return value;
}

/** True for the values that mean "not set": absent, `null` and the empty string. */
export const isUnset = (value: unknown): value is undefined | null | '' =>
  value === undefined || value === null || value === '';

/**
 * A whole number within `range` (inclusive), `fallback` when unset. Strings must be digits only
 * (no "1.5", "1e3" or "0x10"), so `-c` and cdk.json mean the same.
 * @throws Error naming the key, the value and the range.
 */
export function readInteger(
  node: Node,
  key: string,
  fallback: number,
  range: { readonly min: number; readonly max: number },
): number {
  const value = readContext(node, key);
  if (isUnset(value)) return fallback;
  const parsed =
    typeof value === 'number' ? value : typeof value === 'string' ? parseDigits(value) : NaN;
  if (!Number.isSafeInteger(parsed) || parsed < range.min || parsed > range.max) {
    throw new Error(
      `context ${key}=${JSON.stringify(value)} must be a whole number from ` +
        `${range.min} to ${range.max}`,
    );
  }
  return parsed;
}

/**
 * A JSON value: cdk.json gives it parsed, `-c key='{"a":1}'` as text; undefined when unset.
 * @throws Error naming the key when the text is not JSON.
 */
export function readJson(node: Node, key: string): unknown {
  const value = readContext(node, key);
  if (isUnset(value)) return undefined;
  if (typeof value !== 'string') return value;
  if (value.trim() === '') return undefined;
  try {
    return JSON.parse(value) as unknown;
  } catch {
    throw new Error(`context ${key} is not valid JSON: ${value}`);
  }
}

function parseDigits(value: string): number {
  const trimmed = value.trim();
  return /^-?\d+$/.test(trimmed) ? Number(trimmed) : NaN;
}
