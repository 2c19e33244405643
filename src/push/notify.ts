import type { Audience } from '../connections/audience';
import type { FrameFactory, ServerFrame } from './frames';

/** The `to` field of a `message` frame (docs/protocol.md). */
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
