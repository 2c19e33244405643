import { ENV, FUNCTIONS } from '../../../lambdas/catalog';
import { TASKS_TABLE } from '../../../src/tasks/schema';
import {
  actionsOf,
  logicalIdOf,
  resolved,
  resourceById,
  resourcesOf,
  resourcesOfType,
  statementsOf,
  type GetTaskwire,
  type PolicyStatementJson,
} from '../support/taskwire-template';

// Set by the test file that registers the suite; read only inside tests.
let get: GetTaskwire = () => {
  throw new Error('suite used before its test file registered it');
};

const reaper = () => get().stack.functions.byName.taskReaper;

function reaperStatements(): PolicyStatementJson[] {
  const policy = reaper().role.node.findChild('DefaultPolicy');
  return statementsOf(resourceById(get().template, logicalIdOf(policy)));
}

/** Actions the reaper's role allows on resources whose JSON contains `resource`. */
function actionsOn(resource: unknown): string[] {
  const needle = JSON.stringify(resource);
  return reaperStatements()
    .filter((s) => resourcesOf(s).some((r) => JSON.stringify(r).includes(needle)))
    .flatMap(actionsOf);
}

function environment(): Record<string, unknown> {
  const fn = resourceById(get().template, logicalIdOf(reaper().function));
  const env = fn.Properties?.Environment as { Variables?: Record<string, unknown> } | undefined;
  return env?.Variables ?? {};
}

/** Registers the task reaper tests: its schedule, its index and its least-privilege role. */
export function describeReaper(getTaskwire: GetTaskwire): void {
  get = getTaskwire;

  describe('task reaper', () => {
    it('is invoked every minute by an EventBridge rule, and consumes no queue', () => {
      // Prepare
      const fnArn = resolved(reaper().function, reaper().function.functionArn);
      const fnId = logicalIdOf(reaper().function);
      // Act
      const rules = Object.values(resourcesOfType(get().template, 'AWS::Events::Rule')).filter(
        (rule) => JSON.stringify(rule.Properties?.Targets).includes(JSON.stringify(fnArn)),
      );
      const mappings = Object.values(
        resourcesOfType(get().template, 'AWS::Lambda::EventSourceMapping'),
      ).filter((m) => JSON.stringify(m.Properties?.FunctionName) === JSON.stringify({ Ref: fnId }));
      // Assess
      expect(FUNCTIONS.taskReaper.schedule).toBe('rate(1 minute)');
      expect(rules.map((r) => r.Properties)).toEqual([
        expect.objectContaining({ ScheduleExpression: 'rate(1 minute)', State: 'ENABLED' }),
      ]);
      expect(mappings).toEqual([]);
    });

    it('finds open tasks through a sparse status + deadline index of the tasks table', () => {
      // Prepare
      const table = resourceById(get().template, logicalIdOf(get().stack.tasks.table));
      // Act
      const index = (
        table.Properties?.GlobalSecondaryIndexes as { IndexName: string }[] | undefined
      )?.find((i) => i.IndexName === 'openByDeadline');
      // Assess
      expect(TASKS_TABLE.indexes.openByDeadline).toEqual({
        partitionKey: 'status',
        sortKey: 'deadlineAt',
        include: ['taskType', 'reaps'],
      });
      expect(index).toEqual({
        IndexName: 'openByDeadline',
        KeySchema: [
          { AttributeName: 'status', KeyType: 'HASH' },
          { AttributeName: 'deadlineAt', KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: ['taskType', 'reaps'] },
      });
    });

    it('may Query the tasks table and its indexes and update tasks, and reach no other table', () => {
      // Prepare
      const { table } = get().stack.tasks;
      const arn = resolved(table, table.tableArn);
      // Act
      const actions = actionsOn(arn);
      // Assess
      expect(actions).toEqual(
        expect.arrayContaining(['dynamodb:Query', 'dynamodb:GetItem', 'dynamodb:UpdateItem']),
      );
      expect(environment()[ENV.tasksTable]).toEqual(resolved(table, table.tableName));
      // The grant is CDK's read-write one (which also lists Scan; the reaper only Queries),
      // scoped to this table: no other table is reachable.
      for (const other of [get().stack.messages, get().stack.idempotency]) {
        expect(actionsOn(resolved(other.table, other.table.tableArn))).toEqual([]);
      }
    });

    it('may send to every task queue, and to no dead-letter queue or the fan-out queue', () => {
      // Prepare
      const queues = [...get().stack.taskQueues.byType.values()];
      const fanout = get().stack.fanoutQueue;
      // Act
      const onQueue = queues.map(({ queue }) => actionsOn(resolved(queue, queue.queueArn)));
      const onDlq = queues.map(({ deadLetterQueue: q }) => actionsOn(resolved(q, q.queueArn)));
      // Assess
      for (const actions of onQueue) expect(actions).toContain('sqs:SendMessage');
      for (const actions of onQueue) expect(actions).not.toContain('sqs:ReceiveMessage');
      expect(onDlq.flat()).toEqual([]);
      expect(actionsOn(resolved(fanout.queue, fanout.queue.queueArn))).toEqual([]);
      expect(typeof environment()[ENV.taskQueues]).not.toBe('undefined');
    });

    it('reads no secret and no bucket, and gets no download credentials', () => {
      // Prepare
      const { authSecret, wecomSecret, wecomBotSecret, downloadCredentials, artifacts } =
        get().stack;
      // Act
      const onSecrets = [authSecret, wecomSecret, wecomBotSecret, downloadCredentials].flatMap(
        ({ secret }) => actionsOn(resolved(secret, secret.secretArn)),
      );
      const onBucket = actionsOn(resolved(artifacts.bucket, artifacts.bucket.bucketArn));
      // Assess
      expect(onSecrets).toEqual([]);
      expect(onBucket).toEqual([]);
      expect(environment()[ENV.downloadCredentialsArn]).toBeUndefined();
      expect(environment()[ENV.artifactsBucket]).toBeUndefined();
    });

    it('sweeps lapsed socket-worker leases: placement and task settings, as a submit needs', () => {
      // Prepare / Act
      const needs = FUNCTIONS.taskReaper.needs;
      // Assess: a lapsed lease re-offers the task; the chain's submit reads the task settings.
      expect(needs).toEqual(expect.arrayContaining(['placement', 'taskConfig', 'queues:send']));
      expect(environment()[ENV.placement]).toBe('{}');
      expect(environment()[ENV.leaseSeconds]).toBe('30');
    });
  });
}
