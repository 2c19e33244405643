import type { Audience } from '../connections/audience';

/** An async fan-out: a frame sent to a large audience in batches through the fan-out queue. */
export interface DeliveryRecord {
  readonly id: string;
  readonly kind: 'delivery';
  readonly state: 'running' | 'done';
  readonly audience: Audience;
  /** The frame, serialised once. */
  readonly frame: string;
  readonly recipients: number;
  /** Number of batches queued; -1 while they are still being queued. */
  readonly batches: number;
  readonly batchesDone: number;
  readonly delivered: number;
  readonly gone: number;
  readonly failed: number;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly expiresAt: number;
}

/** pending → queued (on the fan-out queue) → sending → sent, or cancelled before sending. */
export type ScheduleState = 'pending' | 'queued' | 'sending' | 'sent' | 'cancelled';

/** A message to send at a set time. */
export interface ScheduledRecord {
  readonly id: string;
  readonly kind: 'scheduled';
  readonly state: ScheduleState;
  readonly audience: Audience;
  /** Inline data, or the artifact key of data too large for the table. */
  readonly data?: unknown;
  readonly dataKey?: string;
  readonly from?: string;
  /**
   * A frame other than `message` (e.g. `session.expiring` to one connection): its type and
   * fields; built when it is sent, so its `id` and `at` are the send's.
   */
  readonly notice?: { readonly type: string; readonly body: Readonly<Record<string, unknown>> };
  readonly sendAt: string;
  /** `YYYY-MM-DDTHH:MM` of sendAt: the byDue partition. */
  readonly dueMinute: string;
  readonly createdAt: string;
  readonly expiresAt: number;
  readonly deliveryId?: string;
  readonly delivered?: number;
  /** When it entered its state (ISO): how the recovery tells a stuck message from a busy one. */
  readonly movedAt?: string;
}

/** A message on the fan-out queue. */
export type FanoutMessage =
  | {
      readonly kind: 'batch';
      readonly deliveryId: string;
      readonly batch: number;
      readonly connectionIds: readonly string[];
      /** How often this batch's throttled rest has been queued again (absent: the first send). */
      readonly retry?: number;
      /** The counts of the batch's earlier sends, added to the delivery with the last one. */
      readonly carried?: BatchCounts;
    }
  | { readonly kind: 'scheduled'; readonly scheduledId: string };

/** Push counts of one batch. */
export interface BatchCounts {
  readonly delivered: number;
  readonly gone: number;
  readonly failed: number;
}

/** The port through which the domain keeps deliveries and scheduled messages. */
export interface MessageStore {
  createDelivery(record: DeliveryRecord): Promise<void>;
  getDelivery(id: string): Promise<DeliveryRecord | undefined>;
  /** Sets the final batch and recipient counts once every batch is queued; returns the record. */
  setBatches(id: string, batches: number, recipients: number): Promise<DeliveryRecord | undefined>;
  /** Adds one batch's counts; marks the delivery done after its last batch. */
  addBatch(id: string, counts: BatchCounts): Promise<DeliveryRecord | undefined>;
  createScheduled(record: ScheduledRecord): Promise<void>;
  getScheduled(id: string): Promise<ScheduledRecord | undefined>;
  /** Moves a scheduled message between states; undefined when it was not in `from`. */
  moveScheduled(
    id: string,
    from: readonly ScheduleState[],
    to: ScheduleState,
    extra?: { deliveryId?: string; delivered?: number },
  ): Promise<ScheduledRecord | undefined>;
  /** Pending messages in one due-minute bucket with sendAt ≤ until (ISO). */
  duePending(dueMinute: string, until: string): Promise<ScheduledRecord[]>;
}

/** The port of the fan-out queue. */
export interface FanoutQueue {
  send(message: FanoutMessage, options?: { delaySeconds?: number }): Promise<void>;
  /** Sends up to 10 messages in one request (SQS SendMessageBatch). */
  sendAll(messages: readonly FanoutMessage[]): Promise<void>;
}

/** The due-minute bucket of a time. */
export const dueMinuteOf = (d: Date): string => d.toISOString().slice(0, 16);
