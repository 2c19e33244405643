/**
 * Users reach only what is theirs, through the whole local runtime: retry keys of two users
 * never meet, stored files belong to the task chain that made them, and the chat `status`
 * command answers only the task's requester. Each case from both sides: who may, who may not.
 */
import type { LocalRuntime } from '../../local/runtime';
import type { Role } from '../../src/auth/token';
import { sendChatMessage } from '../../local/wecom-client';
import type { Task } from '../../src/tasks/task';
import { startTestRuntime, tokenFor } from '../support/runtime';
import { allTasks } from '../support/wecom';
import { eventually, type Frame, TestClient } from '../support/ws-client';

let rt: LocalRuntime;
const clients: TestClient[] = [];

const connect = async (sub: string, roles: Role[] = ['client']) => {
  const client = await TestClient.connect(rt.wsUrl, await tokenFor({ sub, roles }));
  clients.push(client);
  return client;
};

/** Sends a submit with the given requestId and waits for the reply that carries it. */
const submit = async (client: TestClient, frame: Record<string, unknown>, requestId: string) => {
  client.send({ action: 'submit', ...frame, requestId });
  return client.waitFor((f) => f.requestId === requestId);
};

const settled = async (taskId: string): Promise<Task> => {
  let task: Task | undefined;
  await eventually(async () => {
    task = await rt.tasks.get(taskId);
    return task?.status === 'succeeded' || task?.status === 'failed';
  }, 15_000);
  return task as Task;
};

const adminPost = async (path: string, body: unknown) =>
  fetch(`${rt.httpUrl}${path}`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${await tokenFor({ sub: 'ops', roles: ['admin'] })}`,
      'content-type': 'application/json',
    },
    body: JSON.stringify(body),
  });

const chat = (text: string, fromUser: string, chatId?: string) =>
  sendChatMessage(`${rt.httpUrl}/wecom/callback`, rt.wecom, {
    text,
    fromUser,
    ...(chatId ? { chatId } : {}),
  });
const taskIdIn = (text: string | undefined) => /(t_[a-z2-7]{20})/.exec(text ?? '')?.[1] ?? '';

beforeAll(async () => {
  rt = await startTestRuntime({ queueVisibilitySeconds: 2 });
});
afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await rt.stop();
});

describe('retry keys: one user never gets another user’s task', () => {
  it('keeps `alice:x` + requestId `y` and `alice` + requestId `x:y` apart, and runs both', async () => {
    // Prepare
    const aliceX = await connect('alice:x');
    const alice = await connect('alice');

    // Act
    const theirs = await submit(aliceX, { taskType: 'logic', args: ['words'] }, 'y');
    const hers = await submit(alice, { taskType: 'download', args: ['12345'] }, 'x:y');

    // Assess: two tasks, each the submitter's own, and alice's download really runs
    expect(theirs).toMatchObject({ type: 'task.accepted', requestId: 'y' });
    expect(hers).toMatchObject({ type: 'task.accepted', requestId: 'x:y' });
    expect(hers.taskId).not.toBe(theirs.taskId);
    const [theirTask, herTask] = await Promise.all([
      rt.tasks.get(String(theirs.taskId)),
      rt.tasks.get(String(hers.taskId)),
    ]);
    expect(theirTask).toMatchObject({ taskType: 'logic', requester: { userId: 'alice:x' } });
    expect(herTask).toMatchObject({ taskType: 'download', requester: { userId: 'alice' } });
    expect(await settled(String(hers.taskId))).toMatchObject({ status: 'succeeded' });
  });

  it("still answers a user's own retry with the same task and no second one", async () => {
    // Prepare
    const bob = await connect('bob');
    const first = await submit(bob, { taskType: 'logic', args: ['a'] }, 'retry-1');
    const before = (await allTasks(rt.dynamoEndpoint)).length;

    // Act
    const again = await submit(bob, { taskType: 'logic', args: ['a'] }, 'retry-1');
    const other = await submit(await connect('bob:retry'), { taskType: 'logic', args: ['a'] }, '1');

    // Assess
    expect(again.taskId).toBe(first.taskId);
    expect(other.taskId).not.toBe(first.taskId);
    expect((await allTasks(rt.dynamoEndpoint)).length).toBe(before + 1);
  });
});

describe('stored files belong to the task chain that made them', () => {
  let owner: TestClient;
  let downloadId: string;
  let artifact: { key: string; name: string; size: number; sha256: string };

  beforeAll(async () => {
    owner = await connect('carol');
    const accepted = await submit(owner, { taskType: 'download', args: ['B7', '12345'] }, 'd1');
    downloadId = String(accepted.taskId);
    const done = await settled(downloadId);
    artifact = (done.result as { artifact: typeof artifact }).artifact;
  });

  it('lets the download’s own chained logic task analyse the file (who may)', async () => {
    // Act
    const update = await owner.waitFor(
      (f) => f.type === 'task.update' && f.parentTaskId === downloadId && f.status === 'succeeded',
      15_000,
    );

    // Assess
    expect(artifact.key).toBe(`downloads/${downloadId}/12345`);
    expect(update).toMatchObject({
      taskType: 'logic',
      result: { kind: 'file', sha256: artifact.sha256, analysis: { boxId: 'B7' } },
    });
  });

  it.each<[string, (a: typeof artifact) => Record<string, unknown>]>([
    ['the exact reference', (a) => a],
    ['a wrong sha256 (the old probe for the real one)', (a) => ({ ...a, sha256: '0'.repeat(64) })],
    ['a malformed reference', (a) => ({ key: a.key })],
  ])('refuses another user naming the file with %s, and reveals nothing', async (_what, ref) => {
    // Prepare
    const mallory = await connect('mallory');
    const before = (await allTasks(rt.dynamoEndpoint)).length;
    const probe = ref(artifact);

    // Act
    const reply: Frame = await submit(
      mallory,
      { taskType: 'logic', args: { artifact: probe } },
      `steal-${Math.random()}`,
    );

    // Assess
    expect(reply).toMatchObject({ type: 'error', code: 'bad_request' });
    expect(String(reply.message)).toMatch(/^args\.artifact: set only by the task chain/);
    expect(String(reply.message)).not.toContain(artifact.sha256);
    expect(String(reply.message)).not.toContain(String(artifact.size));
    expect((await allTasks(rt.dynamoEndpoint)).length).toBe(before);
  });

  it('refuses an admin HTTP submit that names a file too', async () => {
    // Act
    const res = await adminPost('/tasks', { taskType: 'logic', args: { artifact } });

    // Assess
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      error: {
        code: 'bad_request',
        message:
          'args.artifact: set only by the task chain (download → logic); a submit cannot name it',
      },
    });
  });
});

describe('chat `status <taskId>` answers only the task’s requester', () => {
  const unknown = (taskId: string) => `找不到任务 no such task: ${taskId}`;

  it('answers the WeCom sender who asked (who may) and no other sender (who may not)', async () => {
    // Prepare
    const taskId = taskIdIn((await chat('logic a b', 'dan')).replyText);

    // Act
    const own = await chat(`status ${taskId}`, 'dan');
    const other = await chat(`status ${taskId}`, 'eve');
    const missing = await chat('status t_aaaaaaaaaaaaaaaaaaaa', 'eve');

    // Assess: to eve the task reads exactly like one that does not exist
    expect(own.replyText).toMatch(new RegExp(`^${taskId} logic: `));
    expect(other.replyText).toBe(unknown(taskId));
    expect(missing.replyText).toBe(unknown('t_aaaaaaaaaaaaaaaaaaaa'));
  });

  it('answers anyone in the group chat the task was asked in, and nobody in another chat', async () => {
    // Prepare
    const taskId = taskIdIn((await chat('logic in chat', 'fay', 'chat-7')).replyText);

    // Act
    const sameChat = await chat(`status ${taskId}`, 'gus', 'chat-7');
    const otherChat = await chat(`status ${taskId}`, 'gus', 'chat-8');

    // Assess
    expect(sameChat.replyText).toMatch(new RegExp(`^${taskId} logic: `));
    expect(otherChat.replyText).toBe(unknown(taskId));
  });

  it("answers a WebSocket user's task to that user in chat, never to anyone else", async () => {
    // Prepare
    const hal = await connect('hal');
    const accepted = await submit(hal, { taskType: 'logic', args: ['mine'] }, 'h1');
    const taskId = String(accepted.taskId);

    // Act
    const own = await chat(`status ${taskId}`, 'hal');
    const other = await chat(`status ${taskId}`, 'ivy');

    // Assess
    expect(own.replyText).toMatch(new RegExp(`^${taskId} logic: `));
    expect(other.replyText).toBe(unknown(taskId));
  });
});
