/**
 * Shared test helpers for the WeCom domain: a fixed key, a cipher, raw AES access for crafting
 * ciphertexts the real encrypt() would never produce, and error-code assertions.
 */
import { createCipheriv } from 'node:crypto';
import { createWecomCipher, WecomError, type WecomErrorCode } from '../../../src/wecom';

/** The official sample's EncodingAESKey, corp id and token. */
export const AES_KEY = 'jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C';
export const CORP_ID = 'wx5823bf96d3bd56c7';
export const TOKEN = 'QDG6eK';

/** A cipher for AES_KEY / CORP_ID. */
export const cipher = createWecomCipher({ encodingAesKey: AES_KEY, receiveId: CORP_ID });

/** Encrypts raw bytes with AES_KEY, no padding added: for malformed plaintexts. */
export function rawEncrypt(plain: Uint8Array, encodingAesKey: string = AES_KEY): string {
  const key = Buffer.from(`${encodingAesKey}=`, 'base64');
  const aes = createCipheriv('aes-256-cbc', key, key.subarray(0, 16));
  aes.setAutoPadding(false);
  return Buffer.concat([aes.update(plain), aes.final()]).toString('base64');
}

/** Builds a WeCom plaintext: random(16) | length(4, BE) | message | receiveId. */
export function plaintext(
  message: Uint8Array,
  receiveId: string = CORP_ID,
  lengthField: number = message.length,
): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(lengthField, 0);
  return Buffer.concat([Buffer.alloc(16, 7), length, message, Buffer.from(receiveId, 'utf8')]);
}

/** PKCS#7 padding to 32, or with an explicit (possibly invalid) pad byte and count. */
export function pad(plain: Buffer, byte?: number, count?: number): Buffer {
  const n = 32 - (plain.length % 32);
  return Buffer.concat([plain, Buffer.alloc(count ?? n, byte ?? n)]);
}

/** Runs fn and returns the WecomError it threw; fails the test on success or another error. */
export function wecomErrorOf(fn: () => unknown): WecomError {
  try {
    fn();
  } catch (e) {
    if (e instanceof WecomError) return e;
    throw new Error(`expected a WecomError, got ${String(e)}`, { cause: e });
  }
  throw new Error('expected a WecomError, but nothing was thrown');
}

/** The code of the WecomError fn throws. */
export const codeOf = (fn: () => unknown): WecomErrorCode => wecomErrorOf(fn).code;

/** Runs fn; a WecomError is fine, any other throwable is rethrown (fails the property). */
export function onlyWecomErrors(fn: () => unknown): void {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof WecomError)) throw e;
  }
}
