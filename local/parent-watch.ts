import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/**
 * Stopping with the process that started this one. A process manager or a terminal stops
 * `npm start` by signalling the pid npm has; npm runs the script under `sh -c`, which is orphaned
 * along with this process when npm dies, so the runtime would live on and hold its ports.
 */

/** The processes this one lives by. */
export interface Lifelines {
  readonly parent: number;
  /** Under `npm start`'s `sh -c`: npm itself, the shell's parent. */
  readonly npm?: number;
}

/** A field of `ps` for a process (where there is no /proc); undefined when unknown. */
function ps(pid: number, field: 'ppid' | 'comm'): string | undefined {
  try {
    const out = execFileSync('ps', ['-o', `${field}=`, '-p', String(pid)], { encoding: 'utf8' });
    return out.trim() || undefined;
  } catch {
    return undefined;
  }
}

/** The parent and command name of a process: /proc on Linux, `ps` elsewhere. */
function processInfo(pid: number): { ppid?: number; comm?: string } {
  try {
    // "pid (comm) state ppid …": comm may hold spaces and parentheses, so split at the last ')'.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    return { comm, ...(Number.isInteger(ppid) ? { ppid } : {}) };
  } catch {
    const ppid = Number(ps(pid, 'ppid'));
    const comm = ps(pid, 'comm')?.split('/').pop();
    return { ...(Number.isInteger(ppid) && ppid > 0 ? { ppid } : {}), ...(comm ? { comm } : {}) };
  }
}

const SHELLS = /^-?(sh|bash|dash|zsh|ash|ksh|busybox)$/;

/**
 * Reads the lifelines now. Call it first thing: under load the parent may be gone before the
 * runtime has started.
 */
export function readLifelines(): Lifelines {
  const parent = process.ppid;
  // npm runs scripts through a shell; some shells exec the command instead (then npm is the
  // parent, and the parent's parent is someone else's business, e.g. a `nohup` shell).
  if (!process.env.npm_lifecycle_event) return { parent };
  const shell = processInfo(parent);
  if (!shell.comm || !SHELLS.test(shell.comm) || !shell.ppid || shell.ppid <= 1) return { parent };
  return { parent, npm: shell.ppid };
}

/**
 * The lifelines as they were when this module loaded: `local/main.ts` imports it first, before
 * the runtime's modules (a second of loading), so even a parent that dies during start-up counts.
 */
export const LIFELINES_AT_LOAD: Lifelines = readLifelines();

/** Whether a process exists (signal 0 checks without signalling). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists, under another user.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Calls `onGone` once (checking twice a second) when this process has been re-parented (its
 * parent died) or, under `npm start`, when npm has exited, both against `lifelines`.
 */
export function watchParent(lifelines: Lifelines, onGone: (why: string) => void): void {
  const { parent, npm } = lifelines;
  const timer = setInterval(() => {
    if (process.ppid !== parent) onGone(`parent process ${parent} exited`);
    else if (npm !== undefined && !alive(npm)) onGone(`npm (process ${npm}) exited`);
    else return;
    clearInterval(timer);
  }, 500);
  timer.unref();
}
