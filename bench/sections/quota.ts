import { randomUUID } from 'node:crypto';
import { api } from '../runtime-api';
import { type LocalRuntime, startLocalRuntime } from '../../local/runtime';
import { tokenBucket } from '../../local/ws-management';
import { signToken } from '../../src/auth/token';
import type { ConnectionStore } from '../../src/connections/store';
import { silentLog } from '../../src/ports/log';
import type { ConnectionPoster } from '../../src/push/connection-poster';
import { Pusher } from '../../src/push/pusher';
import { DEFAULT_BATCH_SIZE, DEFAULT_INLINE_LIMIT } from '../../src/deliveries/deliver';
import {
  type BenchContext,
  collectingLog,
  fmt,
  round,
  type Section,
  type SectionResult,
  settle,
} from '../harness';
import { ClientsProcess, DynamoProcess, epochMs, spread } from '../processes';

/**
 * Issue 10: the account's `@connections` quota. The local gateway answers 429 LimitExceeded
 * above QUOTA posts/s (a token bucket, burst a tenth of a second); a 10,000-connection
 * broadcast goes through the fan-out queue, and the push engine's adaptive rate has to find
 * the quota: sustained deliveries/s vs the quota, the share of posts answered 429, every client
 * exactly once, nothing failed. Clients run in a process of their own.
 */

const QUOTA = 1000;
const CONNECTIONS = 10_000;
const ROUNDS = 3;
const USERS = 50;
const OPEN_PARALLEL = 150;
const CONCURRENCY = 50;
const GOAL_RATIO = 0.9;
const GOAL_THROTTLED = 0.05;
const RECEIVE_TIMEOUT_MS = 180_000;
const DELIVERY_TIMEOUT_MS = 30_000;
const DUPLICATE_GRACE_MS = 300;
const SECRET = `bench-secret-${'0123456789'.repeat(4)}`;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
interface QuotaRound {
  readonly ms: number;
  readonly perSecond: number;
  readonly ratioToQuota: number;
  readonly throttled: number;
  readonly throttledShare: number;
  readonly missing: number;
  readonly duplicated: number;
  readonly delivered: number;
  readonly failed: number;
  readonly gone: number;
  readonly state: string;
}

/** Fan-out batches at once in the engine-alone part, as the local fan-out poller runs them. */
const ENGINE_BATCHES = 4;

/**
 * The engine alone (diagnostic): one Pusher, ENGINE_BATCHES concurrent pushes of a 10,000
 * audience against an in-process fake `@connections` with the same token bucket, no sockets and
 * no queue, each batch's deferred rest pushed again. Shows what the adaptive rate does when the
 * machine is not the bottleneck.
 */
async function engineAlone(): Promise<
  { ratio: number; share: number; once: boolean; failed: number }[]
> {
  const take = tokenBucket(QUOTA, QUOTA / 10, () => performance.now());
  const received = new Map<string, number>();
  let throttled = 0;
  const poster: ConnectionPoster = {
    post: async (id) => {
      await new Promise((r) => setImmediate(r));
      if (!take()) {
        throttled++;
        return { result: 'throttled', error: new Error('LimitExceeded') };
      }
      received.set(id, (received.get(id) ?? 0) + 1);
      return { result: 'delivered' };
    },
    isGone: async () => false,
  };
  // Nothing is gone here, so the store is never asked.
  const store = {} as unknown as ConnectionStore;
  const pusher = new Pusher({ poster, store, log: silentLog, concurrency: CONCURRENCY });
  const frame = { type: 'message', id: 'engine', at: new Date().toISOString() };
  const out = [];
  for (let r = 0; r < ROUNDS; r++) {
    const ids = Array.from({ length: CONNECTIONS }, (_, i) => `r${r}-${i}`);
    const before = throttled;
    let failed = 0;
    let rest = Array.from({ length: ENGINE_BATCHES }, (_, k) =>
      ids.filter((_, i) => i % ENGINE_BATCHES === k),
    );
    const t0 = performance.now();
    while (rest.some((p) => p.length > 0)) {
      const reports = await Promise.all(
        rest.map((part) =>
          pusher.pushTo(
            (async function* () {
              yield part;
            })(),
            frame,
            'engine',
            { deferThrottled: true },
          ),
        ),
      );
      failed += reports.reduce((n, rep) => n + rep.failed, 0);
      rest = reports.map((rep) => [...(rep.deferred ?? [])]);
    }
    const ms = performance.now() - t0;
    const t = throttled - before;
    out.push({
      ratio: ((CONNECTIONS / ms) * 1000) / QUOTA,
      share: t / (t + CONNECTIONS),
      once: ids.every((id) => received.get(id) === 1),
      failed,
    });
  }
  return out;
}

async function runQuota(ctx: BenchContext): Promise<SectionResult> {
  const log = collectingLog();
  let runtime: LocalRuntime | undefined;
  let clients: ClientsProcess | undefined;
  let dynamo: DynamoProcess | undefined;
  try {
    // DynamoDB out of the measured process, as in the cloud (issue 10).
    dynamo = await DynamoProcess.start();
    runtime = await startLocalRuntime({
      authSecret: SECRET,
      // The gateway in a process of its own, as npm start runs it (API Gateway is a service).
      gateway: 'process',
      // Each fan-out execution environment in a process of its own with its own adaptive rate,
      // as Lambda's environments share nothing: they must converge on the quota apart.
      functionEnvironments: 'process',
      dynamoEndpoint: dynamo.endpoint,
      log,
      workers: false,
      connectionSweepMs: 0,
      pushConcurrency: CONCURRENCY,
      postRateLimit: QUOTA,
    });
    const rt = runtime;
    const adminToken = await signToken({ sub: 'bench-ops', roles: ['admin'] }, SECRET);
    const userTokens = await Promise.all(
      Array.from({ length: USERS }, (_, i) => signToken({ sub: `q-user-${i}` }, SECRET)),
    );
    clients = await ClientsProcess.start();
    const openMs = await clients.open(
      rt.wsUrl,
      Array.from({ length: CONNECTIONS }, (_, i) => userTokens[i % USERS] ?? ''),
      OPEN_PARALLEL,
    );
    ctx.progress(
      `${fmt(clients.size)} clients connected in ${fmt(openMs / 1000, 1)} s (own process)`,
    );
    const live = (await rt.gateway.connectionIds()).length;
    if (live !== CONNECTIONS) throw new Error(`gateway has ${live} connections`);

    const rounds: QuotaRound[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      await settle();
      const marker = randomUUID();
      const waiter = await clients.expect(marker, CONNECTIONS);
      const throttledBefore = await rt.gateway.quotaRefusals();
      const t0 = epochMs();
      const res = await api(rt, 'POST', '/broadcast', adminToken, {
        data: { marker, filler: 'x'.repeat(200) },
      });
      if (res.status !== 202 || typeof res.body.deliveryId !== 'string') {
        throw new Error(`POST /broadcast answered ${res.status} ${JSON.stringify(res.body)}`);
      }
      const doneAt = await waiter.done(RECEIVE_TIMEOUT_MS);
      if (doneAt === undefined) throw new Error(`round ${r + 1}: not every client had the frame`);
      const end = Date.now() + DELIVERY_TIMEOUT_MS;
      let progress: Record<string, unknown> = {};
      while (Date.now() < end) {
        progress = (await api(rt, 'GET', `/deliveries/${res.body.deliveryId}`, adminToken)).body;
        if (progress.state === 'done') break;
        await sleep(50);
      }
      await sleep(DUPLICATE_GRACE_MS);
      const { missing, duplicated } = await clients.check(marker);
      const throttled = (await rt.gateway.quotaRefusals()) - throttledBefore;
      const ms = doneAt - t0;
      const perSecond = (CONNECTIONS / ms) * 1000;
      const q: QuotaRound = {
        ms,
        perSecond,
        ratioToQuota: perSecond / QUOTA,
        throttled,
        throttledShare: throttled / (throttled + CONNECTIONS),
        missing,
        duplicated,
        delivered: Number(progress.delivered),
        failed: Number(progress.failed),
        gone: Number(progress.gone),
        state: String(progress.state),
      };
      rounds.push(q);
      ctx.progress(
        `round ${r + 1}/${ROUNDS}: ${fmt(ms)} ms = ${fmt(perSecond)}/s (${fmt(q.ratioToQuota, 3)} of the quota), ${throttled} posts answered 429 (${fmt(q.throttledShare * 100, 2)} %), delivery ${q.state} delivered ${q.delivered} failed ${q.failed}`,
      );
    }
    const engine = await engineAlone();
    const engineRatio = spread(engine.map((e) => e.ratio));
    const engineShare = spread(engine.map((e) => e.share));
    ctx.progress(
      `engine alone (fake @connections, same bucket): ${engine.map((e) => `${fmt(e.ratio, 3)} of the quota, ${fmt(e.share * 100, 2)} % 429`).join('; ')}`,
    );
    const ratio = spread(rounds.map((q) => q.ratioToQuota));
    const share = spread(rounds.map((q) => q.throttledShare));
    const exactlyOnce = rounds.every((q) => q.missing === 0 && q.duplicated === 0);
    const accounted = rounds.every(
      (q) => q.state === 'done' && q.delivered === CONNECTIONS && q.failed === 0 && q.gone === 0,
    );
    const pass =
      ratio.median >= GOAL_RATIO && share.median <= GOAL_THROTTLED && exactlyOnce && accounted;
    return {
      figures: {
        quotaPostsPerSecond: QUOTA,
        quotaBurst: QUOTA / 10,
        connections: CONNECTIONS,
        concurrency: CONCURRENCY,
        inlineLimit: DEFAULT_INLINE_LIMIT,
        fanoutBatchSize: DEFAULT_BATCH_SIZE,
        rounds: ROUNDS,
        sustainedPerSecond: spread(rounds.map((q) => round(q.perSecond, 0))),
        ratioToQuota: {
          min: round(ratio.min, 3),
          median: round(ratio.median, 3),
          max: round(ratio.max, 3),
        },
        throttledShare: {
          min: round(share.min, 4),
          median: round(share.median, 4),
          max: round(share.max, 4),
        },
        everyClientExactlyOnce: exactlyOnce,
        nothingFailed: accounted,
        engineAloneDiagnostic: {
          what: `one Pusher, ${ENGINE_BATCHES} concurrent pushes of ${CONNECTIONS} ids against an in-process fake @connections with the same token bucket (no sockets, no queue, deferred rests pushed again)`,
          ratioToQuota: {
            min: round(engineRatio.min, 3),
            median: round(engineRatio.median, 3),
            max: round(engineRatio.max, 3),
          },
          throttledShare: {
            min: round(engineShare.min, 4),
            median: round(engineShare.median, 4),
            max: round(engineShare.max, 4),
          },
          everyIdExactlyOnce: engine.every((e) => e.once),
          failed: engine.reduce((n, e) => n + e.failed, 0),
        },
        perRound: rounds.map((q) => ({
          ms: round(q.ms, 0),
          perSecond: round(q.perSecond, 0),
          ratioToQuota: round(q.ratioToQuota, 3),
          answered429: q.throttled,
          share429: round(q.throttledShare, 4),
          missing: q.missing,
          duplicated: q.duplicated,
          delivered: q.delivered,
          failed: q.failed,
          gone: q.gone,
        })),
        logWarningsAndErrors: log.count,
        logSample: log.entries,
        method:
          'local runtime (dynalite in a process of its own, bench/children/dynalite.ts; the WebSocket gateway in one of its own, local/ws-gateway-child.ts, as npm start runs it; each of the 2 fan-out execution environments in one of its own with its own adaptive rate, local/fanout-environment-child.ts) with postRateLimit 1000 (gateway token bucket, burst 100, 429 LimitExceededException above it); 10,000 ws clients in a child process; POST /broadcast (fan-out queue, batches of 250); timed from the request until the child reports the last client has its first copy; 429s counted by the gateway (quotaRefusals: the POSTs its quota answered 429); share = 429s / (429s + deliveries); GET /deliveries/{id} checked (done, delivered N, failed 0); 3 rounds back to back (the engine keeps its rate between them), min/median/max; goals on the median.',
      },
      goal: `quota ${QUOTA}/s, ${fmt(CONNECTIONS)}-connection broadcast: sustained ≥ ${GOAL_RATIO} × quota, ≤ ${GOAL_THROTTLED * 100} % of posts answered 429, every client exactly once, nothing failed`,
      pass,
      table: {
        headers: ['measure', 'min', 'median', 'max'],
        rows: [
          ['sustained / quota', fmt(ratio.min, 3), fmt(ratio.median, 3), fmt(ratio.max, 3)],
          [
            'posts answered 429 %',
            fmt(share.min * 100, 2),
            fmt(share.median * 100, 2),
            fmt(share.max * 100, 2),
          ],
          [
            '(diagnostic) engine alone / quota',
            fmt(engineRatio.min, 3),
            fmt(engineRatio.median, 3),
            fmt(engineRatio.max, 3),
          ],
          [
            '(diagnostic) engine alone 429 %',
            fmt(engineShare.min * 100, 2),
            fmt(engineShare.median * 100, 2),
            fmt(engineShare.max * 100, 2),
          ],
        ],
      },
      notes: [
        `every client exactly once: ${exactlyOnce ? 'yes' : 'NO'}; delivery records done with delivered ${CONNECTIONS}, failed 0: ${accounted ? 'yes' : 'NO'}`,
      ],
    };
  } finally {
    await clients?.stop();
    await runtime?.stop();
    await dynamo?.stop();
  }
}

export const quotaSection: Section = {
  name: 'quota',
  title: 'a 10,000-connection broadcast under a 1,000 posts/s @connections quota',
  run: runQuota,
};
