import { loadavg } from 'node:os';
import { type LocalRuntime, startLocalRuntime } from '../../local/runtime';
import { type CallbackRequest, wecomCallbackRequest } from '../../local/wecom-client';
import { wecomKeysOf } from '../../lambdas/config/wecom-config';
import { type CallbackKeys, type CallbackQuery, openCallback } from '../../src/wecom/callback';
import { parseEnvelope } from '../../src/wecom/envelope';
import { parseMessage } from '../../src/wecom/message';
import {
  type BotRequest,
  botCallbackRequest,
  botRefresh,
  botText,
  postBot,
} from '../../local/wecom-bot-client';
import {
  type BenchContext,
  collectingLog,
  distribution,
  fmt,
  median,
  nowMs,
  round,
  roundDistribution,
  settle,
  type Section,
  type SectionResult,
} from '../harness';

/** Callbacks timed over HTTP (each a distinct MsgId, so each creates and queues a task). */
const CALLBACKS = 1000;
/** Callbacks sent first and not counted (JIT, sockets, dynalite's first writes). */
const HTTP_WARMUP = 50;
/** Untimed bare calls before the first bare pass. */
const BARE_WARMUP = 200;
const SECRET = `bench-secret-${'0123456789'.repeat(4)}`;
/** Bot refresh callbacks timed over HTTP, over {@link BOT_STREAMS} streams. */
const REFRESHES = 1000;
const BOT_STREAMS = 20;
const REFRESH_WARMUP = 50;
/** The goal for a refresh answer locally. */
const REFRESH_P99_GOAL_MS = 20;
/** MsgIds of the timed callbacks start here; the warm-up ones precede them. */
const MSG_ID_BASE = 7_000_000_000;

/** A prepared callback: the HTTP request and the same query already split for openCallback. */
interface Prepared {
  readonly request: CallbackRequest;
  readonly query: CallbackQuery;
}

function prepare(rt: LocalRuntime, index: number): Prepared {
  const request = wecomCallbackRequest(rt.wecom, {
    text: `download ${10_000 + index}`,
    fromUser: 'bench',
    msgId: String(MSG_ID_BASE + index),
  });
  const q = new URLSearchParams(request.query);
  return {
    request,
    query: {
      msgSignature: q.get('msg_signature') ?? '',
      timestamp: q.get('timestamp') ?? '',
      nonce: q.get('nonce') ?? '',
    },
  };
}

/** The bare cost: openCallback + parseMessage on every prepared request, each timed (µs). */
function barePass(keys: CallbackKeys, prepared: readonly Prepared[]): number[] {
  const out = new Array<number>(prepared.length);
  let texts = 0;
  for (let i = 0; i < prepared.length; i++) {
    const p = prepared[i] as Prepared;
    const start = process.hrtime.bigint();
    const opened = openCallback(keys, p.query, p.request.body);
    const inbound = parseMessage(opened.message);
    out[i] = Number(process.hrtime.bigint() - start) / 1e3;
    if (inbound.kind === 'text') texts++;
  }
  if (texts !== prepared.length) throw new Error(`bare pass: ${texts} of ${prepared.length} text`);
  return out;
}

/** One callback POST, timed from the request to the whole answer read (ms). */
async function post(
  url: string,
  p: Prepared,
): Promise<{ ms: number; status: number; body: string }> {
  const start = nowMs();
  const res = await fetch(`${url}?${p.request.query}`, {
    method: 'POST',
    headers: { 'content-type': 'application/xml' },
    body: p.request.body,
  });
  const body = await res.text();
  return { ms: nowMs() - start, status: res.status, body };
}

/** The task id in a passive reply (decrypted outside the timing). */
function taskIdOf(keys: CallbackKeys, body: string): string | undefined {
  const { message } = keys.cipher.decrypt(parseEnvelope(body).encrypt);
  return /(t_[a-z2-7]{20})/.exec(message)?.[1];
}

async function runCallback(ctx: BenchContext): Promise<SectionResult> {
  const log = collectingLog();
  // Other work on the machine shows up in the tails; the load average is kept with the figures.
  const loadStart = loadavg()[0] ?? 0;
  let runtime: LocalRuntime | undefined;
  try {
    runtime = await startLocalRuntime({ authSecret: SECRET, log, workers: false });
    const rt = runtime;
    const url = `${rt.httpUrl}/wecom/callback`;
    const keys = wecomKeysOf(rt.wecom, 'bench (runtime.wecom)');

    // Everything is encrypted and signed before any timing (a few hundred ms; WeCom's
    // timestamps stay well inside the callback's 300 s freshness window).
    const warmup = Array.from({ length: HTTP_WARMUP }, (_, i) => prepare(rt, i));
    const prepared = Array.from({ length: CALLBACKS }, (_, i) => prepare(rt, HTTP_WARMUP + i));

    // Warm-ups: the bare functions (results thrown away; they must not create tasks, so they
    // never touch HTTP), then a few real callbacks.
    barePass(keys, prepared.slice(0, BARE_WARMUP));
    for (const p of warmup) {
      const r = await post(url, p);
      if (r.status !== 200) throw new Error(`warm-up callback answered ${r.status}: ${r.body}`);
    }

    await settle();
    const bareBefore = barePass(keys, prepared);
    ctx.progress(`bare (before): p50 ${fmt(median(bareBefore), 1)} µs`);

    await settle();
    const httpMs: number[] = [];
    const bodies: string[] = [];
    const t0 = nowMs();
    for (const p of prepared) {
      const r = await post(url, p);
      if (r.status !== 200) throw new Error(`callback answered ${r.status}: ${r.body}`);
      httpMs.push(r.ms);
      bodies.push(r.body);
    }
    const httpWallSeconds = (nowMs() - t0) / 1000;
    ctx.progress(
      `${CALLBACKS} callbacks in ${fmt(httpWallSeconds, 1)} s: p50 ${fmt(median(httpMs), 2)} ms`,
    );

    // The intelligent bot: BOT_STREAMS `download` commands, half of their tasks set running
    // with progress (no workers run), then refresh callbacks as WeCom sends them (prepared
    // before timing), each answered with the task's state: one round of reads, then AES+SHA-1.
    const streamIds: string[] = [];
    for (let i = 0; i < BOT_STREAMS; i++) {
      const a = await postBot(
        `${rt.httpUrl}/wecom/bot`,
        rt.wecomBot,
        botCallbackRequest(rt.wecomBot, botText({ fromUser: 'bench' }, `download ${20_000 + i}`)),
      );
      const id = a.reply?.stream?.id;
      if (a.status !== 200 || !id) throw new Error(`bot command answered ${a.status}: ${a.body}`);
      streamIds.push(id);
      const taskId = id.split('.')[1] ?? '';
      if (i % 2 === 0) {
        await rt.tasks.transition(taskId, { to: 'running' });
        await rt.tasks.setProgress(taskId, 0.5);
      }
    }
    const refreshOf = (i: number): BotRequest =>
      botCallbackRequest(
        rt.wecomBot,
        botRefresh({ fromUser: 'bench' }, streamIds[i % BOT_STREAMS] ?? ''),
      );
    const refreshWarmup = Array.from({ length: REFRESH_WARMUP }, (_, i) => refreshOf(i));
    const refreshes = Array.from({ length: REFRESHES }, (_, i) => refreshOf(i));
    const botUrl = `${rt.httpUrl}/wecom/bot`;
    const postRefresh = async (request: BotRequest) => {
      const start = nowMs();
      const res = await fetch(`${botUrl}?${request.query}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: request.body,
      });
      const body = await res.text();
      if (res.status !== 200) throw new Error(`refresh answered ${res.status}: ${body}`);
      return nowMs() - start;
    };
    for (const r of refreshWarmup) await postRefresh(r);
    await settle();
    const refreshMs: number[] = [];
    for (const r of refreshes) refreshMs.push(await postRefresh(r));
    const refresh = distribution(refreshMs);
    ctx.progress(
      `${REFRESHES} bot refreshes: p50 ${fmt(refresh.p50, 2)} ms, p99 ${fmt(refresh.p99, 2)} ms`,
    );

    await settle();
    const bareAfter = barePass(keys, prepared);
    ctx.progress(`bare (after): p50 ${fmt(median(bareAfter), 1)} µs`);

    // Check: every callback answered with its own new task, and every task is queued.
    const ids = new Set(bodies.map((b) => taskIdOf(keys, b)));
    ids.delete(undefined);
    const counts = await rt.tasks.countByStatus();
    const expectedTasks = CALLBACKS + HTTP_WARMUP + Math.floor(BOT_STREAMS / 2);
    const allTasksCreated = ids.size === CALLBACKS && counts.queued === expectedTasks;

    const callback = distribution(httpMs);
    const bare = distribution([...bareBefore, ...bareAfter]);
    const before = distribution(bareBefore);
    const after = distribution(bareAfter);
    const ratio = callback.p50 / (bare.p50 / 1000);

    return {
      figures: {
        callbacks: CALLBACKS,
        httpWarmup: HTTP_WARMUP,
        callbackMs: roundDistribution(callback, 3),
        callbackWallSeconds: round(httpWallSeconds, 2),
        callbackP99Ms: round(callback.p99, 3),
        botRefreshes: REFRESHES,
        botStreams: BOT_STREAMS,
        botRefreshMs: roundDistribution(refresh, 3),
        botRefreshP99GoalMs: REFRESH_P99_GOAL_MS,
        botRefreshP99GoalMet: refresh.p99 <= REFRESH_P99_GOAL_MS,
        callbacksPerSecondSequential: round(CALLBACKS / httpWallSeconds, 1),
        bareMicros: roundDistribution(bare, 1),
        bareMicrosBefore: roundDistribution(before, 1),
        bareMicrosAfter: roundDistribution(after, 1),
        ratioCallbackP50ToBareP50: round(ratio, 1),
        distinctTaskIdsInReplies: ids.size,
        tasksQueued: counts.queued,
        allTasksCreated,
        loadAverage1mStartEnd: [round(loadStart, 2), round(loadavg()[0] ?? 0, 2)],
        logWarningsAndErrors: log.count,
        logSample: log.entries,
        method:
          'startLocalRuntime({ workers: false }); 1,000 `download <n>` text callbacks with distinct MsgIds, encrypted and signed as WeCom does (wecomCallbackRequest) before timing, POSTed one at a time with fetch to /wecom/callback, each timed from the request to the whole answer read; 50 untimed warm-up callbacks first. Bare: openCallback(keys, query, body) + parseMessage(message) on the same 1,000 prepared requests (keys = wecomKeysOf(runtime.wecom)), each timed with hrtime, once before and once after the HTTP pass; bare figures pool both passes (2,000 samples). Ratio = callback p50 / bare p50.',
      },
      table: {
        headers: ['measure', 'p50', 'p99', 'mean'],
        rows: [
          [
            'POST /wecom/callback (HTTP round trip)',
            `${fmt(callback.p50, 2)} ms`,
            `${fmt(callback.p99, 2)} ms`,
            `${fmt(callback.mean, 2)} ms`,
          ],
          [
            'POST /wecom/bot stream refresh (HTTP round trip)',
            `${fmt(refresh.p50, 2)} ms`,
            `${fmt(refresh.p99, 2)} ms`,
            `${fmt(refresh.mean, 2)} ms`,
          ],
          [
            'bare openCallback + parseMessage',
            `${fmt(bare.p50 / 1000, 3)} ms`,
            `${fmt(bare.p99 / 1000, 3)} ms`,
            `${fmt(bare.mean / 1000, 3)} ms`,
          ],
          [
            '  bare, pass before HTTP',
            `${fmt(before.p50, 1)} µs`,
            `${fmt(before.p99, 1)} µs`,
            `${fmt(before.mean, 1)} µs`,
          ],
          [
            '  bare, pass after HTTP',
            `${fmt(after.p50, 1)} µs`,
            `${fmt(after.p99, 1)} µs`,
            `${fmt(after.mean, 1)} µs`,
          ],
        ],
      },
      notes: [
        `callback p50 / bare p50 = ${fmt(ratio, 1)}x (${fmt(callback.p50, 2)} ms vs ${fmt(bare.p50, 1)} µs); ${CALLBACKS} sequential callbacks took ${fmt(httpWallSeconds, 1)} s (${fmt(CALLBACKS / httpWallSeconds, 0)}/s)`,
        'beyond the bare decrypt+parse, each callback pays: the HTTP round trip through the local HTTP API (fetch client, API Gateway v2 event built and zod-parsed), query parsing and the timestamp freshness check; parseCommand; submitTask = DynamoDB PutItem with attribute_not_exists (dynalite), SQS SendMessage (local-aws-sqs), DynamoDB UpdateItem (markEnqueued); the `queued` task.update push = two DynamoDB index Queries (user `bench`, clientType `http`) that find no listeners, so nothing is posted; then the passive reply encrypted and signed (AES + SHA-1).',
        `bot refresh answers: p50 ${fmt(refresh.p50, 2)} ms, p99 ${fmt(refresh.p99, 2)} ms (goal p99 ≤ ${REFRESH_P99_GOAL_MS} ms: ${refresh.p99 <= REFRESH_P99_GOAL_MS ? 'met' : 'NOT met'}); ${REFRESHES} refreshes over ${BOT_STREAMS} streams (half running at 50%, half queued), each: signature check, decrypt, zod parse, stream id HMAC check, one round of reads (the task and its chained step, in parallel), markdown, encrypt and sign. XML callback p99 for comparison: ${fmt(callback.p99, 2)} ms.`,
        `every callback created and queued its own task: ${allTasksCreated ? 'yes' : `NO (${ids.size} distinct ids, ${counts.queued} queued, expected ${expectedTasks})`}`,
        ...(log.count > 0
          ? [`${log.count} runtime warnings/errors, first: ${log.entries.join(' | ')}`]
          : []),
      ],
    };
  } finally {
    await runtime?.stop();
  }
}

export const callbackSection: Section = {
  name: 'callback',
  title: 'WeCom callback latency over HTTP vs. bare decrypt + parse; bot stream refreshes',
  run: runCallback,
};
