import { badRequest, forbidden } from '../errors/app-error';
import { epochBelongsTo, isStreamName, type StreamName } from './names';
import type { StreamLog, StreamPosition } from './stream-log';

/** What a client asks to resume: the last frame it holds of each stream. */
export type ResumeRequest = Readonly<Record<StreamName, StreamPosition>>;

/** Most streams one `register` may resume. */
export const MAX_RESUME_STREAMS = 100;

/** How one stream's resume ended (the `resumed` frame's entry for it). */
export interface ResumeResult {
  /** False when the epoch changed or frames the client lacks are no longer retained. */
  readonly recovered: boolean;
  readonly epoch: string;
  readonly seq: number;
}

/** The frames to replay for one stream, in seq order, and how the resume ended. */
export interface Replay {
  readonly stream: StreamName;
  readonly texts: readonly string[];
  readonly result: ResumeResult;
}

/**
 * Checks a resume map before anything is read or written: its size, each stream's name, that
 * the connection receives the stream, and that each epoch is one of that stream's.
 * @throws AppError `bad_request` or `forbidden` (the connection stays open; nothing replayed).
 */
export function checkResume(resume: ResumeRequest, receives: readonly StreamName[]): void {
  const entries = Object.entries(resume);
  if (entries.length > MAX_RESUME_STREAMS) {
    throw badRequest(`resume: at most ${MAX_RESUME_STREAMS} streams at once`);
  }
  for (const [stream, position] of entries) {
    if (!isStreamName(stream)) {
      throw badRequest(
        `resume: "${stream.slice(0, 80)}" is not a stream name (user:…, group:…, type:… or all)`,
      );
    }
    if (!receives.includes(stream)) {
      throw forbidden(`resume: this connection does not receive stream "${stream}"`);
    }
    if (!epochBelongsTo(position.epoch, stream)) {
      throw badRequest(`resume: the epoch given for "${stream}" is not an epoch of that stream`);
    }
  }
}

/**
 * Checks each position against its stream's tip: in the same epoch, a seq past the tip was
 * never sent.
 * @throws AppError `bad_request`.
 */
export function checkAgainstTips(
  resume: ResumeRequest,
  tips: ReadonlyMap<StreamName, StreamPosition>,
): void {
  for (const [stream, position] of Object.entries(resume)) {
    const tip = tips.get(stream);
    if (tip && position.epoch === tip.epoch && position.seq > tip.seq) {
      throw badRequest(
        `resume: seq ${position.seq} of "${stream}" is ahead of the stream's tip (${tip.seq})`,
      );
    }
  }
}

/** A stored frame's text marked as replayed (`"replayed":true` first, the rest as stored). */
export const markReplayed = (text: string): string =>
  text.startsWith('{') ? `{"replayed":true,${text.slice(1)}` : text;

/**
 * What to send a client that holds `position` of a stream whose tip is `tip`: the gap read from
 * the log (only the gap), marked replayed; `recovered` unless the epoch changed or the first
 * frame the client lacks is gone (past `historySeconds` or `historySize`).
 */
export async function replayGap(
  log: StreamLog,
  stream: StreamName,
  position: StreamPosition,
  tip: StreamPosition,
): Promise<Replay> {
  // Another epoch: the history the client's position belongs to is gone, and with it any frame
  // the client lacked of it (even at seq 0: frames may have come and gone while it was away).
  if (position.epoch !== tip.epoch) {
    return { stream, texts: [], result: { recovered: false, epoch: tip.epoch, seq: tip.seq } };
  }
  // Same epoch: at or past the tip means nothing is missing.
  if (position.seq >= tip.seq) {
    return { stream, texts: [], result: { recovered: true, epoch: tip.epoch, seq: tip.seq } };
  }
  const frames = await log.read(stream, tip, position.seq);
  const first = frames[0]?.seq;
  const last = frames[frames.length - 1]?.seq ?? position.seq;
  return {
    stream,
    texts: frames.map((f) => markReplayed(f.text)),
    result: {
      recovered: first === position.seq + 1,
      epoch: tip.epoch,
      seq: Math.max(tip.seq, last),
    },
  };
}
