import type { SQSEvent } from 'aws-lambda';
import { CachePersistenceLayer } from '@aws-lambda-powertools/idempotency/cache';
import { createTaskWorkerHandler } from '../../../lambdas/workers/task-worker';
import type { Counters } from '../../../lambdas/runtime/metrics';
import { silentLog } from '../../../src/ports/log';
import type { WorkerPorts } from '../../../src/tasks/worker';
import { MemoryTaskStore } from '../../support/memory-task-store';

const record = (id: string, body: string) => ({
  messageId: id,
  receiptHandle: id,
  body,
  attributes: { ApproximateReceiveCount: '1' },
  messageAttributes: {},
  md5OfBody: '',
  eventSource: 'aws:sqs',
  eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:taskwire-logic',
  awsRegion: 'us-east-1',
});

describe('task worker handler', () => {
  it('reports only unreadable or unknown records as batch failures and counts outcomes', async () => {
    // Prepare
    const tasks = new MemoryTaskStore();
    const counted: string[] = [];
    const counters: Counters = {
      count: (n) => void counted.push(n),
      flush: () => counted.push('flush'),
    };
    const worker = { tasks, log: silentLog } as unknown as WorkerPorts;
    const handler = createTaskWorkerHandler({
      worker,
      idempotencyStore: new CachePersistenceLayer({ client: undefined as never }),
      log: silentLog,
      counters,
    });
    const event = {
      Records: [
        record('a', '{not json'),
        record(
          'b',
          JSON.stringify({ taskId: 't_unknownunknownunknow', taskType: 'logic', kind: 'notify' }),
        ),
      ],
    } as unknown as SQSEvent;

    // Act
    const out = await handler(event);

    // Assess
    expect(out.batchItemFailures).toEqual([{ itemIdentifier: 'a' }]);
    expect(counted).toEqual(['TaskSkipped', 'flush']);
  });
});
