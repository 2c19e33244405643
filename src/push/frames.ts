import { randomUUID } from 'node:crypto';
import type { Clock } from '../ports/clock';

/** Every frame the server sends carries these (docs/protocol.md). */
export interface FrameEnvelope {
  readonly type: string;
  readonly id: string;
  readonly at: string;
}

/** A server → client frame: the envelope plus the type's own fields. */
export type ServerFrame = FrameEnvelope & Readonly<Record<string, unknown>>;

/** Builds server frames with a unique id and the clock's time. */
export interface FrameFactory {
  make(type: string, body?: Readonly<Record<string, unknown>>): ServerFrame;
}

/** A frame factory on the given clock (ids are random UUIDs). */
export function frameFactory(clock: Clock, newId: () => string = randomUUID): FrameFactory {
  return {
    make: (type, body = {}) => ({ ...body, type, id: newId(), at: clock.now().toISOString() }),
  };
}

/** An `error` frame (docs/protocol.md: code, message, requestId when the client sent one). */
export function errorFrame(
  frames: FrameFactory,
  code: string,
  message: string,
  requestId?: string,
): ServerFrame {
  return frames.make('error', { code, message, ...(requestId ? { requestId } : {}) });
}
