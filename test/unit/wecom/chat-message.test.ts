import {
  anyTaskType,
  createTaskRegistry,
  TASK_REGISTRY,
  TASK_TYPES,
} from '../../../src/tasks/registry';
import type { Task } from '../../../src/tasks/task';
import { chatMessageFor, chatPostFor, type TaskTypeLookup } from '../../../src/wecom/chat-message';
import { chatText } from '../../../src/wecom/chat-replies';
import { echoType } from '../tasks/echo-type';

const types = createTaskRegistry([...TASK_TYPES, anyTaskType(echoType)]);

const task = (overrides: Partial<Task>): Task => ({
  taskId: 't_1',
  taskType: 'echo',
  args: { words: ['hi', 'there'] },
  status: 'succeeded',
  source: 'wecom',
  requester: { wecom: { userId: 'u' } },
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
  expiresAt: 0,
  ...overrides,
});

const sha = 'a'.repeat(64);

describe('chatMessageFor: each type says what its task is and what it found', () => {
  it('uses the type’s summary and result lines', () => {
    expect(chatMessageFor(task({ result: { echoed: 'hi there' } }), types)).toBe(
      ['✅ **echo** succeeded · `t_1`', '> echo hi there', '> echoed: hi there'].join('\n'),
    );
  });

  it('renders a download: its words, file, server and chained task', () => {
    const message = chatMessageFor(
      task({
        taskType: 'download',
        args: { boxId: 'B7', dsNumber: '123', server: 'cn' },
        result: {
          artifact: { key: 'downloads/t_1/123', name: '123', size: 2086, sha256: sha },
          server: 'cn',
          url: 'https://x/123',
          logicTaskId: 't_2',
        },
      }),
      TASK_REGISTRY,
    );
    expect(message).toBe(
      [
        '✅ **download** succeeded · `t_1`',
        '> download B7 123 cn',
        '> file: 123 (2086 bytes)',
        '> server: cn',
        '> logic: `t_2`',
      ].join('\n'),
    );
  });

  it('renders a logic file report with its boxId analysis, on one line per figure', () => {
    const message = chatMessageFor(
      task({
        taskType: 'logic',
        args: { artifact: { key: 'downloads/t_0/123', name: '123', size: 10, sha256: sha } },
        parentTaskId: 't_0',
        result: {
          kind: 'file',
          name: '123',
          size: 10,
          sha256: sha,
          detectedType: 'csv',
          lines: 3,
          records: 2,
          columns: ['box', 'value'],
          preview: 'box,value\nb1,1',
          analysis: {
            boxId: 'B7',
            column: 'box',
            distinct: 2,
            top: [
              { value: 'b1', count: 1 },
              { value: 'b\n2', count: 1 },
            ],
          },
        },
      }),
      TASK_REGISTRY,
    );
    expect(message).toBe(
      [
        '✅ **logic** succeeded · `t_1`',
        '> logic 123',
        '> 123: csv, 10 bytes, 2 records, 3 lines',
        '> columns: box, value',
        '> boxId B7: column box, 2 distinct; top: b1 (1), b 2 (1)',
      ].join('\n'),
    );
  });

  it('renders a logic words report', () => {
    const message = chatMessageFor(
      task({
        taskType: 'logic',
        args: { args: ['a', 'b', 'a'] },
        result: { kind: 'words', count: 3, unique: 2, preview: 'a b a', analysis: 'standard' },
      }),
      TASK_REGISTRY,
    );
    expect(message).toBe(
      ['✅ **logic** succeeded · `t_1`', '> logic a b a', '> 3 words, 2 unique'].join('\n'),
    );
  });

  it('shows a failed task’s error and no result lines', () => {
    expect(chatMessageFor(task({ status: 'failed', error: 'boom' }), types)).toBe(
      ['❌ **echo** failed · `t_1`', '> echo hi there', '> error: boom'].join('\n'),
    );
  });

  it.each<[string, Partial<Task>, TaskTypeLookup | undefined]>([
    ['without the types (the reaper)', { result: { echoed: 'hi', n: 2, nested: {} } }, undefined],
    ['for a type not registered', { taskType: 'gone', result: { echoed: 'hi', n: 2 } }, types],
  ])('falls back to the result’s scalar fields %s', (_what, overrides, lookup) => {
    expect(chatMessageFor(task(overrides), lookup)).toBe(
      [`✅ **${overrides.taskType ?? 'echo'}** succeeded · \`t_1\``, '> echoed: hi', '> n: 2'].join(
        '\n',
      ),
    );
  });

  it('falls back when the type’s renderer throws on a result of another shape', () => {
    const throwing = createTaskRegistry([
      anyTaskType({
        ...echoType,
        chatSummary: () => {
          throw new Error('old record');
        },
        chatResult: () => {
          throw new Error('old record');
        },
      }),
    ]);
    expect(chatMessageFor(task({ result: { said: 'x\ny' } }), throwing)).toBe(
      ['✅ **echo** succeeded · `t_1`', '> said: x y'].join('\n'),
    );
  });

  it('shows a stored result’s link, whatever the type renders', () => {
    const stored = {
      stored: true,
      resultUrl: 'https://s3/x',
      artifact: { key: 'results/t_1.json' },
    };
    expect(chatMessageFor(task({ result: stored }), types)).toBe(
      [
        '✅ **echo** succeeded · `t_1`',
        '> echo hi there',
        '> stored: true',
        '> resultUrl: https://s3/x',
      ].join('\n'),
    );
  });

  it('stays under the robot’s 4096-byte limit', () => {
    const long = createTaskRegistry([
      anyTaskType({
        ...echoType,
        chatResult: () => Array.from({ length: 400 }, () => '> 字'.repeat(20)),
      }),
    ]);
    expect(Buffer.byteLength(chatMessageFor(task({ result: {} }), long))).toBeLessThanOrEqual(4000);
  });
});

describe('chatPostFor: the format that shows the message better', () => {
  it('sends a succeeded task’s result fields as a markdown_v2 table', () => {
    // Act
    const post = chatPostFor(
      task({
        taskType: 'download',
        args: { dsNumber: '123', server: 'cn' },
        result: {
          artifact: { key: 'downloads/t_1/123', name: 'a|b', size: 2086, sha256: sha },
          server: 'cn',
          url: 'https://x/123',
          logicTaskId: 't_2',
        },
      }),
      TASK_REGISTRY,
    );

    // Assess: the title and summary above, one row per field, a `|` in a value escaped
    expect(post).toEqual({
      msgtype: 'markdown_v2',
      content: [
        '✅ **download** succeeded · `t_1`',
        '> download 123 cn',
        '',
        '| 字段 field | 值 value |',
        '| --- | --- |',
        '| file | a\\|b (2086 bytes) |',
        '| server | cn |',
        '| logic | `t_2` |',
      ].join('\n'),
    });
  });

  it('sends a failed task as markdown with its error coloured', () => {
    expect(chatPostFor(task({ status: 'failed', error: 'HTTP 404' }), types)).toEqual({
      msgtype: 'markdown',
      content: [
        '❌ **echo** failed · `t_1`',
        '> echo hi there',
        '> error: <font color="warning">HTTP 404</font>',
      ].join('\n'),
    });
  });

  it('sends a succeeded task without fields as plain markdown', () => {
    const bare = createTaskRegistry([anyTaskType({ ...echoType, chatResult: () => [] })]);
    expect(chatPostFor(task({ result: {} }), bare).msgtype).toBe('markdown');
  });

  it('keeps a long table under 4,096 bytes, saying how many rows it left out', () => {
    // Prepare: 400 fields of 60 bytes each
    const long = createTaskRegistry([
      anyTaskType({
        ...echoType,
        chatResult: () => Array.from({ length: 400 }, (_, i) => `> f${i}: ${'字'.repeat(20)}`),
      }),
    ]);

    // Act
    const post = chatPostFor(task({ result: {} }), long);

    // Assess
    expect(post.msgtype).toBe('markdown_v2');
    expect(Buffer.byteLength(post.content)).toBeLessThanOrEqual(4000);
    expect(post.content).toMatch(/\| … \| \d+ more \|$/);
  });
});

describe('chatText.accepted', () => {
  it('names the task with the type’s summary', () => {
    expect(chatText.accepted(task({ status: 'queued' }), types)).toBe(
      '已接收 accepted: echo hi there → t_1\n查询 check: status t_1',
    );
  });

  it('has no summary for a type without one', () => {
    const bare = createTaskRegistry([anyTaskType({ ...echoType, chatSummary: undefined })]);
    expect(chatText.accepted(task({ status: 'queued' }), bare)).toBe(
      '已接收 accepted: echo → t_1\n查询 check: status t_1',
    );
  });
});
