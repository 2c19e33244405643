import type { Requester, Task } from '../../../src/tasks/task';
import { mayViewTask } from '../../../src/wecom/task-access';

const task = (requester: Requester): Task => ({
  taskId: 't_aaaaaaaaaaaaaaaaaaaa',
  taskType: 'logic',
  args: {},
  status: 'queued',
  source: 'wecom',
  requester,
  createdAt: '2030-01-01T00:00:00.000Z',
  updatedAt: '2030-01-01T00:00:00.000Z',
  expiresAt: 1_900_000_000,
});

describe('mayViewTask: the chat `status` command', () => {
  const fromChat = task({ userId: 'alice', wecom: { userId: 'alice', chatId: 'chat-1' } });
  const direct = task({ wecom: { userId: 'Bob Li' } });
  const fromWs = task({ userId: 'carol' });
  const fromHttp = task({});

  it.each<[string, Task, { userId: string; chatId?: string }]>([
    ['the WeCom sender who asked', fromChat, { userId: 'alice' }],
    ['the sender, from another chat', fromChat, { userId: 'alice', chatId: 'chat-2' }],
    ['anyone in the chat it was asked in', fromChat, { userId: 'dave', chatId: 'chat-1' }],
    ['a sender whose WeCom id is no Taskwire id', direct, { userId: 'Bob Li' }],
    ['the WebSocket user, as the WeCom sender of that id', fromWs, { userId: 'carol' }],
  ])('shows the task to %s', (_who, t, asker) => {
    expect(mayViewTask(t, asker)).toBe(true);
  });

  it.each<[string, Task, { userId: string; chatId?: string }]>([
    ['another sender', fromChat, { userId: 'eve' }],
    ['another sender in another chat', fromChat, { userId: 'eve', chatId: 'chat-2' }],
    ['a sender in a chat, for a task asked in no chat', direct, { userId: 'eve', chatId: 'x' }],
    ['anyone, for another user’s WebSocket task', fromWs, { userId: 'mallory' }],
    ['a sender named like the id but in other case', fromWs, { userId: 'Carol' }],
    ['anyone, for an HTTP task without a user', fromHttp, { userId: 'alice' }],
    ['anyone in a chat, for an HTTP task without a user', fromHttp, { userId: 'a', chatId: 'c' }],
  ])('hides the task from %s', (_who, t, asker) => {
    expect(mayViewTask(t, asker)).toBe(false);
  });
});
