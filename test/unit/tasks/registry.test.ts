import { readTaskArgs, TASK_TYPE_NAMES, TASK_TYPES, taskTypeOf } from '../../../src/tasks/registry';
import { downloadType } from '../../../src/tasks/types/download';
import { logicType } from '../../../src/tasks/types/logic';

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
