import { AppError, type ErrorCode } from '../../../src/errors/app-error';
import { frameFactory } from '../../../src/push/frames';
import { newEpoch, streamsOfConnection } from '../../../src/streams/names';
import {
  checkAgainstTips,
  checkResume,
  markReplayed,
  MAX_RESUME_STREAMS,
  replayGap,
  type ResumeRequest,
} from '../../../src/streams/resume';
import { sequenced } from '../../../src/streams/sequence';
import type { StreamPosition } from '../../../src/streams/stream-log';
import { ManualClock } from '../core/fakes';
import { MemoryStreamLog } from './memory-stream-log';

const T0 = new Date('2024-06-01T12:00:00.000Z');
const ALICE = { userId: 'alice', clientType: 'viewer', groups: ['ops'] };
const RECEIVES = streamsOfConnection(ALICE);

/** The AppError a call throws (fails the test when it returns). */
function errorOf(call: () => void): AppError {
  try {
    call();
  } catch (e: unknown) {
    if (e instanceof AppError) return e;
    throw e;
  }
  throw new Error('expected an AppError');
}

function expectAppError(call: () => void, code: ErrorCode, message: string): void {
  const error = errorOf(call);
  expect({ code: error.code, message: error.message }).toEqual({ code, message });
}

/** A log with numbered epochs (`<tag>.e1`, `<tag>.e2`, …) and a manual clock. */
function setup(options: { historySize?: number; historySeconds?: number } = {}) {
  const clock = new ManualClock(T0);
  let epochs = 0;
  const log = new MemoryStreamLog({
    clock,
    historySize: options.historySize ?? 1000,
    historySeconds: options.historySeconds ?? 86_400,
    newEpoch: (s) => newEpoch(s, () => Buffer.from(`e${++epochs}`)),
  });
  const frames = frameFactory(clock, () => `f${log.appended.length + 1}`);
  /** Appends n message frames to the stream; returns its tip. */
  const push = async (stream: string, n: number): Promise<StreamPosition> => {
    for (let i = 0; i < n; i++) await log.append(stream, frames.make('message', { data: i }));
    const tip = (await log.tips([stream])).get(stream);
    if (!tip) throw new Error('no tip');
    return tip;
  };
  return { clock, log, push };
}

/** The parsed frames of a replay. */
const parsed = (texts: readonly string[]): Record<string, unknown>[] =>
  texts.map((t) => JSON.parse(t) as Record<string, unknown>);

describe('checkResume', () => {
  it('accepts positions of streams the connection receives', () => {
    // Prepare
    const resume: ResumeRequest = {
      'user:alice': { epoch: newEpoch('user:alice'), seq: 12 },
      'type:viewer': { epoch: newEpoch('type:viewer'), seq: 0 },
      'group:ops': { epoch: newEpoch('group:ops'), seq: 0 },
      all: { epoch: newEpoch('all'), seq: 3 },
    };

    // Act
    const check = () => checkResume(resume, RECEIVES);

    // Assess
    expect(check).not.toThrow();
  });

  it('accepts an empty resume', () => {
    // Prepare (nothing)

    // Act
    const check = () => checkResume({}, RECEIVES);

    // Assess
    expect(check).not.toThrow();
  });

  it.each(['users:x', 'user:', 'group:a#b', 'type:UPPER', 'all2', 'ALL', ''])(
    'refuses the malformed stream name %j as bad_request',
    (stream) => {
      // Prepare
      const resume: ResumeRequest = { [stream]: { epoch: newEpoch(stream), seq: 0 } };

      // Act
      const check = () => checkResume(resume, [...RECEIVES, stream]);

      // Assess
      expectAppError(
        check,
        'bad_request',
        `resume: "${stream}" is not a stream name (user:…, group:…, type:… or all)`,
      );
    },
  );

  it('refuses a very long stream name, quoting only its first 80 characters', () => {
    // Prepare
    const stream = `user:${'x'.repeat(5000)}`;
    const resume: ResumeRequest = { [stream]: { epoch: newEpoch(stream), seq: 0 } };

    // Act
    const error = errorOf(() => checkResume(resume, RECEIVES));

    // Assess
    expect(error.code).toBe('bad_request');
    expect(error.message).toBe(
      `resume: "${stream.slice(0, 80)}" is not a stream name (user:…, group:…, type:… or all)`,
    );
    expect(error.message.length).toBeLessThan(200);
  });

  it.each(['user:bob', 'group:dev', 'type:http'])(
    'refuses %s, a stream the connection does not receive, as forbidden',
    (stream) => {
      // Prepare
      const resume: ResumeRequest = { [stream]: { epoch: newEpoch(stream), seq: 1 } };

      // Act
      const check = () => checkResume(resume, RECEIVES);

      // Assess
      expectAppError(
        check,
        'forbidden',
        `resume: this connection does not receive stream "${stream}"`,
      );
    },
  );

  it('refuses the type stream before a client type was registered', () => {
    // Prepare
    const receives = streamsOfConnection({ userId: 'alice', groups: [] });
    const resume: ResumeRequest = { 'type:viewer': { epoch: newEpoch('type:viewer'), seq: 0 } };

    // Act
    const check = () => checkResume(resume, receives);

    // Assess
    expectAppError(
      check,
      'forbidden',
      'resume: this connection does not receive stream "type:viewer"',
    );
  });

  it.each([
    ['a new epoch of another stream', newEpoch('user:bob')],
    ['an epoch of a stream with the same id', newEpoch('group:alice')],
    ['a malformed epoch', 'not-an-epoch'],
    ['the empty string', ''],
  ])('refuses %s as bad_request', (_why, epoch) => {
    // Prepare
    const resume: ResumeRequest = { 'user:alice': { epoch, seq: 1 } };

    // Act
    const check = () => checkResume(resume, RECEIVES);

    // Assess
    expectAppError(
      check,
      'bad_request',
      'resume: the epoch given for "user:alice" is not an epoch of that stream',
    );
  });

  it(`accepts ${MAX_RESUME_STREAMS} streams and refuses ${MAX_RESUME_STREAMS + 1} as bad_request`, () => {
    // Prepare
    const groups = Array.from({ length: MAX_RESUME_STREAMS + 1 }, (_, i) => `g${i}`);
    const receives = streamsOfConnection({ userId: 'alice', groups });
    const resumeOf = (n: number): ResumeRequest =>
      Object.fromEntries(
        groups.slice(0, n).map((g) => [`group:${g}`, { epoch: newEpoch(`group:${g}`), seq: 0 }]),
      );

    // Act
    const atMost = () => checkResume(resumeOf(MAX_RESUME_STREAMS), receives);
    const tooMany = () => checkResume(resumeOf(MAX_RESUME_STREAMS + 1), receives);

    // Assess
    expect(atMost).not.toThrow();
    expectAppError(tooMany, 'bad_request', 'resume: at most 100 streams at once');
  });

  it('checks the number of streams before anything else', () => {
    // Prepare
    const resume: ResumeRequest = Object.fromEntries(
      Array.from({ length: MAX_RESUME_STREAMS + 1 }, (_, i) => [
        `nope${i}`,
        { epoch: 'x', seq: 9 },
      ]),
    );

    // Act
    const check = () => checkResume(resume, RECEIVES);

    // Assess
    expectAppError(check, 'bad_request', 'resume: at most 100 streams at once');
  });
});

describe('checkAgainstTips', () => {
  const epoch = newEpoch('user:alice');
  const tips = new Map<string, StreamPosition>([['user:alice', { epoch, seq: 5 }]]);

  it('refuses a seq ahead of the tip in the same epoch as bad_request', () => {
    // Prepare
    const resume: ResumeRequest = { 'user:alice': { epoch, seq: 9 } };

    // Act
    const check = () => checkAgainstTips(resume, tips);

    // Assess
    expectAppError(
      check,
      'bad_request',
      `resume: seq 9 of "user:alice" is ahead of the stream's tip (5)`,
    );
  });

  it('accepts a seq at or behind the tip, and any seq of another epoch', () => {
    // Prepare
    const atTip: ResumeRequest = { 'user:alice': { epoch, seq: 5 } };
    const behind: ResumeRequest = { 'user:alice': { epoch, seq: 0 } };
    const earlierEpoch: ResumeRequest = {
      'user:alice': { epoch: newEpoch('user:alice'), seq: 99 },
    };

    // Act
    const checks = [atTip, behind, earlierEpoch].map((r) => () => checkAgainstTips(r, tips));

    // Assess
    for (const check of checks) expect(check).not.toThrow();
  });
});

describe('markReplayed', () => {
  it('puts "replayed":true first and keeps the rest as stored', () => {
    // Prepare
    const text = JSON.stringify({ type: 'message', id: 'f1', stream: 'all', seq: 3 });

    // Act
    const marked = markReplayed(text);

    // Assess
    expect(marked).toBe('{"replayed":true,"type":"message","id":"f1","stream":"all","seq":3}');
    expect(JSON.parse(marked)).toEqual({ ...JSON.parse(text), replayed: true });
  });
});

describe('replayGap', () => {
  it('replays the gap of the same epoch in seq order, marked replayed, and recovers', async () => {
    // Prepare
    const { log, push } = setup();
    const tip = await push('user:alice', 7);

    // Act
    const replay = await replayGap(log, 'user:alice', { epoch: tip.epoch, seq: 4 }, tip);

    // Assess
    expect(parsed(replay.texts)).toEqual([
      expect.objectContaining({ replayed: true, stream: 'user:alice', seq: 5, id: 'f5' }),
      expect.objectContaining({ replayed: true, stream: 'user:alice', seq: 6, id: 'f6' }),
      expect.objectContaining({ replayed: true, stream: 'user:alice', seq: 7, id: 'f7' }),
    ]);
    expect(replay.texts.every((t) => t.startsWith('{"replayed":true,'))).toBe(true);
    expect(replay).toMatchObject({
      stream: 'user:alice',
      result: { recovered: true, epoch: tip.epoch, seq: 7 },
    });
  });

  it('replays the retained part of a gap that reaches past historySize, not recovered', async () => {
    // Prepare
    const { log, push } = setup({ historySize: 3 });
    const tip = await push('all', 10);

    // Act
    const replay = await replayGap(log, 'all', { epoch: tip.epoch, seq: 4 }, tip);

    // Assess
    expect(parsed(replay.texts).map((f) => f.seq)).toEqual([8, 9, 10]);
    expect(replay.result).toEqual({ recovered: false, epoch: tip.epoch, seq: 10 });
  });

  it('replays the retained part of a gap whose oldest frames are past historySeconds', async () => {
    // Prepare
    const { clock, log, push } = setup({ historySeconds: 60 });
    await push('all', 3);
    clock.advanceSeconds(40);
    const tip = await push('all', 2);
    clock.advanceSeconds(30); // frames 1-3 are 70 s old, 4-5 are 30 s old

    // Act
    const replay = await replayGap(log, 'all', { epoch: tip.epoch, seq: 1 }, tip);

    // Assess
    expect(parsed(replay.texts).map((f) => f.seq)).toEqual([4, 5]);
    expect(replay.result).toEqual({ recovered: false, epoch: tip.epoch, seq: 5 });
  });

  it('recovers when the gap starts right at the oldest retained frame', async () => {
    // Prepare
    const { log, push } = setup({ historySize: 3 });
    const tip = await push('all', 10);

    // Act
    const replay = await replayGap(log, 'all', { epoch: tip.epoch, seq: 7 }, tip);

    // Assess
    expect(parsed(replay.texts).map((f) => f.seq)).toEqual([8, 9, 10]);
    expect(replay.result.recovered).toBe(true);
  });

  it('replays nothing and does not recover when the epoch changed', async () => {
    // Prepare
    const { log, push } = setup();
    const old = await push('group:ops', 4);
    log.reset('group:ops');
    const tip = await push('group:ops', 6);

    // Act
    const replay = await replayGap(log, 'group:ops', { epoch: old.epoch, seq: 2 }, tip);

    // Assess
    expect(tip.epoch).not.toBe(old.epoch);
    expect(replay.texts).toEqual([]);
    expect(replay.result).toEqual({ recovered: false, epoch: tip.epoch, seq: 6 });
    expect(log.reads).toBe(0);
  });

  it('replays nothing and does not recover when the stream is empty again after a reset', async () => {
    // Prepare
    const { log, push } = setup();
    const old = await push('group:ops', 4);
    log.reset('group:ops');
    const tip = (await log.tips(['group:ops'])).get('group:ops');

    // Act
    const replay = await replayGap(log, 'group:ops', old, tip ?? old);

    // Assess
    expect(tip?.seq).toBe(0);
    expect(tip?.epoch).not.toBe(old.epoch);
    expect(replay.texts).toEqual([]);
    expect(replay.result).toEqual({ recovered: false, epoch: tip?.epoch, seq: 0 });
  });

  it('replays everything from seq 0 of the current epoch, recovered', async () => {
    // Prepare: the client registered at seq 0 (the epoch tips told) and got nothing since.
    const { log, push } = setup();
    const registered = (await log.tips(['user:alice'])).get('user:alice');
    const tip = await push('user:alice', 3);

    // Act
    const replay = await replayGap(log, 'user:alice', { epoch: tip.epoch, seq: 0 }, tip);

    // Assess
    expect(registered?.epoch).toBe(tip.epoch);
    expect(parsed(replay.texts).map((f) => [f.seq, f.id])).toEqual([
      [1, 'f1'],
      [2, 'f2'],
      [3, 'f3'],
    ]);
    expect(replay.result).toEqual({ recovered: true, epoch: tip.epoch, seq: 3 });
  });

  it.each([
    ['an earlier epoch', 'earlier'],
    ['an epoch never handed out', 'unknown'],
  ] as const)(
    'does not recover from seq 0 of %s: frames of it may have come and gone',
    async (_why, which) => {
      // Prepare: a client at seq 0 of the earlier epoch missed its frames 1 and 2, now lost.
      const { log, push } = setup();
      const earlier = await push('user:alice', 2);
      log.reset('user:alice');
      const tip = await push('user:alice', 3);
      const epoch = { earlier: earlier.epoch, unknown: newEpoch('user:alice') }[which];

      // Act
      const replay = await replayGap(log, 'user:alice', { epoch, seq: 0 }, tip);

      // Assess
      expect(replay.texts).toEqual([]);
      expect(replay.result).toEqual({ recovered: false, epoch: tip.epoch, seq: 3 });
      expect(log.reads).toBe(0);
    },
  );

  it('replays every retained frame from seq 0 but does not recover once seq 1 is gone', async () => {
    // Prepare
    const { log, push } = setup({ historySize: 2 });
    const tip = await push('user:alice', 5);

    // Act
    const replay = await replayGap(log, 'user:alice', { epoch: tip.epoch, seq: 0 }, tip);

    // Assess
    expect(parsed(replay.texts).map((f) => f.seq)).toEqual([4, 5]);
    expect(replay.result).toEqual({ recovered: false, epoch: tip.epoch, seq: 5 });
  });

  it('replays nothing at the tip, recovered, without reading the log', async () => {
    // Prepare
    const { log, push } = setup();
    const tip = await push('all', 4);

    // Act
    const replay = await replayGap(log, 'all', tip, tip);

    // Assess
    expect(replay.texts).toEqual([]);
    expect(replay.result).toEqual({ recovered: true, epoch: tip.epoch, seq: 4 });
    expect(log.reads).toBe(0);
  });

  it('replays nothing for an empty stream resumed at seq 0, recovered', async () => {
    // Prepare
    const { log } = setup();
    const tip = (await log.tips(['all'])).get('all') ?? { epoch: '', seq: -1 };

    // Act
    const replay = await replayGap(log, 'all', tip, tip);

    // Assess
    expect(tip.seq).toBe(0);
    expect(replay.texts).toEqual([]);
    expect(replay.result).toEqual({ recovered: true, epoch: tip.epoch, seq: 0 });
  });
});

describe('sequenced', () => {
  it('appends a push to its audience stream once, with stream and seq', async () => {
    // Prepare
    const { clock, log } = setup();
    const frame = frameFactory(clock, () => 'x1').make('message', { data: 1 });

    // Act
    const first = await sequenced(log, { kind: 'group', group: 'ops' }, frame);
    const second = await sequenced(log, { kind: 'group', group: 'ops' }, frame);

    // Assess
    expect(first).toEqual({ ...frame, stream: 'group:ops', seq: 1 });
    expect(second).toEqual({ ...frame, stream: 'group:ops', seq: 2 });
    expect(log.appended).toHaveLength(2);
  });

  it('leaves a frame to one connection, or without a log, as it is', async () => {
    // Prepare
    const { clock, log } = setup();
    const frame = frameFactory(clock, () => 'x1').make('message', { data: 1 });

    // Act
    const toConnection = await sequenced(log, { kind: 'connection', connectionId: 'c1' }, frame);
    const noLog = await sequenced(undefined, { kind: 'all' }, frame);

    // Assess
    expect(toConnection).toBe(frame);
    expect(noLog).toBe(frame);
    expect(log.appended).toHaveLength(0);
  });
});

describe('resume of a stream that was empty at register', () => {
  it('resumes in the epoch register told, which the first frames kept', async () => {
    // Prepare: pushed frames carry no epoch, so the client only knows the one register gave.
    const { log, push } = setup();
    const registered = (await log.tips(['user:alice'])).get('user:alice');
    await push('user:alice', 2); // delivered live: the client holds seq 1 and 2
    const tip = await push('user:alice', 1); // missed while away
    const position = { epoch: registered?.epoch ?? '', seq: 2 };
    const resume: ResumeRequest = { 'user:alice': position };

    // Act
    checkResume(resume, RECEIVES);
    checkAgainstTips(resume, new Map([['user:alice', tip]]));
    const replay = await replayGap(log, 'user:alice', position, tip);

    // Assess
    expect(registered?.seq).toBe(0);
    expect(tip.epoch).toBe(registered?.epoch);
    expect(parsed(replay.texts).map((f) => f.seq)).toEqual([3]);
    expect(replay.result).toEqual({ recovered: true, epoch: tip.epoch, seq: 3 });
  });
});
