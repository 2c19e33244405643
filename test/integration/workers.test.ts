import { SendMessageCommand } from '@aws-sdk/client-sqs';
import type { LocalRuntime } from '../../local/runtime';
import { sendChatMessage } from '../../local/wecom-client';
import type { Task } from '../../src/tasks/task';
import { startFaultServer, type FaultServer } from '../support/fault-server';
import { startTestRuntime, tokenFor, TEST_SECRET } from '../support/runtime';
import { eventually, type Frame, TestClient } from '../support/ws-client';

let rt: LocalRuntime;
let faults: FaultServer;
let elsewhere: FaultServer;
let observer: TestClient;
const admin = () => tokenFor({ sub: 'ops', roles: ['admin'] });

const submit = async (body: Record<string, unknown>) => {
  const res = await fetch(`${rt.httpUrl}/tasks`, {
    method: 'POST',
    headers: { authorization: `Bearer ${await admin()}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  expect(res.status).toBe(202);
  return ((await res.json()) as { taskId: string }).taskId;
};

/** Waits until the task is terminal and returns it. */
const settled = async (taskId: string, timeoutMs = 15_000): Promise<Task> => {
  let task: Task | undefined;
  await eventually(async () => {
    task = await rt.tasks.get(taskId);
    return task?.status === 'succeeded' || task?.status === 'failed';
  }, timeoutMs);
  return task as Task;
};

const updatesOf = (taskId: string) =>
  observer.frames.filter((f) => f.type === 'task.update' && f.taskId === taskId);

beforeAll(async () => {
  elsewhere = await startFaultServer();
  faults = await startFaultServer({ redirectTo: elsewhere.url });
  rt = await startTestRuntime({
    queueVisibilitySeconds: 1,
    servers: {
      faulty: { baseUrl: faults.url, path: '/ds/{dsNumber}', timeoutMs: 400, maxBytes: 64 * 1024 },
    },
    serverCredentials: {},
  });
  observer = await TestClient.connect(
    rt.wsUrl,
    await tokenFor({ sub: 'watcher', roles: ['worker'] }),
  );
  await observer.request({ action: 'register', clientType: 'http' });
});
afterAll(async () => {
  await observer.close();
  await rt.stop();
  await faults.close();
  await elsewhere.close();
});

describe('download → logic through the local runtime', () => {
  it('runs a WeCom `download` and its chained logic task, live on WebSocket and back in the chat', async () => {
    // Prepare: the default server is the sample server
    const local = await startTestRuntime({ queueVisibilitySeconds: 2 });
    try {
      const watcher = await TestClient.connect(
        local.wsUrl,
        await tokenFor({ sub: 'w', roles: ['worker'] }),
      );
      await watcher.request({ action: 'register', clientType: 'http' });

      // Act
      const answer = await sendChatMessage(`${local.httpUrl}/wecom/callback`, local.wecom, {
        text: 'download 12345',
        fromUser: 'alice',
      });
      const downloadId = /(t_[a-z2-7]{20})/.exec(answer.replyText ?? '')?.[1] ?? '';
      const done = await watcher.waitFor(
        (f) => f.type === 'task.update' && f.taskType === 'logic' && f.status === 'succeeded',
        15_000,
      );

      // Assess: the download went queued → running → succeeded, then logic did the same
      const statuses = (id: string) =>
        watcher.frames
          .filter((f) => f.type === 'task.update' && f.taskId === id)
          .map((f) => f.status);
      expect(statuses(downloadId).filter((s) => s !== 'running')).toEqual(['queued', 'succeeded']);
      expect(statuses(downloadId)).toContain('running');
      const logicId = String(done.taskId);
      expect(statuses(logicId)[0]).toBe('queued');
      expect(statuses(logicId)).toContain('running');
      expect(done).toMatchObject({
        parentTaskId: downloadId,
        result: {
          kind: 'file',
          detectedType: 'csv',
          records: 200,
          columns: ['id', 'sensor', 'value'],
        },
      });
      expect((done.result as { sha256: string }).sha256).toMatch(/^[0-9a-f]{64}$/);
      await eventually(() => local.chat.received.length >= 2, 5000);
      const chatText = local.chat.received.map((p) => JSON.stringify(p.body)).join('\n');
      expect(chatText).toContain(downloadId);
      expect(chatText).toContain(logicId);
      await watcher.close();
    } finally {
      await local.stop();
    }
  });

  it("pushes a task's updates to its requester's own connections", async () => {
    const me = await TestClient.connect(rt.wsUrl, await tokenFor({ sub: 'requester' }));
    const accepted = await me.request({
      action: 'submit',
      taskType: 'logic',
      args: ['hello', 'world'],
    });
    expect(accepted).toMatchObject({ type: 'task.accepted', taskId: expect.stringMatching(/^t_/) });
    const final = await me.waitFor(
      (f) => f.type === 'task.update' && f.status === 'succeeded',
      10_000,
    );
    expect(final).toMatchObject({ taskId: accepted.taskId, result: { kind: 'words', count: 2 } });
    const types = me.frames.map((f) =>
      f.type === 'task.update' ? `update:${String(f.status)}` : f.type,
    );
    expect(types.indexOf('task.accepted')).toBeLessThan(types.indexOf('update:queued'));
    await me.close();
  });
});

describe('faults: every accepted task ends in a terminal state', () => {
  it('fails a download whose server answers 500 every time, after the retries, and says so', async () => {
    const id = await submit({
      taskType: 'download',
      args: { dsNumber: 'boom1', server: 'faulty' },
    });
    const task = await settled(id);
    expect(task.status).toBe('failed');
    expect(task.error).toMatch(/500.*gave up after 3 attempts/);
    expect(faults.hits.get('boom1')).toBe(3);
    await observer.waitFor((f) => f.taskId === id && f.status === 'failed');
  });

  it('fails a download that times out, after the retries', async () => {
    const id = await submit({
      taskType: 'download',
      args: { dsNumber: 'slow1', server: 'faulty' },
    });
    const task = await settled(id, 20_000);
    expect(task).toMatchObject({ status: 'failed', error: expect.stringMatching(/timed out/) });
  });

  it('fails a download over the size cap at once, storing nothing', async () => {
    const id = await submit({
      taskType: 'download',
      args: { dsNumber: 'huge1', server: 'faulty' },
    });
    const task = await settled(id);
    expect(task).toMatchObject({ status: 'failed', error: expect.stringMatching(/cap/) });
    expect(faults.hits.get('huge1')).toBe(1);
  });

  it('fails a download redirected off the allow-list without contacting the other host', async () => {
    const id = await submit({
      taskType: 'download',
      args: { dsNumber: 'away1', server: 'faulty' },
    });
    const task = await settled(id);
    expect(task).toMatchObject({ status: 'failed', error: expect.stringMatching(/allow-list/) });
    expect(elsewhere.hits.size).toBe(0);
  });

  it('refuses a server that is not configured when the task is submitted', async () => {
    const res = await fetch(`${rt.httpUrl}/tasks`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await admin()}` },
      body: JSON.stringify({
        taskType: 'download',
        args: { dsNumber: '1', server: 'evil.example' },
      }),
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({
      error: { code: 'bad_request', message: expect.stringMatching(/unknown server/) },
    });
  });

  it('retries only the failing record of a batch; the others succeed once', async () => {
    const ids = await Promise.all(
      ['ok-a', 'flaky1', 'ok-b', 'ok-c'].map((ds) =>
        submit({ taskType: 'download', args: { dsNumber: ds, server: 'faulty' } }),
      ),
    );
    const tasks = await Promise.all(ids.map((id) => settled(id)));
    expect(tasks.map((t) => t.status)).toEqual([
      'succeeded',
      'succeeded',
      'succeeded',
      'succeeded',
    ]);
    expect([
      faults.hits.get('ok-a'),
      faults.hits.get('flaky1'),
      faults.hits.get('ok-b'),
      faults.hits.get('ok-c'),
    ]).toEqual([1, 2, 1, 1]);
  });

  it('runs a message delivered twice once, with one result', async () => {
    // Prepare: a task and a duplicate of its queue message
    const id = await submit({
      taskType: 'download',
      args: { dsNumber: 'twice1', server: 'faulty' },
    });
    await rt.sqs.send(
      new SendMessageCommand({
        QueueUrl: rt.queueUrls['taskwire-download'],
        MessageBody: JSON.stringify({ taskId: id, taskType: 'download' }),
      }),
    );
    // Act
    const task = await settled(id);
    await new Promise((r) => setTimeout(r, 1500));
    // Assess
    expect(task.status).toBe('succeeded');
    expect(faults.hits.get('twice1')).toBe(1);
    const finals = updatesOf(id).filter((f: Frame) => f.status === 'succeeded');
    expect(finals).toHaveLength(1);
  });

  it('marks a task failed from its dead letter when its worker never finishes', async () => {
    // A message for a task that exists, put straight on the DLQ as SQS does after the retries
    const id = await submit({ taskType: 'logic', args: { args: ['x'] } });
    await settled(id);
    const orphan = await submit({
      taskType: 'download',
      args: { dsNumber: 'slow-dlq', server: 'faulty' },
    });
    // Act: as if the worker had died on every try
    await rt.sqs.send(
      new SendMessageCommand({
        QueueUrl: rt.queueUrls['taskwire-download-dlq'],
        MessageBody: JSON.stringify({ taskId: orphan, taskType: 'download' }),
      }),
    );
    const task = await settled(orphan, 20_000);
    expect(task.status).toBe('failed');
    await observer.waitFor((f) => f.taskId === orphan && f.status === 'failed', 10_000);
  });
});

it('keeps the test secret long enough', () =>
  expect(TEST_SECRET.length).toBeGreaterThanOrEqual(32));
