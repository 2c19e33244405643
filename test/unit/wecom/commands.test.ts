import { anyTaskType, createTaskRegistry, TASK_TYPES } from '../../../src/tasks/registry';
import {
  DEFAULT_ALIASES,
  defaultAliases,
  helpText,
  parseCommand,
  type Command,
  type CommandOptions,
} from '../../../src/wecom';
import { echoType } from '../tasks/echo-type';

const opts: CommandOptions = { servers: ['cn', 'US-East'], defaultServer: 'cn' };

const download = (dsNumber: string, server: string, boxId?: string): Command => ({
  kind: 'task',
  taskType: 'download',
  args: boxId === undefined ? { dsNumber, server } : { dsNumber, server, boxId },
});

describe('parseCommand: download argument rules (docs/protocol.md)', () => {
  it.each<[string, Command]>([
    // one arg: dsNumber on the default server
    ['download 12345', download('12345', 'cn')],
    // two args, the second a configured server: dsNumber + server
    ['download 12345 US-East', download('12345', 'US-East')],
    ['download 12345 us-east', download('12345', 'US-East')],
    ['download 12345 CN', download('12345', 'cn')],
    // two args, the second not a server: boxId + dsNumber on the default server
    ['download box7 12345', download('12345', 'cn', 'box7')],
    ['download 12345 eu', download('eu', 'cn', '12345')],
    // three args: boxId, dsNumber, server
    ['download box7 12345 US-East', download('12345', 'US-East', 'box7')],
    ['download box7 12345 cn', download('12345', 'cn', 'box7')],
  ])('%s', (input, expected) => {
    // Prepare / Act
    const command = parseCommand(input, opts);

    // Assess
    expect(command).toEqual(expected);
  });

  it.each([
    ['no args', 'download', /1-3/],
    ['four args', 'download a b c cn', /1-3/],
    [
      'a third arg that is not a configured server',
      'download box7 12345 eu',
      /unknown server "eu"/,
    ],
    ['a dsNumber with a slash', 'download ../etc', /dsNumber/],
    ['a dsNumber with a dot', 'download 1.2', /dsNumber/],
    ['a 65-character dsNumber', `download ${'1'.repeat(65)}`, /dsNumber/],
    ['a boxId with a slash', 'download a/b 12345', /boxId/],
    ['a bad dsNumber with a server', 'download a:b cn', /dsNumber/],
  ])('error (with the usage line): %s', (_what, input, message) => {
    // Prepare / Act
    const command = parseCommand(input, opts);

    // Assess
    expect(command).toMatchObject({ kind: 'error', usage: 'download [boxId] <dsNumber> [server]' });
    expect(command.kind === 'error' && command.message).toMatch(message);
    expect(command.kind === 'error' && command.message).toContain(
      'Usage: download [boxId] <dsNumber> [server]',
    );
  });

  it('accepts a 64-character dsNumber with _ and -', () => {
    // Prepare
    const ds = `${'a'.repeat(31)}_-${'Z9'.repeat(15)}A`;

    // Act
    const command = parseCommand(`download ${ds}`, opts);

    // Assess
    expect(ds).toHaveLength(64);
    expect(command).toEqual(download(ds, 'cn'));
  });

  it('with no servers configured, two args are boxId and dsNumber and three are an error', () => {
    // Prepare
    const none: CommandOptions = { servers: [], defaultServer: 'local' };

    // Act
    const two = parseCommand('download a b', none);
    const three = parseCommand('download a b c', none);

    // Assess
    expect(two).toEqual(download('b', 'local', 'a'));
    expect(three.kind).toBe('error');
  });
});

describe('parseCommand: words, case and whitespace', () => {
  it.each<[string, Command]>([
    ['DOWNLOAD 1', download('1', 'cn')],
    ['Download 1', download('1', 'cn')],
    ['下载 1', download('1', 'cn')],
    ['下载 box 1 us-east', download('1', 'US-East', 'box')],
    ['ｄｏｗｎｌｏａｄ　１２３', download('123', 'cn')], // full-width letters, space and digits
    ['download\u30001\u3000cn', download('1', 'cn')], // full-width spaces
    ['  download \t\n 1  ', download('1', 'cn')],
    ['download\u00a01', download('1', 'cn')], // no-break space
    ['@RobotA download 1', download('1', 'cn')],
    ['@RobotA ＠其他 下载 1', download('1', 'cn')],
    ['分析 a b  c', { kind: 'task', taskType: 'logic', args: { args: ['a', 'b', 'c'] } }],
    [
      'LOGIC report.csv --top 5',
      { kind: 'task', taskType: 'logic', args: { args: ['report.csv', '--top', '5'] } },
    ],
    ['status T-123_abc', { kind: 'status', taskId: 'T-123_abc' }],
    ['状态 T1', { kind: 'status', taskId: 'T1' }],
    ['help', { kind: 'help' }],
    ['HELP me please', { kind: 'help' }],
    ['帮助', { kind: 'help' }],
    ['', { kind: 'help', reason: 'empty' }],
    [' \u3000 ', { kind: 'help', reason: 'empty' }],
    ['@RobotA', { kind: 'help', reason: 'empty' }],
    ['hello there', { kind: 'help', reason: 'unknown', word: 'hello' }],
    ['你好', { kind: 'help', reason: 'unknown', word: '你好' }],
    ['constructor 1', { kind: 'help', reason: 'unknown', word: 'constructor' }],
    ['__proto__ 1', { kind: 'help', reason: 'unknown', word: '__proto__' }],
    ['downloads 1', { kind: 'help', reason: 'unknown', word: 'downloads' }],
  ])('%j', (input, expected) => {
    // Prepare / Act
    const command = parseCommand(input, opts);

    // Assess
    expect(command).toEqual(expected);
  });

  it.each([
    ['logic without args', 'logic', 'logic <args…>'],
    ['status without a task id', 'status', 'status <taskId>'],
    ['status with two ids', 'status a b', 'status <taskId>'],
    ['status with a bad id', 'status ../x', 'status <taskId>'],
  ])('error: %s', (_what, input, usage) => {
    // Prepare / Act
    const command = parseCommand(input, opts);

    // Assess
    expect(command).toMatchObject({ kind: 'error', usage });
  });
});

describe('parseCommand: configurable aliases', () => {
  it('replaces the default aliases when given', () => {
    // Prepare
    const custom: CommandOptions = { ...opts, aliases: { dl: 'download', 取: 'DOWNLOAD' } };

    // Act
    const dl = parseCommand('DL 5', custom);
    const take = parseCommand('取 5', custom);
    const chinese = parseCommand('下载 5', custom);

    // Assess
    expect(dl).toEqual(download('5', 'cn'));
    expect(take).toEqual(download('5', 'cn'));
    expect(chinese).toEqual({ kind: 'help', reason: 'unknown', word: '下载' });
  });

  it('extends the defaults by spreading DEFAULT_ALIASES', () => {
    // Prepare
    const custom: CommandOptions = { ...opts, aliases: { ...DEFAULT_ALIASES, st: 'status' } };

    // Act / Assess
    expect(parseCommand('下载 5', custom)).toEqual(download('5', 'cn'));
    expect(parseCommand('st T1', custom)).toEqual({ kind: 'status', taskId: 'T1' });
  });

  it('ignores an alias to a word that is no command', () => {
    // Prepare
    const custom: CommandOptions = { ...opts, aliases: { zap: 'delete-everything' } };

    // Act
    const command = parseCommand('zap 1', custom);

    // Assess
    expect(command).toEqual({ kind: 'help', reason: 'unknown', word: 'zap' });
  });
});

describe('helpText', () => {
  it('lists the commands, the servers with the default, and the aliases', () => {
    // Prepare / Act
    const text = helpText(opts);

    // Assess
    expect(text).toContain('download [boxId] <dsNumber> [server]');
    expect(text).toContain('logic <args…>');
    expect(text).toContain('status <taskId>');
    expect(text).toContain('help');
    expect(text).toContain('cn, US-East');
    expect(text).toContain('默认 default: cn');
    expect(text).toContain('下载=download');
  });

  it('omits the alias line when there are no aliases', () => {
    // Prepare / Act
    const text = helpText({ ...opts, aliases: {} });

    // Assess
    expect(text).not.toContain('aliases');
  });
});

describe('parseCommand and helpText with a registry of other task types', () => {
  const types = createTaskRegistry([...TASK_TYPES, anyTaskType(echoType)]);
  const withEcho: CommandOptions = { ...opts, types };

  it.each<[string, Command]>([
    ['echo a b', { kind: 'task', taskType: 'echo', args: { words: ['a', 'b'] } }],
    ['ＥＣＨＯ a', { kind: 'task', taskType: 'echo', args: { words: ['a'] } }],
    ['回声 a', { kind: 'task', taskType: 'echo', args: { words: ['a'] } }],
    ['下载 1', download('1', 'cn')],
    ['status T1', { kind: 'status', taskId: 'T1' }],
  ])('reads %j through the type’s own grammar', (input, expected) => {
    expect(parseCommand(input, withEcho)).toEqual(expected);
  });

  it('answers the type’s refusal with its usage line', () => {
    expect(parseCommand('echo waytoolongword', withEcho)).toEqual({
      kind: 'error',
      message: 'echo takes 1-4 words of 1-8 characters. 用法 Usage: echo <words…>',
      usage: 'echo <words…>',
    });
  });

  it('does not know a type that is not registered', () => {
    expect(parseCommand('echo a', opts)).toEqual({ kind: 'help', reason: 'unknown', word: 'echo' });
    expect(parseCommand('回声 a', opts)).toEqual({ kind: 'help', reason: 'unknown', word: '回声' });
  });

  it('lets no type shadow the fixed commands', () => {
    // Prepare: a type named like a fixed command
    const shadowing = createTaskRegistry([anyTaskType({ ...echoType, name: 'status' })]);

    // Act
    const command = parseCommand('status T1', { ...opts, types: shadowing });

    // Assess
    expect(command).toEqual({ kind: 'status', taskId: 'T1' });
  });

  it('takes configured aliases to the type', () => {
    const custom: CommandOptions = { ...withEcho, aliases: { say: 'ECHO' } };
    expect(parseCommand('say hi', custom)).toEqual({
      kind: 'task',
      taskType: 'echo',
      args: { words: ['hi'] },
    });
  });

  it('derives the default aliases from the types, then the fixed commands', () => {
    expect(defaultAliases(types)).toEqual({
      下载: 'download',
      分析: 'logic',
      回声: 'echo',
      状态: 'status',
      取消: 'cancel',
      帮助: 'help',
    });
    expect(DEFAULT_ALIASES).toEqual({
      下载: 'download',
      分析: 'logic',
      状态: 'status',
      取消: 'cancel',
      帮助: 'help',
    });
  });

  it('lists every type with its usage line and summary, then status, cancel and help', () => {
    // Act
    const lines = helpText(withEcho).split('\n');

    // Assess
    expect(lines.slice(0, 7)).toEqual([
      'Taskwire 命令 / commands:',
      '• download [boxId] <dsNumber> [server] — 下载并分析 / fetch a dataset from a configured server, then analyse it',
      '• logic <args…> — 分析 / analyse a stored file or the given words',
      '• echo <words…> — 回声 / say the words back',
      '• status <taskId> — 查询任务 / task status',
      '• cancel <taskId> — 取消任务 / cancel a task you asked for',
      '• help — 帮助 / this help',
    ]);
    expect(lines).toContain(
      '别名 aliases: 下载=download, 分析=logic, 回声=echo, 状态=status, 取消=cancel, 帮助=help',
    );
  });
});
