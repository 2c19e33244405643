import { ApiGatewayManagementApiClient } from '@aws-sdk/client-apigatewaymanagementapi';
import { POSTER_CLIENT_SETTINGS } from '../../src/adapters/api-gateway/connection-poster';
import { randomUUID } from 'node:crypto';
import { Agent, type Server } from 'node:http';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../local/lambda-types';
import { type LocalRuntime, startLocalRuntime } from '../../local/runtime';
import { signToken } from '../../src/auth/token';
import { silentLog } from '../../src/ports/log';
import type { ServerFrame } from '../../src/push/frames';
import { ApiGatewayPusher } from '../../src/adapters/api-gateway/pusher';
import type { PushReport } from '../../src/push/frame-pusher';
import {
  type BenchContext,
  fmt,
  collectingLog,
  median,
  pages,
  round,
  pause,
  type Section,
  type SectionResult,
  timed,
} from '../harness';
import { closeServer } from '../../local/net';
import { startBareServer } from '../bare-loop';
import { BareLoopProcess, ClientsProcess, roundSpread, spreadText } from '../processes';

const CLIENTS = 1000;
/** Upgrades in flight while connecting the clients. */
const OPEN_PARALLEL = 100;
/** Posts in flight, given to the runtime's Pusher and to the baseline loop alike. */
const CONCURRENCY = 50;
const PAGE_SIZE = 100;
const WARMUP_ROUNDS = 1;
const ROUNDS = 5;
/** Filler in the frame, so a post carries a realistic notification (~300 bytes of JSON). */
const PAYLOAD_CHARS = 200;
const GOAL_RATIO = 0.8;
/** How long clients get to see a frame after the push has returned. */
const RECEIVE_TIMEOUT_MS = 10_000;
const SECRET = `bench-secret-${'0123456789'.repeat(4)}`;
const FRAME_TYPE = 'bench';

/** A frame of the bench type with a fresh id (every frame serializes to the same length). */
const benchFrame = (): ServerFrame => ({
  type: FRAME_TYPE,
  id: randomUUID(),
  at: new Date().toISOString(),
  payload: 'x'.repeat(PAYLOAD_CHARS),
});

async function* pagesOf(ids: readonly string[]): AsyncIterable<readonly string[]> {
  for (const page of pages(ids, PAGE_SIZE)) yield page;
}

interface Round {
  readonly baseline: number;
  readonly pusher: number;
  readonly pusherToBare: number;
}

async function runPush(ctx: BenchContext): Promise<SectionResult> {
  const log = collectingLog();
  let clients: ClientsProcess | undefined;
  let bareLoop: BareLoopProcess | undefined;
  let runtime: LocalRuntime | undefined;
  let bare: { endpoint: string; server: Server } | undefined;
  let bareClient: ApiGatewayManagementApiClient | undefined;
  let bareAgent: Agent | undefined;
  try {
    runtime = await startLocalRuntime({
      authSecret: SECRET,
      // The gateway in a process of its own, as npm start runs it (API Gateway is a service).
      gateway: 'process',
      log,
      pushConcurrency: CONCURRENCY,
      // The periodic connection sweep would post GetConnection for every record mid-round.
      connectionSweepMs: 0,
    });
    const rt = runtime;

    // Connect: one user per client, tokens signed up front, upgrades OPEN_PARALLEL at a time.
    const tokens = await Promise.all(
      Array.from({ length: CLIENTS }, (_, i) =>
        signToken({ sub: `bench-user-${String(i).padStart(4, '0')}` }, SECRET),
      ),
    );
    // The clients and the baseline each in a process of their own (issue 10).
    clients = await ClientsProcess.start();
    const cp = clients;
    bareLoop = await BareLoopProcess.start();
    const loop = bareLoop;
    const opened = { ms: await cp.open(rt.wsUrl, tokens, OPEN_PARALLEL) };
    const ids = await rt.gateway.connectionIds();
    if (ids.length !== CLIENTS)
      throw new Error(`gateway has ${ids.length} connections, not ${CLIENTS}`);
    ctx.progress(`${CLIENTS} clients connected in ${fmt(opened.ms / 1000, 1)} s`);

    bare = await startBareServer();
    bareAgent = new Agent({ keepAlive: true, maxSockets: 256 });
    bareClient = new ApiGatewayManagementApiClient({
      ...POSTER_CLIENT_SETTINGS,
      endpoint: bare.endpoint,
      region: LOCAL_REGION,
      credentials: LOCAL_CREDENTIALS,
      requestHandler: { httpAgent: bareAgent },
    });
    const bc = bareClient;
    // Diagnostic: the same Pusher code against the bare server, to split the pusher's own cost
    // from the gateway's (which delivers over real sockets in this same process).
    const pusherToBare = new ApiGatewayPusher({
      client: bc,
      store: rt.store,
      log: silentLog,
      concurrency: CONCURRENCY,
    });

    const payloadBytes = Buffer.byteLength(JSON.stringify(benchFrame()));
    const missing: { round: number; received: number }[] = [];
    const reports: (PushReport & { round: number })[] = [];

    const measureBaseline = () => loop.run(CLIENTS, payloadBytes, CONCURRENCY);
    const measurePusher = async (round: number) => {
      const frame = benchFrame();
      const waiter = await cp.expect(frame.id, CLIENTS);
      const { value, ms } = await timed(() => rt.pusher.pushTo(pagesOf(ids), frame, 'bench'));
      reports.push({ ...value, round });
      await waiter.done(RECEIVE_TIMEOUT_MS);
      const { missing: lost, duplicated } = await cp.check(frame.id);
      if (lost > 0 || duplicated > 0) missing.push({ round, received: CLIENTS - lost });
      return (value.delivered / ms) * 1000;
    };
    const measurePusherToBare = async () => {
      const { value, ms } = await timed(() =>
        pusherToBare.pushTo(pagesOf(ids), benchFrame(), 'bench'),
      );
      return (value.delivered / ms) * 1000;
    };

    // Interleaved: every round runs all three, in an order that rotates, so drift and machine
    // noise land on each alike; before each step a pause (no forced GC: the baseline's process
    // has none, see pause). Warm-up rounds are measured but not counted.
    const rounds: Round[] = [];
    for (let r = 0; r < WARMUP_ROUNDS + ROUNDS; r++) {
      const steps: (keyof Round)[] = ['baseline', 'pusher', 'pusherToBare'];
      const order = [...steps.slice(r % 3), ...steps.slice(0, r % 3)];
      const result: Record<keyof Round, number> = { baseline: 0, pusher: 0, pusherToBare: 0 };
      for (const step of order) {
        await pause();
        if (step === 'baseline') result.baseline = await measureBaseline();
        else if (step === 'pusher') result.pusher = await measurePusher(r);
        else result.pusherToBare = await measurePusherToBare();
      }
      const warm = r < WARMUP_ROUNDS;
      ctx.progress(
        `${warm ? 'warm-up' : `round ${r - WARMUP_ROUNDS + 1}/${ROUNDS}`}: baseline ${fmt(result.baseline)}/s, pusher ${fmt(result.pusher)}/s, pusher→bare ${fmt(result.pusherToBare)}/s`,
      );
      if (!warm) rounds.push(result);
    }

    const baseline = median(rounds.map((r) => r.baseline));
    const pusher = median(rounds.map((r) => r.pusher));
    const pusherBare = median(rounds.map((r) => r.pusherToBare));
    const ratio = pusher / baseline;
    // Each round's own pusher/baseline: pairing cancels slow drift in machine load.
    const pairedRatio = median(rounds.map((r) => r.pusher / r.baseline));
    const allDelivered = reports.every(
      (rep) => rep.delivered === CLIENTS && rep.failed === 0 && rep.gone === 0,
    );
    const allReceived = missing.length === 0;
    const pass = ratio >= GOAL_RATIO && allDelivered && allReceived;

    return {
      figures: {
        clients: CLIENTS,
        concurrency: CONCURRENCY,
        pageSize: PAGE_SIZE,
        payloadBytes,
        warmupRounds: WARMUP_ROUNDS,
        rounds: ROUNDS,
        connectSeconds: round(opened.ms / 1000, 2),
        pusherDeliveriesPerSecond: round(pusher, 0),
        baselineDeliveriesPerSecond: round(baseline, 0),
        ratioPusherToBaseline: round(ratio, 3),
        ratioPusherToBaselinePairedMedian: round(pairedRatio, 3),
        pusherPerSecondSpread: roundSpread(rounds.map((r) => r.pusher)),
        baselinePerSecondSpread: roundSpread(rounds.map((r) => r.baseline)),
        pairedRatioSpread: roundSpread(
          rounds.map((r) => r.pusher / r.baseline),
          3,
        ),
        pusherToBareServerDeliveriesPerSecond: round(pusherBare, 0),
        ratioPusherToBareServerToBaseline: round(pusherBare / baseline, 3),
        perRound: rounds.map((r) => ({
          baseline: round(r.baseline, 0),
          pusher: round(r.pusher, 0),
          pusherToBare: round(r.pusherToBare, 0),
        })),
        everyClientReceivedEveryFrame: allReceived,
        allPostsDelivered: allDelivered,
        missing,
        incompleteReports: reports
          .filter((rep) => rep.delivered !== CLIENTS)
          .map((rep) => ({ ...rep })),
        logWarningsAndErrors: log.count,
        logSample: log.entries,
        method:
          'pusher: runtime.pusher.pushTo(pages of gateway.connectionIds(), frame) against the local gateway, timed until it returns, then every client (1,000 ws clients in a child process, bench/children/ws-clients.ts) checked for exactly one copy; baseline: a bare loop of the same ApiGatewayManagementApiClient (keep-alive agent, maxSockets 256) posting the same-size payload to a 200-only http server at the same concurrency, both in a child process of their own (bench/children/bare-loop.ts); pusherToBare (diagnostic): the Pusher against an in-process bare server. Rounds interleaved; min/median/max, goal on median(pusher)/median(baseline).',
      },
      goal: `pusher ≥ ${GOAL_RATIO} × baseline deliveries/s, every client receives every frame`,
      pass,
      table: {
        headers: ['measure', 'deliveries/s min / median / max', 'vs baseline'],
        rows: [
          [
            'baseline: SDK loop → bare http server (own process)',
            spreadText(rounds.map((r) => r.baseline)),
            '1.00x',
          ],
          [
            'pusher → local gateway → 1,000 ws clients',
            spreadText(rounds.map((r) => r.pusher)),
            `${fmt(ratio, 2)}x`,
          ],
          [
            '(diagnostic) pusher → bare http server',
            fmt(pusherBare),
            `${fmt(pusherBare / baseline, 2)}x`,
          ],
        ],
      },
      notes: [
        `${CLIENTS} clients, concurrency ${CONCURRENCY}, ${payloadBytes}-byte frames, ${ROUNDS} rounds after ${WARMUP_ROUNDS} warm-up; connected in ${fmt(opened.ms / 1000, 1)} s`,
        `goal ratio is median(pusher)/median(baseline); median of the per-round ratios: ${fmt(pairedRatio, 2)}x`,
        `every client received every frame: ${allReceived ? 'yes' : `NO (${JSON.stringify(missing)})`}; all posts delivered: ${allDelivered ? 'yes' : 'NO'}`,
        ...(log.count > 0
          ? [`${log.count} runtime warnings/errors, first: ${log.entries.join(' | ')}`]
          : []),
      ],
    };
  } finally {
    // The runtime first: it drops its sockets without $disconnect, so no write storm on close.
    await runtime?.stop();
    await clients?.stop();
    await bareLoop?.stop();
    bareClient?.destroy();
    bareAgent?.destroy();
    if (bare) await closeServer(bare.server);
  }
}

export const pushSection: Section = {
  name: 'push',
  title: 'Fan-out of Pusher.pushTo to 1,000 WebSocket clients vs. a bare SDK loop',
  run: runPush,
};
