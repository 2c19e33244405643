import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type { Construct } from 'constructs';

/**
 * The metric the task workers count when a task fails with `no_worker`: their dispatch outcome
 * `noWorker` as `Task<Outcome>` (lambdas/workers/task-worker.ts), through Powertools Metrics in
 * the `Taskwire` namespace with its default `service` dimension.
 */
export const NO_WORKER_METRIC = {
  namespace: 'Taskwire',
  metricName: 'TaskNoWorker',
  // Powertools' default dimension: POWERTOOLS_SERVICE_NAME, which every function sets.
  dimensionsMap: { service: 'taskwire' },
} as const;

/**
 * Tasks failed with `no_worker`: a task type placed `websocket` found no free socket worker
 * within `placementTimeoutSeconds`. One such task is enough to alarm: each is a user's task that
 * was dropped, and with no worker connected every later one fails the same way.
 */
export function noWorkerAlarm(scope: Construct): cloudwatch.Alarm {
  return new cloudwatch.Alarm(scope, 'TasksFailedNoWorker', {
    alarmDescription:
      'Tasks failed with no_worker: no socket worker of their type was free within the ' +
      'placement timeout. Start workers (npm run worker) or change the type to auto/lambda.',
    metric: new cloudwatch.Metric({
      ...NO_WORKER_METRIC,
      dimensionsMap: { ...NO_WORKER_METRIC.dimensionsMap },
      statistic: 'Sum',
      period: Duration.minutes(5),
    }),
    threshold: 1,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    evaluationPeriods: 1,
    // No data is the normal case: the metric is only written when a task fails this way.
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
  });
}
