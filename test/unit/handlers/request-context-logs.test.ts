/**
 * Every line a request logs says which request it belongs to: the Lambda request id, the route,
 * API Gateway's request id and, on WebSocket routes, the connection. Checked on the real
 * Powertools Logger's output, as CloudWatch (or the terminal of `npm start`) would show it.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import type { Context } from 'aws-lambda';
import { type ApiPorts, createApiHandler } from '../../../lambdas/http/api';
import { createDisconnectHandler } from '../../../lambdas/ws/disconnect';
import { createMessageHandler } from '../../../lambdas/ws/message';
import { signToken } from '../../../src/auth/token';
import type { TaskQueue } from '../../../src/tasks/task-queue';
import { localLambdaContext } from '../../../local/lambda-context';
import { MemoryTaskStore } from '../../support/memory-task-store';
import {
  MemoryArtifactStore,
  MemoryFanoutQueue,
  MemoryMessageStore,
} from '../../support/memory-stores';
import { ManualClock, MemoryConnectionStore } from '../core/fakes';

const SECRET = 'log-keys-secret-0123456789-0123456789-abc';
const NOW = new Date('2024-06-01T12:00:00.000Z');

/** The JSON lines the loggers print while `act` runs (stdout and stderr, as Lambda keeps both). */
async function printedLines(act: () => Promise<unknown>): Promise<Record<string, unknown>[]> {
  const lines: Record<string, unknown>[] = [];
  const keep = (chunk: unknown): boolean => {
    for (const line of String(chunk).split('\n')) {
      if (line.trim().startsWith('{')) lines.push(JSON.parse(line) as Record<string, unknown>);
    }
    return true;
  };
  const out = jest.spyOn(process.stdout, 'write').mockImplementation(keep);
  const err = jest.spyOn(process.stderr, 'write').mockImplementation(keep);
  try {
    await act();
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
  return lines;
}

/** A Powertools Logger as the functions make theirs. */
const newLogger = () => new Logger({ serviceName: 'taskwire-test', logLevel: 'DEBUG' });

/** An HTTP API payload 2.0 event with API Gateway's request id. */
const httpEvent = (
  routeKey: string,
  requestId: string,
  body?: unknown,
  authorization?: string,
) => ({
  version: '2.0',
  routeKey,
  rawPath: routeKey.split(' ')[1],
  headers: {
    'content-type': 'application/json',
    ...(authorization ? { authorization } : {}),
  },
  requestContext: { requestId, http: { method: routeKey.split(' ')[0] } },
  ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  isBase64Encoded: false,
});

/** A WebSocket event with API Gateway's request id. */
const wsEvent = (
  routeKey: string,
  eventType: 'MESSAGE' | 'DISCONNECT',
  connectionId: string,
  requestId: string,
  body?: unknown,
) => ({
  requestContext: { connectionId, routeKey, eventType, requestId, stage: 'dev' },
  ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  isBase64Encoded: false,
});

/** The HTTP API over in-memory ports; `enqueue` lets a test hold a submit half-way. */
function apiWith(log: Logger, enqueue: TaskQueue['enqueue'] = async () => undefined) {
  const clock = new ManualClock(NOW);
  const ports: ApiPorts = {
    store: new MemoryConnectionStore(),
    // No route used here pushes.
    pusher: {} as ApiPorts['pusher'],
    secret: async () => SECRET,
    log,
    clock,
    submit: {
      tasks: new MemoryTaskStore(),
      queue: { enqueue },
      clock,
      log,
      args: { servers: ['local'], defaultServer: 'local' },
    },
    messages: new MemoryMessageStore(),
    fanout: new MemoryFanoutQueue(),
    artifacts: new MemoryArtifactStore(),
  };
  return createApiHandler(ports);
}

const adminBearer = async () =>
  `Bearer ${await signToken({ sub: 'ops', roles: ['admin'] }, SECRET, NOW)}`;

const context = (awsRequestId: string, functionName = 'httpApi'): Context => ({
  ...localLambdaContext(functionName, 29),
  awsRequestId,
});

describe('request context in the logs', () => {
  it('logs an HTTP request with awsRequestId, route and requestId', async () => {
    // Prepare
    const handler = apiWith(newLogger());
    const event = httpEvent('POST /tasks', 'apigw-1', { taskType: 'logic', args: ['x'] });
    const withToken = {
      ...event,
      headers: { ...event.headers, authorization: await adminBearer() },
    };

    // Act
    const lines = await printedLines(() => handler(withToken, context('lambda-1')));

    // Assess
    const queued = lines.find((l) => l.message === 'task queued');
    expect(queued).toMatchObject({
      level: 'INFO',
      service: 'taskwire-test',
      awsRequestId: 'lambda-1',
      function_request_id: 'lambda-1',
      function_name: 'httpApi',
      route: 'POST /tasks',
      requestId: 'apigw-1',
      taskType: 'logic',
    });
  });

  it('logs a fault of an HTTP request with its keys and stack, and answers 500 without them', async () => {
    // Prepare
    const handler = apiWith(newLogger(), async () => {
      throw new Error('queue on fire');
    });
    const event = {
      ...httpEvent('POST /tasks', 'apigw-2', { taskType: 'logic', args: ['x'] }),
    };
    event.headers = { ...event.headers, authorization: await adminBearer() };
    let status = 0;
    let body = '';

    // Act
    const lines = await printedLines(async () => {
      const result = await handler(event, context('lambda-2'));
      status = result.statusCode;
      body = result.body;
    });

    // Assess
    expect(status).toBe(500);
    expect(body).not.toMatch(/queue on fire|stack|lambda-2|apigw-2/);
    expect(lines.find((l) => l.message === 'unhandled error')).toMatchObject({
      level: 'ERROR',
      awsRequestId: 'lambda-2',
      route: 'POST /tasks',
      requestId: 'apigw-2',
      routeKey: 'POST /tasks',
      error: { message: 'queue on fire', stack: expect.stringContaining('queue on fire') },
    });
  });

  it('logs a WebSocket message with awsRequestId, route, connectionId and requestId', async () => {
    // Prepare
    const store = new MemoryConnectionStore();
    store.seed({ connectionId: 'conn-7', userId: 'alice', allowedGroups: ['*'] });
    jest.spyOn(store, 'join').mockRejectedValue(new Error('table on fire'));
    const handler = createMessageHandler({
      store,
      log: newLogger(),
      clock: new ManualClock(NOW),
    });
    const event = wsEvent('join', 'MESSAGE', 'conn-7', 'apigw-ws-1', {
      action: 'join',
      group: 'ops',
      requestId: 'r1',
    });
    let reply = '';

    // Act
    const lines = await printedLines(async () => {
      reply = (await handler(event, context('lambda-ws-1', 'wsMessage'))).body ?? '';
    });

    // Assess
    expect(JSON.parse(reply)).toMatchObject({ type: 'error', code: 'internal', requestId: 'r1' });
    expect(reply).not.toMatch(/table on fire|stack/);
    expect(lines.find((l) => l.message === 'message failed')).toMatchObject({
      level: 'ERROR',
      awsRequestId: 'lambda-ws-1',
      function_name: 'wsMessage',
      route: 'join',
      connectionId: 'conn-7',
      requestId: 'apigw-ws-1',
      action: 'join',
      error: { message: 'table on fire', stack: expect.any(String) },
    });
  });

  it('logs a $disconnect with its route and connection', async () => {
    // Prepare
    const store = new MemoryConnectionStore();
    store.seed({ connectionId: 'conn-8', userId: 'bob' });
    const handler = createDisconnectHandler({ store, log: newLogger() });

    // Act
    const lines = await printedLines(() =>
      handler(
        wsEvent('$disconnect', 'DISCONNECT', 'conn-8', 'apigw-ws-2'),
        context('lambda-ws-2', 'wsDisconnect'),
      ),
    );

    // Assess
    expect(lines.find((l) => l.message === 'disconnected')).toMatchObject({
      awsRequestId: 'lambda-ws-2',
      route: '$disconnect',
      connectionId: 'conn-8',
      requestId: 'apigw-ws-2',
    });
  });

  it('keeps the keys of concurrent invocations of one handler apart, and off the shared logger', async () => {
    // Prepare: the first request is held in its queue send until the second one is done.
    const logger = newLogger();
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    let sends = 0;
    const handler = apiWith(logger, async () => {
      sends += 1;
      if (sends === 1) await held;
    });
    const authorization = await adminBearer();
    const submit = (n: number) =>
      httpEvent('POST /tasks', `apigw-${n}`, { taskType: 'logic', args: [`a${n}`] }, authorization);

    // Act
    const lines = await printedLines(async () => {
      const first = handler(submit(1), context('lambda-a'));
      await new Promise((resolve) => setImmediate(resolve));
      await handler(submit(2), context('lambda-b'));
      release();
      await first;
      logger.info('after both');
    });

    // Assess
    const queued = lines.filter((l) => l.message === 'task queued');
    expect(queued.map((l) => [l.awsRequestId, l.requestId])).toEqual([
      ['lambda-b', 'apigw-2'],
      ['lambda-a', 'apigw-1'],
    ]);
    const after = lines.find((l) => l.message === 'after both');
    expect(after).toBeDefined();
    expect(after).not.toHaveProperty('awsRequestId');
    expect(after).not.toHaveProperty('route');
    expect(after).not.toHaveProperty('function_request_id');
  });
});
