import type { ArtifactStore } from '../artifacts/artifact-store';
import type { Log } from '../ports/log';
import type { FrameFactory, ServerFrame } from '../push/frames';
import { buildMessageFrame } from '../push/payload';
import { deliver, type DeliverPorts } from './deliver';
import type { FanoutMessage, MessageStore, ScheduledRecord } from './records';

/** What the fan-out worker needs. */
export interface FanoutPorts extends DeliverPorts {
  readonly artifacts: ArtifactStore;
  readonly frames: FrameFactory;
  readonly log: Log;
}

/** What handling one fan-out message did. */
export type FanoutOutcome = 'delivered' | 'requeued' | 'skipped';

/** Times a batch's throttled rest goes back on the queue before such posts count as failed. */
export const MAX_BATCH_REQUEUES = 10;
/** How long a requeued rest waits on the queue, so the quota has recovered by then. */
const REQUEUE_DELAY_SECONDS = 1;

/** Frames of recent deliveries per message store: a delivery's frame never changes. */
const frameCache = new WeakMap<MessageStore, Map<string, ServerFrame>>();
const FRAME_CACHE_SIZE = 64;

/**
 * The delivery's frame: read (and parsed) once per execution environment, not once per batch,
 * so a large fan-out pays one table read and one parse, not one per 500 recipients.
 */
async function deliveryFrame(
  ports: FanoutPorts,
  deliveryId: string,
): Promise<ServerFrame | undefined> {
  let cache = frameCache.get(ports.messages);
  if (!cache) {
    cache = new Map();
    frameCache.set(ports.messages, cache);
  }
  const cached = cache.get(deliveryId);
  if (cached) return cached;
  const delivery = await ports.messages.getDelivery(deliveryId);
  if (!delivery) return undefined;
  const frame = JSON.parse(delivery.frame) as ServerFrame;
  // Oldest first out: a Map keeps insertion order.
  if (cache.size >= FRAME_CACHE_SIZE) cache.delete(cache.keys().next().value ?? '');
  cache.set(deliveryId, frame);
  return frame;
}

/**
 * Handles one fan-out message: a batch of an async delivery (push to its connection ids, add
 * the counts to the delivery), or a scheduled message that is due (send it now, inline or in
 * batches). A cancelled or already-sent message is skipped.
 * @throws when the batch cannot be pushed at all (the queue retries it).
 */
export async function handleFanout(
  ports: FanoutPorts,
  message: FanoutMessage,
): Promise<FanoutOutcome> {
  if (message.kind === 'batch') {
    const frame = await deliveryFrame(ports, message.deliveryId);
    if (!frame) {
      ports.log.warn('batch for an unknown delivery', { deliveryId: message.deliveryId });
      return 'skipped';
    }
    const retry = message.retry ?? 0;
    const report = await ports.pusher.pushTo(
      (async function* () {
        yield message.connectionIds;
      })(),
      frame,
      `delivery:${message.deliveryId}`,
      // Posts still throttled after their retries go back on the queue, not into `failed`.
      { deferThrottled: retry < MAX_BATCH_REQUEUES },
    );
    const carried = message.carried ?? { delivered: 0, gone: 0, failed: 0 };
    const counts = {
      delivered: carried.delivered + report.delivered,
      gone: carried.gone + report.gone,
      failed: carried.failed + report.failed,
    };
    const deferred = report.deferred ?? [];
    if (deferred.length > 0) {
      // The same batch, its rest only: the delivery counts it once, when the last rest is sent.
      await ports.fanout.send(
        {
          kind: 'batch',
          deliveryId: message.deliveryId,
          batch: message.batch,
          connectionIds: deferred,
          retry: retry + 1,
          carried: counts,
        },
        { delaySeconds: REQUEUE_DELAY_SECONDS },
      );
      ports.log.info('throttled posts requeued', { requeued: deferred.length, retry: retry + 1 });
      return 'requeued';
    }
    await ports.messages.addBatch(message.deliveryId, counts);
    return 'delivered';
  }

  // Claim the send first, so a redelivered message (or a cancel racing it) cannot double-send.
  const claimed = await ports.messages.moveScheduled(
    message.scheduledId,
    ['queued', 'pending'],
    'sending',
  );
  if (!claimed) return 'skipped';
  try {
    return await sendScheduled(ports, claimed);
  } catch (e) {
    // Give the claim back so the queue's retry can send it (and a cancel still works).
    await ports.messages.moveScheduled(claimed.id, ['sending'], 'queued');
    throw e;
  }
}

async function sendScheduled(ports: FanoutPorts, claimed: ScheduledRecord): Promise<FanoutOutcome> {
  const frame = claimed.notice
    ? ports.frames.make(claimed.notice.type, claimed.notice.body)
    : await scheduledMessageFrame(ports, claimed);
  const result = await deliver(ports, claimed.audience, frame);
  await ports.messages.moveScheduled(
    claimed.id,
    ['sending'],
    'sent',
    result.mode === 'inline'
      ? { delivered: result.report.delivered }
      : { deliveryId: result.deliveryId },
  );
  ports.log.info('scheduled message sent', { scheduledId: claimed.id, mode: result.mode });
  return 'delivered';
}

/** The `message` frame of a scheduled notification (its data inline or from the artifact store). */
async function scheduledMessageFrame(ports: FanoutPorts, claimed: ScheduledRecord) {
  const data = claimed.dataKey
    ? (JSON.parse(
        Buffer.from(await ports.artifacts.get(claimed.dataKey)).toString('utf8'),
      ) as unknown)
    : claimed.data;
  const frame = await buildMessageFrame(
    { frames: ports.frames, artifacts: ports.artifacts, now: () => ports.clock.now() },
    claimed.audience,
    { data, ...(claimed.from ? { from: claimed.from } : {}) },
  );
  return frame;
}
