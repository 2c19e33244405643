import { isTerminal, type TaskUpdateFrame } from '../frames.js';

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The tasks of one submit: the root and every task chained from a task of the chain. A task
 * joins the chain when an update names a chain task as its `parentTaskId`, or when a chain
 * task's `result` names it in a field ending in `TaskId` (`download`'s `result.logicTaskId`).
 * The chain is done once every task known of it is terminal; its answer is the last terminal
 * update (the end of the chain).
 */
export class TaskChain {
  private readonly status = new Map<string, string | undefined>();
  private last: TaskUpdateFrame | undefined;

  public constructor(public readonly rootTaskId: string) {
    this.status.set(rootTaskId, undefined);
  }

  /** Takes in an update; returns true when it belonged to the chain. */
  public take(update: TaskUpdateFrame): boolean {
    const known = this.status.has(update.taskId);
    const chained = update.parentTaskId !== undefined && this.status.has(update.parentTaskId);
    if (!known && !chained) return false;
    const before = this.status.get(update.taskId);
    // A terminal status is final: a late `running` does not reopen it.
    if (!isTerminal(before)) this.status.set(update.taskId, update.status);
    if (isTerminal(update.status) && !isTerminal(before)) this.last = update;
    if (isRecord(update.result)) {
      for (const [key, value] of Object.entries(update.result)) {
        if (key.endsWith('TaskId') && typeof value === 'string' && !this.status.has(value)) {
          this.status.set(value, undefined);
        }
      }
    }
    return true;
  }

  /** The last terminal update once every known task of the chain is terminal. */
  public get done(): TaskUpdateFrame | undefined {
    for (const status of this.status.values()) if (!isTerminal(status)) return undefined;
    return this.last;
  }

  /** The chain's tasks and their last status, for messages. */
  public describe(): string {
    return [...this.status].map(([id, s]) => `${id}: ${s ?? 'unknown'}`).join(', ');
  }
}
