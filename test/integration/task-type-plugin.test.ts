/**
 * A task type is a plug-in: a throwaway `echo` type, defined here and nowhere else, is
 * registered with the local runtime and reached from all three front ends (WeCom, WebSocket,
 * HTTP) with no other file knowing of it. Its word grammar, alias, usage line, schema, chat
 * summary and result lines are its own; the command parser, help, validation, queue, worker and
 * chat message come from the registry.
 */
import { z } from 'zod';
import type { LocalRuntime } from '../../local/runtime';
import { sendChatMessage } from '../../local/wecom-client';
import { badRequest } from '../../src/errors/app-error';
import { anyTaskType, TASK_TYPES } from '../../src/tasks/registry';
import type { Task } from '../../src/tasks/task';
import type { TaskTypeSpec } from '../../src/tasks/types/task-type';
import { startTestRuntime, tokenFor } from '../support/runtime';
import { allTasks } from '../support/wecom';
import { eventually, type Frame, TestClient } from '../support/ws-client';

const echoArgsSchema = z.strictObject({
  words: z.array(z.string().min(1).max(64)).min(1).max(16),
});
type EchoArgs = z.infer<typeof echoArgsSchema>;
interface EchoResult {
  readonly echoed: string;
  readonly count: number;
}

/** `echo <words…>` (alias 回声): says the words back. */
const echoType: TaskTypeSpec<EchoArgs, EchoResult> = {
  name: 'echo',
  summary: '回声 / say the words back',
  usage: 'echo <words…>',
  aliases: ['回声'],
  argsSchema: echoArgsSchema,
  fromWords(words) {
    if (words.length === 0) throw badRequest('echo 需要参数 / needs at least one word.');
    const parsed = echoArgsSchema.safeParse({ words: [...words] });
    if (!parsed.success) throw badRequest(`echo: ${parsed.error.issues[0]?.message ?? 'bad'}.`);
    return parsed.data;
  },
  chatSummary: (args) => args.words.join(' '),
  chatResult: (result) => [`> echoed ${result.count}: ${result.echoed}`],
  async run(args, ctx) {
    await ctx.progress(0.5);
    return { echoed: args.words.join(' '), count: args.words.length };
  },
};

let rt: LocalRuntime;
const clients: TestClient[] = [];
const taskIdIn = (text: string | undefined) => /(t_[a-z2-7]{20})/.exec(text ?? '')?.[1] ?? '';
const chat = (text: string, fromUser = 'erin') =>
  sendChatMessage(`${rt.httpUrl}/wecom/callback`, rt.wecom, { text, fromUser });

const settled = async (taskId: string): Promise<Task> => {
  let task: Task | undefined;
  await eventually(async () => {
    task = await rt.tasks.get(taskId);
    return task?.status === 'succeeded' || task?.status === 'failed';
  }, 15_000);
  return task as Task;
};

const admin = async (method: string, path: string, body?: unknown) => {
  const res = await fetch(`${rt.httpUrl}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${await tokenFor({ sub: 'ops', roles: ['admin'] })}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};

beforeAll(async () => {
  rt = await startTestRuntime({
    taskTypes: [...TASK_TYPES, anyTaskType(echoType)],
    queueVisibilitySeconds: 2,
  });
});
afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await rt?.stop();
});

describe('a task type registered with the runtime, from WeCom', () => {
  it('runs `回声 hello world` and posts its own summary and result lines to the chat', async () => {
    // Act
    const answer = await chat('回声 hello world');
    expect(answer.status).toBe(200);
    expect(answer.replyText).toMatch(/accepted: echo hello world → t_[a-z2-7]{20}/);
    const taskId = taskIdIn(answer.replyText);
    const task = await settled(taskId);

    // Assess: the record and the chat message are the type's
    expect(task).toMatchObject({
      taskType: 'echo',
      status: 'succeeded',
      source: 'wecom',
      args: { words: ['hello', 'world'] },
      result: { echoed: 'hello world', count: 2 },
    });
    await eventually(() => rt.chat.received.some((p) => JSON.stringify(p.body).includes(taskId)));
    const message = rt.chat.received
      .map((p) => p.body as { msgtype?: string; markdown_v2?: { content?: string } })
      .find((b) => JSON.stringify(b).includes(taskId));
    // A result with fields goes as markdown_v2, the fields in a table.
    expect(message?.msgtype).toBe('markdown_v2');
    expect(message?.markdown_v2?.content).toContain('**echo** succeeded');
    expect(message?.markdown_v2?.content).toContain('> echo hello world');
    expect(message?.markdown_v2?.content).toContain('| echoed 2 | hello world |');
  });

  it('lists the type, its usage line and its alias in the help', async () => {
    // Act
    const help = await chat('help');

    // Assess
    expect(help.replyText).toContain('• echo <words…> — 回声 / say the words back');
    expect(help.replyText).toContain('回声=echo');
    expect(help.replyText).toContain('download [boxId] <dsNumber> [server]');
  });

  it('answers bad words with the type’s usage line and queues nothing', async () => {
    // Prepare
    const before = (await allTasks(rt.dynamoEndpoint)).length;

    // Act
    const bare = await chat('ECHO');
    const long = await chat(`echo ${'x'.repeat(65)}`);

    // Assess
    expect(bare.replyText).toBe(
      'echo 需要参数 / needs at least one word. 用法 Usage: echo <words…>',
    );
    expect(long.replyText).toMatch(/^echo: .+ 用法 Usage: echo <words…>$/);
    expect((await allTasks(rt.dynamoEndpoint)).length).toBe(before);
  });
});

describe('a task type registered with the runtime, over WebSocket', () => {
  const connect = async (sub: string) => {
    const client = await TestClient.connect(rt.wsUrl, await tokenFor({ sub, roles: ['client'] }));
    clients.push(client);
    return client;
  };

  it('accepts `submit` with words, then reports the run to the submitter', async () => {
    // Prepare
    const client = await connect('wes');

    // Act
    const accepted = await client.request({
      action: 'submit',
      taskType: 'echo',
      args: ['over', 'the', 'socket'],
    });
    expect(accepted).toMatchObject({ type: 'task.accepted', taskId: expect.any(String) });
    const done = await client.waitFor(
      (f: Frame) =>
        f.type === 'task.update' && f.taskId === accepted.taskId && f.status === 'succeeded',
      15_000,
    );

    // Assess
    expect(done).toMatchObject({
      taskType: 'echo',
      result: { echoed: 'over the socket', count: 3 },
    });
  });

  it.each([
    ['no words', [], /needs at least one word\. 用法 Usage: echo <words…>/],
    ['an object its schema refuses', { words: [] }, /^args\.words: /],
    ['a field its schema does not know', { words: ['a'], loud: true }, /^args: /],
  ])('refuses %s with bad_request', async (_what, args, message) => {
    // Prepare
    const client = await connect('wes-bad');

    // Act
    const answer = await client.request({ action: 'submit', taskType: 'echo', args });

    // Assess
    expect(answer).toMatchObject({ type: 'error', code: 'bad_request' });
    expect(String(answer.message)).toMatch(message);
  });
});

describe('a task type registered with the runtime, over HTTP', () => {
  it('takes `POST /tasks` with an object and shows the result on `GET /tasks/{id}`', async () => {
    // Act
    const posted = await admin('POST', '/tasks', {
      taskType: 'echo',
      args: { words: ['from', 'http'] },
    });
    const taskId = String(posted.body.taskId);
    expect(posted).toEqual({ status: 202, body: { taskId, status: 'queued' } });
    await settled(taskId);
    const got = await admin('GET', `/tasks/${taskId}`);

    // Assess
    expect(got.status).toBe(200);
    expect(got.body).toMatchObject({
      taskId,
      taskType: 'echo',
      status: 'succeeded',
      source: 'http',
      result: { echoed: 'from http', count: 2 },
    });
  });

  it('answers 400 for arguments the type’s schema refuses, writing nothing', async () => {
    // Prepare
    const before = (await allTasks(rt.dynamoEndpoint)).length;

    // Act
    const answer = await admin('POST', '/tasks', { taskType: 'echo', args: { words: 'x' } });

    // Assess
    expect(answer.status).toBe(400);
    expect(answer.body).toEqual({
      error: { code: 'bad_request', message: expect.stringMatching(/^args\.words: /) },
    });
    expect((await allTasks(rt.dynamoEndpoint)).length).toBe(before);
  });
});
