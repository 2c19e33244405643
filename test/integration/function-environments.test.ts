import { createServer, type Server } from 'node:http';
import {
  type FunctionEnvironmentStart,
  functionEnvironments,
  functionModeFromEnv,
} from '../../local/function-environment';
import type { LocalRuntime } from '../../local/runtime';
import { closeServer, listen } from '../../local/net';
import { silentLog } from '../../src/ports/log';
import { processAlive } from '../support/processes';
import { errorRecordingLog, startTestRuntime, tokenFor } from '../support/runtime';
import { eventually, TestClient } from '../support/ws-client';

/**
 * The fan-out's and the sweeper's execution environments in processes of their own
 * (`functionEnvironments: 'process'`, what `npm start` runs): the same handlers, built from the
 * same composition in the child, invoked over IPC; an environment that dies is replaced.
 */

const adminCall = async (rt: LocalRuntime, method: string, path: string, body?: unknown) => {
  const token = await tokenFor({ sub: 'ops', roles: ['admin'] });
  const res = await fetch(`${rt.httpUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};

const copies = (c: TestClient, data: string) =>
  c.frames.filter((f) => f.type === 'message' && f.data === data).length;

describe('function environments in processes of their own', () => {
  let rt: LocalRuntime;
  const errors: string[] = [];
  const clients: TestClient[] = [];
  const connect = async (sub: string) => {
    const c = await TestClient.connect(rt.wsUrl, await tokenFor({ sub }));
    clients.push(c);
    return c;
  };
  /** A queued broadcast: 202, every socket exactly once, the delivery record done. */
  const broadcastToAll = async (sockets: readonly TestClient[], data: string) => {
    const res = await adminCall(rt, 'POST', '/broadcast', { data });
    expect(res.status).toBe(202);
    await eventually(() => sockets.every((c) => copies(c, data) >= 1), 30_000);
    await eventually(
      async () =>
        (await adminCall(rt, 'GET', `/deliveries/${String(res.body.deliveryId)}`)).body.state ===
        'done',
    );
    await new Promise((r) => setTimeout(r, 200));
    for (const c of sockets) expect(copies(c, data)).toBe(1);
    return (await adminCall(rt, 'GET', `/deliveries/${String(res.body.deliveryId)}`)).body;
  };

  beforeAll(async () => {
    rt = await startTestRuntime({
      functionEnvironments: 'process',
      inlineFanoutLimit: 5,
      log: errorRecordingLog(errors),
    });
  }, 60_000);
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
  });
  afterAll(async () => {
    await rt.stop();
  });

  it('starts no environment before the first invocation (a cold start, as in Lambda)', () => {
    expect(rt.functionPids()).toEqual({ fanout: [], connectionSweeper: [] });
  });

  it('fans a broadcast out in environments apart from the runtime, to every socket exactly once', async () => {
    // Prepare: more than the inline limit of 5
    const many = await Promise.all(Array.from({ length: 12 }, (_, i) => connect(`fe-b${i}`)));

    // Act
    const progress = await broadcastToAll(many, 'to all');

    // Assess
    expect(progress).toMatchObject({ delivered: 12, gone: 0, failed: 0 });
    const pids = rt.functionPids().fanout;
    expect(pids.length).toBeGreaterThanOrEqual(1);
    expect(pids.length).toBeLessThanOrEqual(2);
    for (const pid of pids) {
      expect(pid).not.toBe(process.pid);
      expect(processAlive(pid)).toBe(true);
    }
    expect(errors).toEqual([]);
  });

  it('replaces an environment that was killed: the next broadcast still reaches everyone once', async () => {
    // Prepare
    const many = await Promise.all(Array.from({ length: 8 }, (_, i) => connect(`fe-k${i}`)));
    await broadcastToAll(many, 'before the kill');
    const killed = rt.functionPids().fanout;
    expect(killed.length).toBeGreaterThanOrEqual(1);

    // Act
    for (const pid of killed) process.kill(pid, 'SIGKILL');
    await eventually(() => killed.every((pid) => !processAlive(pid)));

    // Assess
    await eventually(() => errors.some((e) => e.includes('killed by SIGKILL')));
    expect(errors.every((e) => e.startsWith('the fanout execution environment ended'))).toBe(true);
    errors.splice(0);
    const progress = await broadcastToAll(many, 'after the kill');
    expect(progress).toMatchObject({ delivered: 8, failed: 0 });
    const fresh = rt.functionPids().fanout;
    expect(fresh.length).toBeGreaterThanOrEqual(1);
    expect(fresh.some((pid) => killed.includes(pid))).toBe(false);
    expect(errors).toEqual([]);
  });

  it('sweeps in an environment of its own: a dropped connection is found and removed', async () => {
    // Prepare
    const kept = await connect('fe-kept');
    const dropped = await connect('fe-dropped');
    const [droppedId] = (await rt.store.listUser('fe-dropped')).map((c) => c.connectionId);
    await rt.gateway.dropWithoutDisconnect(droppedId ?? '');
    await dropped.close();

    // Act
    const report = await rt.sweepConnections();

    // Assess
    expect(report.removed).toBeGreaterThanOrEqual(1);
    expect(await rt.store.listUser('fe-dropped')).toEqual([]);
    expect(await rt.store.listUser('fe-kept')).toHaveLength(1);
    expect(await kept.request({ action: 'ping' })).toMatchObject({ type: 'pong' });
    const [sweeperPid] = rt.functionPids().connectionSweeper;
    expect(sweeperPid).toEqual(expect.any(Number));
    expect(sweeperPid).not.toBe(process.pid);
    expect(errors).toEqual([]);
  });

  it('ends every environment with stop()', async () => {
    // Prepare: a runtime of its own, with one environment started
    const own = await startTestRuntime({ functionEnvironments: 'process' });
    await own.sweepConnections();
    const [pid] = own.functionPids().connectionSweeper;
    expect(processAlive(pid ?? 0)).toBe(true);

    // Act
    await own.stop();

    // Assess
    expect(processAlive(pid ?? 0)).toBe(false);
  }, 60_000);
});

describe('function environments: settings and failures', () => {
  it.each(['threads', 'Process', 'yes'])(
    'refuses TASKWIRE_FUNCTION_ENVIRONMENTS=%s with a clear error',
    (raw) => {
      expect(() => functionModeFromEnv('inline', raw)).toThrow(
        `TASKWIRE_FUNCTION_ENVIRONMENTS must be "inline" or "process", not "${raw}"`,
      );
    },
  );

  it('reads unset or blank as the fallback, and the two modes as themselves', () => {
    expect(functionModeFromEnv('process', undefined)).toBe('process');
    expect(functionModeFromEnv('inline', ' ')).toBe('inline');
    expect(functionModeFromEnv('inline', 'process')).toBe('process');
    expect(functionModeFromEnv('process', 'inline')).toBe('inline');
  });

  it('refuses a test clock with environments in processes (another process cannot read it)', async () => {
    await expect(
      startTestRuntime({
        functionEnvironments: 'process',
        clock: { now: () => new Date(0) },
      }),
    ).rejects.toThrow('functionEnvironments "process" runs on the system clock: give no clock');
  });

  describe('an invocation that outlives the timeout', () => {
    // DynamoDB that accepts connections and never answers: the sweep's first Query hangs.
    let silent: Server;
    let endpoint: string;
    beforeAll(async () => {
      silent = createServer(() => undefined);
      endpoint = `http://127.0.0.1:${await listen(silent, '127.0.0.1')}`;
    });
    /** Every endpoint the one that never answers. */
    const silentSettings = (name: 'fanout' | 'connectionSweeper'): FunctionEnvironmentStart => ({
      function: { name },
      dynamoEndpoint: endpoint,
      sqsEndpoint: endpoint,
      fanoutQueueUrl: `${endpoint}/000000000000/q`,
      managementEndpoint: `${endpoint}/local`,
      credentials: { accessKeyId: 'LOCALTEST', secretAccessKey: 'secret' },
      artifacts: { root: '/nonexistent', baseUrl: 'http://127.0.0.1:1', secret: '' },
    });
    afterAll(async () => {
      silent.closeAllConnections();
      await closeServer(silent);
    });

    it('is killed with its process, answered in Lambda words, and the next one starts fresh', async () => {
      // Prepare
      const logged: string[] = [];
      const envs = functionEnvironments({
        settings: silentSettings('connectionSweeper'),
        log: {
          debug: () => undefined,
          info: () => undefined,
          warn: () => undefined,
          error: (message) => logged.push(message),
        },
        timeoutMs: 1500,
      });
      try {
        // Act
        const first = envs.invoke({});
        await eventually(() => envs.pids().length === 1, 20_000);
        const [firstPid] = envs.pids();

        // Assess
        await expect(first).rejects.toThrow('Task timed out after 1.50 seconds');
        expect(processAlive(firstPid ?? 0)).toBe(false);
        expect(logged).toEqual([
          'the connectionSweeper execution environment ended (killed by SIGKILL)',
        ]);
        const second = envs.invoke({});
        await eventually(() => envs.pids().length === 1, 20_000);
        expect(envs.pids()).not.toContain(firstPid);
        await expect(second).rejects.toThrow('Task timed out after 1.50 seconds');
      } finally {
        await envs.close();
      }
      expect(envs.pids()).toEqual([]);
    }, 60_000);

    it('a closed set of environments refuses invocations', async () => {
      const envs = functionEnvironments({
        settings: silentSettings('fanout'),
        log: silentLog,
        timeoutMs: 1000,
      });
      await envs.close();
      await expect(envs.invoke({ Records: [] })).rejects.toThrow(
        'the fanout environments are closed',
      );
    });
  });
});
