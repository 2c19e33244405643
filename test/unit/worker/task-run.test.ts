import { z } from 'zod';
import { type ClientFrame, TaskwireServerError } from '../../../client/src/index.js';
import { anyTaskType, createTaskRegistry } from '../../../src/tasks/registry';
import { chainedTaskId } from '../../../src/tasks/task-id';
import {
  PermanentTaskError,
  TaskCancelledError,
  type TaskRunContext,
  type TaskTypeSpec,
} from '../../../src/tasks/types/task-type';
import type { TaskAssignment } from '../../../worker/assign-frame';
import { jsonLineLog } from '../../../worker/log';
import { TaskRun } from '../../../worker/task-run';
import { MemoryArtifactStore } from '../../support/memory-stores';

/**
 * One socket-worker run (worker/task-run.ts) against a fake connection: what it sends for each
 * way a run ends, how `chain` becomes the result's `next`, and how a lost lease or a cancel
 * stops the run with nothing sent.
 */

const TASK = 't_aaaaaaaaaaaaaaaaaaab';

/** How the `step` type's run behaves, chosen per test. */
let behaviour: (ctx: TaskRunContext) => Promise<unknown> = async () => ({ ok: true });

const stepType: TaskTypeSpec<{ n: number }, unknown> = {
  name: 'step',
  summary: 'a test type',
  usage: 'step <n>',
  argsSchema: z.strictObject({ n: z.number().int() }),
  fromWords: () => ({ n: 1 }),
  run: (_args, ctx) => behaviour(ctx),
};
const registry = createTaskRegistry([
  anyTaskType(stepType),
  anyTaskType({ ...stepType, name: 'after' }),
]);

/** A fake connection: records each frame and answers `task.ack`, or what `answer` says. */
function connection(answer: (frame: ClientFrame) => Error | undefined = () => undefined) {
  const sent: ClientFrame[] = [];
  const request = async (frame: ClientFrame) => {
    sent.push(frame);
    const error = answer(frame);
    if (error) throw error;
    return { type: 'task.ack', taskId: String(frame.taskId) };
  };
  return { sent, request };
}

const assignment = (overrides: Partial<TaskAssignment> = {}): TaskAssignment => ({
  type: 'task.assign',
  taskId: TASK,
  taskType: 'step',
  args: { n: 1 },
  attempt: 1,
  leaseSeconds: 30,
  ...overrides,
});

function runWith(
  conn: ReturnType<typeof connection>,
  assign: TaskAssignment = assignment(),
  now: () => number = Date.now,
): TaskRun {
  return new TaskRun(
    {
      request: conn.request,
      registry,
      artifacts: new MemoryArtifactStore(),
      servers: {},
      fetch: (async () => new Response('')) as unknown as typeof fetch,
      log: jsonLineLog({ write: () => true }, { level: 'error' }),
      now,
    },
    assign,
  );
}

const leaseLost = () => new TaskwireServerError('lease_lost', `task ${TASK} is no longer yours`);

afterEach(() => {
  jest.useRealTimers();
  behaviour = async () => ({ ok: true });
});

describe('a socket worker run', () => {
  it('sends the result with the chained task as next, and chain answers that task’s id', async () => {
    // Prepare
    const conn = connection();
    let chained = '';
    behaviour = async (ctx) => {
      chained = await ctx.chain('after', { n: 2 });
      return { done: true };
    };

    // Act
    const report = await runWith(conn).execute();

    // Assess
    expect(chained).toBe(chainedTaskId(TASK, 'after'));
    expect(report).toMatchObject({ outcome: 'succeeded', chainedTaskId: chained, attempt: 1 });
    expect(conn.sent.at(-1)).toEqual({
      action: 'result',
      taskId: TASK,
      result: { done: true },
      next: { taskType: 'after', args: { n: 2 } },
    });
  });

  it('refuses a second chained task of another type, and an unknown type, as permanent failures', async () => {
    // Prepare
    const conn = connection();
    const errors: string[] = [];
    behaviour = async (ctx) => {
      await ctx.chain('after', { n: 2 });
      await ctx.chain('step', { n: 3 }).catch((e: Error) => errors.push(e.message));
      await ctx.chain('nope', {}).catch((e: Error) => errors.push(e.message));
      return null;
    };

    // Act
    await runWith(conn).execute();

    // Assess
    expect(errors).toEqual([
      "chain: a socket worker's result carries one chained task (already after)",
      'chain: unknown task type "nope"',
    ]);
  });

  it('sends fail without retry for a PermanentTaskError, with retry for any other error', async () => {
    // Prepare
    const permanent = connection();
    const chance = connection();

    // Act
    behaviour = async () => {
      throw new PermanentTaskError('the file is gone');
    };
    const first = await runWith(permanent).execute();
    behaviour = async () => {
      throw new Error('the server timed out');
    };
    const second = await runWith(chance).execute();

    // Assess
    expect(first.outcome).toBe('failed');
    expect(permanent.sent).toEqual([
      { action: 'fail', taskId: TASK, error: 'the file is gone', retryable: false },
    ]);
    expect(second.outcome).toBe('retried');
    expect(chance.sent).toEqual([
      { action: 'fail', taskId: TASK, error: 'the server timed out', retryable: true },
    ]);
  });

  it('fails arguments that are not the type’s, and a type this worker does not run, permanently', async () => {
    // Prepare
    const badArgs = connection();
    const unknownType = connection();

    // Act
    await runWith(badArgs, assignment({ args: { n: 'x' } })).execute();
    await runWith(unknownType, assignment({ taskType: 'upload' })).execute();

    // Assess
    expect(badArgs.sent).toEqual([
      expect.objectContaining({
        action: 'fail',
        retryable: false,
        error: expect.stringMatching(/^args\.n: /),
      }),
    ]);
    expect(unknownType.sent).toEqual([
      expect.objectContaining({
        action: 'fail',
        retryable: false,
        error: 'this worker does not run task type "upload"',
      }),
    ]);
  });

  it('stops on lease_lost: signal aborted, progress throws TaskCancelledError, nothing more sent', async () => {
    // Prepare
    const conn = connection((f) => (f.action === 'progress' ? leaseLost() : undefined));
    let thrown: unknown;
    let aborted = false;
    behaviour = async (ctx) => {
      try {
        await ctx.progress(0.5, 'half');
      } catch (e) {
        thrown = e;
        aborted = ctx.signal.aborted;
        throw e;
      }
      return 'unreachable';
    };

    // Act
    const report = await runWith(conn).execute();

    // Assess
    expect(thrown).toBeInstanceOf(TaskCancelledError);
    expect(aborted).toBe(true);
    expect(report.outcome).toBe('dropped');
    expect(conn.sent).toEqual([{ action: 'progress', taskId: TASK, progress: 0.5, note: 'half' }]);
  });

  it('drops the outcome of a run cancelled while it ran (task.cancel): no result is sent', async () => {
    // Prepare
    const conn = connection();
    let release: () => void = () => undefined;
    behaviour = () => new Promise((resolve) => (release = () => resolve({ late: true })));
    const run = runWith(conn);

    // Act
    const ended = run.execute();
    run.abort('the task was cancelled (task.cancel)');
    release();
    const report = await ended;

    // Assess
    expect(report).toMatchObject({
      outcome: 'dropped',
      error: 'the task was cancelled (task.cancel)',
    });
    expect(conn.sent).toEqual([]);
  });

  it('counts a result the server refused with lease_lost as dropped', async () => {
    // Prepare
    const conn = connection((f) => (f.action === 'result' ? leaseLost() : undefined));

    // Act
    const report = await runWith(conn).execute();

    // Assess
    expect(report.outcome).toBe('dropped');
    expect(conn.sent.map((f) => f.action)).toEqual(['result']);
  });

  it('renews the lease while a long step reports nothing, and rate-limits progress', async () => {
    // Prepare: a 3 s lease, so a renewal is due each second
    jest.useFakeTimers();
    const conn = connection();
    let release: () => void = () => undefined;
    behaviour = async (ctx) => {
      await ctx.progress(0.1);
      await ctx.progress(0.2); // within 250 ms of the first: not sent
      await new Promise<void>((resolve) => (release = resolve));
      return 'done';
    };
    const run = runWith(conn, assignment({ leaseSeconds: 3 }));

    // Act
    const ended = run.execute();
    await jest.advanceTimersByTimeAsync(3500);
    release();
    const report = await ended;

    // Assess
    expect(report.outcome).toBe('succeeded');
    const progress = conn.sent.filter((f) => f.action === 'progress');
    expect(progress[0]).toEqual({ action: 'progress', taskId: TASK, progress: 0.1 });
    expect(progress.filter((f) => f.progress === 0.2)).toEqual([]);
    const renewals = progress.filter((f) => f.progress === undefined);
    expect(renewals.length).toBeGreaterThanOrEqual(2);
    expect(renewals[0]).toEqual({ action: 'progress', taskId: TASK });
  });

  it('fails a result too large for a frame instead of sending it', async () => {
    // Prepare
    const conn = connection();
    behaviour = async () => ({ blob: 'x'.repeat(40 * 1024) });

    // Act
    const report = await runWith(conn).execute();

    // Assess
    expect(report.outcome).toBe('failed');
    expect(conn.sent).toEqual([
      expect.objectContaining({
        action: 'fail',
        retryable: false,
        error: expect.stringMatching(
          /^the result \(\d+ bytes\) does not fit a frame \(32768 bytes\)$/,
        ),
      }),
    ]);
  });
});
