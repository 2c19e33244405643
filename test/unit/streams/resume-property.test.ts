import fc from 'fast-check';
import { frameFactory } from '../../../src/push/frames';
import { streamsOfConnection } from '../../../src/streams/names';
import {
  checkAgainstTips,
  checkResume,
  replayGap,
  type ResumeRequest,
} from '../../../src/streams/resume';
import type { StreamPosition } from '../../../src/streams/stream-log';
import { ManualClock } from '../core/fakes';
import { MemoryStreamLog } from './memory-stream-log';

/**
 * The resume protocol (docs/protocol.md, "Streams, sequence numbers and resume") as a state
 * machine: a server that appends every push to its stream and sends it live to the client while
 * it is connected (in any order, lost on a drop), and a client that follows the protocol: it
 * orders and dedupes by (stream, seq) and by frame id, and on reconnect resumes each stream from
 * the last contiguous seq it holds. Random interleavings of pushes, deliveries, drops,
 * reconnects and resumes must never lose or duplicate a frame while history is retained, and a
 * resume must say `recovered: false` exactly when the stream's epoch changed or a frame the
 * client lacked is gone (and then the client's state re-read covers what it missed).
 */

const STREAMS = ['user:u', 'group:g', 'all'] as const;
type Stream = (typeof STREAMS)[number];
const RECEIVES = streamsOfConnection({ userId: 'u', groups: ['g'] });
const T0 = new Date('2024-06-01T12:00:00.000Z');

type Command =
  | { readonly kind: 'push'; readonly stream: Stream }
  | { readonly kind: 'deliver'; readonly pick: number }
  | { readonly kind: 'drop' }
  | { readonly kind: 'reconnect' }
  | { readonly kind: 'resume' }
  /** The stream's history is lost: its next frame (or tip) starts a new epoch. */
  | { readonly kind: 'restart'; readonly stream: Stream };

const stream = fc.constantFrom(...STREAMS);
const common = [
  { weight: 4, arbitrary: stream.map((s): Command => ({ kind: 'push', stream: s })) },
  { weight: 4, arbitrary: fc.nat({ max: 50 }).map((pick): Command => ({ kind: 'deliver', pick })) },
  { weight: 1, arbitrary: fc.constant<Command>({ kind: 'drop' }) },
  { weight: 1, arbitrary: fc.constant<Command>({ kind: 'reconnect' }) },
  { weight: 1, arbitrary: fc.constant<Command>({ kind: 'resume' }) },
];
const restart = {
  weight: 1,
  arbitrary: stream.map((s): Command => ({ kind: 'restart', stream: s })),
};
/** Up to 60 commands, the whole range of lengths (not fast-check's default small sizes). */
const retainedCommands = fc.array(fc.oneof(...common), { maxLength: 60, size: 'max' });
const lossyCommands = fc.array(fc.oneof(...common, restart), { maxLength: 60, size: 'max' });

/** A pushed frame as the server model knows it. */
interface Pushed {
  readonly stream: Stream;
  readonly seq: number;
  readonly id: string;
  /** Which history of the stream (bumped by a restart). */
  readonly gen: number;
}

/** A frame as the client parses it off the wire. */
interface Wire {
  readonly stream: Stream;
  readonly seq: number;
  readonly id: string;
  readonly replayed?: boolean;
}

/** What the client keeps of one stream. */
interface ClientStream {
  epoch: string;
  /** The history the client's epoch names (the model's view, for the oracle). */
  gen: number;
  /** The next seq to apply: the client holds 1..next-1 (or re-read state up to it). */
  next: number;
  /** Frames received ahead of `next`, by seq. */
  readonly buffer: Map<number, string>;
  /** Ids applied in order. */
  readonly applied: string[];
}

const isStream = (s: unknown): s is Stream => STREAMS.some((x) => x === s);

function parseWire(text: string): Wire {
  const f = JSON.parse(text) as Record<string, unknown>;
  if (!isStream(f.stream) || typeof f.seq !== 'number' || typeof f.id !== 'string') {
    throw new Error(`not a sequenced frame: ${text}`);
  }
  return {
    stream: f.stream,
    seq: f.seq,
    id: f.id,
    ...(f.replayed === undefined ? {} : { replayed: f.replayed === true }),
  };
}

/** Runs the commands; throws (failing the property) when the protocol breaks. */
async function run(commands: readonly Command[], historySize: number) {
  // Prepare: a log that never forgets by time; the client registers before the first push.
  const clock = new ManualClock(T0);
  const log = new MemoryStreamLog({ clock, historySize, historySeconds: 86_400 });
  let ids = 0;
  const frames = frameFactory(clock, () => `p${++ids}`);
  const pushed: Pushed[] = [];
  const byId = new Map<string, Pushed>();
  const gen: Record<Stream, number> = { 'user:u': 0, 'group:g': 0, all: 0 };
  const pending: string[] = [];
  /** Frames the client need not get: those a state re-read (after recovered:false) covered. */
  const covered = new Set<string>();
  const results: { recovered: boolean; expected: boolean }[] = [];
  let connected = false;
  let registered = false;
  /** Frames the client dropped as already held, and frames it took ahead of a gap. */
  let duplicates = 0;
  let ahead = 0;

  const tipOf = (s: Stream) => pushed.filter((p) => p.stream === s && p.gen === gen[s]).length;
  const receivesLive = (s: Stream) => connected && (s !== 'group:g' || registered);

  const push = async (s: Stream) => {
    const frame = await log.append(s, frames.make('message', { data: ids }));
    const p: Pushed = { stream: s, seq: frame.seq, id: frame.id, gen: gen[s] };
    if (frame.seq !== tipOf(s) + 1) throw new Error(`seq ${frame.seq} after ${tipOf(s)} in ${s}`);
    pushed.push(p);
    byId.set(p.id, p);
    if (receivesLive(s)) pending.push(JSON.stringify(frame));
  };

  const registeredTips = await log.tips(STREAMS);
  const tipAt = (tips: ReadonlyMap<string, StreamPosition>, s: Stream): StreamPosition => {
    const tip = tips.get(s);
    if (!tip) throw new Error(`no tip for ${s}`);
    return tip;
  };
  const client = Object.fromEntries(
    STREAMS.map((s): [Stream, ClientStream] => {
      const tip = tipAt(registeredTips, s);
      return [s, { epoch: tip.epoch, gen: 0, next: tip.seq + 1, buffer: new Map(), applied: [] }];
    }),
  ) as Record<Stream, ClientStream>;
  const seen = new Set<string>();
  connected = true;
  registered = true;

  /** The client takes a frame: dedupe by id and (stream, seq), then apply in seq order. */
  const receive = (f: Wire) => {
    const c = client[f.stream];
    if (seen.has(f.id) || f.seq < c.next || c.buffer.has(f.seq)) {
      duplicates += 1;
      return;
    }
    seen.add(f.id);
    if (f.seq > c.next) ahead += 1;
    c.buffer.set(f.seq, f.id);
    for (let id = c.buffer.get(c.next); id !== undefined; id = c.buffer.get(c.next)) {
      c.applied.push(id);
      c.buffer.delete(c.next);
      c.next += 1;
    }
  };

  /** Reconnected: register with a resume of every stream, as the server handles it. */
  const resume = async () => {
    const positions = new Map(
      STREAMS.map((s): [Stream, StreamPosition] => [
        s,
        { epoch: client[s].epoch, seq: client[s].next - 1 },
      ]),
    );
    const request: ResumeRequest = Object.fromEntries(positions);
    checkResume(request, RECEIVES);
    const tips = await log.tips(STREAMS);
    checkAgainstTips(request, tips);
    registered = true;
    for (const s of STREAMS) {
      const c = client[s];
      const position = positions.get(s) ?? { epoch: c.epoch, seq: 0 };
      const tip = tipAt(tips, s);
      // The oracle: did the history change, or is a frame of it that the client lacks gone?
      const lacked = pushed.filter(
        (p) => p.stream === s && p.gen === gen[s] && p.seq > position.seq && !c.buffer.has(p.seq),
      );
      const gone = (p: Pushed) => p.seq <= tip.seq - historySize;
      // recovered:false when the epoch changed (docs/protocol.md), or a lacked frame is gone.
      const expected = c.gen === gen[s] && !lacked.some(gone);

      const replay = await replayGap(log, s, position, tip);

      results.push({ recovered: replay.result.recovered, expected });
      if (replay.result.recovered !== expected) {
        throw new Error(`${s}: recovered ${replay.result.recovered}, expected ${expected}`);
      }
      if (replay.result.epoch !== tip.epoch || replay.result.seq !== tip.seq) {
        throw new Error(`${s}: resumed at ${JSON.stringify(replay.result)}, tip ${tip.seq}`);
      }
      const wire = replay.texts.map(parseWire);
      if (wire.some((f) => f.replayed !== true || f.stream !== s)) {
        throw new Error(`${s}: a replayed frame not marked replayed or of another stream`);
      }
      if (c.epoch !== replay.result.epoch) {
        // Another history: what the client held of the old one tells nothing about this one.
        c.buffer.clear();
        c.epoch = replay.result.epoch;
        c.gen = gen[s];
      }
      if (!replay.result.recovered) {
        // The client re-reads state (GET /tasks…): that covers everything up to the tip.
        const applied = new Set(c.applied);
        for (const p of pushed) {
          const upToTip = p.gen < gen[s] || p.seq <= tip.seq;
          if (p.stream === s && upToTip && !applied.has(p.id)) covered.add(p.id);
        }
        for (const seq of [...c.buffer.keys()]) if (seq <= tip.seq) c.buffer.delete(seq);
        c.next = tip.seq + 1;
      } else {
        for (const f of wire) receive(f);
        if (c.next <= tip.seq) throw new Error(`${s}: resumed but still lacks seq ${c.next}`);
      }
    }
  };

  // Act
  const step = async (command: Command) => {
    switch (command.kind) {
      case 'push':
        return push(command.stream);
      case 'deliver': {
        if (!connected || pending.length === 0) return;
        const [text] = pending.splice(command.pick % pending.length, 1);
        if (text === undefined) return;
        const f = parseWire(text);
        if (f.replayed !== undefined) throw new Error('a live frame marked replayed');
        return receive(f);
      }
      case 'drop':
        connected = false;
        registered = false;
        pending.length = 0;
        return;
      case 'reconnect':
        if (!connected) {
          connected = true;
          registered = false;
        }
        return;
      case 'resume':
        if (connected && !registered) await resume();
        return;
      case 'restart':
        // A history is lost after historySeconds of silence: no frame of it is still in flight.
        // The client may be connected: live frames carry no epoch, so it learns of the new one
        // at its next resume (docs/protocol.md, "Sequence numbers and epochs").
        if (pending.some((t) => parseWire(t).stream === command.stream)) return;
        log.reset(command.stream);
        gen[command.stream] += 1;
        return;
    }
  };
  for (const command of commands) await step(command);
  // The client comes back once more and everything in flight arrives (newest first).
  if (!connected) await step({ kind: 'reconnect' });
  if (!registered) await resume();
  while (pending.length > 0) await step({ kind: 'deliver', pick: pending.length - 1 });
  // And its next visit resumes once more: whatever it still lacks must be replayed or announced.
  await step({ kind: 'drop' });
  await step({ kind: 'reconnect' });
  await resume();

  // Assess (the parts common to both properties)
  const applied = STREAMS.flatMap((s) => client[s].applied);
  if (new Set(applied).size !== applied.length) throw new Error('a frame was applied twice');
  for (const s of STREAMS) {
    let last: Pushed | undefined;
    for (const id of client[s].applied) {
      const p = byId.get(id);
      if (!p || p.stream !== s) throw new Error(`${s}: applied an unknown frame ${id}`);
      if (last && last.gen === p.gen && p.seq <= last.seq) throw new Error(`${s}: out of order`);
      last = p;
    }
  }
  const appliedSet = new Set(applied);
  const lost = pushed.filter((p) => !appliedSet.has(p.id) && !covered.has(p.id));
  if (lost.length > 0) throw new Error(`lost without recovered:false: ${JSON.stringify(lost)}`);
  return { client, pushed, results, duplicates, ahead };
}

describe('resume: a client that follows the protocol', () => {
  it('never loses or duplicates a frame while history is retained', async () => {
    await fc.assert(
      fc.asyncProperty(retainedCommands, async (commands) => {
        const { client, pushed, results } = await run(commands, 1000);

        // Assess: every frame since registration applied once, in seq order; every resume recovered.
        expect(results.every((r) => r.recovered)).toBe(true);
        for (const s of STREAMS) {
          const expected = pushed.filter((p) => p.stream === s).map((p) => p.id);
          expect(client[s].applied).toEqual(expected);
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('resumes recovered:false exactly when the epoch changed or a lacked frame is gone', async () => {
    await fc.assert(
      fc.asyncProperty(lossyCommands, fc.integer({ min: 1, max: 4 }), async (commands, size) => {
        // run() checks every resume against the oracle and that no frame was lost unannounced.
        const { results } = await run(commands, size);

        // Assess
        expect(results.every((r) => r.recovered === r.expected)).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });

  it('meets duplicates, frames ahead of a gap and both resume outcomes (not vacuous)', async () => {
    // Prepare
    const retained = fc.sample(retainedCommands, { numRuns: 200, seed: 42 });
    const lossy = fc.sample(fc.tuple(lossyCommands, fc.integer({ min: 1, max: 4 })), {
      numRuns: 200,
      seed: 42,
    });

    // Act
    let duplicates = 0;
    let ahead = 0;
    let resumes = 0;
    for (const commands of retained) {
      const r = await run(commands, 1000);
      duplicates += r.duplicates;
      ahead += r.ahead;
      resumes += r.results.length;
    }
    const outcomes = new Set<boolean>();
    for (const [commands, size] of lossy) {
      for (const r of (await run(commands, size)).results) outcomes.add(r.recovered);
    }

    // Assess
    expect(duplicates).toBeGreaterThan(0);
    expect(ahead).toBeGreaterThan(0);
    expect(resumes).toBeGreaterThan(0);
    expect([...outcomes].sort()).toEqual([false, true]);
  });
});
