import { chatMessageFor } from '../../../src/wecom/chat-message';
import { parseCommand } from '../../../src/wecom/commands';
import { mayCancelTask } from '../../../src/wecom/task-access';
import { parseClientFrame } from '../../../src/ws/client-frames';
import type { Task } from '../../../src/tasks/task';

const opts = { servers: ['cn'], defaultServer: 'cn' };
const TASK_ID = 't_aaaaaaaaaaaaaaaaaaab';

const task = (requester: Task['requester']): Task => ({
  taskId: TASK_ID,
  taskType: 'download',
  args: { dsNumber: '1', server: 'cn' },
  status: 'cancelled',
  source: 'wecom',
  requester,
  createdAt: '2030-01-01T00:00:00.000Z',
  updatedAt: '2030-01-01T00:00:00.000Z',
  expiresAt: 1_900_000_000,
});

describe('the chat command cancel', () => {
  it.each(['cancel T1', 'CANCEL T1', '取消 T1', '@Taskwire cancel T1', 'ｃａｎｃｅｌ　T1'])(
    'reads %j',
    (text) => {
      expect(parseCommand(text, opts)).toEqual({ kind: 'cancel', taskId: 'T1' });
    },
  );

  it.each(['cancel', 'cancel a b', 'cancel bad/id'])('answers %j with the usage line', (text) => {
    expect(parseCommand(text, opts)).toEqual({
      kind: 'error',
      message: 'cancel 需要一个任务 ID / takes one task id. 用法 Usage: cancel <taskId>',
      usage: 'cancel <taskId>',
    });
  });

  it('lets only the requester cancel: the WeCom sender or the Taskwire user of that id', () => {
    const fromChat = task({ wecom: { userId: 'zhang', chatId: 'room1' } });
    expect(mayCancelTask(fromChat, { userId: 'zhang' })).toBe(true);
    // Someone else in the same group chat may see it (status) but not stop it.
    expect(mayCancelTask(fromChat, { userId: 'li', chatId: 'room1' })).toBe(false);
    expect(mayCancelTask(task({ userId: 'alice' }), { userId: 'alice' })).toBe(true);
    expect(mayCancelTask(task({ userId: 'alice' }), { userId: 'bob' })).toBe(false);
    expect(mayCancelTask(task({}), { userId: 'bob' })).toBe(false);
  });

  it('tells the chat of a cancelled task', () => {
    expect(chatMessageFor(task({ wecom: { userId: 'zhang' } }))).toBe(
      `⏹️ **download** cancelled · \`${TASK_ID}\``,
    );
  });
});

describe('the WebSocket action cancel', () => {
  it('reads a task id and an optional requestId', () => {
    expect(parseClientFrame(JSON.stringify({ action: 'cancel', taskId: TASK_ID }))).toEqual({
      ok: true,
      frame: { action: 'cancel', taskId: TASK_ID },
    });
    expect(
      parseClientFrame(JSON.stringify({ action: 'cancel', taskId: TASK_ID, requestId: 'r1' })),
    ).toEqual({ ok: true, frame: { action: 'cancel', taskId: TASK_ID, requestId: 'r1' } });
  });

  it.each<[string, unknown, string]>([
    [
      'a malformed task id',
      { action: 'cancel', taskId: 'nope', requestId: 'r2' },
      'taskId: not a task id',
    ],
    [
      'no task id',
      { action: 'cancel', requestId: 'r2' },
      'taskId: Invalid input: expected string, received undefined',
    ],
    [
      'another field',
      { action: 'cancel', taskId: TASK_ID, requestId: 'r2', force: true },
      'Unrecognized key: "force"',
    ],
  ])('refuses %s with bad_request, echoing the requestId', (_what, frame, message) => {
    const parsed = parseClientFrame(JSON.stringify(frame));
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect({ code: parsed.error.code, message: parsed.error.message }).toEqual({
      code: 'bad_request',
      message,
    });
    expect(parsed.requestId).toBe('r2');
  });
});
