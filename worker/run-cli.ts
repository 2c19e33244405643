import { randomBytes } from 'node:crypto';
import { LocalArtifactStore } from '../src/adapters/local-files/artifact-store';
import { TASK_REGISTRY, type TaskRegistry } from '../src/tasks/registry';
import { parseWorkerCli, USAGE } from './cli';
import { jsonLineLog, type LineSink } from './log';
import { startSocketWorker } from './socket-worker';

/** The process around the CLI: its output and its signals (a test may pass its own). */
export interface CliIo {
  readonly stdout: LineSink;
  readonly stderr: LineSink;
  /** Adds a handler for SIGTERM and SIGINT. */
  readonly onSignal: (handler: (signal: NodeJS.Signals) => void) => void;
}

/** Exit codes: 0 after a drain, 1 when the worker could not go on, 2 for bad arguments. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

/**
 * `npm run worker`: reads the arguments, starts the socket worker, prints what it does to
 * stdout (its JSON-lines log, one line per finished task, goes to stderr), and on SIGTERM or
 * SIGINT drains it; a second signal stops it at once. Resolves with the exit code.
 */
export async function runWorkerCli(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  io: CliIo,
  registry: TaskRegistry = TASK_REGISTRY,
): Promise<number> {
  const parsed = parseWorkerCli(argv, env, registry);
  if (parsed.kind === 'help') {
    io.stdout.write(`${USAGE}\n`);
    return EXIT.ok;
  }
  if (parsed.kind === 'error') {
    io.stderr.write(`worker: ${parsed.message}\n${USAGE}\n`);
    return EXIT.usage;
  }
  const options = parsed.options;
  const log = jsonLineLog(io.stderr, { level: options.logLevel });
  const worker = startSocketWorker({
    url: options.url,
    token: options.token,
    taskTypes: options.taskTypes,
    concurrency: options.concurrency,
    artifacts: new LocalArtifactStore({
      root: options.artifactsDir,
      // The shipped types never link to a file (the server links large results with its own
      // store), so these links only need to be well formed.
      baseUrl: 'http://127.0.0.1',
      secret: randomBytes(32),
    }),
    servers: options.servers,
    log,
  });
  const say = (line: string) => io.stdout.write(`${line}\n`);
  say(
    `worker: connecting to ${options.url} for ${options.taskTypes.join(', ')} ` +
      `(concurrency ${options.concurrency} each; artifacts in ${options.artifactsDir}; ` +
      `servers: ${Object.keys(options.servers).join(', ') || 'none'})`,
  );
  worker.ready.then(
    (connectionId) => say(`worker: ready, registered as connection ${connectionId}`),
    () => undefined,
  );

  let signals = 0;
  io.onSignal((signal) => {
    signals += 1;
    if (signals === 1) {
      say(
        `worker: ${signal}: draining ${worker.running()} task(s) in flight; new offers go back to the server (${signal} again stops at once)`,
      );
      void worker.drain().catch(() => undefined);
    } else {
      say(`worker: ${signal} again: stopping now; the server offers the unfinished tasks again`);
      void worker.close();
    }
  });

  try {
    await worker.done;
  } catch (e) {
    io.stderr.write(`worker: ${e instanceof Error ? e.message : String(e)}\n`);
    return EXIT.failed;
  }
  say(signals > 1 ? 'worker: stopped' : 'worker: drained, stopped');
  return signals > 1 ? EXIT.failed : EXIT.ok;
}
