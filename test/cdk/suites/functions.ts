import { readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { Asset } from 'aws-cdk-lib/aws-s3-assets';
import {
  ENV,
  FUNCTIONS,
  TASK_WORKERS,
  type FunctionSpec,
  type Need,
} from '../../../lambdas/catalog';
import { catalogEntries, workerId } from '../../../lib/constructs/catalog-functions';
import { WS_MAX_AGE_SECONDS } from '../../../lib/constructs/needs';
import { TaskwireFunction } from '../../../lib/constructs/taskwire-function';
import { DEFAULT_HISTORY_SECONDS, DEFAULT_HISTORY_SIZE } from '../../../src/streams/schema';
import {
  actionsOf,
  logicalIdOf,
  resolved,
  resourceById,
  resourcesOf,
  resourcesOfType,
  statementsOf,
  type PolicyStatementJson,
  type GetTaskwire,
} from '../support/taskwire-template';

// Set by the test file that registers the suite; read only inside tests.
let get: GetTaskwire = () => {
  throw new Error('suite used before its test file registered it');
};

/** Every function the stack builds, by construct id: catalog entries and task workers. */
const SPECS: ReadonlyMap<string, FunctionSpec> = new Map([
  ...catalogEntries(FUNCTIONS),
  ...Object.entries(TASK_WORKERS).map(([taskType, spec]) => [workerId(taskType), spec] as const),
]);
const names = [...SPECS.keys()];
const specOf = (name: string): FunctionSpec => {
  const spec = SPECS.get(name);
  if (!spec) throw new Error(`no function ${name}`);
  return spec;
};
const withNeed = (need: Need) => names.filter((name) => specOf(name).needs.includes(need));
const withoutNeed = (need: Need) => names.filter((name) => !specOf(name).needs.includes(need));
const withAnyNeed = (needs: readonly Need[]) => [...new Set(needs.flatMap(withNeed))];

function fnOf(name: string): TaskwireFunction {
  const fn = get().stack.functions.node.findChild(name);
  if (!(fn instanceof TaskwireFunction)) throw new Error(`${name} is not a TaskwireFunction`);
  return fn;
}

function functionResource(name: string) {
  return resourceById(get().template, logicalIdOf(fnOf(name).function));
}

function environmentOf(name: string): Record<string, unknown> {
  const environment = functionResource(name).Properties?.Environment as
    { Variables?: Record<string, unknown> } | undefined;
  return environment?.Variables ?? {};
}

function statementsOfFunction(name: string): PolicyStatementJson[] {
  const policy = fnOf(name).role.node.findChild('DefaultPolicy');
  return statementsOf(resourceById(get().template, logicalIdOf(policy)));
}

/** Every ARN a table grant may name: the stack's tables and their indexes, as JSON. */
function tableResources(): string[] {
  const { connections, tasks, idempotency, messages, streams } = get().stack;
  return [connections, tasks, idempotency, messages, streams].flatMap(({ table }) => {
    const arn = resolved(table, table.tableArn);
    return [JSON.stringify(arn), JSON.stringify({ 'Fn::Join': ['', [arn, '/index/*']] })];
  });
}

/** Statements of a function that name `resource` (a resolved token) among their resources. */
function statementsOn(name: string, resource: unknown): PolicyStatementJson[] {
  const needle = JSON.stringify(resource);
  return statementsOfFunction(name).filter((statement) =>
    resourcesOf(statement).some((r) => JSON.stringify(r).includes(needle)),
  );
}

/** Registers the function and need→grant tests. */
export function describeFunctions(getTaskwire: GetTaskwire): void {
  get = getTaskwire;

  describe('catalog functions', () => {
    it('builds exactly one function per catalog entry', () => {
      // Prepare
      const functions = resourcesOfType(get().template, 'AWS::Lambda::Function');
      // Act
      const descriptions = Object.values(functions).map((fn) => fn.Properties?.Description);
      // Assess
      expect(descriptions.sort()).toEqual(names.map((name) => specOf(name).description).sort());
    });

    it.each(names)(
      'runs %s on nodejs22.x, arm64, with active tracing and its catalog sizing',
      (name) => {
        // Prepare
        const spec = specOf(name);
        // Act
        const fn = functionResource(name);
        // Assess
        expect(fn.Properties).toMatchObject({
          Runtime: 'nodejs22.x',
          Architectures: ['arm64'],
          TracingConfig: { Mode: 'Active' },
          Handler: 'index.handler',
          MemorySize: spec.memoryMb,
          Timeout: spec.timeoutSeconds,
          Description: spec.description,
        });
        expect(fn.Properties?.ReservedConcurrentExecutions).toBeUndefined();
      },
    );

    it.each(names)('sets Powertools and source-map settings on %s', (name) => {
      // Prepare / Act
      const environment = environmentOf(name);
      // Assess
      expect(environment).toMatchObject({
        POWERTOOLS_SERVICE_NAME: 'taskwire',
        POWERTOOLS_LOG_LEVEL: 'INFO',
        NODE_OPTIONS: '--enable-source-maps',
      });
    });

    it.each(names)(
      'gives %s its own one-month log group and a role without managed policies',
      (name) => {
        // Prepare
        const fn = fnOf(name);
        const logGroupId = logicalIdOf(fn.logGroup);
        // Act
        const logGroup = resourceById(get().template, logGroupId);
        const role = resourceById(get().template, logicalIdOf(fn.role));
        const logStatements = statementsOfFunction(name).filter((s) =>
          actionsOf(s).some((action) => action.startsWith('logs:')),
        );
        // Assess
        expect(logGroup.Properties?.RetentionInDays).toBe(30);
        expect(functionResource(name).Properties?.LoggingConfig).toEqual({
          LogGroup: { Ref: logGroupId },
        });
        expect(role.Properties?.ManagedPolicyArns).toBeUndefined();
        expect(logStatements).toEqual([
          {
            Effect: 'Allow',
            Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
            Resource: { 'Fn::GetAtt': [logGroupId, 'Arn'] },
          },
        ]);
      },
    );

    it.each(names)('bundles %s minified with its AWS SDK clients and a source map', (name) => {
      // Prepare
      const asset = fnOf(name).function.node.findChild('Code');
      if (!(asset instanceof Asset)) throw new Error(`no code asset for ${name}`);
      const bundleDir = path.resolve(get().app.outdir, asset.assetPath);
      // Act
      const bundle = readFileSync(path.join(bundleDir, 'index.js'), 'utf8');
      // Assess
      expect(statSync(path.join(bundleDir, 'index.js.map')).isFile()).toBe(true);
      // Nothing is left external (the SDK included) except Node built-ins and the CRT signer, an
      // optional package the SDK requires inside try/catch for SigV4a only.
      const external = [...bundle.matchAll(/require\("([^"]+)"\)/g)]
        .map((match) => match[1] ?? '')
        .filter((module) => !module.startsWith('node:') && module !== '@aws-sdk/signature-v4-crt');
      expect(external).toEqual([]);
      // Minified: unminified code averages well under 100 characters a line.
      expect(bundle.length / bundle.split('\n').length).toBeGreaterThan(1000);
    });

    it('grants nothing on "*" except the X-Ray actions active tracing requires', () => {
      // Prepare
      const statements = names.flatMap(statementsOfFunction);
      // Act
      const wildcardActions = statements
        .filter((statement) => resourcesOf(statement).includes('*'))
        .flatMap(actionsOf);
      // Assess
      expect([...new Set(wildcardActions)].sort()).toEqual([
        'xray:PutTelemetryRecords',
        'xray:PutTraceSegments',
      ]);
    });
  });

  describe('needs → grants', () => {
    describe.each([
      ['authSecret', () => get().stack.authSecret.secret, ENV.authSecretArn],
      ['wecomSecret', () => get().stack.wecomSecret.secret, ENV.wecomSecretArn],
      ['wecomBotSecret', () => get().stack.wecomBotSecret.secret, ENV.wecomBotSecretArn],
      [
        'downloadCredentials',
        () => get().stack.downloadCredentials.secret,
        ENV.downloadCredentialsArn,
      ],
    ] as const)('%s', (need, secretOf, envName) => {
      it.each(withNeed(need))('lets %s read the secret by ARN', (name) => {
        // Prepare
        const secret = secretOf();
        const arn = resolved(secret, secret.secretArn);
        // Act
        const statements = statementsOn(name, arn);
        // Assess
        expect(statements).toEqual([
          {
            Effect: 'Allow',
            Action: ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'],
            Resource: arn,
          },
        ]);
        expect(environmentOf(name)[envName]).toEqual(arn);
      });

      it('gives the secret to no other function', () => {
        // Prepare
        const secret = secretOf();
        const arn = resolved(secret, secret.secretArn);
        // Act
        const granted = withoutNeed(need).filter(
          (name) => statementsOn(name, arn).length > 0 || envName in environmentOf(name),
        );
        // Assess
        expect(granted).toEqual([]);
      });
    });

    // Label, the needs that read the table, the needs that write it, stack property, env name.
    const tableCases = [
      [
        'connections',
        ['connections:read'],
        ['connections:write'],
        'connections',
        ENV.connectionsTable,
      ],
      ['tasks', ['tasks:read'], ['tasks:write'], 'tasks', ENV.tasksTable],
      ['idempotency', [], ['idempotency'], 'idempotency', ENV.idempotencyTable],
      ['messages', [], ['messages', 'sessionNotices'], 'messages', ENV.messagesTable],
      ['streams', [], ['streams'], 'streams', ENV.streamsTable],
    ] as const;

    describe.each(tableCases)('%s table', (_label, readNeeds, writeNeeds, key, envName) => {
      const writers = withAnyNeed(writeNeeds);
      const users = [...new Set([...withAnyNeed(readNeeds), ...writers])];
      const schemaTable = () => get().stack[key];

      it.each(users)('scopes %s to this table (and its indexes)', (name) => {
        // Prepare
        const { table, hasIndexes } = schemaTable();
        const arn = resolved(table, table.tableArn);
        const expected = hasIndexes ? [arn, { 'Fn::Join': ['', [arn, '/index/*']] }] : [arn];
        // Act
        const statements = statementsOn(name, arn);
        const actions = statements.flatMap(actionsOf);
        // Assess: statements may also name the stack's other tables (IAM minimizePolicies
        // merges statements with equal actions), but nothing outside the stack's tables.
        expect(statements.length).toBeGreaterThan(0);
        for (const statement of statements) {
          expect(resourcesOf(statement)).toEqual(expect.arrayContaining(expected));
          for (const resource of resourcesOf(statement)) {
            expect(tableResources()).toContain(JSON.stringify(resource));
          }
        }
        expect(actions).toEqual(expect.arrayContaining(['dynamodb:Query', 'dynamodb:GetItem']));
        if (writers.includes(name)) {
          expect(actions).toEqual(
            expect.arrayContaining(['dynamodb:PutItem', 'dynamodb:DeleteItem']),
          );
        } else {
          expect(actions).not.toContain('dynamodb:PutItem');
        }
        expect(environmentOf(name)[envName]).toEqual(resolved(table, table.tableName));
      });

      it('gives the table to no other function', () => {
        // Prepare
        const { table } = schemaTable();
        const arn = resolved(table, table.tableArn);
        // Act
        const granted = names
          .filter((name) => !users.includes(name))
          .filter((name) => statementsOn(name, arn).length > 0 || envName in environmentOf(name));
        // Assess
        expect(granted).toEqual([]);
      });
    });

    describe('streams', () => {
      it('goes with every push except the sweeper’s (GetConnection only, no frames)', () => {
        // Prepare
        const pushers = withNeed('push').filter((name) => name !== 'connectionSweeper');
        // Act
        const appenders = withNeed('streams');
        // Assess
        expect(appenders.sort()).toEqual(pushers.sort());
        expect(appenders).toEqual(
          expect.arrayContaining(['wsMessage', 'httpApi', 'wecomCallback', 'deadLetter']),
        );
        expect(appenders).toEqual(expect.arrayContaining(['fanout', 'taskReaper']));
        for (const taskType of Object.keys(TASK_WORKERS)) {
          expect(appenders).toContain(workerId(taskType));
        }
      });

      it.each(withNeed('streams'))('tells %s the default stream retention', (name) => {
        // Prepare / Act
        const environment = environmentOf(name);
        // Assess
        expect(environment).toMatchObject({
          [ENV.historySeconds]: String(DEFAULT_HISTORY_SECONDS),
          [ENV.historySize]: String(DEFAULT_HISTORY_SIZE),
        });
      });

      // Named first, so the sweeper and the authorizer stay checked if someone adds the need.
      it.each([...new Set(['connectionSweeper', 'wsAuthorizer', ...withoutNeed('streams')])])(
        'keeps the stream log and its retention from %s',
        (name) => {
          // Prepare
          const { table } = get().stack.streams;
          // Act
          const environment = environmentOf(name);
          const statements = statementsOn(name, resolved(table, table.tableArn));
          // Assess
          expect(specOf(name).needs).not.toContain('streams');
          expect(statements).toEqual([]);
          expect(environment[ENV.streamsTable]).toBeUndefined();
          expect(environment[ENV.historySeconds]).toBeUndefined();
          expect(environment[ENV.historySize]).toBeUndefined();
        },
      );

      it('gives wsMessage the 29 s API Gateway allows a route, for replaying a resume', () => {
        // Prepare / Act
        const fn = functionResource('wsMessage');
        // Assess
        expect(fn.Properties?.Timeout).toBe(29);
      });
    });

    describe('sessionNotices', () => {
      it('is what wsConnect needs besides recording the connection', () => {
        // Prepare / Act
        const needs = specOf('wsConnect').needs;
        // Assess
        expect([...needs].sort()).toEqual(['connections:write', 'sessionNotices']);
        expect(withNeed('sessionNotices')).toEqual(['wsConnect']);
      });

      it('lets wsConnect write the messages table and tells it the 2-hour connection cap', () => {
        // Prepare
        const { table } = get().stack.messages;
        // Act
        const environment = environmentOf('wsConnect');
        const actions = statementsOn('wsConnect', resolved(table, table.tableArn)).flatMap(
          actionsOf,
        );
        // Assess
        expect(WS_MAX_AGE_SECONDS).toBe(7200);
        expect(environment[ENV.wsMaxAgeSeconds]).toBe('7200');
        expect(environment[ENV.messagesTable]).toEqual(resolved(table, table.tableName));
        expect(actions).toEqual(expect.arrayContaining(['dynamodb:PutItem', 'dynamodb:Query']));
      });

      it.each(withoutNeed('sessionNotices'))('sets no connection cap on %s', (name) => {
        // Prepare / Act
        const environment = environmentOf(name);
        // Assess
        expect(environment[ENV.wsMaxAgeSeconds]).toBeUndefined();
      });
    });

    describe('queues:send', () => {
      const sendsTo = (name: string, arn: unknown) =>
        statementsOn(name, arn).flatMap(actionsOf).includes('sqs:SendMessage');

      it.each(withNeed('queues:send'))(
        'lets %s send to every task queue (no DLQ) and names them in TASK_QUEUES',
        (name) => {
          // Prepare
          const queues = [...get().stack.taskQueues.byType.values()];
          // Act
          const environment = JSON.stringify(environmentOf(name)[ENV.taskQueues]);
          // Assess
          for (const { queue, deadLetterQueue } of queues) {
            expect(sendsTo(name, resolved(queue, queue.queueArn))).toBe(true);
            expect(sendsTo(name, resolved(deadLetterQueue, deadLetterQueue.queueArn))).toBe(false);
            expect(environment).toContain(JSON.stringify(resolved(queue, queue.queueUrl)));
          }
          for (const taskType of get().stack.taskQueues.byType.keys()) {
            expect(environment).toContain(taskType);
          }
        },
      );

      it('lets no other function send', () => {
        // Prepare
        const queueArns = [...get().stack.taskQueues.byType.values()].map(({ queue }) =>
          resolved(queue, queue.queueArn),
        );
        // Act
        const granted = withoutNeed('queues:send').filter((name) =>
          queueArns.some((arn) => sendsTo(name, arn)),
        );
        // Assess
        expect(granted).toEqual([]);
      });
    });

    describe('fanoutQueue', () => {
      const sendsTo = (name: string, arn: unknown) =>
        statementsOn(name, arn).flatMap(actionsOf).includes('sqs:SendMessage');

      it.each(withNeed('fanoutQueue'))('lets %s send to the fan-out queue by URL', (name) => {
        // Prepare
        const { queue, deadLetterQueue } = get().stack.fanoutQueue;
        // Act
        const environment = environmentOf(name);
        // Assess
        expect(sendsTo(name, resolved(queue, queue.queueArn))).toBe(true);
        expect(sendsTo(name, resolved(deadLetterQueue, deadLetterQueue.queueArn))).toBe(false);
        expect(environment[ENV.fanoutQueueUrl]).toEqual(resolved(queue, queue.queueUrl));
      });

      it('lets no other function send to it', () => {
        // Prepare
        const { queue } = get().stack.fanoutQueue;
        // Act
        const granted = withoutNeed('fanoutQueue').filter((name) =>
          sendsTo(name, resolved(queue, queue.queueArn)),
        );
        // Assess
        expect(granted).toEqual([]);
      });
    });

    describe('artifacts', () => {
      const bucketOf = () => get().stack.artifacts.bucket;

      it.each(withNeed('artifacts'))('lets %s put and get objects, nothing else', (name) => {
        // Prepare
        const bucket = bucketOf();
        const arn = resolved(bucket, bucket.bucketArn);
        // Act
        const statements = statementsOn(name, arn);
        // Assess
        expect(statements).toEqual([
          {
            Effect: 'Allow',
            Action: ['s3:GetObject', 's3:PutObject'],
            Resource: { 'Fn::Join': ['', [arn, '/*']] },
          },
        ]);
        expect(environmentOf(name)[ENV.artifactsBucket]).toEqual(
          resolved(bucket, bucket.bucketName),
        );
      });

      it('gives the bucket to no other function', () => {
        // Prepare
        const bucket = bucketOf();
        const arn = resolved(bucket, bucket.bucketArn);
        // Act
        const granted = withoutNeed('artifacts').filter(
          (name) =>
            statementsOn(name, arn).length > 0 || ENV.artifactsBucket in environmentOf(name),
        );
        // Assess
        expect(granted).toEqual([]);
      });
    });

    describe('settings from context', () => {
      it('warns once at synth when the task settings are missing', () => {
        // Prepare
        const annotations = Annotations.fromStack(get().stack);
        // Act
        const warnings = annotations.findWarning(
          `/${get().stack.node.id}`,
          Match.stringLikeRegexp('downloadServers'),
        );
        // Assess
        expect(warnings).toHaveLength(1);
        for (const name of withNeed('taskConfig')) {
          expect(environmentOf(name)[ENV.downloadServers]).toBeUndefined();
        }
      });

      it.each(withNeed('chatWebhook'))('sets no webhook on %s without context', (name) => {
        // Prepare / Act
        const environment = environmentOf(name);
        // Assess
        expect(environment[ENV.wecomWebhookUrl]).toBeUndefined();
      });
    });
  });
}
