import { randomUUID } from 'node:crypto';
import { api, isRecord, messageData, messageFrame } from '../runtime-api';
import WebSocket from 'ws';
import { type LocalRuntime, startLocalRuntime } from '../../local/runtime';
import { signToken } from '../../src/auth/token';
import type { Audience } from '../../src/connections/audience';
import { BROADCAST_SHARDS } from '../../src/connections/schema';
import { DEFAULT_BATCH_SIZE, DEFAULT_INLINE_LIMIT } from '../../src/deliveries/deliver';
import type { PushReport } from '../../src/push/frame-pusher';
import {
  type BenchContext,
  type CollectingLog,
  collectingLog,
  fmt,
  type JsonObject,
  mapLimit,
  median,
  nowMs,
  pause,
  round,
  type Section,
  type SectionResult,
  settle,
  timed,
} from '../harness';
import {
  BareLoopProcess,
  ClientsProcess,
  DynamoProcess,
  epochMs,
  roundSpread,
  spreadText,
} from '../processes';

/**
 * Issues 5 and 10: `POST /broadcast` end to end (HTTP request → every WebSocket client has the
 * frame) at 1,000 connections (inline), 5,000 and 10,000 (fan-out queue), against a bare SDK
 * loop; the clients and the bare loop each run in a process of their own (bench/processes.ts),
 * interleaved, min/median/max over the rounds; then DynamoDB items read per
 * user/group/clientType push with 10,000 connection records stored (clients in this process).
 */

/** Audience sizes of the broadcast: one under the inline limit, two over it. */
const SIZES = [1000, 5000, 10000] as const;
/** Upgrades in flight while connecting the clients. */
const OPEN_PARALLEL = 150;
/** The broadcast clients belong to this many users (round-robin). */
const USERS = 50;
/** Posts in flight: the pusher's default and the baseline loop's. */
const CONCURRENCY = 50;
/**
 * Warm-up: rounds until each side has made this many deliveries (at least one round), so the
 * JIT has compiled both paths before a measured round; a 1,000 round lasts well under a second,
 * and one was seen to leave both sides still getting faster round by round.
 */
const WARMUP_DELIVERIES = 5000;
const ROUNDS = 3;
const warmupRounds = (n: number): number => Math.max(1, Math.ceil(WARMUP_DELIVERIES / n));
/** Goals on the median ratio: inline, and through the fan-out queue. */
const GOAL_RATIO = { inline: 0.9, queued: 0.85 } as const;
/** How long clients get to see a broadcast after the request went out. */
const RECEIVE_TIMEOUT_MS = 120_000;
/** How long a queued delivery gets to be marked done after its last frame arrived. */
const DELIVERY_TIMEOUT_MS = 15_000;
/** Late copies would arrive within this after the last first copy (exactly-once check). */
const DUPLICATE_GRACE_MS = 200;

/** Read-cost part: records stored straight into the table, for this many users, 20 each. */
const STORED_USERS = 500;
const STORED_PER_USER = 20;
/** Of the stored records, every REGISTER_EVERY-th gets a clientType, every GROUP_EVERY-th a group. */
const REGISTER_EVERY = 5;
const GROUP_EVERY = 10;
const STORED_CLIENT_TYPES = ['web', 'ios', 'android', 'desktop'] as const;
const STORED_GROUP = 'lobby';
/** Real sockets: the target user's K connections and another user's. */
const TARGET_USER = 'target';
const TARGET_K = 7;
const WATCHER_USER = 'watcher';
const WATCHER_CONNECTIONS = 5;
const PROBE_GROUP = 'room';
const PROBE_CLIENT_TYPE = 'kiosk';
/** Target connections registered as kiosk (the rest as phone) and joined to the room. */
const TARGET_KIOSKS = 4;
const TARGET_IN_ROOM = 3;
/** Watcher connections registered as kiosk (all of them join the room). */
const WATCHER_KIOSKS = 2;
const INSERT_PARALLEL = 64;

const SECRET = `bench-secret-${'0123456789'.repeat(4)}`;

type Path = 'inline' | 'queued';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------------
// Clients

/** Counts first copies of each marker across all clients; notes when the last one arrived. */
class Tracker {
  private readonly rounds = new Map<
    string,
    { expected: number; first: number; duplicates: number; doneAt?: number }
  >();

  public expect(marker: string, expected: number): void {
    this.rounds.set(marker, { expected, first: 0, duplicates: 0 });
  }

  /** Called with a client's count of the marker after one more copy arrived. */
  public record(marker: string, count: number): void {
    const r = this.rounds.get(marker);
    if (!r) return;
    if (count > 1) {
      r.duplicates++;
      return;
    }
    r.first++;
    if (r.first === r.expected) r.doneAt = nowMs();
  }

  /** The monotonic time the last expected client got its first copy, or undefined on timeout. */
  public async done(marker: string, timeoutMs: number): Promise<number | undefined> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const r = this.rounds.get(marker);
      if (r?.doneAt !== undefined) return r.doneAt;
      if (Date.now() >= end) return undefined;
      await sleep(2);
    }
  }

  public firstCopies(marker: string): number {
    return this.rounds.get(marker)?.first ?? 0;
  }
}

/** A `ws` client counting the `message` frames it got per marker, and answering requests. */
interface BenchClient {
  readonly socket: WebSocket;
  readonly seen: Map<string, number>;
  readonly replies: Map<string, (frame: Record<string, unknown>) => void>;
  /** Bytes of the last counted frame. */
  frameBytes: number;
}

function connect(url: string, token: string, tracker: Tracker): Promise<BenchClient> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`${url}/?token=${encodeURIComponent(token)}`);
    const client: BenchClient = { socket, seen: new Map(), replies: new Map(), frameBytes: 0 };
    socket.on('message', (data: WebSocket.RawData) => {
      const text = data.toString();
      const frame: unknown = JSON.parse(text);
      if (!isRecord(frame)) return;
      const body = frame.data;
      if (frame.type === 'message' && isRecord(body) && typeof body.marker === 'string') {
        const count = (client.seen.get(body.marker) ?? 0) + 1;
        client.seen.set(body.marker, count);
        client.frameBytes = Buffer.byteLength(text);
        tracker.record(body.marker, count);
        return;
      }
      if (typeof frame.requestId === 'string') {
        const reply = client.replies.get(frame.requestId);
        client.replies.delete(frame.requestId);
        reply?.(frame);
      }
    });
    socket.once('open', () => resolve(client));
    socket.once('unexpected-response', (_req, res) =>
      reject(new Error(`upgrade refused: ${res.statusCode ?? '?'}`)),
    );
    socket.once('error', reject);
  });
}

/** Sends a client frame with a fresh requestId and waits for the reply that carries it. */
function request(
  client: BenchClient,
  frame: Record<string, unknown>,
  timeoutMs = 5000,
): Promise<Record<string, unknown>> {
  const requestId = randomUUID();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      client.replies.delete(requestId);
      reject(new Error(`no reply to ${JSON.stringify(frame)} in ${timeoutMs} ms`));
    }, timeoutMs);
    client.replies.set(requestId, (reply) => {
      clearTimeout(timer);
      resolve(reply);
    });
    client.socket.send(JSON.stringify({ ...frame, requestId }));
  });
}

function closeClient(client: BenchClient): Promise<void> {
  if (client.socket.readyState === WebSocket.CLOSED) return Promise.resolve();
  return new Promise((resolve) => {
    client.socket.once('close', () => resolve());
    client.socket.terminate();
  });
}

/** Clients whose count of the marker is not exactly one. */
const notExactlyOnce = (clients: readonly BenchClient[], marker: string) => ({
  missing: clients.filter((c) => (c.seen.get(marker) ?? 0) === 0).length,
  duplicated: clients.filter((c) => (c.seen.get(marker) ?? 0) > 1).length,
});

// ---------------------------------------------------------------------------------------------
// HTTP API and the baseline

// ---------------------------------------------------------------------------------------------
// Part 1 and 2: broadcasts vs. the bare loop

interface BroadcastRound {
  readonly path: Path;
  /** Request sent → last client has its first copy. */
  readonly ms: number;
  /** Request sent → HTTP answer (200 after the inline push, 202 once every batch is queued). */
  readonly responseMs: number;
  readonly status: number;
  readonly recipients: number;
  readonly missing: number;
  readonly duplicated: number;
  /** Delivery record (queued path) or the 200 body (inline) agree: delivered N, none failed. */
  readonly accounted: boolean;
  readonly reads: { requests: number; items: number };
  readonly frameBytes: number;
}

interface SizeResult {
  readonly n: number;
  readonly path: Path;
  readonly broadcastPerSecond: number;
  readonly baselinePerSecond: number;
  readonly ratio: number;
  readonly goal: number;
  readonly pairedRatio: number;
  readonly responseMs: number;
  readonly rounds: readonly { broadcast: BroadcastRound; baselinePerSecond: number }[];
  /** The first warm-up round (its path and frame size are the size's). */
  readonly warmup: { broadcast: BroadcastRound; baselinePerSecond: number };
  readonly warmups: readonly { broadcast: BroadcastRound; baselinePerSecond: number }[];
}

async function broadcastOnce(
  rt: LocalRuntime,
  adminToken: string,
  clients: ClientsProcess,
): Promise<BroadcastRound> {
  const n = clients.size;
  const marker = randomUUID();
  const waiter = await clients.expect(marker, n);
  rt.store.reads.requests = 0;
  rt.store.reads.items = 0;
  const t0 = epochMs();
  const res = await api(rt, 'POST', '/broadcast', adminToken, { data: messageData(marker) });
  const responseMs = epochMs() - t0;
  const doneAt = await waiter.done(RECEIVE_TIMEOUT_MS);
  const reads = { ...rt.store.reads };
  if (doneAt === undefined) {
    const { missing } = await clients.check(marker);
    throw new Error(
      `broadcast to ${n}: ${n - missing} clients had the frame after ${RECEIVE_TIMEOUT_MS} ms (HTTP ${res.status} ${JSON.stringify(res.body)})`,
    );
  }
  let path: Path;
  let recipients: number;
  let accounted: boolean;
  if (res.status === 200) {
    path = 'inline';
    recipients = Number(res.body.delivered);
    accounted = recipients === n;
  } else if (res.status === 202 && typeof res.body.deliveryId === 'string') {
    path = 'queued';
    recipients = Number(res.body.recipients);
    const id = res.body.deliveryId;
    const end = Date.now() + DELIVERY_TIMEOUT_MS;
    let progress: Record<string, unknown> = {};
    while (Date.now() < end) {
      progress = (await api(rt, 'GET', `/deliveries/${id}`, adminToken)).body;
      if (progress.state === 'done') break;
      await sleep(20);
    }
    accounted =
      progress.state === 'done' &&
      progress.delivered === n &&
      progress.failed === 0 &&
      progress.gone === 0;
  } else {
    throw new Error(`POST /broadcast answered ${res.status} ${JSON.stringify(res.body)}`);
  }
  await sleep(DUPLICATE_GRACE_MS);
  const { missing, duplicated, frameBytes } = await clients.check(marker);
  return {
    path,
    ms: doneAt - t0,
    responseMs,
    status: res.status,
    recipients,
    missing,
    duplicated,
    accounted,
    reads,
    frameBytes,
  };
}

async function measureSize(
  ctx: BenchContext,
  rt: LocalRuntime,
  adminToken: string,
  clients: ClientsProcess,
  bare: BareLoopProcess,
): Promise<SizeResult> {
  const n = clients.size;
  const ids = await rt.gateway.connectionIds();
  if (ids.length !== n) throw new Error(`gateway has ${ids.length} connections, not ${n}`);
  const bytes = Buffer.byteLength(JSON.stringify(messageFrame({ kind: 'all' }, randomUUID())));
  const baseline = () => bare.run(n, bytes, CONCURRENCY);

  // Interleaved: each round runs both, the order alternating, a pause (no forced GC: see pause)
  // before each step.
  const all: { broadcast: BroadcastRound; baselinePerSecond: number }[] = [];
  const warmups = warmupRounds(n);
  for (let r = 0; r < warmups + ROUNDS; r++) {
    let b: BroadcastRound | undefined;
    let basePerSecond = 0;
    for (const step of r % 2 === 0 ? ['broadcast', 'baseline'] : ['baseline', 'broadcast']) {
      await pause();
      if (step === 'broadcast') b = await broadcastOnce(rt, adminToken, clients);
      else basePerSecond = await baseline();
    }
    if (!b) throw new Error('unreachable');
    const warm = r < warmups;
    ctx.progress(
      `${fmt(n)} ${warm ? 'warm-up' : `round ${r - warmups + 1}/${ROUNDS}`}: broadcast (${b.path}) ${fmt(b.ms)} ms = ${fmt((n / b.ms) * 1000)}/s (HTTP ${b.status} after ${fmt(b.responseMs)} ms), baseline ${fmt(basePerSecond)}/s`,
    );
    all.push({ broadcast: b, baselinePerSecond: basePerSecond });
  }
  const rounds = all.slice(warmups);
  const warmup = all[0];
  if (!warmup) throw new Error('no rounds');
  const perSecond = (b: BroadcastRound) => (n / b.ms) * 1000;
  const broadcastPerSecond = median(rounds.map((r) => perSecond(r.broadcast)));
  const baselinePerSecond = median(rounds.map((r) => r.baselinePerSecond));
  const paths = new Set(all.map((r) => r.broadcast.path));
  if (paths.size !== 1) throw new Error(`broadcast to ${n} took mixed paths: ${[...paths]}`);
  return {
    n,
    path: warmup.broadcast.path,
    goal: GOAL_RATIO[warmup.broadcast.path],
    broadcastPerSecond,
    baselinePerSecond,
    ratio: broadcastPerSecond / baselinePerSecond,
    pairedRatio: median(rounds.map((r) => perSecond(r.broadcast) / r.baselinePerSecond)),
    responseMs: median(rounds.map((r) => r.broadcast.responseMs)),
    rounds,
    warmup,
    warmups: all.slice(0, warmups),
  };
}

const roundJson = (r: { broadcast: BroadcastRound; baselinePerSecond: number }, n: number) => ({
  broadcastMs: round(r.broadcast.ms, 1),
  broadcastPerSecond: round((n / r.broadcast.ms) * 1000, 0),
  baselinePerSecond: round(r.baselinePerSecond, 0),
  httpStatus: r.broadcast.status,
  responseMs: round(r.broadcast.responseMs, 1),
  recipients: r.broadcast.recipients,
  missing: r.broadcast.missing,
  duplicated: r.broadcast.duplicated,
  accounted: r.broadcast.accounted,
  connectionReads: r.broadcast.reads,
});

// ---------------------------------------------------------------------------------------------
// Part 3: items read per addressed push

interface ReadCase {
  readonly audience: string;
  readonly recipients: number;
  readonly itemsRead: number;
  readonly readRequests: number;
  readonly constant: number;
  readonly report: PushReport;
  readonly receivedExactlyOnce: boolean;
  readonly why: string;
}

async function measureReads(
  ctx: BenchContext,
  log: CollectingLog,
): Promise<{ cases: ReadCase[]; stored: number; insertSeconds: number }> {
  const tracker = new Tracker();
  const clients: BenchClient[] = [];
  let rt: LocalRuntime | undefined;
  try {
    rt = await startLocalRuntime({
      authSecret: SECRET,
      log,
      workers: false,
      connectionSweepMs: 0,
      pushConcurrency: CONCURRENCY,
    });
    const runtime = rt;

    // Real sockets: the target user's K, and a watcher's; registered and joined over the socket.
    const open = async (user: string) => {
      const token = await signToken({ sub: user, groups: [PROBE_GROUP] }, SECRET);
      const c = await connect(runtime.wsUrl, token, tracker);
      clients.push(c);
      return c;
    };
    const target = await Promise.all(Array.from({ length: TARGET_K }, () => open(TARGET_USER)));
    const watcher = await Promise.all(
      Array.from({ length: WATCHER_CONNECTIONS }, () => open(WATCHER_USER)),
    );
    const register = async (c: BenchClient, clientType: string, inRoom: boolean) => {
      const reply = await request(c, {
        action: 'register',
        clientType,
        ...(inRoom ? { groups: [PROBE_GROUP] } : {}),
      });
      if (reply.type !== 'registered') throw new Error(`register: ${JSON.stringify(reply)}`);
    };
    await Promise.all([
      ...target.map((c, i) =>
        register(c, i < TARGET_KIOSKS ? PROBE_CLIENT_TYPE : 'phone', i < TARGET_IN_ROOM),
      ),
      ...watcher.map((c, i) => register(c, i < WATCHER_KIOSKS ? PROBE_CLIENT_TYPE : 'phone', true)),
    ]);
    const inRoom = [...target.slice(0, TARGET_IN_ROOM), ...watcher];
    const kiosks = [...target.slice(0, TARGET_KIOSKS), ...watcher.slice(0, WATCHER_KIOSKS)];

    // 10,000 records straight into the table (no sockets), some registered and grouped.
    const stored = STORED_USERS * STORED_PER_USER;
    const userOf = (i: number) =>
      `crowd-${String(Math.floor(i / STORED_PER_USER)).padStart(3, '0')}`;
    const idOf = (i: number) => `stale${String(i).padStart(5, '0')}AAAAAAA=`;
    const inserted = await timed(() =>
      mapLimit(
        Array.from({ length: stored }, (_, i) => i),
        INSERT_PARALLEL,
        async (i) => {
          await runtime.store.add({
            connectionId: idOf(i),
            userId: userOf(i),
            roles: ['client'],
            allowedGroups: [STORED_GROUP],
            connectedAt: new Date().toISOString(),
          });
          if (i % REGISTER_EVERY === 0) {
            await runtime.store.register(
              idOf(i),
              STORED_CLIENT_TYPES[(i / REGISTER_EVERY) % STORED_CLIENT_TYPES.length] ?? 'web',
              i % GROUP_EVERY === 0 ? [STORED_GROUP] : [],
            );
          }
        },
      ),
    );
    ctx.progress(
      `${fmt(stored)} connection records stored in ${fmt(inserted.ms / 1000, 1)} s (+${TARGET_K + WATCHER_CONNECTIONS} live sockets)`,
    );

    const measure = async (
      audience: Audience,
      receivers: readonly BenchClient[],
      why: string,
      expectedGone = 0,
    ): Promise<ReadCase> => {
      const marker = randomUUID();
      tracker.expect(marker, receivers.length);
      await settle();
      runtime.store.reads.requests = 0;
      runtime.store.reads.items = 0;
      const report = await runtime.pusher.push(audience, messageFrame(audience, marker));
      const reads = { ...runtime.store.reads };
      if (receivers.length > 0) await tracker.done(marker, RECEIVE_TIMEOUT_MS);
      await sleep(DUPLICATE_GRACE_MS);
      const { missing, duplicated } = notExactlyOnce(receivers, marker);
      const recipients = receivers.length + expectedGone;
      if (report.attempted !== recipients || report.gone !== expectedGone || report.failed !== 0) {
        throw new Error(`push to ${JSON.stringify(audience)}: ${JSON.stringify(report)}`);
      }
      return {
        audience:
          audience.kind === 'user'
            ? `user ${audience.userId}`
            : audience.kind === 'group'
              ? `group ${audience.group}`
              : audience.kind === 'clientType'
                ? `clientType ${audience.clientType}`
                : audience.kind,
        recipients,
        itemsRead: reads.items,
        readRequests: reads.requests,
        constant: reads.items - recipients,
        report,
        receivedExactlyOnce: missing === 0 && duplicated === 0,
        why,
      };
    };

    // The stale user: records i = 0..19; every 5th registered, every 10th in the lobby group.
    const staleIndexes = Array.from({ length: STORED_PER_USER }, (_, i) => i);
    const staleMemberships = staleIndexes.filter((i) => i % GROUP_EVERY === 0).length;
    const cases = [
      await measure(
        { kind: 'user', userId: TARGET_USER },
        target,
        'one Query of byUser; projection connectionId; no 410 so no removal reads',
      ),
      await measure(
        { kind: 'group', group: PROBE_GROUP },
        inRoom,
        'one Query of byGroup (membership items); no 410 so no removal reads',
      ),
      await measure(
        { kind: 'clientType', clientType: PROBE_CLIENT_TYPE },
        kiosks,
        'one Query of byClientType; no 410 so no removal reads',
      ),
      await measure(
        { kind: 'user', userId: userOf(0) },
        [],
        `records without sockets: the byUser Query (${STORED_PER_USER} items), then per 410 one consistent Query of the connection's partition to delete it (its record + group memberships: ${STORED_PER_USER} + ${staleMemberships})`,
        STORED_PER_USER,
      ),
    ];
    return { cases, stored, insertSeconds: inserted.ms / 1000 };
  } finally {
    await rt?.stop();
    await Promise.all(clients.map(closeClient));
  }
}

// ---------------------------------------------------------------------------------------------
// The section

async function runBroadcast(ctx: BenchContext): Promise<SectionResult> {
  const log = collectingLog();
  let runtime: LocalRuntime | undefined;
  let clients: ClientsProcess | undefined;
  let bare: BareLoopProcess | undefined;
  let dynamo: DynamoProcess | undefined;
  try {
    // DynamoDB out of the measured process, as in the cloud (issue 10).
    dynamo = await DynamoProcess.start();
    runtime = await startLocalRuntime({
      authSecret: SECRET,
      dynamoEndpoint: dynamo.endpoint,
      // The gateway in a process of its own, as npm start runs it (API Gateway is a service).
      gateway: 'process',
      // Each fan-out execution environment in a process of its own, as Lambda runs them.
      functionEnvironments: 'process',
      log,
      workers: false,
      connectionSweepMs: 0,
      pushConcurrency: CONCURRENCY,
    });
    const rt = runtime;
    const adminToken = await signToken({ sub: 'bench-ops', roles: ['admin'] }, SECRET);
    const userTokens = await Promise.all(
      Array.from({ length: USERS }, (_, i) =>
        signToken({ sub: `bc-user-${String(i).padStart(2, '0')}` }, SECRET),
      ),
    );

    // The baseline and the clients each in a process of their own (issue 10).
    bare = await BareLoopProcess.start();
    clients = await ClientsProcess.start();
    const cp = clients;

    const sizes: SizeResult[] = [];
    const connectSeconds: number[] = [];
    for (const n of SIZES) {
      // Grow the audience to n: upgrades OPEN_PARALLEL at a time ($connect has stored each
      // record by the time the socket opens).
      const from = cp.size;
      const openMs = await cp.open(
        rt.wsUrl,
        Array.from({ length: n - from }, (_, i) => userTokens[(from + i) % USERS] ?? ''),
        OPEN_PARALLEL,
      );
      connectSeconds.push(openMs / 1000);
      ctx.progress(
        `${fmt(n)} clients connected (+${fmt(n - from)} in ${fmt(openMs / 1000, 1)} s, own process)`,
      );
      sizes.push(await measureSize(ctx, rt, adminToken, cp, bare));
    }
    const runtimeLogCount = log.count;
    // Done with the sockets: the runtime drops them without $disconnect (no write storm).
    await runtime.stop();
    runtime = undefined;
    await cp.stop();
    clients = undefined;

    const reads = await measureReads(ctx, log);

    const frameBytes = sizes[0]?.warmup.broadcast.frameBytes ?? 0;
    const baselineBytes = Buffer.byteLength(
      JSON.stringify(messageFrame({ kind: 'all' }, randomUUID())),
    );
    const everyRound = sizes.flatMap((s) => [...s.warmups, ...s.rounds]);
    const exactlyOnce = everyRound.every(
      (r) => r.broadcast.missing === 0 && r.broadcast.duplicated === 0,
    );
    const accounted = everyRound.every((r) => r.broadcast.accounted);
    const readsOk =
      reads.cases.every((c) => c.receivedExactlyOnce) &&
      reads.cases.slice(0, 3).every((c) => c.constant === 0);
    const ratiosOk = sizes.every((s) => s.ratio >= s.goal);
    const pass = ratiosOk && exactlyOnce && accounted && readsOk;
    const pathNote = (s: SizeResult) =>
      s.path === 'inline'
        ? `inline (one request, HTTP 200 after the push)`
        : `fan-out queue (HTTP 202, ${Math.ceil(s.n / DEFAULT_BATCH_SIZE)} batches of ≤ ${DEFAULT_BATCH_SIZE} on SQS)`;
    const stale = reads.cases[3];

    const sizeJson = (s: SizeResult): JsonObject => ({
      connections: s.n,
      path: s.path,
      pathDetail: pathNote(s),
      broadcastDeliveriesPerSecond: round(s.broadcastPerSecond, 0),
      baselineDeliveriesPerSecond: round(s.baselinePerSecond, 0),
      ratioBroadcastToBaseline: round(s.ratio, 3),
      ratioPairedMedian: round(s.pairedRatio, 3),
      goalRatio: s.goal,
      broadcastPerSecondSpread: roundSpread(s.rounds.map((r) => (s.n / r.broadcast.ms) * 1000)),
      baselinePerSecondSpread: roundSpread(s.rounds.map((r) => r.baselinePerSecond)),
      pairedRatioSpread: roundSpread(
        s.rounds.map((r) => ((s.n / r.broadcast.ms) * 1000) / r.baselinePerSecond),
        3,
      ),
      medianResponseMs: round(s.responseMs, 1),
      medianBroadcastMs: round(median(s.rounds.map((r) => r.broadcast.ms)), 1),
      warmups: s.warmups.map((w) => roundJson(w, s.n)),
      perRound: s.rounds.map((r) => roundJson(r, s.n)),
    });

    return {
      figures: {
        concurrency: CONCURRENCY,
        inlineLimit: DEFAULT_INLINE_LIMIT,
        fanoutBatchSize: DEFAULT_BATCH_SIZE,
        broadcastShards: BROADCAST_SHARDS,
        users: USERS,
        openParallel: OPEN_PARALLEL,
        connectSeconds: connectSeconds.map((s) => round(s, 2)),
        frameBytes,
        baselinePayloadBytes: baselineBytes,
        warmupDeliveries: WARMUP_DELIVERIES,
        warmupRounds: Object.fromEntries(SIZES.map((n) => [n, warmupRounds(n)])),
        rounds: ROUNDS,
        ...Object.fromEntries(sizes.map((s) => [`broadcast${s.n}`, sizeJson(s)])),
        everyClientExactlyOnce: exactlyOnce,
        everyDeliveryAccounted: accounted,
        readsPerPush: {
          storedRecords: reads.stored,
          storedUsers: STORED_USERS,
          perStoredUser: STORED_PER_USER,
          storedRegistered: reads.stored / REGISTER_EVERY,
          storedInGroup: reads.stored / GROUP_EVERY,
          liveSockets: TARGET_K + WATCHER_CONNECTIONS,
          insertSeconds: round(reads.insertSeconds, 1),
          cases: reads.cases.map((c) => ({
            audience: c.audience,
            recipients: c.recipients,
            itemsRead: c.itemsRead,
            readRequests: c.readRequests,
            itemsMinusRecipients: c.constant,
            delivered: c.report.delivered,
            gone: c.report.gone,
            failed: c.report.failed,
            receivedExactlyOnce: c.receivedExactlyOnce,
            why: c.why,
          })),
        },
        logWarningsAndErrorsBroadcast: runtimeLogCount,
        logWarningsAndErrorsTotal: log.count,
        logSample: log.entries,
        method:
          'broadcast: POST /broadcast {data} with an admin token over HTTP to the local runtime (dynalite in a process of its own, bench/children/dynalite.ts; the WebSocket gateway in a process of its own, local/ws-gateway-child.ts, as npm start runs it; default inline limit 2000, fan-out poller on with each of its 2 execution environments in a process of its own, local/fanout-environment-child.ts, as npm start runs them; task workers off), timed from the request until the last of N ws clients (in a child process of their own, bench/children/ws-clients.ts, reporting over IPC) has its first copy; then the 200 body or GET /deliveries/{id} checked (delivered N, gone 0, failed 0), and after 200 ms every client checked for exactly one copy. baseline: a bare loop of the same ApiGatewayManagementApiClient (keep-alive agent, maxSockets 256) posting data of the same size to N ids against a 200-only http server at concurrency 50, both in a child process of their own (bench/children/bare-loop.ts). Broadcast and baseline alternate order each round, a 50 ms pause before each step (no forced GC: the baseline process has none, and a forced GC was measured to slow the next inline broadcast of the runtime by about 40 %); warm-up rounds until each side made 5,000 deliveries (5 at 1,000, 1 at 5,000 and 10,000), then 3 rounds per size; min/median/max, goals on median(broadcast)/median(baseline). reads: a fresh runtime with 10,000 records put via store.add (every 5th registered with a clientType, every 10th in a group) plus 12 live sockets; store.reads reset, then pusher.push(audience).',
      },
      goal: `broadcast ≥ ${GOAL_RATIO.inline} × bare-loop deliveries/s inline (1,000) and ≥ ${GOAL_RATIO.queued} × through the queue (5,000 and 10,000), every client exactly once; user/group/clientType push reads K items`,
      pass,
      table: {
        headers: [
          'measure',
          'path',
          'deliveries/s min/median/max',
          'bare loop /s (median)',
          'ratio',
          'goal',
        ],
        rows: sizes.map((s) => [
          `POST /broadcast → ${fmt(s.n)} ws clients`,
          s.path,
          spreadText(s.rounds.map((r) => (s.n / r.broadcast.ms) * 1000)),
          fmt(s.baselinePerSecond),
          `${fmt(s.ratio, 2)}x`,
          `${fmt(s.goal, 2)}x`,
        ]),
      },
      notes: [
        ...sizes.map(
          (s) =>
            `${fmt(s.n)}: ${pathNote(s)}; median request → last client ${fmt(median(s.rounds.map((r) => r.broadcast.ms)))} ms, HTTP answer after ${fmt(s.responseMs)} ms; per-round ratio median ${fmt(s.pairedRatio, 2)}x`,
        ),
        `every client got every broadcast exactly once: ${exactlyOnce ? 'yes' : 'NO'}; 200 body / delivery record agree (delivered N, gone 0, failed 0): ${accounted ? 'yes' : 'NO'}`,
        `frames ${frameBytes} B (baseline payload ${baselineBytes} B); ${USERS} users; clients opened ${OPEN_PARALLEL} at a time`,
        `DynamoDB reads per push, ${fmt(reads.stored)} records stored (${STORED_USERS} users × ${STORED_PER_USER}) + ${TARGET_K + WATCHER_CONNECTIONS} live sockets:`,
        ...reads.cases.map(
          (c) =>
            `  ${c.audience}: ${c.recipients} recipients → ${c.itemsRead} items in ${c.readRequests} request(s) (items − recipients = ${c.constant}); ${c.why}`,
        ),
        stale
          ? `  constant: 0 items beyond K for a Query audience (ScannedCount = K; 1 request while K ≤ 1000 page size); each 410 adds 1 request reading 1 + memberships items (here ${stale.itemsRead - stale.recipients} for ${stale.recipients} gone)`
          : '',
        `cloud arithmetic inputs: pusher concurrency ${CONCURRENCY} posts in flight per push, fan-out batch ${DEFAULT_BATCH_SIZE} ids per SQS message, inline limit ${DEFAULT_INLINE_LIMIT} recipients, ${BROADCAST_SHARDS} broadcast shards (Query pages of 1000); so 1,000 = 1 request, ${1000 / CONCURRENCY} waves of ${CONCURRENCY}; 5,000 = ${5000 / DEFAULT_BATCH_SIZE} batches × ${DEFAULT_BATCH_SIZE / CONCURRENCY} waves each`,
        `local queue path: the fan-out poller runs as the stack's event source mapping (2 batches at once, 2 messages each), each message pushed at concurrency ${CONCURRENCY} over one management client (maxSockets 256), so up to 4 × ${CONCURRENCY} posts may be in flight against the baseline's ${CONCURRENCY}`,
        ...(log.count > 0
          ? [
              `${log.count} runtime warnings/errors (the stale-user push logs 'push incomplete' by design), first: ${log.entries.slice(0, 3).join(' | ')}`,
            ]
          : []),
      ].filter((line) => line !== ''),
    };
  } finally {
    await clients?.stop();
    await runtime?.stop();
    await bare?.stop();
    await dynamo?.stop();
  }
}

export const broadcastSection: Section = {
  name: 'broadcast',
  title:
    'POST /broadcast to 1,000 (inline), 5,000 and 10,000 (fan-out queue) clients vs. a bare SDK loop',
  run: runBroadcast,
};
