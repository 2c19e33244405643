import type { LocalRuntime } from '../../local/runtime';
import { sendChatMessage } from '../../local/wecom-client';
import {
  SLOW_DATASET,
  SLOW_DATASET_BYTES,
  SLOW_DATASET_CHUNKS,
  SLOW_DATASET_GAP_MS,
} from '../../local/sample-server';
import type { Task } from '../../src/tasks/task';
import { startTestRuntime, tokenFor } from '../support/runtime';
import { allTasks } from '../support/wecom';
import { eventually, type Frame, TestClient } from '../support/ws-client';

/**
 * Cancel (WebSocket, HTTP, chat) and `GET /tasks`, through the local runtime with real `ws`
 * clients. The slow sample dataset keeps a download running long enough to cancel it.
 */
let rt: LocalRuntime;
let alice: TestClient;
let bob: TestClient;
let ops: TestClient;
const adminToken = () => tokenFor({ sub: 'ops', roles: ['admin'] });
const TASK_ID_RE = /(t_[a-z2-7]{20})/;
/** How long the slow dataset takes in all: a bound for waiting for what must not happen. */
const SLOW_DATASET_MS = SLOW_DATASET_CHUNKS * SLOW_DATASET_GAP_MS;

async function connect(
  sub: string,
  roles: Parameters<typeof tokenFor>[0]['roles'],
): Promise<TestClient> {
  const client = await TestClient.connect(rt.wsUrl, await tokenFor({ sub, roles }));
  await client.request({ action: 'register', clientType: 'viewer' });
  return client;
}

/** Submits a task over WebSocket and returns its id. */
async function submitOver(client: TestClient, taskType: string, args: string[]): Promise<string> {
  const accepted = await client.request({ action: 'submit', taskType, args });
  expect(accepted.type).toBe('task.accepted');
  return String(accepted.taskId);
}

/** Waits until the slow download is running and has read part of its file. */
async function readingStarted(client: TestClient, taskId: string): Promise<void> {
  await client.waitFor(
    (f) => f.type === 'task.update' && f.taskId === taskId && typeof f.progress === 'number',
  );
}

const updatesOf = (client: TestClient, taskId: string): Frame[] =>
  client.frames.filter((f) => f.type === 'task.update' && f.taskId === taskId);

async function http(
  method: string,
  path: string,
  token?: string,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${rt.httpUrl}${path}`, {
    method,
    headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** Waits until the sample server has stopped sending the slow dataset; returns the bytes sent. */
async function slowDatasetStopped(): Promise<number> {
  let last = -1;
  await eventually(async () => {
    const now = rt.sampleBytesServed(SLOW_DATASET);
    const stable = now === last;
    last = now;
    if (!stable) await new Promise((r) => setTimeout(r, 4 * SLOW_DATASET_GAP_MS));
    return stable;
  });
  return last;
}

beforeAll(async () => {
  rt = await startTestRuntime();
  [alice, bob, ops] = await Promise.all([
    connect('alice', ['client']),
    connect('bob', ['client']),
    connect('ops', ['admin']),
  ]);
});
afterAll(async () => {
  await Promise.all([alice, bob, ops].map((c) => c.close()));
  await rt.stop();
});

describe('cancel over WebSocket', () => {
  it('cancels a running download on the Lambda worker: it ends cancelled, stops reading and chains no logic task', async () => {
    // Prepare: alice's slow download is reading its file
    const servedBefore = rt.sampleBytesServed(SLOW_DATASET);
    const taskId = await submitOver(alice, 'download', [SLOW_DATASET]);
    await readingStarted(alice, taskId);

    // Act
    const reply = await alice.request({ action: 'cancel', taskId });

    // Assess: the reply, then the usual task.update to the requester
    expect(reply).toMatchObject({
      type: 'task.cancelled',
      taskId,
      status: 'cancelled',
      changed: true,
    });
    expect(typeof reply.requestId).toBe('string');
    await alice.waitFor(
      (f) => f.type === 'task.update' && f.taskId === taskId && f.status === 'cancelled',
    );
    // The worker stopped reading: fewer bytes were sent than the file has.
    const served = (await slowDatasetStopped()) - servedBefore;
    expect(served).toBeGreaterThan(0);
    expect(served).toBeLessThan(SLOW_DATASET_BYTES);
    // And nothing comes after: no `succeeded`, no result, no chained logic task, even once the
    // whole file would have been read.
    await new Promise((r) => setTimeout(r, SLOW_DATASET_MS));
    const stored = await rt.tasks.get(taskId);
    expect(stored?.status).toBe('cancelled');
    expect(stored?.result).toBeUndefined();
    expect(updatesOf(alice, taskId).map((f) => f.status)).not.toContain('succeeded');
    const children = (await allTasks(rt.dynamoEndpoint)).filter((t) => t.parentTaskId === taskId);
    expect(children).toEqual([]);
  });

  it('refuses another user’s cancel with forbidden and changes nothing; an admin’s cancel ends the task', async () => {
    // Prepare
    const taskId = await submitOver(alice, 'download', [SLOW_DATASET]);
    await readingStarted(alice, taskId);

    // Act
    const refused = await bob.request({ action: 'cancel', taskId });
    const stillRunning = (await rt.tasks.get(taskId))?.status;
    const byAdmin = await ops.request({ action: 'cancel', taskId });

    // Assess
    expect(refused).toMatchObject({
      type: 'error',
      code: 'forbidden',
      message: 'only the user who asked for the task, or an admin, may cancel it',
    });
    expect(stillRunning).toBe('running');
    expect(byAdmin).toMatchObject({
      type: 'task.cancelled',
      taskId,
      status: 'cancelled',
      changed: true,
    });
    await alice.waitFor(
      (f) => f.type === 'task.update' && f.taskId === taskId && f.status === 'cancelled',
    );
    expect(bob.frames.some((f) => f.taskId === taskId && f.type === 'task.update')).toBe(false);
    await slowDatasetStopped();
  });

  it('answers the cancel of an ended task with its status, changed false, and changes nothing', async () => {
    // Prepare: a logic task that has succeeded
    const taskId = await submitOver(alice, 'logic', ['a', 'b']);
    await alice.waitFor(
      (f) => f.type === 'task.update' && f.taskId === taskId && f.status === 'succeeded',
    );
    const before = await rt.tasks.get(taskId);
    const updates = updatesOf(alice, taskId).length;

    // Act
    const reply = await alice.request({ action: 'cancel', taskId });

    // Assess
    expect(reply).toMatchObject({
      type: 'task.cancelled',
      taskId,
      status: 'succeeded',
      changed: false,
    });
    expect(await rt.tasks.get(taskId)).toEqual(before);
    await new Promise((r) => setTimeout(r, 200));
    expect(updatesOf(alice, taskId)).toHaveLength(updates);
  });

  it.each<[string, Record<string, unknown>, string, string]>([
    [
      'an unknown task',
      { taskId: 't_aaaaaaaaaaaaaaaaaaaa' },
      'not_found',
      'no task t_aaaaaaaaaaaaaaaaaaaa',
    ],
    ['a malformed task id', { taskId: 'nope' }, 'bad_request', 'taskId: not a task id'],
  ])('answers %s with an error frame', async (_what, fields, code, message) => {
    const reply = await alice.request({ action: 'cancel', ...fields });
    expect(reply).toMatchObject({ type: 'error', code, message });
  });
});

describe('POST /tasks/{taskId}/cancel', () => {
  it('cancels a running task for an admin; a second call says cancelled with changed false', async () => {
    // Prepare
    const taskId = await submitOver(alice, 'download', [SLOW_DATASET]);
    await readingStarted(alice, taskId);
    const token = await adminToken();

    // Act
    const first = await http('POST', `/tasks/${taskId}/cancel`, token);
    const again = await http('POST', `/tasks/${taskId}/cancel`, token);

    // Assess
    expect(first).toEqual({ status: 200, body: { taskId, status: 'cancelled', changed: true } });
    expect(again).toEqual({ status: 200, body: { taskId, status: 'cancelled', changed: false } });
    await alice.waitFor(
      (f) => f.type === 'task.update' && f.taskId === taskId && f.status === 'cancelled',
    );
    await slowDatasetStopped();
  });

  it('refuses a client token (403), no token (401), an unknown task (404) and a malformed id (400)', async () => {
    // Prepare: a task that must stay as it is
    const taskId = await submitOver(alice, 'logic', ['x']);
    await alice.waitFor(
      (f) => f.type === 'task.update' && f.taskId === taskId && f.status === 'succeeded',
    );
    const client = await tokenFor({ sub: 'alice', roles: ['client'] });

    // Act / Assess
    expect(await http('POST', `/tasks/${taskId}/cancel`, client)).toMatchObject({
      status: 403,
      body: { error: { code: 'forbidden' } },
    });
    expect(await http('POST', `/tasks/${taskId}/cancel`)).toMatchObject({
      status: 401,
      body: { error: { code: 'unauthorized' } },
    });
    expect(await http('POST', '/tasks/t_aaaaaaaaaaaaaaaaaaaa/cancel', await adminToken())).toEqual({
      status: 404,
      body: { error: { code: 'not_found', message: 'no task t_aaaaaaaaaaaaaaaaaaaa' } },
    });
    expect(await http('POST', '/tasks/nope/cancel', await adminToken())).toEqual({
      status: 400,
      body: { error: { code: 'bad_request', message: 'taskId: not a task id' } },
    });
    expect((await rt.tasks.get(taskId))?.status).toBe('succeeded');
  });
});

describe('the chat command cancel', () => {
  const chat = (text: string, fromUser: string) =>
    sendChatMessage(`${rt.httpUrl}/wecom/callback`, rt.wecom, { text, fromUser });

  it('lets the requester cancel; refuses someone else; says so for an ended or unknown task', async () => {
    // Prepare: zhang's slow download is running
    const accepted = await chat(`download ${SLOW_DATASET}`, 'zhang');
    const taskId = TASK_ID_RE.exec(accepted.replyText ?? '')?.[1] ?? '';
    await eventually(async () => (await rt.tasks.get(taskId))?.status === 'running');

    // Act
    const byOther = await chat(`cancel ${taskId}`, 'li');
    const statusAfterRefusal = (await rt.tasks.get(taskId))?.status;
    const byRequester = await chat(`取消 ${taskId}`, 'zhang');
    const again = await chat(`cancel ${taskId}`, 'zhang');
    const unknown = await chat('cancel t_aaaaaaaaaaaaaaaaaaaa', 'zhang');

    // Assess
    expect(byOther.replyText).toBe(
      `无权取消 not allowed: only the person who asked for ${taskId} may cancel it.`,
    );
    expect(statusAfterRefusal).toBe('running');
    expect(byRequester.replyText).toBe(`已取消 cancelled: ${taskId} download`);
    expect(again.replyText).toBe(
      `任务已结束 already ended: ${taskId} download: cancelled (未更改 nothing changed)`,
    );
    expect(unknown.replyText).toBe('找不到任务 no such task: t_aaaaaaaaaaaaaaaaaaaa');
    expect((await rt.tasks.get(taskId))?.status).toBe('cancelled');
    // The chat hears of the end as of any other (the worker posts to the robot webhook).
    await eventually(() =>
      rt.chat.received.some((p) => JSON.stringify(p.body).includes(`cancelled · \`${taskId}`)),
    );
    await slowDatasetStopped();
  });
});

describe('GET /tasks', () => {
  // An ingress-only runtime: its tasks stay queued unless cancelled, so the filters are exact.
  let idle: LocalRuntime;
  const made: { taskId: string; userId: string }[] = [];
  const list = async (query: string, token?: string) => {
    const res = await fetch(`${idle.httpUrl}/tasks${query}`, {
      headers: { authorization: `Bearer ${token ?? (await adminToken())}` },
    });
    return { status: res.status, body: (await res.json()) as { tasks: Task[]; cursor?: string } };
  };

  beforeAll(async () => {
    idle = await startTestRuntime({ workers: false });
    const token = await adminToken();
    // 5 of carol's tasks and 2 of dave's, in this order; carol's 2nd and 4th cancelled
    for (const userId of ['carol', 'dave', 'carol', 'carol', 'dave', 'carol', 'carol']) {
      const res = await fetch(`${idle.httpUrl}/tasks`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ taskType: 'logic', args: [userId], userId }),
      });
      made.push({ taskId: ((await res.json()) as { taskId: string }).taskId, userId });
      await new Promise((r) => setTimeout(r, 5));
    }
    const carols = made.filter((m) => m.userId === 'carol');
    for (const m of [carols[1], carols[3]]) {
      await fetch(`${idle.httpUrl}/tasks/${m?.taskId ?? ''}/cancel`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}` },
      });
    }
  });
  afterAll(async () => {
    await idle.stop();
  });

  const idsOf = (userId: string) =>
    made
      .filter((m) => m.userId === userId)
      .map((m) => m.taskId)
      .reverse();

  it('lists a user’s tasks newest first, and filters by status and by both', async () => {
    // Act
    const carol = await list('?userId=carol');
    const cancelled = await list('?status=cancelled');
    const carolQueued = await list('?userId=carol&status=queued');
    const daveCancelled = await list('?userId=dave&status=cancelled');

    // Assess
    expect(carol.status).toBe(200);
    expect(carol.body.tasks.map((t) => t.taskId)).toEqual(idsOf('carol'));
    expect(carol.body.cursor).toBeUndefined();
    const times = carol.body.tasks.map((t) => t.createdAt);
    expect([...times].sort().reverse()).toEqual(times);
    const carols = idsOf('carol').reverse();
    expect(cancelled.body.tasks.map((t) => t.taskId)).toEqual([carols[3], carols[1]]);
    expect(cancelled.body.tasks.every((t) => t.status === 'cancelled')).toBe(true);
    expect(carolQueued.body.tasks.map((t) => t.taskId)).toEqual(
      [carols[0], carols[2], carols[4]].reverse(),
    );
    expect(daveCancelled.body).toEqual({ tasks: [] });
    expect(carol.body.tasks[0]).toMatchObject({
      taskType: 'logic',
      requester: { userId: 'carol' },
      source: 'http',
    });
  });

  it('pages with an opaque cursor over more than one page, without gaps or repeats', async () => {
    // Act: pages of 2 of carol's 5
    const pages: { tasks: Task[]; cursor?: string }[] = [];
    let cursor: string | undefined;
    for (let i = 0; i < 10; i++) {
      const page = await list(`?userId=carol&limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      expect(page.status).toBe(200);
      pages.push(page.body);
      cursor = page.body.cursor;
      if (!cursor) break;
    }

    // Assess
    expect(pages.map((p) => p.tasks.length)).toEqual([2, 2, 1]);
    expect(pages.flatMap((p) => p.tasks.map((t) => t.taskId))).toEqual(idsOf('carol'));
  });

  it('takes limit from 1 to 100, default 20', async () => {
    expect((await list('?userId=carol&limit=1')).body.tasks).toHaveLength(1);
    expect((await list('?userId=carol&limit=100')).body.tasks).toHaveLength(5);
    expect((await list('?status=queued')).body.tasks.length).toBeLessThanOrEqual(20);
    for (const limit of ['0', '101', 'ten', '-1', '1.5']) {
      expect(await list(`?userId=carol&limit=${limit}`)).toEqual({
        status: 400,
        body: { error: { code: 'bad_request', message: 'limit: a whole number from 1 to 100' } },
      });
    }
  });

  it.each<[string, string, string]>([
    [
      'a garbled cursor',
      '?userId=carol&cursor=%21%21not-ours',
      'cursor: not one this API issued; pass the previous page’s `cursor` unchanged',
    ],
    [
      'a forged cursor',
      `?userId=carol&cursor=${Buffer.from('{"v":1,"u":"carol","t":"x","c":"y"}').toString('base64url')}`,
      'cursor: not one this API issued; pass the previous page’s `cursor` unchanged',
    ],
    [
      'no filter',
      '',
      'give userId, status or both (GET /tasks lists a user’s tasks or those in a status)',
    ],
    [
      'an unknown status',
      '?status=done',
      'status: Invalid option: expected one of "queued"|"running"|"succeeded"|"failed"|"cancelled"',
    ],
    ['a bad user id', '?userId=a%20b', 'userId: 1-128 characters of A-Z a-z 0-9 _ . @ : -'],
    ['an unknown parameter', '?userId=carol&sort=asc', 'Unrecognized key: "sort"'],
  ])('refuses %s with 400 and says why', async (_what, query, message) => {
    expect(await list(query)).toEqual({
      status: 400,
      body: { error: { code: 'bad_request', message } },
    });
  });

  it('refuses a cursor of another listing with 400', async () => {
    const first = await list('?userId=carol&limit=2');
    const other = await list(`?userId=dave&limit=2&cursor=${first.body.cursor ?? ''}`);
    expect(other).toEqual({
      status: 400,
      body: {
        error: {
          code: 'bad_request',
          message: 'cursor: it belongs to a listing with other filters (userId, status)',
        },
      },
    });
  });

  it('refuses a token without the admin role (403) and no token (401)', async () => {
    const client = await tokenFor({ sub: 'carol', roles: ['client'] });
    expect(await list('?userId=carol', client)).toMatchObject({
      status: 403,
      body: { error: { code: 'forbidden' } },
    });
    const res = await fetch(`${idle.httpUrl}/tasks?userId=carol`);
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ error: { code: 'unauthorized' } });
  });
});
