import { ENV, FUNCTIONS, TASK_WORKERS } from '../../../lambdas/catalog';
import { catalogEntries, workerId } from '../../../lib/constructs/catalog-functions';
import { NO_WORKER_METRIC } from '../../../lib/constructs/no-worker-alarm';
import { TaskwireFunction } from '../../../lib/constructs/taskwire-function';
import {
  DEFAULT_LEASE_SECONDS,
  DEFAULT_PLACEMENT_TIMEOUT_SECONDS,
} from '../../../src/tasks/socket/placement';
import {
  actionsOf,
  logicalIdOf,
  resolved,
  resourceById,
  resourcesOf,
  statementsOf,
  TEST_ENV,
  type GetTaskwire,
  type PolicyStatementJson,
} from '../support/taskwire-template';

// Set by the test file that registers the suite; read only inside tests.
let get: GetTaskwire = () => {
  throw new Error('suite used before its test file registered it');
};

/** Every function of the stack by construct id, with its needs. */
const ALL = [
  ...catalogEntries(FUNCTIONS),
  ...Object.entries(TASK_WORKERS).map(([taskType, spec]) => [workerId(taskType), spec] as const),
];
const WORKERS = Object.keys(TASK_WORKERS).map(workerId);
/** Who dispatches to, hears from or takes tasks back from socket workers. */
// Those that submit offer a new task to a free socket worker at once (httpApi, the WeCom ones).
const DISPATCHERS = [
  ...WORKERS,
  'wsMessage',
  'wsDisconnect',
  'taskReaper',
  'httpApi',
  'wecomCallback',
  'wecomBot',
];
const OTHERS = ALL.map(([id]) => id).filter((id) => !DISPATCHERS.includes(id));

function fnOf(id: string): TaskwireFunction {
  const fn = get().stack.functions.node.findChild(id);
  if (!(fn instanceof TaskwireFunction)) throw new Error(`${id} is not a TaskwireFunction`);
  return fn;
}

function environmentOf(id: string): Record<string, unknown> {
  const resource = resourceById(get().template, logicalIdOf(fnOf(id).function));
  const environment = resource.Properties?.Environment as
    { Variables?: Record<string, unknown> } | undefined;
  return environment?.Variables ?? {};
}

function statementsOfFunction(id: string): PolicyStatementJson[] {
  const policy = fnOf(id).role.node.findChild('DefaultPolicy');
  return statementsOf(resourceById(get().template, logicalIdOf(policy)));
}

/** Actions a function may take on resources whose JSON contains `resource`. */
function actionsOn(id: string, resource: unknown): string[] {
  const needle = JSON.stringify(resource);
  return statementsOfFunction(id)
    .filter((s) => resourcesOf(s).some((r) => JSON.stringify(r).includes(needle)))
    .flatMap(actionsOf);
}

/** Registers the socket-worker tests: settings, grants and the no_worker alarm. */
export function describeSocketWorkers(getTaskwire: GetTaskwire): void {
  get = getTaskwire;

  describe('socket workers', () => {
    it('gives the placement settings to the task workers, wsMessage, wsDisconnect, the reaper and the submitting functions', () => {
      // Prepare / Act
      const placed = ALL.filter(([, spec]) => spec.needs.includes('placement')).map(([id]) => id);
      // Assess: the dead-letter consumer shares the workers' needs but dispatches nothing.
      expect(placed.sort()).toEqual([...DISPATCHERS].sort());
      expect(placed).not.toContain('deadLetter');
    });

    it.each(DISPATCHERS)('tells %s the default placement, timeout and lease', (id) => {
      // Prepare / Act
      const environment = environmentOf(id);
      // Assess: every type in Lambda, as before socket workers.
      expect(environment).toMatchObject({
        [ENV.placement]: '{}',
        [ENV.placementTimeoutSeconds]: String(DEFAULT_PLACEMENT_TIMEOUT_SECONDS),
        [ENV.leaseSeconds]: String(DEFAULT_LEASE_SECONDS),
      });
      expect([DEFAULT_PLACEMENT_TIMEOUT_SECONDS, DEFAULT_LEASE_SECONDS]).toEqual([300, 30]);
    });

    it.each(OTHERS)('keeps the placement settings from %s', (id) => {
      // Prepare / Act
      const environment = environmentOf(id);
      // Assess
      expect(environment[ENV.placement]).toBeUndefined();
      expect(environment[ENV.placementTimeoutSeconds]).toBeUndefined();
      expect(environment[ENV.leaseSeconds]).toBeUndefined();
    });

    it.each(DISPATCHERS)(
      'lets %s read and write the worker items (connections) and the tasks',
      (id) => {
        // Prepare
        const { connections, tasks } = get().stack;
        const needed = [
          'dynamodb:GetItem',
          'dynamodb:Query',
          'dynamodb:PutItem',
          'dynamodb:UpdateItem',
          'dynamodb:DeleteItem',
        ];
        // Act
        const onConnections = actionsOn(
          id,
          resolved(connections.table, connections.table.tableArn),
        );
        const onTasks = actionsOn(id, resolved(tasks.table, tasks.table.tableArn));
        // Assess
        expect(onConnections).toEqual(expect.arrayContaining(needed));
        expect(onTasks).toEqual(expect.arrayContaining(needed));
        expect(environmentOf(id)).toMatchObject({
          [ENV.connectionsTable]: resolved(connections.table, connections.table.tableName),
          [ENV.tasksTable]: resolved(tasks.table, tasks.table.tableName),
        });
      },
    );

    it.each(DISPATCHERS)('lets %s queue a task again on its type’s queue', (id) => {
      // Prepare
      const queues = [...get().stack.taskQueues.byType.values()];
      // Act
      const sends = queues.map(({ queue }) =>
        actionsOn(id, resolved(queue, queue.queueArn)).includes('sqs:SendMessage'),
      );
      // Assess
      expect(sends).toEqual(queues.map(() => true));
      expect(environmentOf(id)[ENV.taskQueues]).toBeDefined();
    });

    it.each(DISPATCHERS)('lets %s post task.assign and task.cancel to a connection', (id) => {
      // Prepare
      const api = { Ref: logicalIdOf(get().stack.webSocket.api) };
      const post = {
        'Fn::Join': [
          '',
          [
            'arn:',
            { Ref: 'AWS::Partition' },
            `:execute-api:${TEST_ENV.region}:${TEST_ENV.account}:`,
            api,
            `/${get().stack.config.stageName}/POST/@connections/*`,
          ],
        ],
      };
      // Act
      const actions = actionsOn(id, post);
      // Assess
      expect(actions).toContain('execute-api:ManageConnections');
      expect(environmentOf(id)[ENV.managementEndpoint]).toBeDefined();
    });

    it('lets wsMessage store a large result in the artifacts, as a Lambda run does', () => {
      // Prepare
      const { bucket } = get().stack.artifacts;
      // Act
      const actions = actionsOn('wsMessage', resolved(bucket, bucket.bucketArn));
      // Assess
      expect(actions.sort()).toEqual(['s3:GetObject', 's3:PutObject']);
    });
  });

  describe('no_worker alarm', () => {
    it('alarms on the first task failed with no_worker in 5 minutes, and not on silence', () => {
      // Prepare
      const alarm = get().stack.noWorkerAlarm;
      // Act
      const resource = resourceById(get().template, logicalIdOf(alarm));
      // Assess
      expect(resource.Properties).toEqual(
        expect.objectContaining({
          Namespace: 'Taskwire',
          MetricName: 'TaskNoWorker',
          Dimensions: [{ Name: 'service', Value: 'taskwire' }],
          Statistic: 'Sum',
          Period: 300,
          Threshold: 1,
          ComparisonOperator: 'GreaterThanOrEqualToThreshold',
          EvaluationPeriods: 1,
          TreatMissingData: 'notBreaching',
          AlarmDescription: expect.stringContaining('npm run worker'),
        }),
      );
      expect(NO_WORKER_METRIC.metricName).toBe('TaskNoWorker');
    });

    it('watches the service name every function reports its metrics under', () => {
      // Prepare
      const ids = WORKERS;
      // Act
      const services = ids.map((id) => environmentOf(id).POWERTOOLS_SERVICE_NAME);
      // Assess
      expect(services).toEqual(ids.map(() => NO_WORKER_METRIC.dimensionsMap.service));
    });
  });
}
