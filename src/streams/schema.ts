/**
 * The streams table (shared by the stack and the local runtime): per stream one head item
 * (`pos` = `head`: epoch, tip, expiry) and one item per frame (`pos` = the seq, zero-padded so
 * that string order is seq order). Every item expires `historySeconds` after its last write.
 */
export const STREAMS_TABLE = {
  partitionKey: 'stream',
  sortKey: 'pos',
  ttlAttribute: 'expiresAt',
} as const;

/** Digits of a frame's `pos` (seq 1 → `000000000001`): room for a trillion frames a stream. */
export const POS_DIGITS = 12;

/** The sort key of a frame item. */
export const posOf = (seq: number): string => String(seq).padStart(POS_DIGITS, '0');

/** The sort key of a stream's head item (sorts after every frame item). */
export const HEAD_POS = 'head';

/** Default retention (docs/protocol.md): a day, and at most 1,000 frames a stream. */
export const DEFAULT_HISTORY_SECONDS = 86_400;
export const DEFAULT_HISTORY_SIZE = 1000;

/** The settings' bounds, checked by the stack at synth and by the functions at start. */
export const HISTORY_SECONDS_RANGE = { min: 60, max: 30 * 24 * 60 * 60 } as const;
export const HISTORY_SIZE_RANGE = { min: 1, max: 10_000 } as const;
