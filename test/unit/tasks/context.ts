import { artifactRefOf } from '../../../src/artifacts/artifact-ref';
import type { ArtifactStore, PutArtifact } from '../../../src/artifacts/artifact-store';
import { AppError } from '../../../src/errors/app-error';
import { silentLog } from '../../../src/ports/log';
import type { Task } from '../../../src/tasks/task';
import type { ArtifactRef } from '../../../src/artifacts/artifact-ref-schema';
import type { ResolvedServer, TaskRunContext } from '../../../src/tasks/types/task-type';

/** An artifact store in a Map; `put`/`get` are jest mocks so tests can count calls. */
export class MemoryArtifactStore implements ArtifactStore {
  public readonly files = new Map<string, Uint8Array>();

  public readonly put = jest.fn(async (artifact: PutArtifact): Promise<ArtifactRef> => {
    this.files.set(artifact.key, new Uint8Array(artifact.body));
    return artifactRefOf(artifact);
  });

  public readonly get = jest.fn(async (key: string): Promise<Uint8Array> => {
    const body = this.files.get(key);
    if (!body) throw new AppError('not_found', `no artifact "${key}"`);
    return body;
  });

  public async link(key: string, ttlSeconds: number): Promise<string> {
    return `memory://${key}?ttl=${ttlSeconds}`;
  }
}

/** A task record for a running task. */
export function fakeTask(overrides: Partial<Task> = {}): Task {
  return {
    taskId: 'task-1',
    taskType: 'download',
    args: {},
    status: 'running',
    source: 'ws',
    requester: { userId: 'alice' },
    createdAt: '2030-01-01T00:00:00.000Z',
    updatedAt: '2030-01-01T00:00:00.000Z',
    expiresAt: 1_900_000_000,
    ...overrides,
  };
}

/** A download server with test-sized limits. */
export function fakeServer(overrides: Partial<ResolvedServer> = {}): ResolvedServer {
  return {
    name: 'main',
    baseUrl: 'http://127.0.0.1:1',
    path: '/{dsNumber}',
    timeoutMs: 2000,
    maxBytes: 1024 * 1024,
    ...overrides,
  };
}

/** A context plus the mocks behind it. */
export interface FakeContext {
  readonly ctx: TaskRunContext;
  readonly store: MemoryArtifactStore;
  readonly progress: jest.Mock<Promise<void>, [number, string?]>;
  readonly chain: jest.Mock<Promise<string>, [string, Record<string, unknown>]>;
}

/** Builds a TaskRunContext with real fetch, an in-memory store and recording mocks. */
export function fakeContext(
  options: {
    readonly servers?: readonly ResolvedServer[];
    readonly task?: Partial<Task>;
    readonly signal?: AbortSignal;
  } = {},
): FakeContext {
  const store = new MemoryArtifactStore();
  const progress = jest.fn(async (_fraction: number, _note?: string): Promise<void> => undefined);
  const chain = jest.fn(
    async (_type: string, _args: Record<string, unknown>): Promise<string> => 'logic-task-1',
  );
  const servers = Object.fromEntries((options.servers ?? [fakeServer()]).map((s) => [s.name, s]));
  const ctx: TaskRunContext = {
    task: fakeTask(options.task),
    progress,
    artifacts: store,
    servers,
    chain,
    fetch: globalThis.fetch,
    log: silentLog,
    signal: options.signal ?? new AbortController().signal,
  };
  return { ctx, store, progress, chain };
}
