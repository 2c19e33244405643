import { MemoryArtifactStore } from '../../support/memory-stores';
import { SocketWorkerError, startSocketWorker } from '../../../worker/socket-worker';

/** What startSocketWorker refuses before it connects anywhere. */
describe('startSocketWorker options', () => {
  const base = { url: 'ws://127.0.0.1:9', token: 'a.b.c', artifacts: new MemoryArtifactStore() };

  it.each([
    ['no task types', { taskTypes: [] }, 'taskTypes: name at least one'],
    [
      'an unknown task type',
      { taskTypes: ['upload'] },
      'unknown task type "upload"; known: download, logic',
    ],
    [
      'concurrency 0',
      { taskTypes: ['logic'], concurrency: 0 },
      'concurrency: a whole number 1..32',
    ],
    [
      'concurrency 33',
      { taskTypes: ['logic'], concurrency: 33 },
      'concurrency: a whole number 1..32',
    ],
    [
      'concurrency 1.5',
      { taskTypes: ['logic'], concurrency: 1.5 },
      'concurrency: a whole number 1..32',
    ],
  ])('refuses %s with a SocketWorkerError', (_name, options, message) => {
    // Act
    const start = () => startSocketWorker({ ...base, ...options });

    // Assess
    expect(start).toThrow(SocketWorkerError);
    expect(start).toThrow(message);
  });
});
