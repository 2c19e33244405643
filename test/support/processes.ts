import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';

/**
 * Child processes of the process-level tests (`npm start` and its command), each in its own
 * process group, so that {@link killSpawned} in an afterEach/afterAll ends it and whatever it
 * started (npm's shell and the runtime) even when a test failed half-way: nothing is left holding
 * a port for the next test. Waits are on what the process prints or does, with bounds meant for a
 * loaded 2-core CI machine, where the first start compiles TypeScript (tsx) and starts dynalite and
 * the queue emulator beside two jest workers.
 */

/** The repository root (where `npm start` runs). */
export const PROJECT_ROOT = path.resolve(__dirname, '../..');

/** How long a start of the runtime may take before the test fails: a bound, not a speed. */
export const START_BOUND_MS = 90_000;

/** How long a stop (signal to exit) may take before the test fails: a bound, not a speed. */
export const STOP_BOUND_MS = 45_000;

/** A spawned process and what it printed. */
export interface Spawned {
  readonly process: ChildProcess;
  /** Resolves with the exit code (null after a signal) once the process has exited. */
  readonly exited: Promise<number | null>;
  /** Resolves once the process has exited and its output is read to the end. */
  readonly closed: Promise<void>;
  stdout(): string;
  stderr(): string;
  /** Both streams, in the order they arrived. */
  output(): string;
  /** Whether the process is still running. */
  running(): boolean;
  /**
   * Resolves with the first match of `pattern` in stdout; rejects, with the output, when the
   * process exits first or `boundMs` passes.
   */
  waitForOutput(pattern: RegExp, boundMs?: number): Promise<RegExpExecArray>;
  /** Resolves with the exit code; rejects, with the output, when `boundMs` passes first. */
  exitWithin(boundMs?: number): Promise<number | null>;
}

const spawned = new Set<Spawned>();

/** Runs `command` in its own process group at the repository root, collecting its output. */
export function spawnTracked(
  command: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
): Spawned {
  const child = spawn(command, args, {
    cwd: PROJECT_ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group: killSpawned reaches npm's shell and the runtime under it too.
    detached: true,
  });
  let out = '';
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => {
    stdout += d.toString();
    out += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
    out += d.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
  // A spawn that fails (no such command) exits with no code; the tests then see its error.
  child.once('error', (e) => {
    out += `\nspawn failed: ${e.message}\n`;
  });
  const running = () => child.exitCode === null && child.signalCode === null;
  const handle: Spawned = {
    process: child,
    exited,
    closed,
    stdout: () => stdout,
    stderr: () => stderr,
    output: () => out,
    running,
    waitForOutput: (pattern, boundMs = START_BOUND_MS) =>
      new Promise((resolve, reject) => {
        const done = (settle: () => void) => {
          clearTimeout(timer);
          child.stdout?.off('data', check);
          settle();
        };
        const check = () => {
          const m = pattern.exec(stdout);
          if (m) done(() => resolve(m));
        };
        const timer = setTimeout(
          () => done(() => reject(new Error(`no ${pattern} in ${boundMs} ms:\n${out}`))),
          boundMs,
        );
        child.stdout?.on('data', check);
        check();
        // After the output is read to the end, so a last line printed before exiting counts.
        void closed.then(() => {
          check();
          done(() => reject(new Error(`exited (${child.exitCode}) before ${pattern}:\n${out}`)));
        });
      }),
    exitWithin: async (boundMs = STOP_BOUND_MS) => {
      let timer: NodeJS.Timeout | undefined;
      const bound = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`still running after ${boundMs} ms:\n${out.slice(-4000)}`)),
          boundMs,
        );
      });
      try {
        return await Promise.race([exited, bound]);
      } finally {
        clearTimeout(timer);
      }
    },
  };
  spawned.add(handle);
  return handle;
}

/** `npm start`'s command, `node --import tsx local/main.ts`, with `env`. */
export function spawnLocalMain(env: NodeJS.ProcessEnv): Spawned {
  return spawnTracked(process.execPath, ['--import', 'tsx', 'local/main.ts'], env);
}

/** Whether a process exists (signal 0 checks without signalling). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Sends SIGKILL to a process group; false when it has no member left. */
function killGroup(pid: number): boolean {
  try {
    process.kill(-pid, 'SIGKILL');
    return true;
  } catch {
    return false;
  }
}

/**
 * Kills every process spawned since the last call, with everything in its process group (also
 * what outlived the spawned process itself, e.g. a runtime whose npm was stopped), and waits for
 * the spawned processes to exit. For afterEach/afterAll: safe whether or not a test stopped them.
 */
export async function killSpawned(): Promise<void> {
  const all = [...spawned];
  spawned.clear();
  await Promise.all(
    all.map(async (s) => {
      const pid = s.process.pid;
      if (pid !== undefined) killGroup(pid);
      if (s.running()) await s.exitWithin(10_000).catch(() => undefined);
    }),
  );
}
