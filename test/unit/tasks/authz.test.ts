/**
 * Authorization inside the task domain: retry keys that cannot collide across users, and
 * stored files that only the chain that made them may read. Who may, and who may not.
 */
import { isArtifactOfTask, taskArtifactKey } from '../../../src/artifacts/artifact-ref';
import type { Connection } from '../../../src/connections/connection';
import { frameFactory } from '../../../src/push/frames';
import { silentLog } from '../../../src/ports/log';
import { idempotencyKey, submitTask, type SubmitPorts } from '../../../src/tasks/submit';
import type { Task, TaskSource } from '../../../src/tasks/task';
import { logicType } from '../../../src/tasks/types/logic';
import { PermanentTaskError } from '../../../src/tasks/types/task-type';
import { submitFromConnection } from '../../../src/ws/submit';
import { MemoryTaskStore } from '../../support/memory-task-store';
import { fakeContext } from './context';

const NOW = new Date('2030-01-01T00:00:00.000Z');
const clock = { now: () => NOW };

function ports(): SubmitPorts & { tasks: MemoryTaskStore; queued: string[] } {
  const queued: string[] = [];
  return {
    tasks: new MemoryTaskStore(),
    queue: { enqueue: async (m) => void queued.push(m.taskId) },
    clock,
    log: silentLog,
    args: { servers: ['local'], defaultServer: 'local' },
    queued,
  };
}

const conn = (userId: string): Connection => ({
  connectionId: `c-${userId}`,
  userId,
  roles: ['client'],
  allowedGroups: [],
  groups: [],
  connectedAt: NOW.toISOString(),
  expiresAt: 2_000_000_000,
});

describe('idempotencyKey', () => {
  it('keeps parts apart that a `:` join would merge', () => {
    expect(idempotencyKey('alice:x', 'y')).not.toBe(idempotencyKey('alice', 'x:y'));
    expect(idempotencyKey('a', 'b')).toBe(idempotencyKey('a', 'b'));
    expect(idempotencyKey('a"', 'b')).not.toBe(idempotencyKey('a', '"b'));
  });
});

describe('WebSocket submit: retry keys are per user', () => {
  const submitAs = (p: SubmitPorts, userId: string, taskType: string, args: unknown, rid: string) =>
    submitFromConnection(
      {
        submit: p,
        frames: frameFactory(clock, () => 'f'),
        sendToConnection: async () => undefined,
      },
      conn(userId),
      { taskType, args, requestId: rid },
    );

  it('gives `alice:x`/`y` and `alice`/`x:y` two tasks, each the submitter’s', async () => {
    // Prepare
    const p = ports();

    // Act
    await submitAs(p, 'alice:x', 'logic', ['w'], 'y');
    await submitAs(p, 'alice', 'download', ['12345'], 'x:y');

    // Assess
    const tasks = [...p.tasks.all.values()];
    expect(tasks).toHaveLength(2);
    expect(tasks.map((t) => [t.requester.userId, t.taskType]).sort()).toEqual([
      ['alice', 'download'],
      ['alice:x', 'logic'],
    ]);
    expect(p.queued).toHaveLength(2);
  });

  it('still gives the same user the same task for the same requestId', async () => {
    const p = ports();
    await submitAs(p, 'alice', 'logic', ['w'], 'r1');
    await submitAs(p, 'alice', 'logic', ['w'], 'r1');
    expect(p.tasks.all.size).toBe(1);
    expect(p.queued).toHaveLength(1);
  });
});

describe('submit: a stored file can only be handed over by the chain', () => {
  const artifact = {
    key: 'downloads/t_aaaaaaaaaaaaaaaaaaaa/12345',
    name: '12345',
    size: 3,
    sha256: 'a'.repeat(64),
  };

  it.each<[TaskSource, string | undefined, unknown]>([
    ['ws', undefined, { artifact }],
    ['http', undefined, { artifact }],
    ['wecom', undefined, { artifact }],
    ['ws', undefined, { artifact: 'anything' }],
    ['http', undefined, { args: ['x'], artifact: { key: artifact.key } }],
    // A chain source without a parent is no chain: the worker always sets both.
    ['chain', undefined, { artifact }],
  ])('refuses %s (parent %p) naming an artifact, writing nothing', async (source, parent, args) => {
    const p = ports();
    await expect(
      submitTask(p, {
        taskType: 'logic',
        args,
        source,
        requester: { userId: 'mallory' },
        ...(parent ? { parentTaskId: parent } : {}),
      }),
    ).rejects.toMatchObject({
      code: 'bad_request',
      message:
        'args.artifact: set only by the task chain (download → logic); a submit cannot name it',
    });
    expect(p.tasks.all.size).toBe(0);
    expect(p.queued).toEqual([]);
  });

  it('lets the worker’s chained submit carry it', async () => {
    const p = ports();
    const { task } = await submitTask(p, {
      taskType: 'logic',
      args: { artifact },
      source: 'chain',
      requester: { userId: 'carol' },
      parentTaskId: 't_aaaaaaaaaaaaaaaaaaaa',
    });
    expect(task.args).toEqual({ artifact });
  });

  it('still takes words from every outside source', async () => {
    const p = ports();
    for (const source of ['ws', 'http', 'wecom'] as const) {
      await submitTask(p, { taskType: 'logic', args: { args: [source] }, source, requester: {} });
    }
    expect(p.tasks.all.size).toBe(3);
  });
});

describe('artifact keys and their task', () => {
  it('puts the task id second and recognises only that task', () => {
    const key = taskArtifactKey('downloads', 't_1', 'DS1');
    expect(key).toBe('downloads/t_1/DS1');
    expect(isArtifactOfTask(key, 't_1')).toBe(true);
    expect(isArtifactOfTask(key, 't_2')).toBe(false);
    expect(isArtifactOfTask('downloads/t_1', 't_1')).toBe(false);
    expect(isArtifactOfTask('t_1/DS1', 't_1')).toBe(false);
    expect(isArtifactOfTask('results/t_1.json', 't_1')).toBe(false);
    expect(isArtifactOfTask('x/y', '')).toBe(false);
  });

  it('refuses a name that would make a bad key', () => {
    expect(() => taskArtifactKey('downloads', 't_1', '..')).toThrow(/artifact key/);
  });
});

describe('logic.run: only the parent’s file', () => {
  const BODY = new TextEncoder().encode('id,v\n1,2\n');

  async function setup(task: Partial<Task>, key: string) {
    const fake = fakeContext({ task: { taskType: 'logic', ...task } });
    const ref = await fake.store.put({ key, name: 'DS1', body: BODY });
    return { ...fake, ref };
  }

  it('reads the file its parent stored (who may)', async () => {
    const { ctx, ref } = await setup(
      { source: 'chain', parentTaskId: 't_parent' },
      'downloads/t_parent/DS1',
    );
    await expect(logicType.run({ artifact: ref }, ctx)).resolves.toMatchObject({
      kind: 'file',
      detectedType: 'csv',
    });
  });

  it.each<[string, Partial<Task>, string]>([
    ['another task’s file', { source: 'chain', parentTaskId: 't_parent' }, 'downloads/t_other/DS1'],
    ['a file of no task', { source: 'chain', parentTaskId: 't_parent' }, 'scheduled/t_parent.json'],
    [
      'a task that is no chain',
      { source: 'ws', parentTaskId: 't_parent' },
      'downloads/t_parent/DS1',
    ],
    ['a chained task without a parent', { source: 'chain' }, 'downloads/t_parent/DS1'],
  ])('refuses %s before reading it (who may not)', async (_what, task, key) => {
    const { ctx, ref, store } = await setup(task, key);
    const error = await logicType.run({ artifact: ref }, ctx).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PermanentTaskError);
    expect((error as Error).message).toBe("the artifact is not one this task's parent task stored");
    expect(store.get).not.toHaveBeenCalled();
  });

  it('never reveals the stored hash or size when the reference is wrong', async () => {
    // Prepare: the old probe, a wrong sha256 and size for a real file
    const { ctx, ref } = await setup(
      { source: 'chain', parentTaskId: 't_parent' },
      'downloads/t_parent/DS1',
    );

    // Act
    const error = await logicType
      .run({ artifact: { ...ref, sha256: '0'.repeat(64), size: 1 } }, ctx)
      .catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(PermanentTaskError);
    const message = (error as Error).message;
    expect(message).toBe('artifact "downloads/t_parent/DS1" does not match its reference');
    expect(message).not.toContain(ref.sha256);
    expect(message).not.toContain(String(BODY.byteLength));
  });
});
