import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestRuntime } from '../support/runtime';

describe('a data folder (TASKWIRE_DATA_DIR)', () => {
  it('keeps tasks across a restart', async () => {
    // Prepare
    const dir = await mkdtemp(join(tmpdir(), 'taskwire-data-'));
    try {
      const first = await startTestRuntime({ dataPath: dir, workers: false });
      const { task } = await first.tasks.create({
        taskId: 't_aaaaaaaaaaaaaaaaaaaa',
        taskType: 'logic',
        args: { args: ['x'] },
        status: 'queued',
        source: 'http',
        requester: {},
        createdAt: new Date().toISOString(),
        updatedAt: new Date().toISOString(),
        expiresAt: Math.floor(Date.now() / 1000) + 3600,
      });
      await first.stop();

      // Act
      const second = await startTestRuntime({ dataPath: dir, workers: false });

      // Assess
      expect(await second.tasks.get(task.taskId)).toMatchObject({
        taskId: task.taskId,
        status: 'queued',
      });
      await second.stop();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
