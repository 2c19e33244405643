import {
  anyTaskType,
  createTaskRegistry,
  readTaskArgs,
  TASK_REGISTRY,
  TASK_TYPE_NAMES,
  TASK_TYPES,
  taskTypeOf,
} from '../../../src/tasks/registry';
import { downloadType } from '../../../src/tasks/types/download';
import { logicType } from '../../../src/tasks/types/logic';
import { PRIVILEGED_CLIENT_TYPES, privilegedClientTypes } from '../../../src/ws/session';
import { echoType } from './echo-type';

const context = { servers: ['main', 'backup'], defaultServer: 'main' };

describe('task registry', () => {
  it('ships download and logic, each with a runner', () => {
    expect(TASK_TYPE_NAMES).toEqual(['download', 'logic']);
    expect(TASK_TYPES).toEqual([downloadType, logicType]);
    for (const t of TASK_TYPES) expect(typeof t.run).toBe('function');
    expect(taskTypeOf('download')).toBe(downloadType);
    expect(() => taskTypeOf('upload')).toThrow('unknown taskType');
  });

  it('reads download words and objects', () => {
    expect(readTaskArgs(taskTypeOf('download'), ['B1', 'DS1', 'backup'], context)).toEqual({
      boxId: 'B1',
      dsNumber: 'DS1',
      server: 'backup',
    });
    expect(
      readTaskArgs(taskTypeOf('download'), { dsNumber: 'DS1', server: 'main' }, context),
    ).toEqual({
      dsNumber: 'DS1',
      server: 'main',
    });
    expect(() =>
      readTaskArgs(taskTypeOf('download'), { dsNumber: 'DS1', server: 'other' }, context),
    ).toThrow('unknown server');
  });
});

describe('createTaskRegistry', () => {
  const echo = anyTaskType(echoType);

  it('registers a throwaway type next to the shipped ones', () => {
    // Prepare / Act
    const registry = createTaskRegistry([...TASK_TYPES, echo]);

    // Assess
    expect(registry.names).toEqual(['download', 'logic', 'echo']);
    expect(registry.get('echo')).toBe(echo);
    expect(registry.find('constructor')).toBeUndefined();
    expect(() => registry.get('constructor')).toThrow(
      'unknown taskType "constructor"; known: download, logic, echo',
    );
    expect(registry.workerClientTypes).toEqual(['download', 'logic', 'echo-worker']);
    expect(TASK_REGISTRY.workerClientTypes).toEqual(['download', 'logic']);
  });

  it('derives the privileged client types from the types (plus the observer)', () => {
    expect(PRIVILEGED_CLIENT_TYPES).toEqual(['http', 'download', 'logic']);
    expect(privilegedClientTypes(createTaskRegistry([echo]))).toEqual(['http', 'echo-worker']);
  });

  it.each([
    ['a repeated name', [echo, echo], 'task type "echo" is registered twice'],
    ['a name with upper case', [{ ...echo, name: 'Echo' }], 'task type name "Echo"'],
    ['a name with a dot', [{ ...echo, name: 'e.cho' }], 'task type name "e.cho"'],
    [
      'a workerClientType no client could register as',
      [{ ...echo, workerClientType: 'Echo Worker' }],
      'workerClientType "Echo Worker" of "echo" is no clientType',
    ],
    [
      'an alias that is another type’s name',
      [...TASK_TYPES, { ...echo, aliases: ['Download'] }],
      'chat word "Download" of task type "echo" is also "download"\'s',
    ],
    [
      'an alias another type has',
      [...TASK_TYPES, { ...echo, aliases: ['下载'] }],
      'chat word "下载" of task type "echo" is also "download"\'s',
    ],
    [
      'a full-width spelling of another type’s name (as the parser folds it)',
      [...TASK_TYPES, { ...echo, aliases: ['ＬＯＧＩＣ'] }],
      'chat word "ＬＯＧＩＣ" of task type "echo" is also "logic"\'s',
    ],
  ])('refuses %s', (_what, types, message) => {
    expect(() => createTaskRegistry(types)).toThrow(message);
  });
});

describe('readTaskArgs', () => {
  const echo = anyTaskType(echoType);

  it('reads words through the type’s grammar, ending an error with its usage line', () => {
    expect(readTaskArgs(echo, ['a', 'b'], context)).toEqual({ words: ['a', 'b'] });
    expect(() => readTaskArgs(echo, ['toolongword'], context)).toThrow(
      'echo takes 1-4 words of 1-8 characters. 用法 Usage: echo <words…>',
    );
    expect(() => readTaskArgs(taskTypeOf('download'), [], context)).toThrow(
      'download 需要 1-3 个参数 / takes 1 to 3 arguments. 用法 Usage: download [boxId] <dsNumber> [server]',
    );
  });

  it.each([
    ['words with a space', ['a b'], 'args: an array of non-empty strings without spaces'],
    ['an empty word', [''], 'args: an array of non-empty strings without spaces'],
    ['an object the schema refuses', { words: [] }, 'args.words: '],
    ['an unknown field', { words: ['a'], x: 1 }, 'args: '],
    ['a string', 'a b', 'args: a string array or an object'],
    ['null', null, 'args: a string array or an object'],
  ])('refuses %s with bad_request', (_what, args, message) => {
    let error: unknown;
    try {
      readTaskArgs(echo, args, context);
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({ code: 'bad_request' });
    expect((error as Error).message.startsWith(message)).toBe(true);
  });
});
