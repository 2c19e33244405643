import type { MessageStore } from '../deliveries/records';
import { dueMinuteOf } from '../deliveries/records';
import type { Clock } from '../ports/clock';

/** API Gateway closes every WebSocket connection this long after it opened. */
export const API_GATEWAY_MAX_AGE_SECONDS = 2 * 60 * 60;
/** …and after this long without a frame either way. */
export const API_GATEWAY_IDLE_SECONDS = 10 * 60;

/** The frame that tells a connection its cap is near (docs/protocol.md, "Connection lifetime"). */
export const SESSION_EXPIRING = 'session.expiring';

/** How long before the cap the notice goes out: 5 minutes, or a tenth of a shorter cap. */
export const expiringLeadSeconds = (maxAgeSeconds: number): number =>
  Math.min(300, maxAgeSeconds / 10);

/** When a connection that opened at `connectedAt` is warned, and when it will be closed. */
export function sessionTimes(
  connectedAt: Date,
  maxAgeSeconds: number,
): { readonly noticeAt: Date; readonly closesAt: Date } {
  const closesAt = new Date(connectedAt.getTime() + maxAgeSeconds * 1000);
  const noticeAt = new Date(closesAt.getTime() - expiringLeadSeconds(maxAgeSeconds) * 1000);
  return { noticeAt, closesAt };
}

/** What scheduling the notice needs. */
export interface SessionNoticePorts {
  readonly messages: MessageStore;
  readonly clock: Clock;
  /** The gateway's cap in seconds (API Gateway's two hours in the cloud). */
  readonly maxAgeSeconds: number;
}

/** The scheduled message id of a connection's notice: one per connection, never two. */
export const sessionNoticeId = (connectionId: string): string => `s_expiring_${connectionId}`;

/**
 * Schedules `{"type":"session.expiring","closesAt"}` to the connection before its cap, through
 * the scheduled-message machinery (the messages table, the scheduler, the fan-out queue): the
 * client then opens a new connection, resumes on it and closes this one (make-before-break).
 * A connection that is gone by then costs one 410.
 */
export async function scheduleSessionNotice(
  ports: SessionNoticePorts,
  connectionId: string,
  connectedAt: Date,
): Promise<void> {
  const { noticeAt, closesAt } = sessionTimes(connectedAt, ports.maxAgeSeconds);
  await ports.messages.createScheduled({
    id: sessionNoticeId(connectionId),
    kind: 'scheduled',
    state: 'pending',
    audience: { kind: 'connection', connectionId },
    notice: { type: SESSION_EXPIRING, body: { closesAt: closesAt.toISOString() } },
    sendAt: noticeAt.toISOString(),
    dueMinute: dueMinuteOf(noticeAt),
    createdAt: ports.clock.now().toISOString(),
    expiresAt: Math.floor(closesAt.getTime() / 1000) + 24 * 60 * 60,
  });
}
