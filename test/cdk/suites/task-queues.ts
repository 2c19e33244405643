import { FUNCTIONS, TASK_WORKERS } from '../../../lambdas/catalog';
import { catalogEntries } from '../../../lib/constructs/catalog-functions';
import { TASK_QUEUE_SETTINGS } from '../../../src/tasks/queues';
import { TASK_TYPE_NAMES } from '../../../src/tasks/registry';
import { DEAD_LETTER_CONSUMER } from '../../../lib/taskwire-stack';
import {
  logicalIdOf,
  resolved,
  resourceById,
  resourcesOfType,
  type GetTaskwire,
  type TemplateResource,
} from '../support/taskwire-template';

// Set by the test file that registers the suite; read only inside tests.
let get: GetTaskwire = () => {
  throw new Error('suite used before its test file registered it');
};

function queuesOf(taskType: string) {
  const { queue, deadLetterQueue } = get().stack.taskQueues.of(taskType);
  return {
    queueId: logicalIdOf(queue),
    dlqId: logicalIdOf(deadLetterQueue),
    queue: resourceById(get().template, logicalIdOf(queue)),
    dlq: resourceById(get().template, logicalIdOf(deadLetterQueue)),
  };
}

/** Event source mappings of a function: queue logical id → mapping properties. */
function mappingsOf(fnLogicalId: string): Map<string, Record<string, unknown>> {
  const mappings = Object.values(
    resourcesOfType(get().template, 'AWS::Lambda::EventSourceMapping'),
  ).filter((mapping: TemplateResource) => {
    const target = mapping.Properties?.FunctionName as { Ref?: string } | undefined;
    return target?.Ref === fnLogicalId;
  });
  return new Map(
    mappings.map((mapping) => {
      const source = mapping.Properties?.EventSourceArn as { 'Fn::GetAtt': [string, string] };
      return [source['Fn::GetAtt'][0], mapping.Properties ?? {}];
    }),
  );
}

/** Registers the queue, worker, schedule and artifact bucket tests. */
export function describeTaskQueues(getTaskwire: GetTaskwire): void {
  get = getTaskwire;

  describe('task queues and workers', () => {
    it('has one worker per registered task type', () => {
      // Prepare / Act
      const taskTypes = Object.keys(TASK_WORKERS);
      // Assess
      expect(taskTypes.sort()).toEqual([...TASK_TYPE_NAMES].sort());
    });

    it.each(Object.entries(TASK_WORKERS))(
      'gives %s a queue sized for its worker, redriving to its own DLQ',
      (taskType, worker) => {
        // Prepare / Act
        const { queue, dlq, dlqId } = queuesOf(taskType);
        // Assess
        expect(queue.Properties).toMatchObject({
          VisibilityTimeout: TASK_QUEUE_SETTINGS.visibilityFactor * worker.timeoutSeconds,
          RedrivePolicy: {
            deadLetterTargetArn: { 'Fn::GetAtt': [dlqId, 'Arn'] },
            maxReceiveCount: TASK_QUEUE_SETTINGS.maxReceiveCount,
          },
          SqsManagedSseEnabled: true,
        });
        expect(dlq.Properties).toMatchObject({
          MessageRetentionPeriod: 14 * 24 * 60 * 60,
          SqsManagedSseEnabled: true,
        });
      },
    );

    it('alarms on every dead-letter queue that holds messages for 15 minutes', () => {
      // Prepare
      const queues = resourcesOfType(get().template, 'AWS::SQS::Queue');
      const dlqIds = Object.entries(queues)
        .filter(([, q]) => q.Properties?.RedrivePolicy === undefined)
        .map(([id]) => id);
      // Act
      const alarms = resourcesOfType(get().template, 'AWS::CloudWatch::Alarm');
      const dlqAlarms = Object.entries(alarms).filter(
        ([, a]) => a.Properties?.MetricName === 'ApproximateNumberOfMessagesVisible',
      );
      const watched = dlqAlarms.map(([, a]) => {
        const dims = a.Properties?.Dimensions as { Value: { 'Fn::GetAtt': [string, string] } }[];
        return dims[0]?.Value['Fn::GetAtt'][0];
      });
      // Assess
      expect(dlqIds.length).toBeGreaterThanOrEqual(TASK_TYPE_NAMES.length + 1);
      expect(watched.sort()).toEqual(dlqIds.sort());
      for (const [, a] of dlqAlarms) {
        expect(a.Properties).toMatchObject({
          Namespace: 'AWS/SQS',
          Threshold: 1,
          ComparisonOperator: 'GreaterThanOrEqualToThreshold',
          EvaluationPeriods: 3,
          Period: 300,
          Statistic: 'Minimum',
          TreatMissingData: 'notBreaching',
        });
      }
      // The stack's other alarm is the no_worker one (suites/socket-workers.ts); nothing else.
      const others = Object.keys(alarms).filter((id) => !dlqAlarms.some(([d]) => d === id));
      expect(others).toEqual([logicalIdOf(get().stack.noWorkerAlarm)]);
    });

    it('refuses non-TLS access to every queue', () => {
      // Prepare
      const policies = Object.values(resourcesOfType(get().template, 'AWS::SQS::QueuePolicy'));
      // Act
      const guarded = new Set(
        policies
          .filter((policy) => JSON.stringify(policy.Properties).includes('aws:SecureTransport'))
          .flatMap((policy) => (policy.Properties?.Queues as { Ref: string }[]).map((q) => q.Ref)),
      );
      // Assess
      for (const taskType of Object.keys(TASK_WORKERS)) {
        const { queueId, dlqId } = queuesOf(taskType);
        expect([guarded.has(queueId), guarded.has(dlqId)]).toEqual([true, true]);
      }
    });

    it.each(Object.entries(TASK_WORKERS))(
      'has the %s worker consume its queue with partial batch failures',
      (taskType, worker) => {
        // Prepare
        const fn = get().stack.functions.worker(taskType);
        const { queueId } = queuesOf(taskType);
        // Act
        const mappings = mappingsOf(logicalIdOf(fn.function));
        // Assess
        expect([...mappings.keys()]).toEqual([queueId]);
        expect(mappings.get(queueId)).toMatchObject({
          BatchSize: worker.batchSize,
          FunctionResponseTypes: ['ReportBatchItemFailures'],
        });
      },
    );

    it(`has ${DEAD_LETTER_CONSUMER} consume every dead-letter queue, and nothing else`, () => {
      // Prepare
      const fn = get().stack.functions.byName[DEAD_LETTER_CONSUMER];
      const dlqIds = Object.keys(TASK_WORKERS).map((taskType) => queuesOf(taskType).dlqId);
      // Act
      const mappings = mappingsOf(logicalIdOf(fn.function));
      // Assess
      expect([...mappings.keys()].sort()).toEqual(dlqIds.sort());
      for (const mapping of mappings.values()) {
        expect(mapping.FunctionResponseTypes).toEqual(['ReportBatchItemFailures']);
      }
    });
  });

  describe('fan-out queue and schedules', () => {
    const fanoutConsumers = catalogEntries(FUNCTIONS).filter(
      ([, spec]) => spec.consumes === 'fanout',
    );
    const scheduled = catalogEntries(FUNCTIONS).filter(([, spec]) => spec.schedule !== undefined);

    it('sizes the fan-out queue for its consumers and gives it a DLQ', () => {
      // Prepare
      const { queue, deadLetterQueue } = get().stack.fanoutQueue;
      const longest = Math.max(30, ...fanoutConsumers.map(([, spec]) => spec.timeoutSeconds));
      // Act
      const resource = resourceById(get().template, logicalIdOf(queue));
      // Assess
      expect(resource.Properties).toMatchObject({
        VisibilityTimeout: TASK_QUEUE_SETTINGS.visibilityFactor * longest,
        RedrivePolicy: {
          deadLetterTargetArn: { 'Fn::GetAtt': [logicalIdOf(deadLetterQueue), 'Arn'] },
          maxReceiveCount: TASK_QUEUE_SETTINGS.maxReceiveCount,
        },
        SqsManagedSseEnabled: true,
      });
    });

    it.each(fanoutConsumers)('has %s consume the fan-out queue', (name) => {
      // Prepare
      const fn = get().stack.functions.byName[name];
      const queueId = logicalIdOf(get().stack.fanoutQueue.queue);
      // Act
      const mappings = mappingsOf(logicalIdOf(fn.function));
      // Assess
      expect(mappings.get(queueId)).toMatchObject({
        FunctionResponseTypes: ['ReportBatchItemFailures'],
      });
    });

    it.each(scheduled)('invokes %s on its catalog schedule', (name, spec) => {
      // Prepare
      const fn = get().stack.functions.byName[name];
      const fnArn = resolved(fn.function, fn.function.functionArn);
      // Act
      const rules = Object.values(resourcesOfType(get().template, 'AWS::Events::Rule')).filter(
        (rule) => JSON.stringify(rule.Properties?.Targets).includes(JSON.stringify(fnArn)),
      );
      // Assess
      expect(rules).toHaveLength(1);
      expect(rules[0]?.Properties).toMatchObject({
        ScheduleExpression: spec.schedule,
        State: 'ENABLED',
      });
    });

    it('schedules no function the catalog does not', () => {
      // Prepare / Act
      const rules = Object.values(resourcesOfType(get().template, 'AWS::Events::Rule'));
      // Assess
      expect(rules).toHaveLength(scheduled.length);
    });
  });

  describe('artifacts bucket', () => {
    it('is private, TLS-only, encrypted, logged and expiring', () => {
      // Prepare
      const { bucket, accessLogs } = get().stack.artifacts;
      // Act
      const resource = resourceById(get().template, logicalIdOf(bucket));
      const policies = Object.values(resourcesOfType(get().template, 'AWS::S3::BucketPolicy'));
      // Assess
      expect(resource.Properties).toMatchObject({
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        },
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [
            { ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } },
          ],
        },
        LoggingConfiguration: { DestinationBucketName: { Ref: logicalIdOf(accessLogs) } },
        LifecycleConfiguration: {
          Rules: [expect.objectContaining({ ExpirationInDays: 30, Status: 'Enabled' })],
        },
      });
      const own = policies.find(
        (policy) =>
          JSON.stringify(policy.Properties?.Bucket) ===
          JSON.stringify({ Ref: logicalIdOf(bucket) }),
      );
      expect(JSON.stringify(own?.Properties)).toContain('aws:SecureTransport');
      // Log delivery is let in by bucket policy, not the deprecated LogDeliveryWrite ACL.
      const logs = resourceById(get().template, logicalIdOf(accessLogs));
      expect(logs.Properties?.AccessControl).toBeUndefined();
      expect(logs.Properties?.OwnershipControls).toEqual({
        Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }],
      });
    });
  });
}
