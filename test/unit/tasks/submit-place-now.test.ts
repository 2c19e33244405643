import { silentLog } from '../../../src/ports/log';
import { submitTask, type SubmitPorts } from '../../../src/tasks/submit';
import type { Task } from '../../../src/tasks/task';
import type { TaskMessage } from '../../../src/tasks/task-queue';
import { MemoryTaskStore } from '../../support/memory-task-store';

/**
 * Submit's `placeNow` (a task placed `websocket`/`auto` offered to a free socket worker before
 * it is queued): placed, no queue message; not placed, queued as before; `queued` told once,
 * before the offer, either way.
 */

function setup(placeNow?: (task: Task) => Promise<boolean>) {
  const tasks = new MemoryTaskStore();
  const queued: TaskMessage[] = [];
  const events: string[] = [];
  const ports: SubmitPorts = {
    tasks,
    queue: {
      enqueue: async (m) => {
        events.push('enqueue');
        queued.push(m);
      },
    },
    clock: { now: () => new Date('2030-01-01T00:00:00.000Z') },
    log: silentLog,
    args: { servers: ['main'], defaultServer: 'main' },
    onQueued: async (t) => void events.push(`queued ${t.status}`),
    ...(placeNow
      ? {
          placeNow: async (t: Task) => {
            events.push('placeNow');
            return placeNow(t);
          },
        }
      : {}),
  };
  const submit = () =>
    submitTask(ports, { taskType: 'logic', args: ['a'], source: 'http', requester: {} });
  return { tasks, queued, events, submit };
}

describe('submit with placeNow', () => {
  it('sends no queue message for a task a socket worker took at once', async () => {
    // Prepare
    const { queued, events, submit, tasks } = setup(async () => true);

    // Act
    const { task } = await submit();

    // Assess
    expect(events).toEqual(['queued queued', 'placeNow']);
    expect(queued).toEqual([]);
    expect((await tasks.get(task.taskId))?.enqueuedAt).toBeUndefined();
  });

  it('queues the task as before when no worker took it, telling `queued` once', async () => {
    // Prepare
    const { queued, events, submit, tasks } = setup(async () => false);

    // Act
    const { task } = await submit();

    // Assess
    expect(events).toEqual(['queued queued', 'placeNow', 'enqueue']);
    expect(queued).toEqual([{ taskId: task.taskId, taskType: 'logic' }]);
    expect((await tasks.get(task.taskId))?.enqueuedAt).toEqual(expect.any(String));
  });

  it('without placeNow, queues first and tells `queued` after', async () => {
    // Prepare
    const { events, submit } = setup();

    // Act
    await submit();

    // Assess
    expect(events).toEqual(['enqueue', 'queued queued']);
  });
});
