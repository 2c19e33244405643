import { CreateTableCommand, DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { type Emulator, startDynalite } from '../../../local/emulators';
import { createTableInput } from '../../../local/tables';
import { DynamoStreamLog } from '../../../src/adapters/dynamodb/stream-log';
import { frameFactory } from '../../../src/push/frames';
import { epochBelongsTo, newEpoch } from '../../../src/streams/names';
import { HEAD_POS, STREAMS_TABLE } from '../../../src/streams/schema';
import type { StreamPosition } from '../../../src/streams/stream-log';
import { ManualClock } from '../core/fakes';

const T0 = new Date('2024-06-01T12:00:00.000Z');
const T0_S = Math.floor(T0.getTime() / 1000);

let emulator: Emulator;
let raw: DynamoDBClient;
let tableCount = 0;

beforeAll(async () => {
  emulator = await startDynalite();
  raw = new DynamoDBClient({
    endpoint: emulator.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
});

afterAll(async () => {
  raw.destroy();
  await emulator.close();
});

/** Waits for the table to be ACTIVE (dynalite activates it on a timer, late on a busy machine). */
async function untilActive(table: string): Promise<void> {
  for (;;) {
    const out = await raw.send(new DescribeTableCommand({ TableName: table }));
    if (out.Table?.TableStatus === 'ACTIVE') return;
    await new Promise((r) => setTimeout(r, 5));
  }
}

/**
 * A log on a fresh streams table, with a manual clock, numbered epochs and a document client
 * whose requests are recorded by command name.
 */
async function setup(options: { historySize?: number; historySeconds?: number } = {}) {
  const table = `streams-${++tableCount}`;
  await raw.send(new CreateTableCommand(createTableInput(table, STREAMS_TABLE)));
  await untilActive(table);
  const client = DynamoDBDocumentClient.from(raw, {
    marshallOptions: { removeUndefinedValues: true },
  });
  const send = jest.spyOn(client, 'send');
  const requests = () => send.mock.calls.map(([command]) => command.constructor.name);
  const clock = new ManualClock(T0);
  let epochs = 0;
  const log = new DynamoStreamLog({
    client,
    table,
    clock,
    historySize: options.historySize ?? 1000,
    historySeconds: options.historySeconds ?? 86_400,
    newEpoch: (s) => newEpoch(s, () => Buffer.from(`e${++epochs}`)),
  });
  let ids = 0;
  const frames = frameFactory(clock, () => `f${++ids}`);
  const make = (data: unknown = null) => frames.make('message', { data });
  /** Appends n frames one after the other. */
  const push = async (stream: string, n: number) => {
    for (let i = 0; i < n; i++) await log.append(stream, make(i));
  };
  const tipOf = async (stream: string): Promise<StreamPosition> => {
    const tip = (await log.tips([stream])).get(stream);
    if (!tip) throw new Error(`no tip for ${stream}`);
    return tip;
  };
  return { log, clock, client, table, send, requests, make, push, tipOf };
}

/** The seqs and ids of stored frames. */
const seqsOf = (frames: readonly { seq: number }[]) => frames.map((f) => f.seq);

describe('DynamoStreamLog: append', () => {
  it('numbers the frames of each stream 1, 2, 3, … and returns them with stream and seq', async () => {
    // Prepare
    const { log, make, tipOf } = await setup();
    const frame = make({ hello: 'world' });

    // Act
    const first = await log.append('user:alice', frame);
    const second = await log.append('user:alice', make());
    const other = await log.append('group:ops', make());

    // Assess
    expect(first).toEqual({ ...frame, stream: 'user:alice', seq: 1 });
    expect(second).toMatchObject({ stream: 'user:alice', seq: 2 });
    expect(other).toMatchObject({ stream: 'group:ops', seq: 1 });
    expect(await tipOf('user:alice')).toEqual({
      epoch: newEpoch('user:alice', () => Buffer.from('e1')),
      seq: 2,
    });
  });

  it('hands out 1..50 without gaps or repeats to 50 concurrent appends to one stream', async () => {
    // Prepare
    const { log, make, tipOf } = await setup();
    const frames = Array.from({ length: 50 }, (_, i) => make(i));

    // Act
    const appended = await Promise.all(frames.map((f) => log.append('all', f)));

    // Assess
    const seqs = appended.map((f) => f.seq).sort((a, b) => a - b);
    expect(seqs).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    const tip = await tipOf('all');
    expect(tip.seq).toBe(50);
    const stored = await log.read('all', tip, 0);
    expect(seqsOf(stored)).toEqual(seqs);
    // Each stored text is the frame that got that seq.
    const bySeq = new Map(appended.map((f) => [f.seq, f.id]));
    for (const s of stored) {
      const frame = JSON.parse(s.text) as { id: string; seq: number; stream: string };
      expect(frame).toMatchObject({ seq: s.seq, stream: 'all', id: bySeq.get(s.seq) });
    }
  });

  it.each([
    ['the first append of a stream', 0, 10],
    ['a later append', 3, 10],
    ['a large frame', 3, 100_000],
  ])('costs exactly 2 write requests for %s', async (_why, before, size) => {
    // Prepare
    const { log, make, push, send, requests } = await setup();
    await push('user:alice', before);
    send.mockClear();

    // Act
    await log.append('user:alice', make('x'.repeat(size)));

    // Assess
    expect(requests()).toEqual(['UpdateCommand', 'PutCommand']);
  });

  it('costs 2 write requests per append however many streams are written', async () => {
    // Prepare
    const { log, make, send, requests } = await setup();
    const streams = ['user:alice', 'user:bob', 'group:ops', 'type:http', 'all'];

    // Act
    for (const s of streams) await log.append(s, make());

    // Assess
    expect(send).toHaveBeenCalledTimes(2 * streams.length);
    expect(requests().filter((r) => r === 'UpdateCommand')).toHaveLength(streams.length);
    expect(requests().filter((r) => r === 'PutCommand')).toHaveLength(streams.length);
  });
});

describe('DynamoStreamLog: tips', () => {
  it('starts a stream that never had a frame at seq 0 with a new epoch of that stream', async () => {
    // Prepare
    const { log, push } = await setup();
    await push('user:alice', 2);

    // Act
    const tips = await log.tips(['user:alice', 'user:bob', 'all', 'user:bob']);

    // Assess
    expect([...tips.keys()].sort()).toEqual(['all', 'user:alice', 'user:bob']);
    expect(tips.get('user:alice')).toEqual({
      epoch: newEpoch('user:alice', () => Buffer.from('e1')),
      seq: 2,
    });
    for (const s of ['user:bob', 'all']) {
      const tip = tips.get(s);
      expect(tip?.seq).toBe(0);
      expect(epochBelongsTo(tip?.epoch ?? '', s)).toBe(true);
    }
    expect(tips.get('user:bob')?.epoch).not.toBe(tips.get('all')?.epoch);
  });

  it('keeps the epoch it told for an empty stream, through later tips and the first append', async () => {
    // Prepare
    const { log, make, tipOf } = await setup();
    const told = await tipOf('group:ops');

    // Act
    const again = await tipOf('group:ops');
    const first = await log.append('group:ops', make());
    const after = await tipOf('group:ops');

    // Assess
    expect(again).toEqual(told);
    expect(first.seq).toBe(1);
    expect(after).toEqual({ epoch: told.epoch, seq: 1 });
  });

  it('tells concurrent first readers of an empty stream the same epoch', async () => {
    // Prepare
    const { log } = await setup();

    // Act
    const all = await Promise.all(Array.from({ length: 10 }, () => log.tips(['all'])));

    // Assess
    expect(new Set(all.map((t) => t.get('all')?.epoch)).size).toBe(1);
    expect(all.every((t) => t.get('all')?.seq === 0)).toBe(true);
  });

  it('reads the tips of started streams in one BatchGet per 100 streams', async () => {
    // Prepare
    const { log, send, requests } = await setup();
    const streams = Array.from({ length: 150 }, (_, i) => `group:g${i}`);
    await log.tips(streams);
    send.mockClear();

    // Act
    const hundred = await log.tips(streams.slice(0, 100));
    const hundredRequests = requests();
    send.mockClear();
    const all = await log.tips(streams);

    // Assess
    expect(hundred.size).toBe(100);
    expect(hundredRequests).toEqual(['BatchGetCommand']);
    expect(all.size).toBe(150);
    expect(requests()).toEqual(['BatchGetCommand', 'BatchGetCommand']);
  });

  it('writes one head per stream it starts', async () => {
    // Prepare
    const { log, push, send, requests } = await setup();
    await push('all', 1);
    send.mockClear();

    // Act
    await log.tips(['all', 'user:a', 'user:b']);

    // Assess
    expect(requests()).toEqual(['BatchGetCommand', 'PutCommand', 'PutCommand']);
  });
});

describe('DynamoStreamLog: read', () => {
  it('returns only the gap after the given seq, oldest first, in one Query', async () => {
    // Prepare
    const { log, push, tipOf, send, requests } = await setup();
    await push('user:alice', 8);
    await push('user:bob', 3);
    const tip = await tipOf('user:alice');
    send.mockClear();

    // Act
    const gap = await log.read('user:alice', tip, 5);

    // Assess
    expect(seqsOf(gap)).toEqual([6, 7, 8]);
    expect(gap.map((f) => JSON.parse(f.text) as unknown)).toEqual([
      expect.objectContaining({ stream: 'user:alice', seq: 6, id: 'f6' }),
      expect.objectContaining({ stream: 'user:alice', seq: 7, id: 'f7' }),
      expect.objectContaining({ stream: 'user:alice', seq: 8, id: 'f8' }),
    ]);
    expect(requests()).toEqual(['QueryCommand']);
  });

  it('reads nothing, without a request, at or past the tip', async () => {
    // Prepare
    const { log, push, tipOf, send } = await setup();
    await push('all', 3);
    const tip = await tipOf('all');
    send.mockClear();

    // Act
    const atTip = await log.read('all', tip, 3);
    const past = await log.read('all', tip, 7);

    // Assess
    expect(atTip).toEqual([]);
    expect(past).toEqual([]);
    expect(send).not.toHaveBeenCalled();
  });

  it('reaches at most historySize frames back from the tip', async () => {
    // Prepare
    const { log, push, tipOf } = await setup({ historySize: 3 });
    await push('all', 10);
    const tip = await tipOf('all');

    // Act
    const all = await log.read('all', tip, 0);
    const short = await log.read('all', tip, 8);

    // Assess
    expect(seqsOf(all)).toEqual([8, 9, 10]);
    expect(seqsOf(short)).toEqual([9, 10]);
  });

  it('leaves out frames past historySeconds', async () => {
    // Prepare
    const { log, clock, push, tipOf } = await setup({ historySeconds: 60 });
    await push('all', 2);
    clock.advanceSeconds(45);
    await push('all', 2);
    clock.advanceSeconds(20);
    const tip = await tipOf('all');

    // Act
    const gap = await log.read('all', tip, 0);

    // Assess
    expect(tip.seq).toBe(4);
    expect(seqsOf(gap)).toEqual([3, 4]);
  });

  it('reads a gap of 1000 frames in one Query', async () => {
    // Prepare
    const { log, make, tipOf, send, requests } = await setup({ historySize: 1000 });
    for (let i = 0; i < 1000; i += 50) {
      await Promise.all(Array.from({ length: 50 }, (_, j) => log.append('all', make(i + j))));
    }
    const tip = await tipOf('all');
    send.mockClear();

    // Act
    const gap = await log.read('all', tip, 0);

    // Assess
    expect(tip.seq).toBe(1000);
    expect(seqsOf(gap)).toEqual(Array.from({ length: 1000 }, (_, i) => i + 1));
    expect(requests()).toEqual(['QueryCommand']);
  });
});

describe('DynamoStreamLog: a new epoch after historySeconds of silence', () => {
  it('starts a new epoch at seq 1 once the head is past its expiry (no TTL has run)', async () => {
    // Prepare
    const { log, clock, client, table, make, push, tipOf } = await setup({ historySeconds: 60 });
    await push('all', 3);
    const old = await tipOf('all');
    clock.advanceSeconds(61);
    const head = await client.send(
      new GetCommand({ TableName: table, Key: { stream: 'all', pos: HEAD_POS } }),
    );

    // Act
    const first = await log.append('all', make('new'));

    // Assess
    expect(head.Item).toMatchObject({ tip: 3, expiresAt: T0_S + 60 });
    expect(first).toMatchObject({ stream: 'all', seq: 1, data: 'new' });
    const tip = await tipOf('all');
    expect(tip.seq).toBe(1);
    expect(tip.epoch).not.toBe(old.epoch);
  });

  it('tells a new epoch at seq 0 after the silence, and the next append keeps it', async () => {
    // Prepare
    const { log, clock, make, push, tipOf } = await setup({ historySeconds: 60 });
    await push('all', 3);
    const old = await tipOf('all');
    clock.advanceSeconds(61);

    // Act
    const silent = await tipOf('all');
    const first = await log.append('all', make());

    // Assess
    expect(silent.seq).toBe(0);
    expect(silent.epoch).not.toBe(old.epoch);
    expect(first.seq).toBe(1);
    expect(await tipOf('all')).toEqual({ epoch: silent.epoch, seq: 1 });
  });

  it('starts the new epoch at exactly the expiry second, not one second before', async () => {
    // Prepare
    const { log, clock, make, push, tipOf } = await setup({ historySeconds: 60 });
    await push('all', 2);
    const old = await tipOf('all');

    // Act
    clock.advanceSeconds(59);
    const before = await log.append('all', make()); // expiry moves to T0 + 119
    clock.advanceSeconds(60);
    const at = await log.append('all', make());

    // Assess
    expect(before.seq).toBe(3);
    expect(at.seq).toBe(1);
    expect((await tipOf('all')).epoch).not.toBe(old.epoch);
  });

  it('costs 3 write requests for the append that restarts the stream', async () => {
    // Prepare
    const { log, clock, make, push, send, requests } = await setup({ historySeconds: 60 });
    await push('all', 2);
    clock.advanceSeconds(61);
    send.mockClear();

    // Act
    await log.append('all', make());

    // Assess: the refused conditional update, the new head, the frame.
    expect(requests()).toEqual(['UpdateCommand', 'PutCommand', 'PutCommand']);
  });

  it('returns no frame of the old epoch for the new one', async () => {
    // Prepare
    const { log, clock, push, tipOf } = await setup({ historySeconds: 60 });
    await push('all', 5);
    const old = await tipOf('all');
    clock.advanceSeconds(61);
    await push('all', 2);
    const tip = await tipOf('all');

    // Act
    const gap = await log.read('all', tip, 0);
    const oldGap = await log.read('all', old, 0);

    // Assess
    expect(seqsOf(gap)).toEqual([1, 2]);
    expect(gap.map((f) => (JSON.parse(f.text) as { id: string }).id)).toEqual(['f6', 'f7']);
    expect(oldGap).toEqual([]);
  });

  it('keeps frames of the old epoch out even for a reader whose clock lags behind', async () => {
    // Prepare: old frames 3 to 5 (1 and 2 were overwritten) are unexpired by the lagging clock.
    const { clock, client, table, push, tipOf } = await setup({ historySeconds: 60 });
    await push('all', 5);
    clock.advanceSeconds(61);
    await push('all', 2);
    const tip = await tipOf('all');
    const lagging = new DynamoStreamLog({
      client,
      table,
      clock: new ManualClock(new Date(T0.getTime() + 30_000)),
      historySeconds: 60,
      historySize: 1000,
    });

    // Act
    const gap = await lagging.read('all', { epoch: tip.epoch, seq: 5 }, 0);

    // Assess
    expect(seqsOf(gap)).toEqual([1, 2]);
  });

  it('restarts the stream once for 50 concurrent appends after the silence', async () => {
    // Prepare
    const { log, clock, make, push, tipOf } = await setup({ historySeconds: 60 });
    await push('all', 3);
    const old = await tipOf('all');
    clock.advanceSeconds(61);
    const frames = Array.from({ length: 50 }, (_, i) => make(i));

    // Act
    const appended = await Promise.all(frames.map((f) => log.append('all', f)));

    // Assess
    const seqs = appended.map((f) => f.seq).sort((a, b) => a - b);
    expect(seqs).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    const tip = await tipOf('all');
    expect(tip.seq).toBe(50);
    expect(tip.epoch).not.toBe(old.epoch);
    expect(seqsOf(await log.read('all', tip, 0))).toEqual(seqs);
  });
});
