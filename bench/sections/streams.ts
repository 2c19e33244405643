import { randomUUID } from 'node:crypto';
import { api, isRecord, messageData, messageFrame } from '../runtime-api';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { buildDocumentClient } from '../../lambdas/composition/dynamo';
import { localClientConfig } from '../../local/clients';
import { type LocalRuntime, startLocalRuntime } from '../../local/runtime';
import { LOCAL_TABLES } from '../../local/tables';
import { DynamoStreamLog } from '../../src/adapters/dynamodb/stream-log';
import { signToken } from '../../src/auth/token';
import type { Audience } from '../../src/connections/audience';
import { deliver, DEFAULT_INLINE_LIMIT } from '../../src/deliveries/deliver';
import type { FanoutQueue } from '../../src/deliveries/records';
import { systemClock } from '../../src/ports/clock';
import { streamOf, streamsOfConnection, type StreamName } from '../../src/streams/names';
import {
  checkAgainstTips,
  checkResume,
  replayGap,
  type ResumeRequest,
} from '../../src/streams/resume';
import { DEFAULT_HISTORY_SECONDS, DEFAULT_HISTORY_SIZE } from '../../src/streams/schema';
import {
  type BenchContext,
  collectingLog,
  fmt,
  type JsonObject,
  median,
  round,
  type Section,
  type SectionResult,
  settle,
} from '../harness';
import { ClientsProcess, DynamoProcess, epochMs, roundSpread, spreadText } from '../processes';

/**
 * Issue 11: what the stream log costs. Part 1: `POST /broadcast` to 1,000 ws clients (inline)
 * and 200 sequential user pushes to a user with one connection, on a runtime with the stream
 * log and one without, interleaved, min/median/max over the rounds. Part 2: the DynamoDB
 * requests and items of the log, counted on a document client of its own: per append, per
 * push to 1, 100 and 1,000 connections, and per resume of a gap of 0, 10 and 100 frames.
 */

const CLIENTS = 1000;
/** Upgrades in flight while connecting the clients. */
const OPEN_PARALLEL = 100;
/** Client 0 is the solo user's only connection; clients 1..100 are the hundred user's. */
const SOLO_USER = 'st-solo';
const HUNDRED_USER = 'st-hundred';
const HUNDRED = 100;
/** The other clients belong to this many users (round-robin). */
const OTHER_USERS = 50;
/** Posts in flight: the pusher's default. */
const CONCURRENCY = 50;
/** Sequential user pushes per measurement. */
const USER_PUSHES = 200;
const WARMUP_ROUNDS = 1;
const ROUNDS = 3;
/** Goal on median(broadcast with log) / median(broadcast without). */
const GOAL_RATIO = 0.8;
const RECEIVE_TIMEOUT_MS = 60_000;
/** Late copies would arrive within this after the last first copy (exactly-once check). */
const DUPLICATE_GRACE_MS = 200;
/** Frames appended before the resume reads, so the largest gap lies inside the history. */
const GAPS = [0, 10, 100] as const;
const RESUME_FRAMES = 150;

const SECRET = `bench-secret-${'0123456789'.repeat(4)}`;

type Mode = 'on' | 'off';
const MODES: readonly Mode[] = ['on', 'off'];

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------------
// HTTP API

// ---------------------------------------------------------------------------------------------
// Part 1: throughput with the log on and off

interface Side {
  readonly mode: Mode;
  readonly dynamo: DynamoProcess;
  readonly runtime: LocalRuntime;
  readonly clients: ClientsProcess;
}

interface BroadcastStep {
  /** Request sent → last client has its first copy. */
  readonly ms: number;
  readonly perSecond: number;
  readonly responseMs: number;
  readonly delivered: number;
  readonly missing: number;
  readonly duplicated: number;
  readonly frameBytes: number;
}

interface UserStep {
  /** First request sent → the last push's copy at the client. */
  readonly ms: number;
  readonly perSecond: number;
  readonly lost: number;
  readonly duplicated: number;
  readonly failedRequests: number;
}

async function broadcastOnce(side: Side, adminToken: string): Promise<BroadcastStep> {
  const { runtime, clients } = side;
  const marker = randomUUID();
  const waiter = await clients.expect(marker, CLIENTS);
  const t0 = epochMs();
  const res = await api(runtime, 'POST', '/broadcast', adminToken, { data: messageData(marker) });
  const responseMs = epochMs() - t0;
  const doneAt = await waiter.done(RECEIVE_TIMEOUT_MS);
  if (res.status !== 200) {
    throw new Error(
      `POST /broadcast (log ${side.mode}): ${res.status} ${JSON.stringify(res.body)}`,
    );
  }
  if (doneAt === undefined) {
    const { missing } = await clients.check(marker);
    throw new Error(
      `broadcast (log ${side.mode}): ${CLIENTS - missing} of ${CLIENTS} clients had it after ${RECEIVE_TIMEOUT_MS} ms`,
    );
  }
  await sleep(DUPLICATE_GRACE_MS);
  const { missing, duplicated, frameBytes } = await clients.check(marker);
  const ms = doneAt - t0;
  return {
    ms,
    perSecond: (CLIENTS / ms) * 1000,
    responseMs,
    delivered: Number(res.body.delivered),
    missing,
    duplicated,
    frameBytes,
  };
}

async function userPushes(side: Side, adminToken: string): Promise<UserStep> {
  const { runtime, clients } = side;
  const markers = Array.from({ length: USER_PUSHES }, () => randomUUID());
  // Every marker expected up front (one IPC round trip each), so none is paid for in the loop.
  const waiters = [];
  for (const m of markers) waiters.push(await clients.expect(m, 1));
  let failedRequests = 0;
  const t0 = epochMs();
  for (const marker of markers) {
    const res = await api(runtime, 'POST', `/users/${SOLO_USER}/messages`, adminToken, {
      data: messageData(marker),
    });
    if (res.status !== 200 || res.body.delivered !== 1) failedRequests++;
  }
  const dones = await Promise.all(waiters.map((w) => w.done(RECEIVE_TIMEOUT_MS)));
  const arrived = dones.filter((d): d is number => d !== undefined);
  const lost = dones.length - arrived.length;
  const ms = Math.max(...arrived, t0) - t0;
  await sleep(DUPLICATE_GRACE_MS);
  let duplicated = 0;
  for (const m of markers) duplicated += (await clients.check(m)).duplicated;
  return { ms, perSecond: (USER_PUSHES / ms) * 1000, lost, duplicated, failedRequests };
}

async function startSide(mode: Mode, log: ReturnType<typeof collectingLog>): Promise<Side> {
  // Each runtime has a dynalite of its own: the connections table is shared by name, so two
  // runtimes on one emulator would broadcast to each other's records (and 410-remove them).
  const dynamo = await DynamoProcess.start();
  let runtime: LocalRuntime | undefined;
  try {
    runtime = await startLocalRuntime({
      authSecret: SECRET,
      dynamoEndpoint: dynamo.endpoint,
      log,
      workers: false,
      connectionSweepMs: 0,
      pushConcurrency: CONCURRENCY,
      streamLog: mode === 'on',
    });
    const clients = await ClientsProcess.start();
    return { mode, dynamo, runtime, clients };
  } catch (e) {
    await runtime?.stop();
    await dynamo.stop();
    throw e;
  }
}

async function stopSide(side: Side | undefined): Promise<void> {
  if (!side) return;
  // The runtime first: it drops its sockets without $disconnect (no write storm).
  await side.runtime.stop();
  await side.clients.stop();
  await side.dynamo.stop();
}

// ---------------------------------------------------------------------------------------------
// Part 2: the log's DynamoDB requests and items, counted

interface Counts {
  /** Requests by command name (PutCommand, UpdateCommand, BatchGetCommand, QueryCommand…). */
  readonly requests: Record<string, number>;
  /** Items written: one per Put/Update. */
  written: number;
  /** Items read: BatchGet keys asked, Query items returned, Get items found. */
  read: number;
}

const emptyCounts = (): Counts => ({ requests: {}, written: 0, read: 0 });
const requestTotal = (c: Counts): number => Object.values(c.requests).reduce((a, b) => a + b, 0);
const requestText = (c: Counts): string =>
  Object.entries(c.requests)
    .map(([name, n]) => `${n} ${name.replace(/Command$/, '')}`)
    .join(' + ') || 'none';

/** A document client on `endpoint` whose every request is counted into `counts`. */
function countingDocumentClient(endpoint: string): {
  doc: DynamoDBDocumentClient;
  counts: () => Counts;
  reset: () => void;
  destroy: () => void;
} {
  const ddb = new DynamoDBClient(localClientConfig(endpoint));
  const doc = buildDocumentClient(ddb);
  let counts = emptyCounts();
  const send = doc.send.bind(doc) as (command: unknown) => Promise<unknown>;
  const counted = async (command: unknown): Promise<unknown> => {
    const name = isRecord(command) ? command.constructor.name : 'unknown';
    const input = isRecord(command) && isRecord(command.input) ? command.input : {};
    counts.requests[name] = (counts.requests[name] ?? 0) + 1;
    if (name === 'PutCommand' || name === 'UpdateCommand' || name === 'DeleteCommand') {
      counts.written++;
    }
    if (name === 'BatchGetCommand' && isRecord(input.RequestItems)) {
      for (const table of Object.values(input.RequestItems)) {
        if (isRecord(table) && Array.isArray(table.Keys)) counts.read += table.Keys.length;
      }
    }
    const out = await send(command);
    if (name === 'QueryCommand' && isRecord(out) && Array.isArray(out.Items)) {
      counts.read += out.Items.length;
    }
    if (name === 'GetCommand' && isRecord(out) && out.Item !== undefined) counts.read++;
    return out;
  };
  (doc as { send: unknown }).send = counted;
  return {
    doc,
    counts: () => ({ ...counts, requests: { ...counts.requests } }),
    reset: () => {
      counts = emptyCounts();
    },
    destroy: () => ddb.destroy(),
  };
}

/** Inline pushes only: a queue that is never used. */
const noFanout: FanoutQueue = {
  send: () => Promise.reject(new Error('bench: no fan-out queue (inline pushes only)')),
  sendAll: () => Promise.reject(new Error('bench: no fan-out queue (inline pushes only)')),
};

interface PushCost {
  readonly audience: string;
  readonly recipients: number;
  readonly delivered: number;
  readonly counts: Counts;
  readonly connectionReads: { requests: number; items: number };
}

interface ResumeCost {
  readonly gap: number;
  readonly replayed: number;
  readonly recovered: boolean;
  readonly counts: Counts;
  /** Items returned by the gap's Query (reads of the frames themselves). */
  readonly queryItems: number;
}

async function measureCosts(
  ctx: BenchContext,
  side: Side,
): Promise<{ append: Counts; pushes: PushCost[]; resumes: ResumeCost[] }> {
  const { runtime, clients } = side;
  const counting = countingDocumentClient(runtime.dynamoEndpoint);
  try {
    // The log as the runtime builds it (lambdas/composition/dynamo.ts), over the counted client,
    // on the runtime's own streams table.
    const log = new DynamoStreamLog({
      client: counting.doc,
      table: LOCAL_TABLES.streams,
      clock: systemClock,
      historySeconds: DEFAULT_HISTORY_SECONDS,
      historySize: DEFAULT_HISTORY_SIZE,
    });

    // One append to a stream that already has frames.
    const probe: Audience = { kind: 'user', userId: SOLO_USER };
    const probeStream = streamOf(probe) ?? '';
    await log.append(probeStream, messageFrame(probe, randomUUID()));
    counting.reset();
    await log.append(probeStream, messageFrame(probe, randomUUID()));
    const append = counting.counts();

    // A push to 1, 100 and 1,000 connections: deliver() as the API calls it, the runtime's
    // store and pusher, this log.
    const ports = {
      store: runtime.store,
      pusher: runtime.pusher,
      messages: runtime.messages,
      fanout: noFanout,
      clock: systemClock,
      streams: log,
    };
    const audiences: [Audience, number][] = [
      [{ kind: 'user', userId: SOLO_USER }, 1],
      [{ kind: 'user', userId: HUNDRED_USER }, HUNDRED],
      [{ kind: 'all' }, CLIENTS],
    ];
    const pushes: PushCost[] = [];
    for (const [audience, recipients] of audiences) {
      const marker = randomUUID();
      const waiter = await clients.expect(marker, recipients);
      await settle();
      counting.reset();
      runtime.store.reads.requests = 0;
      runtime.store.reads.items = 0;
      const result = await deliver(ports, audience, messageFrame(audience, marker));
      const counts = counting.counts();
      const connectionReads = { ...runtime.store.reads };
      if ((await waiter.done(RECEIVE_TIMEOUT_MS)) === undefined) {
        throw new Error(`push to ${JSON.stringify(audience)}: not every recipient got it`);
      }
      await clients.check(marker);
      if (result.mode !== 'inline') throw new Error(`push to ${recipients} was queued`);
      pushes.push({
        audience: audience.kind === 'user' ? `user ${audience.userId}` : audience.kind,
        recipients,
        delivered: result.report.delivered,
        counts,
        connectionReads,
      });
    }

    // Resume: a connection of the solo user that holds the stream's tip minus the gap, as the
    // session does it on `register` with `resume` (src/ws/session.ts): checkedResume's tips of
    // the resumed streams, then the tips of every stream the connection receives, then the gap.
    for (let i = 0; i < RESUME_FRAMES; i++) {
      await log.append(probeStream, messageFrame(probe, randomUUID()));
    }
    const receives: StreamName[] = streamsOfConnection({ userId: SOLO_USER, groups: [] });
    const resumes: ResumeCost[] = [];
    for (const gap of GAPS) {
      const current = (await log.tips([probeStream])).get(probeStream);
      if (!current) throw new Error('no tip');
      const resume: ResumeRequest = {
        [probeStream]: { epoch: current.epoch, seq: current.seq - gap },
      };
      counting.reset();
      checkResume(resume, receives);
      const before = await log.tips(Object.keys(resume));
      checkAgainstTips(resume, before);
      const tips = await log.tips(receives);
      const tip = tips.get(probeStream) ?? before.get(probeStream);
      if (!tip) throw new Error('no tip');
      const beforeQuery = counting.counts().read;
      const position = resume[probeStream];
      if (!position) throw new Error('no position');
      const replay = await replayGap(log, probeStream, position, tip);
      const counts = counting.counts();
      resumes.push({
        gap,
        replayed: replay.texts.length,
        recovered: replay.result.recovered,
        counts,
        queryItems: counts.read - beforeQuery,
      });
    }
    ctx.progress(
      `counted: append ${requestText(append)}; resume gap ${GAPS.join('/')}: ${resumes.map((r) => requestText(r.counts)).join(' | ')}`,
    );
    return { append, pushes, resumes };
  } finally {
    counting.destroy();
  }
}

// ---------------------------------------------------------------------------------------------
// The section

interface Round {
  readonly broadcast: Record<Mode, BroadcastStep>;
  readonly user: Record<Mode, UserStep>;
  readonly order: readonly Mode[];
}

const countsJson = (c: Counts): JsonObject => ({
  requests: c.requests,
  requestCount: requestTotal(c),
  itemsWritten: c.written,
  itemsRead: c.read,
});

async function runStreams(ctx: BenchContext): Promise<SectionResult> {
  const log = collectingLog();
  const sides: Partial<Record<Mode, Side>> = {};
  try {
    const adminToken = await signToken({ sub: 'bench-ops', roles: ['admin'] }, SECRET);
    const userOf = (i: number) =>
      i === 0
        ? SOLO_USER
        : i <= HUNDRED
          ? HUNDRED_USER
          : `st-user-${String(i % OTHER_USERS).padStart(2, '0')}`;
    const tokens = await Promise.all(
      Array.from({ length: CLIENTS }, (_, i) => signToken({ sub: userOf(i) }, SECRET)),
    );
    const connectSeconds: Partial<Record<Mode, number>> = {};
    for (const mode of MODES) {
      const side = await startSide(mode, log);
      sides[mode] = side;
      const ms = await side.clients.open(side.runtime.wsUrl, tokens, OPEN_PARALLEL);
      const ids = await side.runtime.gateway.connectionIds();
      if (ids.length !== CLIENTS) {
        throw new Error(`log ${mode}: gateway has ${ids.length} connections, not ${CLIENTS}`);
      }
      connectSeconds[mode] = ms / 1000;
      ctx.progress(`log ${mode}: ${fmt(CLIENTS)} clients connected in ${fmt(ms / 1000, 1)} s`);
    }
    const on = sides.on;
    const off = sides.off;
    if (!on || !off) throw new Error('unreachable');
    const side = (m: Mode) => (m === 'on' ? on : off);

    // Interleaved: each round measures both runtimes, the order alternating, a full GC before
    // each step; the warm-up round is measured but not counted.
    const all: Round[] = [];
    for (let r = 0; r < WARMUP_ROUNDS + ROUNDS; r++) {
      const order: Mode[] = r % 2 === 0 ? ['on', 'off'] : ['off', 'on'];
      const broadcast: Partial<Record<Mode, BroadcastStep>> = {};
      const user: Partial<Record<Mode, UserStep>> = {};
      for (const m of order) {
        await settle();
        broadcast[m] = await broadcastOnce(side(m), adminToken);
      }
      for (const m of order) {
        await settle();
        user[m] = await userPushes(side(m), adminToken);
      }
      if (!broadcast.on || !broadcast.off || !user.on || !user.off) throw new Error('unreachable');
      const result: Round = {
        broadcast: { on: broadcast.on, off: broadcast.off },
        user: { on: user.on, off: user.off },
        order,
      };
      const warm = r < WARMUP_ROUNDS;
      ctx.progress(
        `${warm ? 'warm-up' : `round ${r - WARMUP_ROUNDS + 1}/${ROUNDS}`} (${order.join(' → ')}): broadcast on ${fmt(result.broadcast.on.perSecond)}/s, off ${fmt(result.broadcast.off.perSecond)}/s; user push on ${fmt(result.user.on.perSecond)}/s, off ${fmt(result.user.off.perSecond)}/s`,
      );
      all.push(result);
    }
    const rounds = all.slice(WARMUP_ROUNDS);

    const costs = await measureCosts(ctx, on);

    const bPerSecond = (m: Mode) => rounds.map((r) => r.broadcast[m].perSecond);
    const uPerSecond = (m: Mode) => rounds.map((r) => r.user[m].perSecond);
    const broadcastRatio = median(bPerSecond('on')) / median(bPerSecond('off'));
    const userRatio = median(uPerSecond('on')) / median(uPerSecond('off'));
    const pairedBroadcast = rounds.map((r) => r.broadcast.on.perSecond / r.broadcast.off.perSecond);
    const pairedUser = rounds.map((r) => r.user.on.perSecond / r.user.off.perSecond);

    const exactlyOnce = all.every(
      (r) =>
        MODES.every(
          (m) =>
            r.broadcast[m].missing === 0 &&
            r.broadcast[m].duplicated === 0 &&
            r.broadcast[m].delivered === CLIENTS,
        ) &&
        MODES.every(
          (m) =>
            r.user[m].lost === 0 && r.user[m].duplicated === 0 && r.user[m].failedRequests === 0,
        ),
    );
    const appendOk = costs.append.written === 2;
    const pushesOk = costs.pushes.every(
      (p) => p.counts.written === 2 && p.counts.read === 0 && p.delivered === p.recipients,
    );
    const resumesOk = costs.resumes.every(
      (r) =>
        r.replayed === r.gap &&
        r.recovered &&
        r.counts.written === 0 &&
        (r.counts.requests.QueryCommand ?? 0) === (r.gap > 0 ? 1 : 0) &&
        r.queryItems === r.gap,
    );
    const pass = broadcastRatio >= GOAL_RATIO && exactlyOnce && appendOk && pushesOk && resumesOk;
    const frameBytes = {
      on: all[0]?.broadcast.on.frameBytes ?? 0,
      off: all[0]?.broadcast.off.frameBytes ?? 0,
    };

    const stepJson = (r: Round): JsonObject => ({
      order: [...r.order],
      broadcastMs: { on: round(r.broadcast.on.ms, 1), off: round(r.broadcast.off.ms, 1) },
      broadcastPerSecond: {
        on: round(r.broadcast.on.perSecond, 0),
        off: round(r.broadcast.off.perSecond, 0),
      },
      broadcastResponseMs: {
        on: round(r.broadcast.on.responseMs, 1),
        off: round(r.broadcast.off.responseMs, 1),
      },
      userPushMs: { on: round(r.user.on.ms, 1), off: round(r.user.off.ms, 1) },
      userPushesPerSecond: {
        on: round(r.user.on.perSecond, 1),
        off: round(r.user.off.perSecond, 1),
      },
    });

    return {
      figures: {
        clients: CLIENTS,
        inlineLimit: DEFAULT_INLINE_LIMIT,
        concurrency: CONCURRENCY,
        userPushes: USER_PUSHES,
        warmupRounds: WARMUP_ROUNDS,
        rounds: ROUNDS,
        connectSeconds: {
          on: round(connectSeconds.on ?? 0, 2),
          off: round(connectSeconds.off ?? 0, 2),
        },
        frameBytes,
        broadcast: {
          onPerSecondSpread: roundSpread(bPerSecond('on')),
          offPerSecondSpread: roundSpread(bPerSecond('off')),
          ratioOnToOff: round(broadcastRatio, 3),
          pairedRatioSpread: roundSpread(pairedBroadcast, 3),
          goalRatio: GOAL_RATIO,
        },
        userPush: {
          onPerSecondSpread: roundSpread(uPerSecond('on'), 1),
          offPerSecondSpread: roundSpread(uPerSecond('off'), 1),
          ratioOnToOff: round(userRatio, 3),
          pairedRatioSpread: roundSpread(pairedUser, 3),
          onMsPerPushMedian: round(1000 / median(uPerSecond('on')), 2),
          offMsPerPushMedian: round(1000 / median(uPerSecond('off')), 2),
        },
        warmup: all[0] ? stepJson(all[0]) : null,
        perRound: rounds.map(stepJson),
        everyClientExactlyOnce: exactlyOnce,
        dynamo: {
          perAppend: countsJson(costs.append),
          perPush: costs.pushes.map((p) => ({
            audience: p.audience,
            recipients: p.recipients,
            delivered: p.delivered,
            streamLog: countsJson(p.counts),
            connectionReads: p.connectionReads,
          })),
          perResume: costs.resumes.map((r) => ({
            gap: r.gap,
            replayed: r.replayed,
            recovered: r.recovered,
            gapQueryItems: r.queryItems,
            ...countsJson(r.counts),
          })),
        },
        logWarningsAndErrors: log.count,
        logSample: log.entries,
        method: `throughput: two local runtimes, streamLog on and off, each with dynalite in a process of its own (bench/children/dynalite.ts; one per runtime, as the connections table is shared by name and a broadcast would otherwise reach the other runtime's records) and ${CLIENTS} ws clients in a process of its own (bench/children/ws-clients.ts); workers off, connection sweep off, pusher concurrency ${CONCURRENCY}. broadcast: POST /broadcast {data} (inline, ${CLIENTS} < limit ${DEFAULT_INLINE_LIMIT}) timed from the request until the last client has its first copy (HTTP 200 with delivered ${CLIENTS}, then every client checked for exactly one copy after ${DUPLICATE_GRACE_MS} ms). user push: ${USER_PUSHES} sequential POST /users/${SOLO_USER}/messages to a user with 1 connection, timed from the first request until the last copy arrived → pushes/s. Each round runs broadcast on/off then user push on/off, the on/off order alternating per round, GC (settle) before each step; ${WARMUP_ROUNDS} warm-up + ${ROUNDS} rounds; min/median/max, ratios on medians (on/off). DynamoDB counts: a DynamoStreamLog built as the runtime builds it (default history), over a DynamoDBDocumentClient of its own whose send is wrapped to count requests by command and items (Put/Update = 1 written; BatchGet = keys asked; Query = items returned; Get = item found), on the log-on runtime's taskwire-streams table. Per append: log.append to a stream with frames. Per push: deliver() (as POST /…/messages calls it) with the runtime's store and pusher and the counted log, to user ${SOLO_USER} (1 connection), user ${HUNDRED_USER} (${HUNDRED}) and all (${CLIENTS}), every recipient's copy awaited. Per resume: in process, the calls the session makes on register with resume (src/ws/session.ts): checkResume, log.tips(resumed streams), checkAgainstTips, log.tips(every stream the connection receives: user + all), replayGap for a position ${GAPS.join('/')} frames behind the tip (${RESUME_FRAMES} frames appended before).`,
      },
      goal: `broadcast to ${fmt(CLIENTS)} with the stream log ≥ ${GOAL_RATIO} × without (median deliveries/s), every client exactly once; 2 items written per push whatever the audience; a resume reads exactly the gap`,
      pass,
      table: {
        headers: ['measure', 'log on min/median/max', 'log off min/median/max', 'on/off'],
        rows: [
          [
            `POST /broadcast → ${fmt(CLIENTS)} ws clients, deliveries/s`,
            spreadText(bPerSecond('on')),
            spreadText(bPerSecond('off')),
            `${fmt(broadcastRatio, 2)}x`,
          ],
          [
            `POST /users/{u}/messages → 1 connection, ${USER_PUSHES} sequential, pushes/s`,
            spreadText(uPerSecond('on')),
            spreadText(uPerSecond('off')),
            `${fmt(userRatio, 2)}x`,
          ],
        ],
      },
      notes: [
        `ratios are median(on)/median(off); per-round ratio medians: broadcast ${fmt(median(pairedBroadcast), 2)}x, user push ${fmt(median(pairedUser), 2)}x (user push: diagnostic, no goal)`,
        `user push median ${fmt(1000 / median(uPerSecond('on')), 2)} ms each with the log, ${fmt(1000 / median(uPerSecond('off')), 2)} ms without: the log's fixed cost ≈ ${fmt(1000 / median(uPerSecond('on')) - 1000 / median(uPerSecond('off')), 2)} ms a push (its 2 sequential writes)`,
        `frames ${frameBytes.on} B with the log (stream + seq), ${frameBytes.off} B without; every client got every frame exactly once: ${exactlyOnce ? 'yes' : 'NO'}`,
        `DynamoDB, counted on the stream log's own document client:`,
        `  per append: ${requestText(costs.append)} → ${costs.append.written} items written, ${costs.append.read} read`,
        ...costs.pushes.map(
          (p) =>
            `  push to ${p.audience} (${fmt(p.recipients)} connections): log ${requestText(p.counts)} → ${p.counts.written} written, ${p.counts.read} read (connections table: ${p.connectionReads.requests} request(s), ${p.connectionReads.items} items)`,
        ),
        ...costs.resumes.map(
          (r) =>
            `  resume, gap ${r.gap}: ${requestText(r.counts)} → ${r.counts.read} items read (gap Query ${r.queryItems}), ${r.counts.written} written; replayed ${r.replayed}, recovered ${r.recovered ? 'yes' : 'no'}`,
        ),
        `  (the session reads the heads twice on a resume: the resumed streams' tips before its write, then every received stream's tips after it)`,
        ...(log.count > 0
          ? [`${log.count} runtime warnings/errors, first: ${log.entries.slice(0, 3).join(' | ')}`]
          : []),
      ],
    };
  } finally {
    await stopSide(sides.on);
    await stopSide(sides.off);
  }
}

export const streamsSection: Section = {
  name: 'streams',
  title:
    'The stream log: push throughput on vs. off at 1,000 clients, DynamoDB items per push and resume',
  run: runStreams,
};
