import {
  connectionStore,
  managementClient,
  pusher,
  taskUpdates,
} from '../../../lambdas/composition/cloud/connections';
import { idempotencyStore } from '../../../lambdas/composition/cloud/idempotency';
import {
  fanoutPorts,
  messageStore,
  schedulePorts,
} from '../../../lambdas/composition/cloud/messages';
import { reaperPorts } from '../../../lambdas/composition/cloud/reaper';
import { submitPorts } from '../../../lambdas/composition/cloud/submit';
import { taskQueue, taskStore } from '../../../lambdas/composition/cloud/tasks';
import { workerPorts } from '../../../lambdas/composition/cloud/workers';
import { buildSubmitPorts } from '../../../lambdas/composition/tasks';
import { buildTaskUpdates } from '../../../lambdas/composition/push';
import { buildWorkerPorts } from '../../../lambdas/composition/workers';
import { readChatSettings } from '../../../lambdas/config/chat-config';
import { ConfigError } from '../../../lambdas/config/config';
import { ENV } from '../../../lambdas/config/env';
import { readTaskQueues } from '../../../lambdas/config/task-queues';
import type { FramePusher, PushReport } from '../../../src/push/frame-pusher';
import type { ServerFrame } from '../../../src/push/frames';
import type { Task } from '../../../src/tasks/task';
import type { TaskMessage, TaskQueue } from '../../../src/tasks/task-queue';
import { ManualClock, MemoryConnectionStore, RecordingLog } from '../core/fakes';

/**
 * The composition root: the cloud's getters build one object graph from the function's
 * environment (no AWS call is made to build it), and the builders the cloud and the local
 * runtime share wire the ports as the handlers expect.
 */

const QUEUE_URL = 'https://sqs.us-east-1.amazonaws.com/000000000000/taskwire-download';

/** The settings the stack gives a task worker, and those of the other functions. */
const CLOUD_ENV: Record<string, string> = {
  AWS_REGION: 'us-east-1',
  [ENV.connectionsTable]: 'connections',
  [ENV.streamsTable]: 'streams',
  [ENV.managementEndpoint]: 'https://abc.execute-api.us-east-1.amazonaws.com/prod',
  [ENV.tasksTable]: 'tasks',
  [ENV.taskQueues]: JSON.stringify({ download: QUEUE_URL }),
  [ENV.downloadServers]: JSON.stringify({ s1: { baseUrl: 'https://data.example.com' } }),
  [ENV.defaultDownloadServer]: 's1',
  [ENV.artifactsBucket]: 'artifacts',
  [ENV.messagesTable]: 'messages',
  [ENV.fanoutQueueUrl]: 'https://sqs.us-east-1.amazonaws.com/000000000000/taskwire-fanout',
  [ENV.idempotencyTable]: 'idempotency',
};

const TASK: Task = {
  taskId: 't_1',
  taskType: 'download',
  args: { dsNumber: '123', server: 's1' },
  status: 'queued',
  source: 'http',
  requester: { userId: 'alice' },
  createdAt: '2024-06-01T12:00:00.000Z',
  updatedAt: '2024-06-01T12:00:00.000Z',
  expiresAt: 1_800_000_000,
};

/** A task queue that records what it is given. */
function recordingQueue() {
  const sent: { message: TaskMessage; options: { delaySeconds?: number } | undefined }[] = [];
  const queue: TaskQueue = {
    enqueue: async (message, options) => void sent.push({ message, options }),
  };
  return { queue, sent };
}

/** A pusher that records the frames pushed and to which label. */
function recordingPusher() {
  const pushed: { frame: ServerFrame; label: string | undefined }[] = [];
  const report: PushReport = { attempted: 0, delivered: 0, gone: 0, failed: 0, retried: 0 };
  const pusher: FramePusher = {
    push: async () => report,
    pushTo: async (_recipients, frame, label) => {
      pushed.push({ frame, label });
      return report;
    },
    post: async () => ({ outcome: 'delivered', retries: 0 }),
    isGone: async () => false,
  };
  return { pusher, pushed };
}

describe('cloud composition (lambdas/composition/cloud/)', () => {
  const saved = { ...process.env };
  beforeAll(() => Object.assign(process.env, CLOUD_ENV));
  afterAll(() => {
    for (const name of Object.keys(CLOUD_ENV)) delete process.env[name];
    Object.assign(process.env, saved);
  });

  it('builds every port bundle from the environment as one graph', () => {
    // Act
    const worker = workerPorts();
    const reaper = reaperPorts();
    const fanout = fanoutPorts();

    // Assess: one store, one pusher, one queue per container, shared by every bundle.
    expect(worker.submit).toBe(submitPorts());
    expect(worker.tasks).toBe(taskStore());
    expect(worker.updates).toBe(taskUpdates());
    expect(taskUpdates().store).toBe(connectionStore());
    expect(taskUpdates().pusher).toBe(pusher());
    expect(submitPorts().queue).toBe(taskQueue());
    expect(submitPorts().args).toEqual({ servers: ['s1'], defaultServer: 's1' });
    expect(reaper.tasks).toBe(taskStore());
    expect(reaper.queue).toBe(taskQueue());
    expect(fanout.pusher).toBe(pusher());
    expect(fanout.messages).toBe(messageStore());
    expect(schedulePorts().messages).toBe(messageStore());
    expect(idempotencyStore()).toBe(idempotencyStore());
  });

  it('gives the push engine a management client that posts once (the engine owns retries)', async () => {
    // Act: the SDK resolves its retry setting into a provider
    const maxAttempts = await managementClient().config.maxAttempts();

    // Assess: a 429 retried inside the SDK would wait 500 ms+ and never reach the engine's rate
    expect(maxAttempts).toBe(1);
  });
});

describe('shared builders (lambdas/composition/)', () => {
  it('gives the worker a requeueNotify that puts a notify message back with its delay', async () => {
    // Prepare
    const { queue, sent } = recordingQueue();
    const clock = new ManualClock(new Date('2024-06-01T12:00:00.000Z'));
    const log = new RecordingLog();
    const store = new MemoryConnectionStore();
    const { pusher } = recordingPusher();
    const updates = buildTaskUpdates({ pusher, store, clock });
    const submit = buildSubmitPorts(
      { tasks: {} as never, queue, updates, clock, log },
      { args: { servers: ['s1'], defaultServer: 's1' } },
    );
    const worker = buildWorkerPorts({
      submit,
      updates,
      artifacts: {} as never,
      servers: async () => ({}),
      chat: {} as never,
      queue,
      fetch,
      clock,
      log,
    });

    // Act
    await worker.requeueNotify(TASK, 30, 2);

    // Assess
    expect(sent).toEqual([
      {
        message: { taskId: 't_1', taskType: 'download', kind: 'notify', attempt: 2 },
        options: { delaySeconds: 30 },
      },
    ]);
  });

  it('makes submitting push the queued task to its audience', async () => {
    // Prepare
    const { queue } = recordingQueue();
    const { pusher, pushed } = recordingPusher();
    const clock = new ManualClock(new Date('2024-06-01T12:00:00.000Z'));
    const updates = buildTaskUpdates({ pusher, store: new MemoryConnectionStore(), clock });
    const submit = buildSubmitPorts(
      { tasks: {} as never, queue, updates, clock, log: new RecordingLog() },
      { args: { servers: ['s1'], defaultServer: 's1' } },
    );

    // Act
    await submit.onQueued?.(TASK);

    // Assess
    expect(pushed).toEqual([
      {
        frame: expect.objectContaining({ type: 'task.update', taskId: 't_1', status: 'queued' }),
        label: 'task:t_1',
      },
    ]);
  });
});

describe('settings the composition reads', () => {
  it.each([
    ['missing', {}, /missing setting TASK_QUEUES/],
    ['not JSON', { [ENV.taskQueues]: '{' }, /setting TASK_QUEUES is not valid JSON/],
    [
      'not type → URL',
      { [ENV.taskQueues]: '{"download":"nope"}' },
      /setting TASK_QUEUES: download/,
    ],
  ])('refuses TASK_QUEUES %s with a ConfigError naming it', (_what, env, message) => {
    // Act
    const read = () => readTaskQueues(env);

    // Assess
    expect(read).toThrow(ConfigError);
    expect(read).toThrow(message);
  });

  it('reads the chat settings: the tasks table, the default webhook and the allowed hosts', () => {
    // Act
    const settings = readChatSettings({
      [ENV.tasksTable]: 'tasks',
      [ENV.wecomWebhookUrl]: 'https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k',
      [ENV.wecomWebhookHosts]: ' hooks.example.com , ,qyapi.weixin.qq.com',
    });

    // Assess
    expect(settings).toEqual({
      tasksTable: 'tasks',
      defaultWebhookUrl: 'https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k',
      allowedHosts: ['hooks.example.com', 'qyapi.weixin.qq.com'],
    });
    expect(readChatSettings({ [ENV.tasksTable]: 'tasks' })).toEqual({ tasksTable: 'tasks' });
    expect(() => readChatSettings({})).toThrow(/missing setting TASKS_TABLE/);
  });
});
