import { signToken } from '../../src/auth/token';
import {
  type BenchContext,
  fmt,
  type JsonObject,
  median,
  round,
  type Section,
  type SectionResult,
  verdict,
} from '../harness';
import { Child, DynamoProcess, type Reply, spread } from '../processes';

/**
 * Memory of the local runtime's WebSocket gateway. Measured in a process of its own
 * (bench/children/runtime.ts, forked with --expose-gc) with dynalite in another
 * (bench/children/dynalite.ts) and the clients in a third (bench/children/memory-clients.ts),
 * so the figures are the gateway's and the runtime's alone.
 *
 * 1. Idle: memory per idle registered connection, (memory with N open − memory before) / N on
 *    heapUsed + external after forced GC, vs a bare `ws` server (bench/children/bare-ws.ts)
 *    with the same clients; ROUNDS rounds, each in fresh processes.
 * 2. Soak: LIFETIMES connection lifetimes (connect, register, close) in waves; heapUsed after GC
 *    after the first CHECKPOINT lifetimes and at the end: the growth must stay bounded.
 */

const envInt = (name: string, fallback: number): number => {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${name} must be a positive integer`);
  return n;
};

const CONNECTIONS = envInt('BENCH_MEMORY_CONNECTIONS', 2000);
const LIFETIMES = envInt('BENCH_MEMORY_LIFETIMES', 20_000);
const ROUNDS = 3;
/** Connections opened and closed before the "before" figure, so lazy first-use state is in it. */
const WARMUP_CONNECTIONS = 100;
const OPEN_PARALLEL = 100;
/** Soak lifetimes in flight at once (one wave). */
const SOAK_WAVE = 500;
/** The soak's early heap figure is taken after this many lifetimes. */
const CHECKPOINT = Math.min(2000, Math.floor(LIFETIMES / 2));
/** Distinct users the soak's connections belong to. */
const SOAK_USERS = 100;
/** No new soak wave starts after this (the soak must finish in a couple of minutes). */
const SOAK_BUDGET_MS = 150_000;
const GOAL_RATIO = 2.0;
const GOAL_GROWTH_MB = 5;
const SECRET = `bench-secret-${'0123456789'.repeat(4)}`;
const MEASURED_EXEC_ARGV = ['--expose-gc'];

const KB = 1024;
const MB = 1024 * 1024;

interface Memory {
  readonly heapUsed: number;
  readonly external: number;
  readonly arrayBuffers: number;
  readonly rss: number;
}

const memoryOf = (r: Reply): Memory => ({
  heapUsed: Number(r.heapUsed),
  external: Number(r.external),
  arrayBuffers: Number(r.arrayBuffers),
  rss: Number(r.rss),
});

/** Asks a measured child for its memory once it holds `live` connections. */
async function measure(server: Child, live: number): Promise<Memory> {
  return (await measureWithLog(server, live)).memory;
}

/** {@link measure}, with the runtime's warnings and errors so far (none from bare ws). */
async function measureWithLog(
  server: Child,
  live: number,
): Promise<{ memory: Memory; logCount: number; log: string[] }> {
  const r = await server.request({ op: 'measure', live }, 'measured', 60_000);
  if (Number(r.live) !== live) throw new Error(`server holds ${String(r.live)}, not ${live}`);
  return {
    memory: memoryOf(r),
    logCount: Number(r.logWarningsAndErrors ?? 0),
    log: Array.isArray(r.log) ? r.log.map(String) : [],
  };
}

/** The measured server (runtime with dynalite out of process, or bare ws) and its helpers. */
async function startServer(
  kind: 'runtime' | 'bare',
): Promise<{ server: Child; url: string; stop: () => Promise<void> }> {
  const procs: { stop(): Promise<void> }[] = [];
  const stop = async () => {
    // The measured server first, so closing the clients does not start a $disconnect storm.
    for (const p of procs.reverse()) await p.stop();
  };
  try {
    let env: Record<string, string> = {};
    if (kind === 'runtime') {
      const dynamo = await DynamoProcess.start();
      procs.push(dynamo);
      env = { BENCH_DYNAMO_ENDPOINT: dynamo.endpoint, BENCH_AUTH_SECRET: SECRET };
    }
    const server = await Child.start(kind === 'runtime' ? 'runtime.ts' : 'bare-ws.ts', {
      execArgv: MEASURED_EXEC_ARGV,
      env,
    });
    procs.push(server);
    return { server, url: String(server.readyReply.url), stop };
  } catch (e) {
    await stop();
    throw e;
  }
}

interface IdleRound {
  /** Bytes per connection on heapUsed + external. */
  readonly perConnection: number;
  readonly rssPerConnection: number;
  readonly heapPerConnection: number;
  readonly externalPerConnection: number;
  readonly openSeconds: number;
}

async function idleRound(kind: 'runtime' | 'bare', tokens: readonly string[]): Promise<IdleRound> {
  const { server, url, stop } = await startServer(kind);
  let clients: Child | undefined;
  try {
    clients = await Child.start('memory-clients.ts');
    const c = clients;
    const open = async (n: number) => {
      const r = await c.request(
        { op: 'open', url, tokens: tokens.slice(0, n), parallel: OPEN_PARALLEL },
        'opened',
        600_000,
      );
      if (Number(r.count) !== n) throw new Error(`${String(r.count)} of ${n} clients opened`);
      return Number(r.ms);
    };
    await open(WARMUP_CONNECTIONS);
    await c.request({ op: 'closeAll' }, 'closedAll');
    const before = await measure(server, 0);
    const ms = await open(tokens.length);
    const after = await measure(server, tokens.length);
    const n = tokens.length;
    return {
      perConnection: (after.heapUsed + after.external - before.heapUsed - before.external) / n,
      heapPerConnection: (after.heapUsed - before.heapUsed) / n,
      externalPerConnection: (after.external - before.external) / n,
      rssPerConnection: (after.rss - before.rss) / n,
      openSeconds: ms / 1000,
    };
  } finally {
    await stop();
    await clients?.stop();
  }
}

interface Soak {
  readonly completed: number;
  readonly failed: number;
  readonly firstError: string | undefined;
  readonly early: Memory;
  readonly end: Memory;
  readonly afterLifetimes: number;
  readonly seconds: number;
  readonly truncated: boolean;
  /** The runtime's warnings and errors over the soak: why a lifetime failed. */
  readonly logCount: number;
  readonly log: readonly string[];
}

async function soak(ctx: BenchContext): Promise<Soak> {
  const tokens = await Promise.all(
    Array.from({ length: SOAK_USERS }, (_, i) => signToken({ sub: `mem-soak-${i}` }, SECRET)),
  );
  const { server, url, stop } = await startServer('runtime');
  let clients: Child | undefined;
  try {
    clients = await Child.start('memory-clients.ts');
    const c = clients;
    const t0 = performance.now();
    const run = async (count: number, budgetMs: number) => {
      const r = await c.request(
        { op: 'soak', url, tokens, count, wave: SOAK_WAVE, budgetMs },
        'soaked',
        budgetMs + 300_000,
      );
      return {
        done: Number(r.done),
        failed: Number(r.failed),
        firstError: typeof r.firstError === 'string' ? r.firstError : undefined,
      };
    };
    const first = await run(CHECKPOINT, SOAK_BUDGET_MS);
    const early = await measure(server, 0);
    ctx.progress(
      `soak: ${fmt(first.done)} lifetimes, heapUsed ${fmt(early.heapUsed / MB, 2)} MB after GC`,
    );
    const rest = LIFETIMES - first.done - first.failed;
    const budget = Math.max(0, SOAK_BUDGET_MS - (performance.now() - t0));
    const second =
      rest > 0 ? await run(rest, budget) : { done: 0, failed: 0, firstError: undefined };
    const { memory: end, logCount, log } = await measureWithLog(server, 0);
    const completed = first.done + second.done;
    const failed = first.failed + second.failed;
    ctx.progress(
      `soak: ${fmt(completed)} lifetimes (${failed} failed), heapUsed ${fmt(end.heapUsed / MB, 2)} MB after GC`,
    );
    return {
      completed,
      failed,
      firstError: first.firstError ?? second.firstError,
      early,
      end,
      afterLifetimes: first.done + first.failed,
      seconds: (performance.now() - t0) / 1000,
      truncated: completed + failed < LIFETIMES,
      logCount,
      log,
    };
  } finally {
    await stop();
    await clients?.stop();
  }
}

const kbSpread = (values: readonly number[], decimals = 2): JsonObject => {
  const s = spread(values.map((v) => v / KB));
  return {
    min: round(s.min, decimals),
    median: round(s.median, decimals),
    max: round(s.max, decimals),
  };
};

async function runMemory(ctx: BenchContext): Promise<SectionResult> {
  const tokens = await Promise.all(
    Array.from({ length: CONNECTIONS }, (_, i) =>
      signToken({ sub: `mem-user-${String(i).padStart(5, '0')}` }, SECRET),
    ),
  );
  const gateway: IdleRound[] = [];
  const bare: IdleRound[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    // Alternating order, so drift in machine load lands on both alike.
    const order: ('runtime' | 'bare')[] = r % 2 === 0 ? ['bare', 'runtime'] : ['runtime', 'bare'];
    for (const kind of order) {
      const result = await idleRound(kind, tokens);
      (kind === 'runtime' ? gateway : bare).push(result);
      ctx.progress(
        `round ${r + 1}/${ROUNDS} ${kind === 'runtime' ? 'gateway' : 'bare ws'}: ${fmt(result.perConnection / KB, 2)} KB/connection (heap ${fmt(result.heapPerConnection / KB, 2)}, external ${fmt(result.externalPerConnection / KB, 2)}, rss ${fmt(result.rssPerConnection / KB, 2)})`,
      );
    }
  }
  const gatewayKB = median(gateway.map((g) => g.perConnection)) / KB;
  const bareKB = median(bare.map((b) => b.perConnection)) / KB;
  const idleRatio = gatewayKB / bareKB;
  const idlePass = idleRatio <= GOAL_RATIO;

  const s = await soak(ctx);
  const growthMB = (s.end.heapUsed - s.early.heapUsed) / MB;
  const measuredLifetimes = s.completed + s.failed - s.afterLifetimes;
  const per1000MB = measuredLifetimes > 0 ? growthMB / (measuredLifetimes / 1000) : 0;
  const soakPass = growthMB <= GOAL_GROWTH_MB && s.failed === 0;
  const pass = idlePass && soakPass;

  const idleGoal = `gateway ≤ ${GOAL_RATIO}× bare ws per idle registered connection (median of ${ROUNDS})`;
  const soakGoal = `heapUsed growth ≤ ${GOAL_GROWTH_MB} MB from lifetime ${fmt(s.afterLifetimes)} to ${fmt(LIFETIMES)}, none failed`;
  return {
    figures: {
      idleConnection: {
        connections: CONNECTIONS,
        rounds: ROUNDS,
        warmupConnections: WARMUP_CONNECTIONS,
        gatewayKBPerConnection: kbSpread(gateway.map((g) => g.perConnection)),
        baselineKBPerConnection: kbSpread(bare.map((b) => b.perConnection)),
        baseline:
          'a bare ws WebSocketServer in its own process answering the register frame, same clients',
        ratio: round(idleRatio, 2),
        goal: idleGoal,
        pass: idlePass,
        verdict: verdict(idlePass),
        gatewayHeapKBPerConnection: kbSpread(gateway.map((g) => g.heapPerConnection)),
        gatewayExternalKBPerConnection: kbSpread(gateway.map((g) => g.externalPerConnection)),
        baselineHeapKBPerConnection: kbSpread(bare.map((b) => b.heapPerConnection)),
        baselineExternalKBPerConnection: kbSpread(bare.map((b) => b.externalPerConnection)),
        gatewayRssKBPerConnection: kbSpread(gateway.map((g) => g.rssPerConnection)),
        baselineRssKBPerConnection: kbSpread(bare.map((b) => b.rssPerConnection)),
        rssRatio: round(
          median(gateway.map((g) => g.rssPerConnection)) /
            median(bare.map((b) => b.rssPerConnection)),
          2,
        ),
        gatewayOpenSeconds: round(median(gateway.map((g) => g.openSeconds)), 2),
        baselineOpenSeconds: round(median(bare.map((b) => b.openSeconds)), 2),
      },
      soak: {
        lifetimes: LIFETIMES,
        completed: s.completed,
        failed: s.failed,
        ...(s.firstError !== undefined ? { firstError: s.firstError } : {}),
        truncatedByTimeBudget: s.truncated,
        wave: SOAK_WAVE,
        seconds: round(s.seconds, 1),
        heapUsedAfterFirstMB: round(s.early.heapUsed / MB, 2),
        heapUsedAtEndMB: round(s.end.heapUsed / MB, 2),
        growthMB: round(growthMB, 2),
        growthMBPer1000Lifetimes: round(per1000MB, 3),
        baseline: `heapUsed after GC after the first ${fmt(s.afterLifetimes)} lifetimes`,
        ratio: round(s.end.heapUsed / s.early.heapUsed, 3),
        goal: soakGoal,
        pass: soakPass,
        verdict: verdict(soakPass),
        runtimeLogWarningsAndErrors: s.logCount,
        runtimeLogSample: s.log.slice(0, 5),
        externalGrowthMB: round((s.end.external - s.early.external) / MB, 2),
        rssGrowthMB: round((s.end.rss - s.early.rss) / MB, 2),
      },
      method:
        'measured process: bench/children/runtime.ts (startLocalRuntime with dynamoEndpoint of dynalite in bench/children/dynalite.ts, workers off, sweep off) or bench/children/bare-ws.ts (a plain ws WebSocketServer), forked with --expose-gc; clients in bench/children/memory-clients.ts, each registering ({"action":"register","clientType":"viewer"}) and waiting for registered; memory after 4 forced GCs; idle: (heapUsed+external with N open − before) / N after 100 connections opened and closed, 3 rounds in fresh processes, alternating order, goal on median(gateway)/median(bare); soak: connect, register, close in waves, heapUsed after GC after the first lifetimes and at the end.',
    },
    goal: `${idleGoal}; ${soakGoal}`,
    pass,
    table: {
      headers: ['measure', 'min', 'median', 'max', 'vs baseline', 'goal', 'result'],
      rows: [
        [
          'bare ws KB / idle connection',
          ...[spread(bare.map((b) => b.perConnection / KB))].flatMap((x) => [
            fmt(x.min, 2),
            fmt(x.median, 2),
            fmt(x.max, 2),
          ]),
          '1.00x',
          '',
          '',
        ],
        [
          'gateway KB / idle registered connection',
          ...[spread(gateway.map((g) => g.perConnection / KB))].flatMap((x) => [
            fmt(x.min, 2),
            fmt(x.median, 2),
            fmt(x.max, 2),
          ]),
          `${fmt(idleRatio, 2)}x`,
          `≤ ${fmt(GOAL_RATIO, 1)}x`,
          verdict(idlePass),
        ],
        [
          `soak heap growth MB (${fmt(s.completed)} lifetimes)`,
          '',
          fmt(growthMB, 2),
          '',
          `${fmt(per1000MB, 3)} MB/1000`,
          `≤ ${GOAL_GROWTH_MB} MB`,
          verdict(soakPass),
        ],
      ],
    },
    notes: [
      `idle: ${fmt(CONNECTIONS)} connections (BENCH_MEMORY_CONNECTIONS), heapUsed + external after GC; rss per connection: gateway ${fmt(median(gateway.map((g) => g.rssPerConnection)) / KB, 2)} KB, bare ws ${fmt(median(bare.map((b) => b.rssPerConnection)) / KB, 2)} KB`,
      `soak: ${fmt(s.completed)} of ${fmt(LIFETIMES)} lifetimes (BENCH_MEMORY_LIFETIMES) in waves of ${SOAK_WAVE}, ${s.failed} failed, ${fmt(s.seconds, 1)} s${s.truncated ? ` — stopped by the ${SOAK_BUDGET_MS / 1000} s budget` : ''}; heapUsed ${fmt(s.early.heapUsed / MB, 2)} MB after ${fmt(s.afterLifetimes)} → ${fmt(s.end.heapUsed / MB, 2)} MB at the end`,
      ...(s.firstError !== undefined ? [`first soak failure: ${s.firstError}`] : []),
      ...(s.logCount > 0
        ? [
            `runtime warnings/errors in the soak: ${s.logCount}, first: ${s.log.slice(0, 3).join(' | ')}`,
          ]
        : []),
    ],
  };
}

export const memorySection: Section = {
  name: 'memory',
  title: 'gateway memory per idle registered connection vs bare ws, and a connection soak',
  run: runMemory,
};
