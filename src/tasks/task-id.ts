import { createHash, randomBytes } from 'node:crypto';

const ID_PREFIX = 't_';

/** A new random task id (t_ + 20 base32 characters, 100 bits). */
export function newTaskId(): string {
  return ID_PREFIX + base32(randomBytes(13)).slice(0, 20);
}

/**
 * The task id for a message that may arrive more than once (WeCom retries): the same source
 * and key always give the same id, so the conditional create of the task is the dedupe.
 */
export function dedupedTaskId(source: string, key: string): string {
  return ID_PREFIX + base32(createHash('sha256').update(`${source}\n${key}`).digest()).slice(0, 20);
}

/**
 * The dedupe key of the task a parent chains of a type: whichever attempt, Lambda run or socket
 * worker's `result` queues it, it is the same child, never a second one.
 */
export const chainDedupeKey = (parentTaskId: string, taskType: string): string =>
  `${parentTaskId}:${taskType}`;

/**
 * The id of the task that `parentTaskId` chains of `taskType` (submitted with source `chain` and
 * {@link chainDedupeKey}). A socket worker cannot queue, so it answers this id from
 * `chain()` before the server queues the child with its `result`.
 */
export const chainedTaskId = (parentTaskId: string, taskType: string): string =>
  dedupedTaskId('chain', chainDedupeKey(parentTaskId, taskType));

/** Task ids as this module makes them. */
export const TASK_ID_PATTERN = /^t_[a-z2-7]{20}$/;

function base32(bytes: Buffer): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz234567';
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += alphabet[(value << (5 - bits)) & 31];
  return out;
}
