import { createHash } from 'node:crypto';
import type { ArtifactStore, PutArtifact } from '../../src/artifacts/artifact-store';
import { notFound } from '../../src/errors/app-error';
import type {
  BatchCounts,
  DeliveryRecord,
  FanoutMessage,
  FanoutQueue,
  MessageStore,
  ScheduledRecord,
  ScheduleState,
} from '../../src/deliveries/records';
import type { ArtifactRef } from '../../src/artifacts/artifact-ref-schema';

/** Artifacts in a Map; links are `memory://<key>?ttl=<s>`. */
export class MemoryArtifactStore implements ArtifactStore {
  public readonly items = new Map<string, Uint8Array>();

  public async put(a: PutArtifact): Promise<ArtifactRef> {
    this.items.set(a.key, a.body);
    return {
      key: a.key,
      name: a.name,
      size: a.body.byteLength,
      sha256: createHash('sha256').update(a.body).digest('hex'),
      ...(a.contentType ? { contentType: a.contentType } : {}),
    };
  }

  public async get(key: string): Promise<Uint8Array> {
    const item = this.items.get(key);
    if (!item) throw notFound(`no artifact ${key}`);
    return item;
  }

  public async link(key: string, ttlSeconds: number): Promise<string> {
    return `memory://${key}?ttl=${ttlSeconds}`;
  }
}

/** Deliveries and scheduled messages in Maps, with the same state rules as DynamoDB's. */
export class MemoryMessageStore implements MessageStore {
  public readonly deliveries = new Map<string, DeliveryRecord>();
  public readonly scheduled = new Map<string, ScheduledRecord>();

  public async createDelivery(r: DeliveryRecord) {
    this.deliveries.set(r.id, r);
  }
  public async getDelivery(id: string) {
    return this.deliveries.get(id);
  }
  private finish(r: DeliveryRecord): DeliveryRecord {
    const done =
      r.batches >= 0 && r.batchesDone >= r.batches ? { ...r, state: 'done' as const } : r;
    this.deliveries.set(r.id, done);
    return done;
  }
  public async setBatches(id: string, batches: number, recipients: number) {
    const r = this.deliveries.get(id);
    return r ? this.finish({ ...r, batches, recipients }) : undefined;
  }
  public async addBatch(id: string, c: BatchCounts) {
    const r = this.deliveries.get(id);
    if (!r) return undefined;
    return this.finish({
      ...r,
      batchesDone: r.batchesDone + 1,
      delivered: r.delivered + c.delivered,
      gone: r.gone + c.gone,
      failed: r.failed + c.failed,
    });
  }
  public async createScheduled(r: ScheduledRecord) {
    this.scheduled.set(r.id, r);
  }
  public async getScheduled(id: string) {
    return this.scheduled.get(id);
  }
  public async moveScheduled(
    id: string,
    from: readonly ScheduleState[],
    to: ScheduleState,
    extra: { deliveryId?: string; delivered?: number } = {},
  ) {
    const r = this.scheduled.get(id);
    if (!r || !from.includes(r.state)) return undefined;
    const next = { ...r, state: to, ...extra };
    this.scheduled.set(id, next);
    return next;
  }
  public async duePending(dueMinute: string, until: string) {
    return [...this.scheduled.values()].filter(
      (r) => r.dueMinute === dueMinute && r.sendAt <= until && r.state === 'pending',
    );
  }
}

/** A fan-out queue that records what was sent. */
export class MemoryFanoutQueue implements FanoutQueue {
  public readonly sent: { message: FanoutMessage; delaySeconds?: number }[] = [];
  public async sendAll(messages: readonly FanoutMessage[]) {
    for (const message of messages) await this.send(message);
  }
  public async send(message: FanoutMessage, options: { delaySeconds?: number } = {}) {
    this.sent.push({
      message,
      ...(options.delaySeconds !== undefined ? { delaySeconds: options.delaySeconds } : {}),
    });
  }
}
