import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { createTaskWorkerHandler } from '../../../lambdas/workers/task-worker';
import { startDynalite, type Emulator } from '../../../local/emulators';
import { localClientConfig } from '../../../local/clients';
import { localLambdaContext } from '../../../local/lambda-context';
import { type QueuePoller, startQueuePoller } from '../../../local/sqs-poller';
import { createLocalTables, LOCAL_TABLES } from '../../../local/tables';
import { ChatNotifier } from '../../../src/wecom/chat-notifier';
import { MemoryRateLimiter } from '../../support/memory-rate-limiter';
import { silentLog } from '../../../src/ports/log';
import { frameFactory } from '../../../src/push/frames';
import type { Pusher } from '../../../src/push/pusher';
import type { SubmitPorts } from '../../../src/tasks/submit';
import { isTerminal, type Task } from '../../../src/tasks/task';
import type { TaskMessage } from '../../../src/tasks/task-queue';
import type { WorkerPorts } from '../../../src/tasks/worker';
import { MemoryConnectionStore, RecordingLog } from '../core/fakes';
import { startFaultServer, type FaultServer } from '../../support/fault-server';
import { MemoryArtifactStore } from '../../support/memory-stores';
import { MemoryTaskStore } from '../../support/memory-task-store';
import { startTestQueue, type TestQueue, waitFor } from '../local/sqs-harness';

/**
 * One task-worker handler invoked for several batches at once. Lambda never does that to one
 * execution environment, but the handler must still keep each batch's state apart: a shared
 * Powertools BatchProcessor answered one batch with another's failures, so retryable failures
 * were deleted instead of retried and their tasks stayed `running` for good.
 */
describe('task worker handler under concurrent batches', () => {
  let dynamo: Emulator;
  let ddb: DynamoDBClient;
  let faults: FaultServer;
  let queue: TestQueue;
  let poller: QueuePoller | undefined;

  beforeAll(async () => {
    dynamo = await startDynalite();
    ddb = new DynamoDBClient(localClientConfig(dynamo.endpoint));
    await createLocalTables(ddb);
    faults = await startFaultServer();
  });
  afterAll(async () => {
    ddb.destroy();
    await dynamo.close();
    await faults.close();
  });
  beforeEach(async () => {
    queue = await startTestQueue({
      name: 'taskwire-download',
      visibilityTimeoutSeconds: 1,
      maxReceiveCount: 3,
    });
  });
  afterEach(async () => {
    await poller?.stop();
    poller = undefined;
    await queue.close();
  });

  it('retries every retryable failure of 30 among 30 good tasks, and ends every task', async () => {
    // Prepare: 60 queued downloads, every second one failing once with HTTP 500
    const tasks = new MemoryTaskStore();
    const names = Array.from({ length: 60 }, (_, i) => (i % 2 ? `flaky-c${i}` : `ok-c${i}`));
    const now = new Date().toISOString();
    const ids: string[] = [];
    for (const [i, dsNumber] of names.entries()) {
      const task: Task = {
        taskId: `t_concurrency${String(i).padStart(7, '0')}`,
        taskType: 'download',
        args: { dsNumber, server: 'faulty' },
        status: 'queued',
        source: 'http',
        requester: {},
        createdAt: now,
        updatedAt: now,
        expiresAt: Math.floor(Date.now() / 1000) + 3600,
      };
      await tasks.create(task);
      ids.push(task.taskId);
    }
    const chained: TaskMessage[] = [];
    const submit: SubmitPorts = {
      tasks,
      queue: { enqueue: async (m) => void chained.push(m) },
      clock: { now: () => new Date() },
      log: silentLog,
      args: { servers: ['faulty'], defaultServer: 'faulty' },
    };
    const pushTo: Pusher['pushTo'] = async () => ({
      attempted: 0,
      delivered: 0,
      gone: 0,
      failed: 0,
      retried: 0,
    });
    const worker: WorkerPorts = {
      tasks,
      updates: {
        pusher: { pushTo } as unknown as Pusher,
        store: new MemoryConnectionStore(),
        frames: frameFactory({ now: () => new Date() }),
      },
      submit,
      artifacts: new MemoryArtifactStore(),
      servers: async () => ({
        faulty: {
          name: 'faulty',
          baseUrl: faults.url,
          path: '/ds/{dsNumber}',
          timeoutMs: 2000,
          maxBytes: 64 * 1024,
        },
      }),
      chat: new ChatNotifier({ fetch, limiter: new MemoryRateLimiter(), log: silentLog }),
      requeueNotify: async () => undefined,
      fetch,
      clock: { now: () => new Date() },
      log: silentLog,
    };
    const log = new RecordingLog();
    // One handler instance for every batch: what this test is about.
    const handler = createTaskWorkerHandler({
      worker,
      idempotencyStore: new DynamoDBPersistenceLayer({
        tableName: LOCAL_TABLES.idempotency,
        awsSdkV3Client: ddb,
      }),
      log: silentLog,
    });

    // Act: 60 messages, batches of 5, 6 batches at once on the one handler
    await queue.send(ids.map((taskId) => JSON.stringify({ taskId, taskType: 'download' })));
    poller = startQueuePoller({
      sqs: queue.sqs,
      queueUrl: queue.url,
      queueArn: queue.arn,
      handler: (event) => handler(event, localLambdaContext('worker-download', 30)),
      log,
      batchSize: 5,
      maxConcurrentBatches: 6,
      waitTimeSeconds: 0,
    });
    const terminal = async () =>
      (await Promise.all(ids.map((id) => tasks.get(id)))).every(
        (t) => t !== undefined && isTerminal(t.status),
      );
    await waitFor('every task to end', terminal, 10_000).catch(() => undefined);

    // Assess: every task succeeded; each flaky one was fetched twice, each good one once
    const final = await Promise.all(ids.map((id) => tasks.get(id)));
    const stuck = final.filter((t) => t && !isTerminal(t.status)).map((t) => t?.args.dsNumber);
    expect(stuck).toEqual([]);
    expect(final.map((t) => t?.status)).toEqual(Array(60).fill('succeeded'));
    expect(names.map((n) => faults.hits.get(n))).toEqual(
      names.map((n) => (n.startsWith('flaky') ? 2 : 1)),
    );
    expect(chained).toHaveLength(60);
    const invalid = log.entries.filter((e) => e.message.includes('invalid batch response'));
    expect(invalid).toEqual([]);
  });
});
