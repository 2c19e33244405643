import {
  BatchGetCommand,
  type BatchGetCommandOutput,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { Clock } from '../../ports/clock';
import type { ServerFrame } from '../../push/frames';
import { newEpoch, type StreamName } from '../../streams/names';
import { HEAD_POS, posOf } from '../../streams/schema';
import type {
  SequencedFrame,
  StoredFrame,
  StreamLog,
  StreamPosition,
} from '../../streams/stream-log';
import { isConditionFailure, queryPages } from './document';

/** Settings of {@link DynamoStreamLog}. */
export interface DynamoStreamLogOptions {
  readonly client: DynamoDBDocumentClient;
  readonly table: string;
  readonly clock: Clock;
  /** How long a frame is kept (the TTL of every item), seconds. */
  readonly historySeconds: number;
  /** Most frames a replay reaches back from the tip. */
  readonly historySize: number;
  /** Injected for tests. */
  readonly newEpoch?: (stream: StreamName) => string;
}

/** BatchGetItem takes at most 100 keys. */
const BATCH_GET_KEYS = 100;

/**
 * The stream log in DynamoDB. An append is two writes whatever the audience's size: an
 * UpdateItem on the stream's head (ADD tip 1, the epoch set if absent, the expiry moved out)
 * that hands out the seq, then a PutItem of the frame under that seq. A head past its expiry
 * (the stream was silent for `historySeconds`, so every frame of it is gone) starts a new epoch
 * at seq 1. Replay is one consistent Query of the gap's seq range.
 */
export class DynamoStreamLog implements StreamLog {
  public readonly historySize: number;
  private readonly client: DynamoDBDocumentClient;
  private readonly table: string;
  private readonly clock: Clock;
  private readonly historySeconds: number;
  private readonly epochFor: (stream: StreamName) => string;

  public constructor(options: DynamoStreamLogOptions) {
    this.client = options.client;
    this.table = options.table;
    this.clock = options.clock;
    this.historySeconds = options.historySeconds;
    this.historySize = options.historySize;
    this.epochFor = options.newEpoch ?? ((s) => newEpoch(s));
  }

  private nowSeconds(): number {
    return Math.floor(this.clock.now().getTime() / 1000);
  }

  public async append(stream: StreamName, frame: ServerFrame): Promise<SequencedFrame> {
    const now = this.nowSeconds();
    const expiresAt = now + this.historySeconds;
    const head = await this.advance(stream, now, expiresAt);
    const sequenced: SequencedFrame = { ...frame, stream, seq: head.seq };
    const text = JSON.stringify(sequenced);
    await this.client.send(
      new PutCommand({
        TableName: this.table,
        Item: { stream, pos: posOf(head.seq), seq: head.seq, epoch: head.epoch, text, expiresAt },
      }),
    );
    return sequenced;
  }

  /** Hands out the next seq of the stream (a new epoch when its history had run out). */
  private async advance(
    stream: StreamName,
    now: number,
    expiresAt: number,
  ): Promise<StreamPosition> {
    for (let attempt = 0; ; attempt++) {
      try {
        const out = await this.client.send(
          new UpdateCommand({
            TableName: this.table,
            Key: { stream, pos: HEAD_POS },
            UpdateExpression:
              'SET epoch = if_not_exists(epoch, :epoch), expiresAt = :exp ADD tip :one',
            // An expired head that TTL has not deleted yet is a history that is gone.
            ConditionExpression: 'attribute_not_exists(tip) OR expiresAt > :now',
            ExpressionAttributeValues: {
              ':epoch': this.epochFor(stream),
              ':exp': expiresAt,
              ':one': 1,
              ':now': now,
            },
            ReturnValues: 'ALL_NEW',
          }),
        );
        return { epoch: String(out.Attributes?.epoch), seq: Number(out.Attributes?.tip) };
      } catch (e) {
        if (!isConditionFailure(e) || attempt > 0) throw e;
      }
      // Start the stream again: a new epoch at seq 1 (unless another append just did).
      const epoch = this.epochFor(stream);
      try {
        await this.client.send(
          new PutCommand({
            TableName: this.table,
            Item: { stream, pos: HEAD_POS, epoch, tip: 1, expiresAt },
            ConditionExpression: 'attribute_not_exists(tip) OR expiresAt <= :now',
            ExpressionAttributeValues: { ':now': now },
          }),
        );
        return { epoch, seq: 1 };
      } catch (e) {
        if (!isConditionFailure(e)) throw e;
      }
    }
  }

  public async tips(
    streams: readonly StreamName[],
  ): Promise<ReadonlyMap<StreamName, StreamPosition>> {
    const now = this.nowSeconds();
    const tips = new Map<StreamName, StreamPosition>();
    const unique = [...new Set(streams)];
    for (let i = 0; i < unique.length; i += BATCH_GET_KEYS) {
      let keys: Record<string, unknown>[] | undefined = unique
        .slice(i, i + BATCH_GET_KEYS)
        .map((stream) => ({ stream, pos: HEAD_POS }));
      // Unprocessed keys (throttling) are asked again until none are left.
      for (let round = 0; keys && keys.length > 0; round++) {
        if (round > 0) await new Promise((r) => setTimeout(r, Math.min(1000, 25 * 2 ** round)));
        const out: BatchGetCommandOutput = await this.client.send(
          new BatchGetCommand({
            RequestItems: { [this.table]: { Keys: keys, ConsistentRead: true } },
          }),
        );
        for (const item of out.Responses?.[this.table] ?? []) {
          if (Number(item.expiresAt) <= now) continue;
          tips.set(String(item.stream), { epoch: String(item.epoch), seq: Number(item.tip) });
        }
        keys = out.UnprocessedKeys?.[this.table]?.Keys;
      }
    }
    // A stream without a live head gets one now, at seq 0: a client told this epoch keeps it
    // when the stream's first frames arrive, and resumes in it (one write per new stream).
    for (const stream of unique) {
      if (!tips.has(stream)) tips.set(stream, await this.startHead(stream, now));
    }
    return tips;
  }

  /** Creates the stream's head at seq 0 with a new epoch, or reads the one that won a race. */
  private async startHead(stream: StreamName, now: number): Promise<StreamPosition> {
    const epoch = this.epochFor(stream);
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.table,
          Item: { stream, pos: HEAD_POS, epoch, tip: 0, expiresAt: now + this.historySeconds },
          ConditionExpression: 'attribute_not_exists(tip) OR expiresAt <= :now',
          ExpressionAttributeValues: { ':now': now },
        }),
      );
      return { epoch, seq: 0 };
    } catch (e) {
      if (!isConditionFailure(e)) throw e;
    }
    const out = await this.client.send(
      new GetCommand({
        TableName: this.table,
        Key: { stream, pos: HEAD_POS },
        ConsistentRead: true,
      }),
    );
    return { epoch: String(out.Item?.epoch), seq: Number(out.Item?.tip ?? 0) };
  }

  public async read(
    stream: StreamName,
    tip: StreamPosition,
    afterSeq: number,
  ): Promise<readonly StoredFrame[]> {
    const now = this.nowSeconds();
    if (tip.seq <= afterSeq) return [];
    const { epoch } = tip;
    // Only the gap, and never more than historySize back from the tip.
    const from = Math.max(afterSeq + 1, tip.seq - this.historySize + 1);
    const frames: StoredFrame[] = [];
    for await (const page of queryPages(this.client, {
      TableName: this.table,
      KeyConditionExpression: '#s = :s AND pos BETWEEN :from AND :to',
      FilterExpression: 'expiresAt > :now AND epoch = :epoch',
      ExpressionAttributeNames: { '#s': 'stream' },
      ExpressionAttributeValues: {
        ':s': stream,
        ':from': posOf(from),
        ':to': posOf(tip.seq),
        ':now': now,
        ':epoch': epoch,
      },
      ConsistentRead: true,
    })) {
      for (const item of page.Items ?? []) {
        frames.push({ seq: Number(item.seq), text: String(item.text) });
      }
    }
    return frames;
  }
}
