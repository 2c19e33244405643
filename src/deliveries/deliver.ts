import { randomUUID } from 'node:crypto';
import type { Audience } from '../connections/audience';
import { describeAudience } from '../connections/audience';
import type { ConnectionStore } from '../connections/store';
import type { Clock } from '../ports/clock';
import type { ServerFrame } from '../push/frames';
import type { FramePusher, PushReport } from '../push/frame-pusher';
import { sequenced } from '../streams/sequence';
import type { StreamLog } from '../streams/stream-log';
import type { FanoutMessage, FanoutQueue, MessageStore } from './records';

/** Audiences up to this size are pushed within the request (about a second at local speeds). */
export const DEFAULT_INLINE_LIMIT = 2000;
/**
 * Connection ids per fan-out message (about 15 KB, well under SQS's 256 KB per message): each
 * message costs the worker an idempotency record, a progress update and a queue round trip, so
 * fewer, larger batches leave more of its time to posting.
 */
export const DEFAULT_BATCH_SIZE = 500;
/** Delivery records are kept a week. */
const DELIVERY_TTL_SECONDS = 7 * 24 * 60 * 60;

/** What delivering needs. */
export interface DeliverPorts {
  readonly store: ConnectionStore;
  readonly pusher: FramePusher;
  readonly messages: MessageStore;
  readonly fanout: FanoutQueue;
  readonly clock: Clock;
  /** The stream log every pushed frame is appended to first (absent: frames go unsequenced). */
  readonly streams?: StreamLog;
  readonly inlineLimit?: number;
  readonly batchSize?: number;
  readonly newId?: () => string;
}

/** How a frame went out. */
export type DeliverResult =
  | { readonly mode: 'inline'; readonly report: PushReport }
  | {
      readonly mode: 'queued';
      readonly deliveryId: string;
      readonly recipients: number;
      readonly batches: number;
    };

/**
 * Sends a frame to an audience. Recipients are read a Query page at a time; an audience that
 * turns out larger than the inline limit is handed to the fan-out queue in batches instead
 * (answered with a delivery id whose progress is kept in the messages table), so no request
 * outlives API Gateway's 29-second integration timeout.
 */
export async function deliver(
  ports: DeliverPorts,
  audience: Audience,
  unsequenced: ServerFrame,
): Promise<DeliverResult> {
  // One append per push, before any recipient is read: a connection registered after the
  // append is then either read below or finds the frame in its resume's gap.
  const frame = await sequenced(ports.streams, audience, unsequenced);
  const inlineLimit = ports.inlineLimit ?? DEFAULT_INLINE_LIMIT;
  const batchSize = ports.batchSize ?? DEFAULT_BATCH_SIZE;
  const pages = ports.store.recipients(audience)[Symbol.asyncIterator]();
  const buffered: string[] = [];
  let exhausted = false;
  while (buffered.length <= inlineLimit) {
    const next = await pages.next();
    if (next.done) {
      exhausted = true;
      break;
    }
    buffered.push(...next.value);
  }
  if (exhausted) {
    const report = await ports.pusher.pushTo(
      (async function* () {
        yield buffered;
      })(),
      frame,
      describeAudience(audience),
    );
    return { mode: 'inline', report };
  }

  const now = ports.clock.now();
  const deliveryId = `d_${(ports.newId ?? randomUUID)()}`;
  await ports.messages.createDelivery({
    id: deliveryId,
    kind: 'delivery',
    state: 'running',
    audience,
    frame: JSON.stringify(frame),
    recipients: 0,
    batches: -1,
    batchesDone: 0,
    delivered: 0,
    gone: 0,
    failed: 0,
    createdAt: now.toISOString(),
    updatedAt: now.toISOString(),
    expiresAt: Math.floor(now.getTime() / 1000) + DELIVERY_TTL_SECONDS,
  });
  let batch = 0;
  let recipients = 0;
  // Batches go to SQS ten to a request (SendMessageBatch), so even a very large audience is
  // queued well inside the request's time.
  let outbox: FanoutMessage[] = [];
  const sendOutbox = async () => {
    if (outbox.length > 0) await ports.fanout.sendAll(outbox);
    outbox = [];
  };
  const flush = async (ids: string[]) => {
    outbox.push({ kind: 'batch', deliveryId, batch, connectionIds: ids });
    batch++;
    recipients += ids.length;
    if (outbox.length === 10) await sendOutbox();
  };
  const pending = buffered;
  for (;;) {
    while (pending.length >= batchSize) await flush(pending.splice(0, batchSize));
    const next = await pages.next();
    if (next.done) break;
    pending.push(...next.value);
  }
  if (pending.length > 0) await flush(pending.splice(0));
  await sendOutbox();
  await ports.messages.setBatches(deliveryId, batch, recipients);
  return { mode: 'queued', deliveryId, recipients, batches: batch };
}
