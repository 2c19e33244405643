import type { ServerFrame } from '../push/frames';
import type { StreamName } from './names';

/** Where a stream stands: its epoch and the seq of its newest frame (0: none yet). */
export interface StreamPosition {
  readonly epoch: string;
  readonly seq: number;
}

/** A frame as a stream holds it: its seq, and its JSON text (which carries `stream` and `seq`). */
export interface StoredFrame {
  readonly seq: number;
  readonly text: string;
}

/** A pushed frame with its place in a stream. */
export type SequencedFrame = ServerFrame & { readonly stream: StreamName; readonly seq: number };

/**
 * The stream log (docs/architecture.md, "Streams"): one append per push per stream, an atomic
 * counter for `seq`, frames kept for `historySeconds` and at most `historySize` of them, an
 * epoch that changes whenever the history was lost. src/adapters/dynamodb/stream-log.ts keeps it
 * in DynamoDB for the cloud and the local runtime alike.
 */
export interface StreamLog {
  /** Most frames a stream keeps; replay never reaches further back than this from the tip. */
  readonly historySize: number;
  /**
   * Appends the frame to the stream and returns it with `stream` and `seq` set.
   * @throws when the log cannot be written: the push must then fail, not go out unsequenced.
   */
  append(stream: StreamName, frame: ServerFrame): Promise<SequencedFrame>;
  /**
   * The current position of each stream. A stream without a live history is started at seq 0
   * with a new epoch, so the epoch a client is told is the one its first frames belong to.
   */
  tips(streams: readonly StreamName[]): Promise<ReadonlyMap<StreamName, StreamPosition>>;
  /**
   * The retained frames of the stream with seq > `afterSeq` up to `tip` (a position `tips` gave;
   * frames of its epoch only), oldest first: at most the last `historySize` of the stream, none
   * past their retention.
   */
  read(stream: StreamName, tip: StreamPosition, afterSeq: number): Promise<readonly StoredFrame[]>;
}
