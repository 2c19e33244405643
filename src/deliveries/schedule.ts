import { randomUUID } from 'node:crypto';
import type { ArtifactStore } from '../artifacts/artifact-store';
import type { Audience } from '../connections/audience';
import { AppError, badRequest, notFound } from '../errors/app-error';
import type { Clock } from '../ports/clock';
import { assertJsonDepth } from '../push/json-depth';
import type { Notification } from '../push/notify';
import { dueMinuteOf, type FanoutQueue, type MessageStore, type ScheduledRecord } from './records';

/** Messages may be scheduled up to a year ahead. */
export const MAX_SCHEDULE_AHEAD_MS = 366 * 24 * 60 * 60 * 1000;
/** Data larger than this is kept in the artifact store rather than in the table item. */
const INLINE_DATA_BYTES = 64 * 1024;
/** How far back a sweep looks for messages it may have missed (a late or failed sweep). */
const LOOKBACK_MINUTES = 10;

/** What scheduling needs. */
export interface SchedulePorts {
  readonly messages: MessageStore;
  readonly artifacts: ArtifactStore;
  readonly fanout: FanoutQueue;
  readonly clock: Clock;
  readonly newId?: () => string;
  /**
   * A message due within this many ms is queued at once (with its delay) instead of waiting
   * for the next sweep. Set to the sweep's horizon in the cloud; 0 locally, where the sweep
   * runs several times a second.
   */
  readonly queueWithinMs?: number;
}

/** The cloud sweep's horizon: its one-minute interval plus slack. */
export const SWEEP_HORIZON_MS = 75_000;

/**
 * Reads `sendAt`: an ISO time in the future, at most a year ahead.
 * @throws AppError `bad_request`.
 */
export function parseSendAt(sendAt: string, now: Date): Date {
  if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d)$/.test(sendAt)) {
    throw badRequest('sendAt: an ISO 8601 time with a zone, e.g. 2026-11-22T08:00:00Z');
  }
  const at = new Date(sendAt);
  if (Number.isNaN(at.getTime())) throw badRequest('sendAt: not a valid time');
  if (at.getTime() <= now.getTime()) throw badRequest('sendAt: is in the past');
  if (at.getTime() - now.getTime() > MAX_SCHEDULE_AHEAD_MS)
    throw badRequest('sendAt: more than a year ahead');
  return at;
}

/**
 * Stores a message to be sent to the audience at `sendAt`; returns its record.
 * @throws AppError `bad_request` for data nested deeper than MAX_JSON_DEPTH.
 */
export async function scheduleMessage(
  ports: SchedulePorts,
  audience: Audience,
  notification: Notification,
  sendAt: Date,
): Promise<ScheduledRecord> {
  // First: JSON.stringify and the record's marshalling recurse.
  assertJsonDepth(notification.data, 'data');
  const now = ports.clock.now();
  const id = `s_${(ports.newId ?? randomUUID)()}`;
  const json = JSON.stringify(notification.data);
  let dataPart: { data?: unknown; dataKey?: string } = { data: notification.data };
  if (Buffer.byteLength(json) > INLINE_DATA_BYTES) {
    const ref = await ports.artifacts.put({
      key: `scheduled/${id}.json`,
      name: `${id}.json`,
      body: Buffer.from(json),
      contentType: 'application/json',
    });
    dataPart = { dataKey: ref.key };
  }
  const record: ScheduledRecord = {
    id,
    kind: 'scheduled',
    state: 'pending',
    audience,
    ...dataPart,
    ...(notification.from ? { from: notification.from } : {}),
    sendAt: sendAt.toISOString(),
    dueMinute: dueMinuteOf(sendAt),
    createdAt: now.toISOString(),
    expiresAt: Math.floor(sendAt.getTime() / 1000) + 7 * 24 * 60 * 60,
  };
  await ports.messages.createScheduled(record);
  const wait = sendAt.getTime() - now.getTime();
  if (wait <= (ports.queueWithinMs ?? 0)) {
    const moved = await ports.messages.moveScheduled(id, ['pending'], 'queued');
    if (moved) {
      await ports.fanout.send(
        { kind: 'scheduled', scheduledId: id },
        { delaySeconds: wait / 1000 },
      );
      return moved;
    }
  }
  return record;
}

/**
 * Cancels a scheduled message that has not been sent.
 * @throws AppError `not_found`, or `conflict` when it is already sent (or being sent).
 */
export async function cancelScheduled(
  ports: Pick<SchedulePorts, 'messages'>,
  id: string,
): Promise<ScheduledRecord> {
  const cancelled = await ports.messages.moveScheduled(id, ['pending', 'queued'], 'cancelled');
  if (cancelled) return cancelled;
  const existing = await ports.messages.getScheduled(id);
  if (!existing) throw notFound(`no scheduled message ${id}`);
  if (existing.state === 'cancelled') return existing;
  throw new AppError('conflict', `scheduled message ${id} is already ${existing.state}`);
}

/**
 * Queues every pending message due before `now + horizonMs` on the fan-out queue, each with a
 * delay that lands it at its sendAt (SQS delays to the second, up to 15 minutes). Run every
 * minute in the cloud with a horizon a little over a minute, and every 200 ms locally.
 * @returns how many messages were queued.
 */
export async function sweepDue(
  ports: Pick<SchedulePorts, 'messages' | 'fanout' | 'clock'>,
  horizonMs: number,
): Promise<number> {
  const now = ports.clock.now();
  const until = new Date(now.getTime() + horizonMs);
  let queued = 0;
  for (
    let t = now.getTime() - LOOKBACK_MINUTES * 60_000;
    t <= until.getTime() + 60_000;
    t += 60_000
  ) {
    const minute = dueMinuteOf(new Date(t));
    if (minute > dueMinuteOf(until)) break;
    for (const due of await ports.messages.duePending(minute, until.toISOString())) {
      const moved = await ports.messages.moveScheduled(due.id, ['pending'], 'queued');
      if (!moved) continue;
      const delaySeconds = (new Date(moved.sendAt).getTime() - now.getTime()) / 1000;
      await ports.fanout.send({ kind: 'scheduled', scheduledId: moved.id }, { delaySeconds });
      queued++;
    }
  }
  return queued;
}

/** A scheduled message handed on (queued or being sent) but not sent, as recovery reads it. */
export interface UnsentScheduled {
  readonly id: string;
  readonly state: 'queued' | 'sending';
  readonly sendAt: string;
  /** When it entered that state (absent on records written before this was kept). */
  readonly movedAt?: string;
}

/** The store side of recovering stuck scheduled messages. */
export interface UnsentScheduledStore {
  /** Queued or sending messages in one due-minute bucket with sendAt ≤ until (ISO). */
  dueUnsent(dueMinute: string, until: string): Promise<UnsentScheduled[]>;
  /**
   * Puts a stuck message back to `queued`, only while it still has the state and movedAt the
   * recovery read. @returns the record, or undefined when it moved on meanwhile.
   */
  requeueStuck(stuck: UnsentScheduled): Promise<ScheduledRecord | undefined>;
}

/**
 * When a handed-on message counts as stuck. `all`: every queued or sending message, for a start
 * after which nothing of the previous run exists (the local runtime's queues live in memory).
 */
export type StuckAfter =
  | 'all'
  | {
      /**
       * A message still queued this long after both its sendAt and its queueing has lost its
       * fan-out message (an SQS send that failed after the move, a lost queue). It is sent again;
       * a repeat costs nothing, since the send claims the record first.
       */
      readonly queuedMs: number;
      /**
       * A message `sending` this long has lost its sender: longer than the fan-out function's
       * timeout, so the sender is surely gone. Sending it again may repeat a push that went out
       * just before the sender died (at least once, in that one window).
       */
      readonly sendingMs: number;
    };

/** The cloud's thresholds: the fan-out function times out after 60 s. */
export const STUCK_AFTER: StuckAfter = { queuedMs: 2 * 60_000, sendingMs: 5 * 60_000 };

/** Whether a handed-on message is stuck at `now`. */
export function isStuck(message: UnsentScheduled, now: Date, stuck: StuckAfter): boolean {
  if (stuck === 'all') return true;
  const t = now.getTime();
  const movedAt = message.movedAt ? new Date(message.movedAt).getTime() : 0;
  const sendAt = new Date(message.sendAt).getTime();
  return message.state === 'queued'
    ? t >= Math.max(sendAt, movedAt) + stuck.queuedMs
    : t >= (movedAt || sendAt) + stuck.sendingMs;
}

/**
 * Finds scheduled messages that were handed on but will never be sent (their fan-out message
 * or their sender is gone) and queues them again, each with the delay that lands it at its
 * sendAt. Looks at the same minute buckets as {@link sweepDue}.
 * @returns how many were queued again.
 */
export async function recoverStuck(
  ports: { messages: UnsentScheduledStore } & Pick<SchedulePorts, 'fanout' | 'clock'>,
  stuck: StuckAfter,
  horizonMs: number,
): Promise<number> {
  const now = ports.clock.now();
  // Nothing is handed on earlier than SWEEP_HORIZON_MS before its sendAt (the API's and the
  // sweep's horizons are at most that), so after a start that window holds every such message.
  const until = new Date(
    now.getTime() + (stuck === 'all' ? Math.max(horizonMs, SWEEP_HORIZON_MS) : horizonMs),
  );
  let requeued = 0;
  for (
    let t = now.getTime() - LOOKBACK_MINUTES * 60_000;
    dueMinuteOf(new Date(t)) <= dueMinuteOf(until);
    t += 60_000
  ) {
    for (const message of await ports.messages.dueUnsent(
      dueMinuteOf(new Date(t)),
      until.toISOString(),
    )) {
      if (!isStuck(message, now, stuck)) continue;
      const moved = await ports.messages.requeueStuck(message);
      if (!moved) continue;
      const delaySeconds = Math.max(0, (new Date(moved.sendAt).getTime() - now.getTime()) / 1000);
      await ports.fanout.send({ kind: 'scheduled', scheduledId: moved.id }, { delaySeconds });
      requeued++;
    }
  }
  return requeued;
}
