import { loadavg } from 'node:os';
import WebSocket from 'ws';
import { type LocalRuntime, startLocalRuntime } from '../../local/runtime';
import { postCallback, wecomCallbackRequest } from '../../local/wecom-client';
import { signToken } from '../../src/auth/token';
import {
  type BenchContext,
  type CollectingLog,
  collectingLog,
  distribution,
  fmt,
  median,
  nowMs,
  round,
  roundDistribution,
  type Section,
  type SectionResult,
  settle,
} from '../harness';

/** Download → logic chains timed, one at a time. */
const CHAINS = 200;
/** Chains run first and not counted. */
const CHAIN_WARMUP = 3;
/** Closed-loop submitters of `logic a b c` tasks. */
const SUBMITTERS = 4;
const THROUGHPUT_MS = 10_000;
/** The short-poll diagnostic: a second runtime whose queue visibility makes the poller short-poll. */
const DIAG_VISIBILITY_SECONDS = 1;
const DIAG_CHAINS = 30;
const DIAG_THROUGHPUT_MS = 5_000;
/** Longest wait for one task's terminal update before the section gives up. */
const TASK_TIMEOUT_MS = 30_000;
const QUEUE_VISIBILITY_SECONDS = 30;
/**
 * Each chat message comes from its own group chat (its own robot webhook on the local receiver),
 * so the robot limit of 20 messages a minute per webhook never defers a notification: with one
 * webhook for all, ~380 of the 400 notifications of the run would be re-queued (delayed up to
 * 60 s) onto the very queues being measured, and released together at each minute boundary.
 */
const CHAT_PER_TASK = true;
/** The secret the bench runtimes sign with (exported for sections that mint their own tokens). */
export const SECRET = `bench-secret-${'0123456789'.repeat(4)}`;

/** The terminal update of a task, as the observer saw it. */
export interface Final {
  readonly at: number;
  readonly status: string;
  readonly taskId: string;
  readonly error?: string;
}

/**
 * An `http` observer connection (docs/protocol.md: sees every task's updates). Records when each
 * task's terminal `task.update` arrived (monotonic ms, taken in the `message` event), keyed by
 * task id and, for chained tasks, by `child:<parentTaskId>`.
 */
export class Observer {
  private readonly finals = new Map<string, Final>();
  private readonly waiters = new Map<string, (f: Final) => void>();
  private readonly replies = new Map<string, (f: Record<string, unknown>) => void>();
  public updates = 0;
  /**
   * Called with every `task.update` frame and its arrival time, for sections that need
   * non-terminal updates too (e.g. a task's `running` after a failover); unset by default.
   */
  public onUpdate: ((frame: Readonly<Record<string, unknown>>, at: number) => void) | undefined;

  private constructor(private readonly socket: WebSocket) {
    socket.on('message', (data: WebSocket.RawData) => {
      const at = nowMs();
      const frame = JSON.parse(data.toString()) as Record<string, unknown>;
      const requestId = frame.requestId;
      if (typeof requestId === 'string') {
        this.replies.get(requestId)?.(frame);
        this.replies.delete(requestId);
      }
      if (frame.type !== 'task.update') return;
      this.updates++;
      this.onUpdate?.(frame, at);
      const { taskId, status, parentTaskId, error } = frame;
      if (typeof taskId !== 'string' || typeof status !== 'string') return;
      if (status !== 'succeeded' && status !== 'failed') return;
      const final: Final = {
        at,
        status,
        taskId,
        ...(typeof error === 'string' ? { error } : {}),
      };
      this.settle(taskId, final);
      if (typeof parentTaskId === 'string') this.settle(`child:${parentTaskId}`, final);
    });
  }

  private settle(key: string, final: Final): void {
    if (this.finals.has(key)) return;
    this.finals.set(key, final);
    this.waiters.get(key)?.(final);
    this.waiters.delete(key);
  }

  /** Connects with a `worker` token and registers as an `http` observer. */
  public static async open(rt: LocalRuntime): Promise<Observer> {
    const token = await signToken({ sub: 'bench-observer', roles: ['worker'] }, SECRET);
    const socket = new WebSocket(`${rt.wsUrl}/?token=${encodeURIComponent(token)}`);
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('unexpected-response', (_req, res) =>
        reject(new Error(`observer upgrade refused: ${res.statusCode ?? '?'}`)),
      );
      socket.once('error', reject);
    });
    const observer = new Observer(socket);
    const reply = await observer.request({ action: 'register', clientType: 'http' });
    if (reply.type !== 'registered') {
      throw new Error(`observer register answered ${JSON.stringify(reply)}`);
    }
    return observer;
  }

  private request(frame: Record<string, unknown>): Promise<Record<string, unknown>> {
    const requestId = `bench-${Math.random().toString(36).slice(2)}`;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no reply to ${frame.action}`)), 5000);
      this.replies.set(requestId, (f) => {
        clearTimeout(timer);
        resolve(f);
      });
      this.socket.send(JSON.stringify({ ...frame, requestId }));
    });
  }

  /** The terminal update of a task id (or `child:<id>`), already seen or still to come. */
  public final(key: string, timeoutMs = TASK_TIMEOUT_MS): Promise<Final> {
    const seen = this.finals.get(key);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(key);
        reject(new Error(`no terminal task.update for ${key} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.set(key, (f) => {
        clearTimeout(timer);
        resolve(f);
      });
    });
  }

  public close(): Promise<void> {
    if (this.socket.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      this.socket.once('close', () => resolve());
      this.socket.terminate();
    });
  }
}

/** The final update if it is `succeeded`; throws with the task's error otherwise. */
export const succeeded = (f: Final): Final => {
  if (f.status !== 'succeeded') throw new Error(`task ${f.taskId} ${f.status}: ${f.error ?? ''}`);
  return f;
};

interface ChainTimes {
  /** POST → the passive reply read (the callback's own latency). */
  readonly replyMs: number[];
  /** POST → the observer sees the download's `succeeded`. */
  readonly downloadMs: number[];
  /** POST → the observer sees the chained logic task's `succeeded`. */
  readonly logicMs: number[];
  /** The download's `succeeded` → the logic task's `succeeded`. */
  readonly hopMs: number[];
}

/**
 * `download 12345` sent as WeCom would, one at a time: the next is sent once the observer has
 * seen this one's download succeed; the chained logic tasks finish meanwhile and are collected.
 */
async function measureChains(
  ctx: BenchContext,
  rt: LocalRuntime,
  observer: Observer,
  count: number,
  warmup: number,
  label: string,
): Promise<ChainTimes> {
  const url = `${rt.httpUrl}/wecom/callback`;
  const times: ChainTimes = { replyMs: [], downloadMs: [], logicMs: [], hopMs: [] };
  const logic: Promise<void>[] = [];
  const base = Date.now() * 1000;
  for (let i = 0; i < warmup + count; i++) {
    const counted = i >= warmup;
    const chat = `bench-chat-${i}`;
    const request = wecomCallbackRequest(rt.wecom, {
      text: 'download 12345',
      fromUser: 'bench',
      msgId: String(base + i),
      ...(CHAT_PER_TASK ? { chatId: chat, webhookUrl: `${rt.chat.url}&chat=${chat}` } : {}),
    });
    const t0 = nowMs();
    const answer = await postCallback(url, rt.wecom, request);
    const replied = nowMs();
    const taskId = /(t_[a-z2-7]{20})/.exec(answer.replyText ?? '')?.[1];
    if (answer.status !== 200 || taskId === undefined) {
      throw new Error(`callback answered ${answer.status}: ${answer.replyText ?? answer.body}`);
    }
    const download = succeeded(await observer.final(taskId));
    logic.push(
      observer.final(`child:${taskId}`).then((f) => {
        succeeded(f);
        if (!counted) return;
        times.logicMs.push(f.at - t0);
        times.hopMs.push(f.at - download.at);
      }),
    );
    if (!counted) continue;
    times.replyMs.push(replied - t0);
    times.downloadMs.push(download.at - t0);
    const done = times.downloadMs.length;
    if (done % 50 === 0 || done === count) {
      ctx.progress(`${label}: ${done}/${count} downloads, p50 ${fmt(median(times.downloadMs))} ms`);
    }
  }
  await Promise.all(logic);
  return times;
}

/** What a closed-loop throughput measurement counted. */
export interface Throughput {
  readonly completed: number;
  readonly seconds: number;
  readonly perSecond: number;
  /** POST /tasks → the observer sees `succeeded`. */
  readonly latencyMs: number[];
}

/** What a throughput submitter POSTs, and which observer key marks one unit done. */
export interface ThroughputMix {
  readonly taskType: string;
  readonly args: readonly string[];
  /** The observer key whose `succeeded` completes one unit (the task itself or its child). */
  readonly doneKey: (taskId: string) => string;
}

/** This section's mix: `logic a b c`, done when that task succeeds. */
const LOGIC_MIX: ThroughputMix = {
  taskType: 'logic',
  args: ['a', 'b', 'c'],
  doneKey: (taskId) => taskId,
};

/**
 * `submitters` closed loops (default `SUBMITTERS`): POST /tasks of the mix (default `logic a b
 * c`, admin token), wait for its `succeeded` at the observer, repeat until `durationMs` has
 * passed; the rate is the units completed over the time until the last one completed.
 */
export async function measureThroughput(
  rt: LocalRuntime,
  observer: Observer,
  durationMs: number,
  mix: ThroughputMix = LOGIC_MIX,
  submitters: number = SUBMITTERS,
): Promise<Throughput> {
  const admin = await signToken({ sub: 'bench-admin', roles: ['admin'] }, SECRET);
  const latencyMs: number[] = [];
  const submitOne = async () => {
    const t0 = nowMs();
    const res = await fetch(`${rt.httpUrl}/tasks`, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      body: JSON.stringify({ taskType: mix.taskType, args: mix.args }),
    });
    const body = (await res.json()) as { taskId?: unknown };
    if (res.status !== 202 || typeof body.taskId !== 'string') {
      throw new Error(`POST /tasks answered ${res.status}: ${JSON.stringify(body)}`);
    }
    const f = succeeded(await observer.final(mix.doneKey(body.taskId)));
    latencyMs.push(f.at - t0);
  };
  const start = nowMs();
  const deadline = start + durationMs;
  await Promise.all(
    Array.from({ length: submitters }, async () => {
      while (nowMs() < deadline) await submitOne();
    }),
  );
  const seconds = (nowMs() - start) / 1000;
  return { completed: latencyMs.length, seconds, perSecond: latencyMs.length / seconds, latencyMs };
}

interface Run {
  readonly chains: ChainTimes;
  readonly throughput: Throughput;
  readonly chatMessages: number;
  readonly log: CollectingLog;
}

async function runOn(
  ctx: BenchContext,
  visibilitySeconds: number,
  chains: number,
  throughputMs: number,
  label: string,
): Promise<Run> {
  const log = collectingLog();
  let runtime: LocalRuntime | undefined;
  let observer: Observer | undefined;
  try {
    runtime = await startLocalRuntime({
      authSecret: SECRET,
      log,
      queueVisibilitySeconds: visibilitySeconds,
    });
    observer = await Observer.open(runtime);
    await settle();
    const chainTimes = await measureChains(ctx, runtime, observer, chains, CHAIN_WARMUP, label);
    await settle();
    const throughput = await measureThroughput(runtime, observer, throughputMs);
    ctx.progress(
      `${label}: ${throughput.completed} logic tasks in ${fmt(throughput.seconds, 1)} s with ${SUBMITTERS} submitters = ${fmt(throughput.perSecond, 1)}/s`,
    );
    return { chains: chainTimes, throughput, chatMessages: runtime.chat.received.length, log };
  } finally {
    await observer?.close();
    await runtime?.stop();
  }
}

const ms = (v: number) => `${fmt(v)} ms`;

async function runTasks(ctx: BenchContext): Promise<SectionResult> {
  // Other work on the machine shows up in the tails; the load average is kept with the figures.
  const loadStart = loadavg()[0] ?? 0;
  const main = await runOn(ctx, QUEUE_VISIBILITY_SECONDS, CHAINS, THROUGHPUT_MS, 'visibility 30 s');
  const diag = await runOn(
    ctx,
    DIAG_VISIBILITY_SECONDS,
    DIAG_CHAINS,
    DIAG_THROUGHPUT_MS,
    `diagnostic, visibility ${DIAG_VISIBILITY_SECONDS} s`,
  );

  const download = distribution(main.chains.downloadMs);
  const logic = distribution(main.chains.logicMs);
  const hop = distribution(main.chains.hopMs);
  const reply = distribution(main.chains.replyMs);
  const tput = distribution(main.throughput.latencyMs);
  const dDownload = distribution(diag.chains.downloadMs);
  const dLogic = distribution(diag.chains.logicMs);
  const dTput = distribution(diag.throughput.latencyMs);
  const warnings = main.log.count + diag.log.count;
  const deferred =
    (main.log.infoCounts.get('chat notification deferred') ?? 0) +
    (diag.log.infoCounts.get('chat notification deferred') ?? 0);

  return {
    figures: {
      queueVisibilitySeconds: QUEUE_VISIBILITY_SECONDS,
      chains: CHAINS,
      chainWarmup: CHAIN_WARMUP,
      downloadSucceededMs: roundDistribution(download, 1),
      logicSucceededMs: roundDistribution(logic, 1),
      downloadToLogicHopMs: roundDistribution(hop, 1),
      callbackReplyMs: roundDistribution(reply, 2),
      throughput: {
        submitters: SUBMITTERS,
        durationTargetSeconds: THROUGHPUT_MS / 1000,
        completed: main.throughput.completed,
        seconds: round(main.throughput.seconds, 2),
        tasksPerSecond: round(main.throughput.perSecond, 2),
        latencyMs: roundDistribution(tput, 1),
      },
      shortPollDiagnostic: {
        queueVisibilitySeconds: DIAG_VISIBILITY_SECONDS,
        chains: DIAG_CHAINS,
        downloadSucceededMs: roundDistribution(dDownload, 1),
        logicSucceededMs: roundDistribution(dLogic, 1),
        throughput: {
          submitters: SUBMITTERS,
          durationTargetSeconds: DIAG_THROUGHPUT_MS / 1000,
          completed: diag.throughput.completed,
          seconds: round(diag.throughput.seconds, 2),
          tasksPerSecond: round(diag.throughput.perSecond, 2),
          latencyMs: roundDistribution(dTput, 1),
        },
      },
      chatMessagesReceived: main.chatMessages,
      chatNotificationsDeferred: deferred,
      chatPerTask: CHAT_PER_TASK,
      loadAverage1mStartEnd: [round(loadStart, 2), round(loadavg()[0] ?? 0, 2)],
      logWarningsAndErrors: warnings,
      logSample: [...main.log.entries, ...diag.log.entries].slice(0, 10),
      method:
        'startLocalRuntime({ queueVisibilitySeconds: 30 }) with workers on and an `http` observer WebSocket (worker token, register clientType http). Chains: `download 12345` (default server = the sample server) encrypted as WeCom does and POSTed to /wecom/callback (postCallback), one at a time: the next is sent once the observer has seen this download succeed; times run from before the POST to the observer receiving the `succeeded` task.update of the download and of its chained logic task; 3 warm-up chains not counted; each message from its own group chat webhook (no robot rate-limit deferrals). Throughput: 4 closed-loop submitters POST /tasks {taskType: logic, args: [a,b,c]} with an admin token and wait for the observer to see `succeeded`, for 10 s; rate = completed / time until the last completion. Diagnostic: the same on a fresh runtime with queueVisibilitySeconds 1, which makes the local poller short-poll (30 chains, 5 s).',
    },
    table: {
      headers: ['measure', 'p50', 'p99', 'mean'],
      rows: [
        ['POST callback → reply', ms(reply.p50), ms(reply.p99), ms(reply.mean)],
        [
          'POST callback → download succeeded',
          ms(download.p50),
          ms(download.p99),
          ms(download.mean),
        ],
        ['POST callback → chained logic succeeded', ms(logic.p50), ms(logic.p99), ms(logic.mean)],
        ['download succeeded → logic succeeded', ms(hop.p50), ms(hop.p99), ms(hop.mean)],
        ['POST /tasks logic → succeeded (4 submitters)', ms(tput.p50), ms(tput.p99), ms(tput.mean)],
        [
          `(diag, visibility ${DIAG_VISIBILITY_SECONDS} s) → download succeeded`,
          ms(dDownload.p50),
          ms(dDownload.p99),
          ms(dDownload.mean),
        ],
        [`(diag) → chained logic succeeded`, ms(dLogic.p50), ms(dLogic.p99), ms(dLogic.mean)],
        [`(diag) POST /tasks logic → succeeded`, ms(dTput.p50), ms(dTput.p99), ms(dTput.mean)],
      ],
    },
    notes: [
      `throughput: ${main.throughput.completed} logic tasks in ${fmt(main.throughput.seconds, 1)} s with ${SUBMITTERS} closed-loop submitters = ${fmt(main.throughput.perSecond, 1)} tasks/s (diagnostic with visibility ${DIAG_VISIBILITY_SECONDS} s: ${fmt(diag.throughput.perSecond, 1)} tasks/s)`,
      `queue hops: the local pollers short-poll (pollWaitSeconds 0: local-aws-sqs holds a long poll to its end even when a message arrives, which would add up to 1 s per hop), pausing 100 ms when a queue is empty; so a hop costs ≤ ~100 ms plus the work`,
      `chat: ${main.chatMessages} robot messages received in the main run; ${deferred} notifications deferred by the rate limit`,
      ...(warnings > 0
        ? [
            `${warnings} runtime warnings/errors, first: ${[...main.log.entries, ...diag.log.entries].slice(0, 3).join(' | ')}`,
          ]
        : []),
    ],
  };
}

export const tasksSection: Section = {
  name: 'tasks',
  title: 'Task latency (WeCom download → logic) and throughput through the local runtime',
  run: runTasks,
};
