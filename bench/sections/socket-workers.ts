import { type ChildProcess, spawn } from 'node:child_process';
import { loadavg } from 'node:os';
import { type LocalRuntime, startLocalRuntime } from '../../local/runtime';
import { SAMPLE_CREDENTIALS, SLOW_DATASET } from '../../local/sample-server';
import { signToken } from '../../src/auth/token';
import type { PlacementSettings } from '../../src/tasks/socket/placement';
import {
  type BenchContext,
  type CollectingLog,
  collectingLog,
  fmt,
  median,
  nowMs,
  round,
  type Section,
  type SectionResult,
  settle,
} from '../harness';
import {
  measureThroughput,
  Observer,
  SECRET,
  succeeded,
  type Throughput,
  type ThroughputMix,
} from './tasks';

/**
 * Socket workers (`npm run worker`, worker/) against the Lambda workers on the local runtime:
 * (a) chains per second of the tasks section's download → logic mix through two socket-worker
 * child processes vs through the runtime's Lambda workers, and (b) how long after a socket
 * worker is SIGKILLed mid-task its task is running again on the other worker.
 */

/** Rounds of (a); each is one Lambda and one socket measurement, the order alternating. */
const ROUNDS = 3;
/** Closed-loop submitters, as the tasks section's throughput. */
const SUBMITTERS = 4;
const THROUGHPUT_MS = 10_000;
/** Socket workers in (a), and the slots each offers. */
const SOCKET_WORKERS = 2;
const SOCKET_CONCURRENCY = 4;
/** Lease of (a): long, so no lease lapses during a measurement. */
const THROUGHPUT_LEASE_SECONDS = 30;
/** Lease of (b): the failover goal is this plus {@link FAILOVER_SLACK_SECONDS}. */
const FAILOVER_LEASE_SECONDS = 5;
const FAILOVER_SLACK_SECONDS = 5;
const FAILOVER_ROUNDS = 3;
/** Tries of one failover round before giving up (a try is lost when the spare starts too late). */
const FAILOVER_TRIES = 3;
/** A bound on a worker process's start (tsx compiles on first start): not a speed. */
const WORKER_START_BOUND_MS = 90_000;
/** A bound on waits for task states in (b): not a speed. */
const WAIT_BOUND_MS = 60_000;

/**
 * The tasks section's chain (`download 12345`, which chains a logic task), submitted by POST
 * /tasks so closed-loop submitters can drive it; one unit is done when the chained logic task
 * succeeds.
 */
const CHAIN_MIX: ThroughputMix = {
  taskType: 'download',
  args: ['12345'],
  doneKey: (taskId) => `child:${taskId}`,
};

/** Placement of download and logic on socket workers only. */
const websocketPlacement = (leaseSeconds: number): Partial<PlacementSettings> => ({
  placement: { download: 'websocket', logic: 'websocket' },
  leaseSeconds,
  placementTimeoutSeconds: 300,
});

// ---------------------------------------------------------------------------------------------
// Worker child processes

/** A `scripts/worker.ts` child and what it printed. */
class WorkerProcess {
  private stdout = '';
  private stderrRest = '';
  /** The JSON lines of its stderr log, with the monotonic time each arrived. */
  public readonly logLines: { readonly at: number; readonly line: Record<string, unknown> }[] = [];
  private readonly lineWaiters: (() => void)[] = [];
  public readonly exited: Promise<void>;

  private constructor(
    public readonly name: string,
    private readonly child: ChildProcess,
  ) {
    child.stdout?.on('data', (d: Buffer) => {
      this.stdout += d.toString();
      this.wake();
    });
    child.stderr?.on('data', (d: Buffer) => this.readStderr(d.toString()));
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    void this.exited.then(() => this.wake());
  }

  /**
   * Spawns the worker as `npm run worker` runs it, in its own process group (as the integration
   * test does), and resolves once it printed that it registered.
   */
  public static async start(
    ctx: BenchContext,
    rt: LocalRuntime,
    name: string,
    concurrency: number,
  ): Promise<WorkerProcess> {
    const token = await signToken({ sub: name, roles: ['worker'] }, SECRET);
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'scripts/worker.ts',
        '--url',
        rt.wsUrl,
        '--token',
        token,
        '--type',
        'download,logic',
        '--concurrency',
        String(concurrency),
        '--artifacts',
        rt.artifactsRoot,
        '--servers',
        JSON.stringify({ local: { baseUrl: rt.sampleServerUrl, path: '/datasets/{dsNumber}' } }),
        '--credentials',
        JSON.stringify({ local: SAMPLE_CREDENTIALS }),
      ],
      { cwd: ctx.root, env: { ...process.env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true },
    );
    const worker = new WorkerProcess(name, child);
    try {
      await worker.until(
        () => /worker: ready, registered as connection \S+/.test(worker.stdout),
        WORKER_START_BOUND_MS,
        'registered',
      );
    } catch (e) {
      await worker.stop();
      throw e;
    }
    return worker;
  }

  public get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  private readStderr(text: string): void {
    const at = nowMs();
    const lines = (this.stderrRest + text).split('\n');
    this.stderrRest = lines.pop() ?? '';
    for (const raw of lines) {
      if (!raw.startsWith('{')) continue;
      try {
        this.logLines.push({ at, line: JSON.parse(raw) as Record<string, unknown> });
      } catch {
        // A line that is not JSON is no log record of the worker: skip it.
      }
    }
    this.wake();
  }

  private wake(): void {
    for (const w of this.lineWaiters.splice(0)) w();
  }

  /** When it logged `msg` for a task (monotonic ms), if it did. */
  public loggedAt(msg: string, taskId: string): number | undefined {
    return this.logLines.find((l) => l.line.msg === msg && l.line.taskId === taskId)?.at;
  }

  /** Resolves once `condition` holds (checked at each output); rejects on exit or the bound. */
  public async until(condition: () => boolean, boundMs: number, what: string): Promise<void> {
    const deadline = nowMs() + boundMs;
    while (!condition()) {
      if (!this.running)
        throw new Error(`worker ${this.name} exited before ${what}:\n${this.tail()}`);
      const left = deadline - nowMs();
      if (left <= 0)
        throw new Error(`worker ${this.name}: no ${what} in ${boundMs} ms:\n${this.tail()}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 1000));
        this.lineWaiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  private tail(): string {
    return `${this.stdout.slice(-2000)}\n${this.stderrRest.slice(-2000)}`;
  }

  /** SIGKILLs its process group at once (the failover's crash); returns the kill time. */
  public kill(): number {
    const at = nowMs();
    this.signal('SIGKILL');
    return at;
  }

  private signal(signal: NodeJS.Signals): void {
    const pid = this.child.pid;
    if (pid === undefined) return;
    try {
      process.kill(-pid, signal);
    } catch {
      // No process left in the group: nothing to signal.
    }
  }

  /** SIGTERM (the worker drains), then SIGKILL after `graceMs` if it is still running. */
  public async stop(graceMs = 5000): Promise<void> {
    if (!this.running) return;
    this.signal('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), graceMs);
    });
    const exited = await Promise.race([this.exited.then(() => true), grace]);
    clearTimeout(timer);
    if (!exited) {
      this.signal('SIGKILL');
      await this.exited;
    }
  }
}

/** Stops every worker (SIGTERM, SIGKILL fallback), whatever state each is in. */
const stopAll = (workers: readonly WorkerProcess[]) =>
  Promise.all(workers.map((w) => w.stop().catch(() => undefined)));

// ---------------------------------------------------------------------------------------------
// (a) throughput

type Config = 'lambda' | 'socket';

interface Measurement {
  readonly throughput: Throughput;
  readonly placement: PlacementSettings;
  readonly log: CollectingLog;
}

/** One throughput measurement on a fresh runtime in the given configuration. */
async function measureConfig(
  ctx: BenchContext,
  config: Config,
  label: string,
): Promise<Measurement> {
  const log = collectingLog();
  let runtime: LocalRuntime | undefined;
  let observer: Observer | undefined;
  const workers: WorkerProcess[] = [];
  try {
    runtime = await startLocalRuntime({
      authSecret: SECRET,
      log,
      queueVisibilitySeconds: 30,
      ...(config === 'socket' ? { placement: websocketPlacement(THROUGHPUT_LEASE_SECONDS) } : {}),
    });
    if (config === 'socket') {
      // Started one after the other: two tsx compiles at once on 2 cores only start slower.
      for (let i = 0; i < SOCKET_WORKERS; i++) {
        workers.push(
          await WorkerProcess.start(ctx, runtime, `bench-worker-${i}`, SOCKET_CONCURRENCY),
        );
      }
    }
    observer = await Observer.open(runtime);
    await settle();
    const throughput = await measureThroughput(
      runtime,
      observer,
      THROUGHPUT_MS,
      CHAIN_MIX,
      SUBMITTERS,
    );
    ctx.progress(
      `${label} ${config}: ${throughput.completed} chains in ${fmt(throughput.seconds, 1)} s = ${fmt(throughput.perSecond, 1)}/s`,
    );
    return { throughput, placement: runtime.placement, log };
  } finally {
    await stopAll(workers);
    await observer?.close();
    await runtime?.stop();
  }
}

interface Round {
  readonly order: readonly Config[];
  readonly lambda: Measurement;
  readonly socket: Measurement;
  readonly ratio: number;
}

async function throughputRounds(ctx: BenchContext): Promise<Round[]> {
  const rounds: Round[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    // Alternating which goes first, so a drift of the machine's load does not favour one.
    const order: Config[] = r % 2 === 0 ? ['lambda', 'socket'] : ['socket', 'lambda'];
    const got = new Map<Config, Measurement>();
    for (const config of order) {
      got.set(config, await measureConfig(ctx, config, `round ${r + 1}/${ROUNDS}`));
      await settle(200);
    }
    const lambda = got.get('lambda');
    const socket = got.get('socket');
    if (!lambda || !socket) throw new Error('a configuration was not measured');
    rounds.push({
      order,
      lambda,
      socket,
      ratio: socket.throughput.perSecond / lambda.throughput.perSecond,
    });
  }
  return rounds;
}

// ---------------------------------------------------------------------------------------------
// (b) failover

interface Failover {
  /** SIGKILL → the observer sees the task's next `running` (it is held again). */
  readonly killToRunningMs: number;
  /** SIGKILL → the observer sees the task go back to `queued`, if it did. */
  readonly killToQueuedMs: number | undefined;
  /** SIGKILL → the surviving worker logged `task run started` for it. */
  readonly killToRunStartedMs: number | undefined;
  /** The task's attempt once it succeeded (GET /tasks/{taskId}). */
  readonly attempt: number;
  /** Which try of the round this was (a try is lost when the task ends before the kill). */
  readonly tries: number;
}

/** The task record's status and attempt, as `GET /tasks/{taskId}` answers it (admin). */
async function taskRecord(
  rt: LocalRuntime,
  admin: string,
  taskId: string,
): Promise<{ status: string; attempt: number }> {
  const res = await fetch(`${rt.httpUrl}/tasks/${taskId}`, {
    headers: { authorization: `Bearer ${admin}` },
  });
  const body = (await res.json()) as { status?: unknown; attempt?: unknown };
  if (res.status !== 200) throw new Error(`GET /tasks/${taskId} answered ${res.status}`);
  return { status: String(body.status), attempt: Number(body.attempt) };
}

async function submitDownload(rt: LocalRuntime, admin: string, dsNumber: string): Promise<string> {
  const res = await fetch(`${rt.httpUrl}/tasks`, {
    method: 'POST',
    headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
    body: JSON.stringify({ taskType: 'download', args: [dsNumber] }),
  });
  const body = (await res.json()) as { taskId?: unknown };
  if (res.status !== 202 || typeof body.taskId !== 'string') {
    throw new Error(`POST /tasks answered ${res.status}: ${JSON.stringify(body)}`);
  }
  return body.taskId;
}

/**
 * One failover round on a fresh runtime: worker A (concurrency 1) runs a slow download, worker
 * B starts and registers, A is SIGKILLed, and the time until the task runs again is taken.
 */
async function failoverRound(ctx: BenchContext, label: string): Promise<Failover> {
  const log = collectingLog();
  let runtime: LocalRuntime | undefined;
  let observer: Observer | undefined;
  const workers: WorkerProcess[] = [];
  try {
    runtime = await startLocalRuntime({
      authSecret: SECRET,
      log,
      placement: websocketPlacement(FAILOVER_LEASE_SECONDS),
      // As the integration test: no connection sweep, so only the kill ends A's connection.
      connectionSweepMs: 0,
    });
    const rt = runtime;
    const admin = await signToken({ sub: 'bench-admin', roles: ['admin'] }, SECRET);
    observer = await Observer.open(rt);
    const updates: { at: number; taskId: string; status: string }[] = [];
    observer.onUpdate = (frame, at) =>
      void updates.push({ at, taskId: String(frame.taskId), status: String(frame.status) });

    let holder = await WorkerProcess.start(ctx, rt, 'bench-worker-a', 1);
    workers.push(holder);
    for (let tries = 1; tries <= FAILOVER_TRIES; tries++) {
      const taskId = await submitDownload(rt, admin, SLOW_DATASET);
      // On the first try only A is up, so A holds it; on a retry both are and either may.
      const runsOn = () =>
        workers.find((w) => w.loggedAt('task run started', taskId) !== undefined);
      await holder.until(() => runsOn() !== undefined, WAIT_BOUND_MS, `run of ${taskId}`);
      holder = runsOn() ?? holder;
      if (workers.length < 2) {
        workers.push(await WorkerProcess.start(ctx, rt, 'bench-worker-b', 1));
      }
      const spare = workers.find((w) => w !== holder && w.running);
      if (!spare) throw new Error('no spare worker to fail over to');
      if (holder.loggedAt('task finished', taskId) !== undefined) {
        // The slow download (~4 s) ended before B was up: try again with both registered.
        ctx.progress(`${label}: ${taskId} finished before the kill (try ${tries}), again`);
        await observer.final(`child:${taskId}`);
        continue;
      }
      const killedAt = holder.kill();
      const running = () =>
        updates.find((u) => u.taskId === taskId && u.status === 'running' && u.at > killedAt);
      await spare.until(() => running() !== undefined, WAIT_BOUND_MS, `running again of ${taskId}`);
      const queued = updates.find(
        (u) => u.taskId === taskId && u.status === 'queued' && u.at > killedAt,
      );
      succeeded(await observer.final(taskId, WAIT_BOUND_MS));
      const record = await taskRecord(rt, admin, taskId);
      const started = spare.loggedAt('task run started', taskId);
      const result: Failover = {
        killToRunningMs: (running()?.at ?? Number.NaN) - killedAt,
        killToQueuedMs: queued ? queued.at - killedAt : undefined,
        killToRunStartedMs: started !== undefined ? started - killedAt : undefined,
        attempt: record.attempt,
        tries,
      };
      ctx.progress(
        `${label}: SIGKILL → running again ${fmt(result.killToRunningMs)} ms (attempt ${record.attempt})`,
      );
      return result;
    }
    throw new Error(`the slow download ended before the kill in ${FAILOVER_TRIES} tries`);
  } finally {
    await stopAll(workers);
    await observer?.close();
    await runtime?.stop();
  }
}

// ---------------------------------------------------------------------------------------------
// The section

/** min / median / max of a sample, rounded. */
const spread = (values: readonly number[], decimals = 2) => ({
  min: round(Math.min(...values), decimals),
  median: round(median(values), decimals),
  max: round(Math.max(...values), decimals),
});

async function runSocketWorkers(ctx: BenchContext): Promise<SectionResult> {
  // Other work on the machine moves these figures; the load average is kept with them.
  const loadStart = loadavg()[0] ?? 0;
  const rounds = await throughputRounds(ctx);
  const failovers: Failover[] = [];
  for (let r = 0; r < FAILOVER_ROUNDS; r++) {
    failovers.push(await failoverRound(ctx, `failover ${r + 1}/${FAILOVER_ROUNDS}`));
  }

  const ratios = rounds.map((r) => r.ratio);
  const lambdaRates = rounds.map((r) => r.lambda.throughput.perSecond);
  const socketRates = rounds.map((r) => r.socket.throughput.perSecond);
  const failoverSeconds = failovers.map((f) => f.killToRunningMs / 1000);
  const ratioPass = median(ratios) >= 1.0;
  const failoverBound = FAILOVER_LEASE_SECONDS + FAILOVER_SLACK_SECONDS;
  const failoverPass = median(failoverSeconds) <= failoverBound;
  const logs = rounds.flatMap((r) => [r.lambda.log, r.socket.log]);
  const warnings = logs.reduce((n, l) => n + l.count, 0);
  const s = (v: { min: number; median: number; max: number }, unit = '') => [
    `${fmt(v.min, 2)}${unit}`,
    `${fmt(v.median, 2)}${unit}`,
    `${fmt(v.max, 2)}${unit}`,
  ];

  const ratioSpread = spread(ratios, 3);
  const lambdaSpread = spread(lambdaRates);
  const socketSpread = spread(socketRates);
  const failoverSpread = spread(failoverSeconds, 3);
  const perRound = (m: Measurement) => ({
    completedChains: m.throughput.completed,
    seconds: round(m.throughput.seconds, 2),
    chainsPerSecond: round(m.throughput.perSecond, 2),
  });

  return {
    figures: {
      throughput: {
        unit: 'chains per second (a chain = download 12345 + its chained logic task; 2 tasks)',
        submitters: SUBMITTERS,
        durationTargetSeconds: THROUGHPUT_MS / 1000,
        socketWorkers: SOCKET_WORKERS,
        socketWorkerConcurrency: SOCKET_CONCURRENCY,
        leaseSeconds: THROUGHPUT_LEASE_SECONDS,
        ratioSocketOverLambda: ratioSpread,
        lambdaChainsPerSecond: lambdaSpread,
        socketChainsPerSecond: socketSpread,
        rounds: rounds.map((r) => ({
          order: r.order.join(' then '),
          lambda: perRound(r.lambda),
          socket: perRound(r.socket),
          ratio: round(r.ratio, 3),
        })),
        lambdaPlacement: rounds[0]?.lambda.placement.placement ?? null,
        pass: ratioPass,
      },
      failover: {
        leaseSeconds: FAILOVER_LEASE_SECONDS,
        goalSeconds: failoverBound,
        killToRunningAgainSeconds: failoverSpread,
        rounds: failovers.map((f) => ({
          killToRunningMs: round(f.killToRunningMs, 1),
          killToQueuedMs: f.killToQueuedMs === undefined ? null : round(f.killToQueuedMs, 1),
          killToRunStartedOnSpareMs:
            f.killToRunStartedMs === undefined ? null : round(f.killToRunStartedMs, 1),
          attempt: f.attempt,
          tries: f.tries,
        })),
        pass: failoverPass,
      },
      loadAverage1mStartEnd: [round(loadStart, 2), round(loadavg()[0] ?? 0, 2)],
      logWarningsAndErrors: warnings,
      logSample: logs.flatMap((l) => l.entries).slice(0, 10),
      method:
        `(a) ${ROUNDS} rounds, each a Lambda-worker and a socket-worker measurement (order alternating), each on a fresh startLocalRuntime({ queueVisibilitySeconds: 30 }): Lambda = default placement; socket = placement { download: websocket, logic: websocket }, lease ${THROUGHPUT_LEASE_SECONDS} s, plus ${SOCKET_WORKERS} child processes \`node --import tsx scripts/worker.ts --type download,logic --concurrency ${SOCKET_CONCURRENCY}\` (as npm run worker; waited for until they print "ready, registered"). ${SUBMITTERS} closed-loop submitters POST /tasks {taskType: download, args: [12345]} (admin token) and wait for an http observer WebSocket to see the chained logic task succeed, for ${THROUGHPUT_MS / 1000} s; rate = chains completed / time until the last completion; ratio = socket ÷ lambda within a round. ` +
        `(b) ${FAILOVER_ROUNDS} rounds, each on a fresh runtime with both types placed websocket, lease ${FAILOVER_LEASE_SECONDS} s, connection sweep off: worker A (concurrency 1) starts, a download of the slow dataset ${SLOW_DATASET} (~4 s) is POSTed, once A logs "task run started" worker B starts and registers, A's process group is SIGKILLed; the figure is from the kill to the observer's next \`running\` task.update of that task (it is held again, by B); the task then succeeds at attempt 2. A try in which the download finished before B was up is repeated with both workers registered (tries counts them).`,
    },
    goal: `median socket ÷ Lambda chains/s ≥ 1.0, and median SIGKILL → running again ≤ ${failoverBound} s (lease ${FAILOVER_LEASE_SECONDS} s + ${FAILOVER_SLACK_SECONDS} s)`,
    pass: ratioPass && failoverPass,
    table: {
      headers: ['measure', 'min', 'median', 'max', 'goal', 'result'],
      rows: [
        ['socket ÷ Lambda chains/s', ...s(ratioSpread, 'x'), '≥ 1.0', ratioPass ? 'PASS' : 'FAIL'],
        ['Lambda workers: chains/s', ...s(lambdaSpread, '/s'), '', ''],
        [`${SOCKET_WORKERS} socket workers: chains/s`, ...s(socketSpread, '/s'), '', ''],
        [
          'SIGKILL → task running again',
          ...s(
            {
              min: failoverSpread.min * 1000,
              median: failoverSpread.median * 1000,
              max: failoverSpread.max * 1000,
            },
            ' ms',
          ),
          `≤ ${failoverBound * 1000} ms`,
          failoverPass ? 'PASS' : 'FAIL',
        ],
      ],
    },
    notes: [
      `a chain = download 12345 and its chained logic task (2 tasks); ${SUBMITTERS} closed-loop submitters, ${THROUGHPUT_MS / 1000} s per measurement; per round (lambda/socket chains/s): ${rounds.map((r) => `${fmt(r.lambda.throughput.perSecond, 1)}/${fmt(r.socket.throughput.perSecond, 1)}`).join(', ')}`,
      `failover rounds: ${failovers.map((f) => `${fmt(f.killToRunningMs)} ms (queued again after ${f.killToQueuedMs === undefined ? '—' : fmt(f.killToQueuedMs)} ms, attempt ${f.attempt}, try ${f.tries})`).join('; ')}`,
      ...(warnings > 0
        ? [
            `${warnings} runtime warnings/errors in (a), first: ${logs
              .flatMap((l) => l.entries)
              .slice(0, 3)
              .join(' | ')}`,
          ]
        : []),
    ],
  };
}

/** Socket workers vs Lambda workers (throughput), and a socket worker's SIGKILL failover. */
export const socketWorkersSection: Section = {
  name: 'socket-workers',
  title: 'Socket workers: chains/s vs Lambda workers, and SIGKILL → reassignment',
  run: runSocketWorkers,
};
