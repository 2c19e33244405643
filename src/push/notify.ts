import type { Audience } from '../connections/audience';
import { tooLarge } from '../errors/app-error';
import type { FrameFactory, ServerFrame } from './frames';
import type { Pusher, PushReport } from './pusher';

/** The `to` field of a `message` frame (PROTOCOL.md). */
export type MessageTo = { user: string } | { group: string } | { all: true };

/** What a service sends. */
export interface Notification {
  readonly data: unknown;
  readonly from?: string;
}

/** The `to` of a message frame for an audience. */
export function messageTo(audience: Audience): MessageTo {
  switch (audience.kind) {
    case 'user':
      return { user: audience.userId };
    case 'group':
      return { group: audience.group };
    default:
      return { all: true };
  }
}

/** Builds the `message` frame for a notification. */
export function messageFrame(
  frames: FrameFactory,
  audience: Audience,
  notification: Notification,
): ServerFrame {
  return frames.make('message', {
    data: notification.data,
    to: messageTo(audience),
    ...(notification.from ? { from: notification.from } : {}),
  });
}

/** API Gateway's cap on one WebSocket message (PostToConnection data). */
export const MAX_MESSAGE_BYTES = 128 * 1024;

/**
 * Pushes a notification to its audience now.
 * @throws AppError `too_large` when the frame (not just the request body: JSON numbers can
 *   grow when re-serialised) would exceed API Gateway's 128 KB message cap.
 */
export async function notify(
  pusher: Pusher,
  frames: FrameFactory,
  audience: Audience,
  notification: Notification,
): Promise<PushReport> {
  const frame = messageFrame(frames, audience, notification);
  const bytes = Buffer.byteLength(JSON.stringify(frame));
  if (bytes > MAX_MESSAGE_BYTES) {
    throw tooLarge(`the message frame would be ${bytes} bytes; the limit is ${MAX_MESSAGE_BYTES}`);
  }
  return pusher.push(audience, frame);
}
