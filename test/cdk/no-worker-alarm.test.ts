import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { SQSEvent } from 'aws-lambda';
import { CachePersistenceLayer } from '@aws-lambda-powertools/idempotency/cache';
import type { Counters } from '../../lambdas/runtime/metrics';
import { createTaskWorkerHandler } from '../../lambdas/workers/task-worker';
import { NO_WORKER_METRIC, noWorkerAlarm } from '../../lib/constructs/no-worker-alarm';
import { silentLog } from '../../src/ports/log';
import type { SocketWorkerPorts } from '../../src/tasks/socket/socket-workers';
import type { WorkerPorts } from '../../src/tasks/worker';

/**
 * The no_worker alarm watches a metric only the code can make exist: this ties the alarm's
 * metric name to what the task worker counts when a dispatch fails a task with `no_worker`, so
 * a rename on either side fails here rather than leaving an alarm that never fires.
 */

// Only the dispatch outcome matters here; the dispatch itself has its own tests.
jest.mock('../../src/tasks/socket/socket-workers', () => ({
  ...jest.requireActual<object>('../../src/tasks/socket/socket-workers'),
  dispatchTask: jest.fn(() => Promise.resolve('noWorker')),
}));

const record = {
  messageId: 'm1',
  receiptHandle: 'm1',
  body: JSON.stringify({ taskId: 't_nofreeworkerwaitedtoolong', taskType: 'download' }),
  attributes: { ApproximateReceiveCount: '1' },
  messageAttributes: {},
  md5OfBody: '',
  eventSource: 'aws:sqs',
  eventSourceARN: 'arn:aws:sqs:eu-central-1:123456789012:taskwire-download',
  awsRegion: 'eu-central-1',
};

describe('no_worker alarm', () => {
  it('watches the metric the task worker counts when a task fails with no_worker', async () => {
    // Prepare
    const counted: string[] = [];
    const counters: Counters = { count: (n) => void counted.push(n), flush: () => undefined };
    const handler = createTaskWorkerHandler({
      worker: { log: silentLog } as unknown as WorkerPorts,
      idempotencyStore: new CachePersistenceLayer({ client: undefined as never }),
      log: silentLog,
      counters,
      socket: () => ({}) as SocketWorkerPorts,
    });
    const stack = new Stack(new App(), 'Alarm');
    noWorkerAlarm(stack);
    // Act
    const out = await handler({ Records: [record] } as unknown as SQSEvent);
    const alarms = Template.fromStack(stack).findResources('AWS::CloudWatch::Alarm');
    // Assess
    expect(out.batchItemFailures).toEqual([]);
    expect(counted).toEqual([NO_WORKER_METRIC.metricName]);
    expect(Object.values(alarms).map((a) => (a as { Properties: unknown }).Properties)).toEqual([
      expect.objectContaining({
        Namespace: NO_WORKER_METRIC.namespace,
        MetricName: 'TaskNoWorker',
        Dimensions: [{ Name: 'service', Value: 'taskwire' }],
      }),
    ]);
  });
});
