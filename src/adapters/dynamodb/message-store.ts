import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  type UpdateCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { queryPages, updateIfAllowed } from './document';
import type { Clock } from '../../ports/clock';
import type {
  BatchCounts,
  DeliveryRecord,
  MessageStore,
  ScheduledRecord,
  ScheduleState,
} from '../../deliveries/records';
import type { UnsentScheduled, UnsentScheduledStore } from '../../deliveries/schedule';

/** Deliveries and scheduled messages on DynamoDB (or dynalite). */
export class DynamoMessageStore implements MessageStore, UnsentScheduledStore {
  public constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly table: string,
    private readonly clock: Clock,
  ) {}

  private async put(item: DeliveryRecord | ScheduledRecord): Promise<void> {
    await this.client.send(
      new PutCommand({
        TableName: this.table,
        Item: item,
        ConditionExpression: 'attribute_not_exists(id)',
      }),
    );
  }

  private async read<T>(id: string, kind: string): Promise<T | undefined> {
    const out = await this.client.send(
      new GetCommand({ TableName: this.table, Key: { id }, ConsistentRead: true }),
    );
    return out.Item?.kind === kind ? (out.Item as T) : undefined;
  }

  private async update<T>(input: UpdateCommandInput): Promise<T | undefined> {
    return (await updateIfAllowed(this.client, input)) as T | undefined;
  }

  public createDelivery(record: DeliveryRecord) {
    return this.put(record);
  }

  public getDelivery(id: string) {
    return this.read<DeliveryRecord>(id, 'delivery');
  }

  /** Marks the delivery done when every queued batch has reported. */
  private async finishIfComplete(
    record: DeliveryRecord | undefined,
  ): Promise<DeliveryRecord | undefined> {
    if (
      !record ||
      record.batches < 0 ||
      record.batchesDone < record.batches ||
      record.state === 'done'
    ) {
      return record;
    }
    return (
      (await this.update<DeliveryRecord>({
        TableName: this.table,
        Key: { id: record.id },
        UpdateExpression: 'SET #s = :done, updatedAt = :now',
        ConditionExpression: '#s = :running',
        ExpressionAttributeNames: { '#s': 'state' },
        ExpressionAttributeValues: {
          ':done': 'done',
          ':running': 'running',
          ':now': this.clock.now().toISOString(),
        },
      })) ?? record
    );
  }

  public async setBatches(id: string, batches: number, recipients: number) {
    const record = await this.update<DeliveryRecord>({
      TableName: this.table,
      Key: { id },
      UpdateExpression: 'SET batches = :b, recipients = :r, updatedAt = :now',
      ConditionExpression: 'attribute_exists(id)',
      ExpressionAttributeValues: {
        ':b': batches,
        ':r': recipients,
        ':now': this.clock.now().toISOString(),
      },
    });
    return this.finishIfComplete(record);
  }

  public async addBatch(id: string, counts: BatchCounts) {
    const record = await this.update<DeliveryRecord>({
      TableName: this.table,
      Key: { id },
      UpdateExpression:
        'ADD batchesDone :one, delivered :d, gone :g, failed :f SET updatedAt = :now',
      ConditionExpression: 'attribute_exists(id)',
      ExpressionAttributeValues: {
        ':one': 1,
        ':d': counts.delivered,
        ':g': counts.gone,
        ':f': counts.failed,
        ':now': this.clock.now().toISOString(),
      },
    });
    return this.finishIfComplete(record);
  }

  public createScheduled(record: ScheduledRecord) {
    return this.put(record);
  }

  public getScheduled(id: string) {
    return this.read<ScheduledRecord>(id, 'scheduled');
  }

  public moveScheduled(
    id: string,
    from: readonly ScheduleState[],
    to: ScheduleState,
    extra: { deliveryId?: string; delivered?: number } = {},
  ) {
    const values: Record<string, unknown> = {
      ':to': to,
      ':kind': 'scheduled',
      ':now': this.clock.now().toISOString(),
    };
    from.forEach((s, i) => (values[`:f${i}`] = s));
    const sets = ['#s = :to', 'movedAt = :now'];
    if (extra.deliveryId !== undefined) {
      sets.push('deliveryId = :did');
      values[':did'] = extra.deliveryId;
    }
    if (extra.delivered !== undefined) {
      sets.push('delivered = :dn');
      values[':dn'] = extra.delivered;
    }
    return this.update<ScheduledRecord>({
      TableName: this.table,
      Key: { id },
      UpdateExpression: `SET ${sets.join(', ')}`,
      ConditionExpression: `kind = :kind AND #s IN (${from.map((_, i) => `:f${i}`).join(', ')})`,
      ExpressionAttributeNames: { '#s': 'state' },
      ExpressionAttributeValues: values,
    });
  }

  public async duePending(dueMinute: string, until: string): Promise<ScheduledRecord[]> {
    const out: ScheduledRecord[] = [];
    for await (const page of queryPages(this.client, {
      TableName: this.table,
      IndexName: 'byDue',
      KeyConditionExpression: 'dueMinute = :m AND sendAt <= :until',
      FilterExpression: '#s = :pending',
      ExpressionAttributeNames: { '#s': 'state' },
      ExpressionAttributeValues: { ':m': dueMinute, ':until': until, ':pending': 'pending' },
    })) {
      for (const item of page.Items ?? []) out.push({ id: String(item.id) } as ScheduledRecord);
    }
    return out;
  }

  public async dueUnsent(dueMinute: string, until: string): Promise<UnsentScheduled[]> {
    const ids: string[] = [];
    for await (const page of queryPages(this.client, {
      TableName: this.table,
      IndexName: 'byDue',
      KeyConditionExpression: 'dueMinute = :m AND sendAt <= :until',
      FilterExpression: '#s IN (:queued, :sending)',
      ExpressionAttributeNames: { '#s': 'state' },
      ExpressionAttributeValues: {
        ':m': dueMinute,
        ':until': until,
        ':queued': 'queued',
        ':sending': 'sending',
      },
    })) {
      for (const item of page.Items ?? []) ids.push(String(item.id));
    }
    // The index does not carry movedAt (and lags the table): read the few candidates in full.
    const records = await Promise.all(ids.map((id) => this.getScheduled(id)));
    return records.flatMap((r) =>
      r && (r.state === 'queued' || r.state === 'sending')
        ? [
            {
              id: r.id,
              state: r.state,
              sendAt: r.sendAt,
              ...(r.movedAt ? { movedAt: r.movedAt } : {}),
            },
          ]
        : [],
    );
  }

  public requeueStuck(stuck: UnsentScheduled) {
    return this.update<ScheduledRecord>({
      TableName: this.table,
      Key: { id: stuck.id },
      UpdateExpression: 'SET #s = :queued, movedAt = :now',
      ConditionExpression: `kind = :kind AND #s = :seen AND ${
        stuck.movedAt ? 'movedAt = :movedAt' : 'attribute_not_exists(movedAt)'
      }`,
      ExpressionAttributeNames: { '#s': 'state' },
      ExpressionAttributeValues: {
        ':queued': 'queued',
        ':now': this.clock.now().toISOString(),
        ':kind': 'scheduled',
        ':seen': stuck.state,
        ...(stuck.movedAt ? { ':movedAt': stuck.movedAt } : {}),
      },
    });
  }
}
