import type { ArtifactStore } from '../artifacts/artifact-store';
import type { Log } from '../ports/log';
import type { FrameFactory, ServerFrame } from '../push/frames';
import { buildMessageFrame } from '../push/payload';
import { deliver, type DeliverPorts } from './deliver';
import type { FanoutMessage, ScheduledRecord } from './records';

/** What the fan-out worker needs. */
export interface FanoutPorts extends DeliverPorts {
  readonly artifacts: ArtifactStore;
  readonly frames: FrameFactory;
  readonly log: Log;
}

/** What handling one fan-out message did. */
export type FanoutOutcome = 'delivered' | 'skipped';

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
    const delivery = await ports.messages.getDelivery(message.deliveryId);
    if (!delivery) {
      ports.log.warn('batch for an unknown delivery', { deliveryId: message.deliveryId });
      return 'skipped';
    }
    const frame = JSON.parse(delivery.frame) as ServerFrame;
    const report = await ports.pusher.pushTo(
      (async function* () {
        yield message.connectionIds;
      })(),
      frame,
      `delivery:${delivery.id}`,
    );
    await ports.messages.addBatch(delivery.id, report);
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
