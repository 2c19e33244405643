import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import { type WebSocket, WebSocketServer } from 'ws';
import { anyTaskType, createTaskRegistry } from '../../../src/tasks/registry';
import type { TaskTypeSpec } from '../../../src/tasks/types/task-type';
import { jsonLineLog } from '../../../worker/log';
import {
  type RunReport,
  type SocketWorker,
  startSocketWorker,
} from '../../../worker/socket-worker';
import { MemoryArtifactStore } from '../../support/memory-stores';
import { eventually } from '../../support/ws-client';

/**
 * A socket worker's drain and cancel against a scripted server on a real socket (127.0.0.1,
 * port 0): the test plays the gateway, offers tasks when it wants and answers every action
 * with `task.ack`, so what the worker sends while draining is seen frame by frame.
 */

type Frame = Record<string, unknown>;

const TASK_A = 't_aaaaaaaaaaaaaaaaaaaa';
const TASK_B = 't_bbbbbbbbbbbbbbbbbbbb';

/** Runs of the `hold` type wait until the test releases them by taskId. */
const releases = new Map<string, () => void>();
const holdType: TaskTypeSpec<{ n: number }, unknown> = {
  name: 'hold',
  summary: 'waits until released',
  usage: 'hold',
  argsSchema: z.strictObject({ n: z.number() }),
  fromWords: () => ({ n: 1 }),
  run: (args, ctx) =>
    new Promise((resolve, reject) => {
      releases.set(ctx.task.taskId, () => resolve({ held: args.n }));
      ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason));
    }),
};
const registry = createTaskRegistry([anyTaskType(holdType)]);

/** The scripted server: every frame the worker sent, and a way to send it one. */
interface Script {
  readonly url: string;
  readonly received: Frame[];
  send(frame: Frame): void;
  closed(): boolean;
  stop(): Promise<void>;
}

async function scriptedServer(): Promise<Script> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
  const received: Frame[] = [];
  let socket: WebSocket | undefined;
  let closed = false;
  wss.on('connection', (ws) => {
    socket = ws;
    ws.on('close', () => (closed = true));
    ws.on('message', (data) => {
      const frame = JSON.parse(data.toString()) as Frame;
      received.push(frame);
      const requestId = frame.requestId;
      if (frame.action === 'register') {
        ws.send(
          JSON.stringify({
            type: 'registered',
            connectionId: 'conn-1',
            userId: 'w',
            clientType: 'hold',
            groups: [],
            requestId,
          }),
        );
      } else if (frame.action !== 'ping') {
        ws.send(JSON.stringify({ type: 'task.ack', taskId: frame.taskId, requestId }));
      }
    });
  });
  const { port } = wss.address() as AddressInfo;
  return {
    url: `ws://127.0.0.1:${port}`,
    received,
    send: (frame) => socket?.send(JSON.stringify(frame)),
    closed: () => closed,
    stop: () => new Promise((resolve) => wss.close(() => resolve())),
  };
}

const assign = (taskId: string) => ({
  type: 'task.assign',
  id: `f-${taskId}`,
  taskId,
  taskType: 'hold',
  args: { n: 7 },
  attempt: 1,
  leaseSeconds: 30,
});

let server: Script;
let worker: SocketWorker | undefined;
const reports: RunReport[] = [];

beforeEach(async () => {
  server = await scriptedServer();
  reports.length = 0;
  releases.clear();
  worker = startSocketWorker({
    url: server.url,
    token: 'aaa.bbb.ccc',
    taskTypes: ['hold'],
    concurrency: 2,
    registry,
    artifacts: new MemoryArtifactStore(),
    log: jsonLineLog({ write: () => true }, { level: 'error' }),
    onTaskEnd: (r) => reports.push(r),
  });
  await worker.ready;
});

afterEach(async () => {
  await worker?.close();
  await server.stop();
});

const sentFor = (taskId: string) => server.received.filter((f) => f.taskId === taskId);

describe('a socket worker against a scripted server', () => {
  it('answers a new offer with a retryable fail, finishes the task in flight, then closes', async () => {
    // Prepare: task A running
    server.send(assign(TASK_A));
    await eventually(() => worker?.running() === 1);

    // Act: drain, then a second offer arrives, then A's run ends
    const drained = worker?.drain();
    server.send(assign(TASK_B));
    await eventually(() => sentFor(TASK_B).length === 1);
    releases.get(TASK_A)?.();
    await drained;

    // Assess
    expect(server.received[0]).toMatchObject({
      action: 'register',
      clientType: 'hold',
      worker: { taskTypes: ['hold'], concurrency: 2 },
    });
    expect(sentFor(TASK_B)).toEqual([
      expect.objectContaining({
        action: 'fail',
        error: 'the worker is draining (shutting down)',
        retryable: true,
      }),
    ]);
    expect(sentFor(TASK_A)).toEqual([
      expect.objectContaining({ action: 'result', result: { held: 7 } }),
    ]);
    expect(reports).toEqual([expect.objectContaining({ taskId: TASK_A, outcome: 'succeeded' })]);
    await eventually(() => server.closed());
    await expect(worker?.done).resolves.toBeUndefined();
  });

  it('stops a run on task.cancel and sends nothing for it', async () => {
    // Prepare
    server.send(assign(TASK_A));
    await eventually(() => worker?.running() === 1);

    // Act
    server.send({ type: 'task.cancel', id: 'f-cancel', taskId: TASK_A });
    await eventually(() => reports.length === 1);

    // Assess
    expect(reports[0]).toMatchObject({ taskId: TASK_A, outcome: 'dropped' });
    expect(sentFor(TASK_A)).toEqual([]);
    expect(worker?.running()).toBe(0);
  });

  it('answers an offer it cannot read with a permanent fail naming the field', async () => {
    // Act
    server.send({ ...assign(TASK_B), attempt: 0 });
    await eventually(() => sentFor(TASK_B).length === 1);

    // Assess
    expect(sentFor(TASK_B)).toEqual([
      expect.objectContaining({
        action: 'fail',
        retryable: false,
        error: expect.stringMatching(/^task\.assign attempt: /),
      }),
    ]);
  });
});
