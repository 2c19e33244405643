import type { Audience } from '../connections/audience';
import type { ConnectionStore } from '../connections/store';
import type { FrameFactory, ServerFrame } from '../push/frames';
import { describeAudience } from '../connections/audience';
import { unionRecipients } from '../push/audiences';
import type { FramePusher, PushReport } from '../push/frame-pusher';
import { sequenced } from '../streams/sequence';
import type { StreamLog } from '../streams/stream-log';
import type { Task } from './task';

/**
 * Connections registered with this clientType observe every task (docs/protocol.md: `http`
 * observers, the role the HTTP bridge had in the design this replaces).
 */
export const OBSERVER_CLIENT_TYPE = 'http';

/** Who hears about a task: the requester's connections and every observer. */
export function taskAudiences(task: Task): Audience[] {
  const audiences: Audience[] = [{ kind: 'clientType', clientType: OBSERVER_CLIENT_TYPE }];
  if (task.requester.userId) audiences.unshift({ kind: 'user', userId: task.requester.userId });
  return audiences;
}

/** The `task.update` frame for a task's current state. */
export function taskUpdateFrame(frames: FrameFactory, task: Task): ServerFrame {
  return frames.make('task.update', {
    taskId: task.taskId,
    taskType: task.taskType,
    status: task.status,
    ...(task.parentTaskId ? { parentTaskId: task.parentTaskId } : {}),
    ...(task.progress !== undefined ? { progress: task.progress } : {}),
    ...(task.result !== undefined ? { result: task.result } : {}),
    ...(task.error !== undefined ? { error: task.error } : {}),
  });
}

/** What publishing task updates needs. */
export interface TaskUpdatePorts {
  readonly pusher: FramePusher;
  readonly store: ConnectionStore;
  readonly frames: FrameFactory;
  /** The stream log (absent: frames go unsequenced). */
  readonly streams?: StreamLog;
}

/**
 * Pushes a task's state to its audiences: one append per stream (the requester's and the
 * observers'), the same frame id in each, so a connection in both gets both copies and keeps
 * each stream gap-free (clients dedupe by id).
 */
export async function publishTaskUpdate(ports: TaskUpdatePorts, task: Task): Promise<PushReport> {
  const frame = taskUpdateFrame(ports.frames, task);
  if (!ports.streams) {
    // Unsequenced, one copy per connection is enough.
    return ports.pusher.pushTo(
      unionRecipients(ports.store, taskAudiences(task)),
      frame,
      `task:${task.taskId}`,
    );
  }
  const total = { attempted: 0, delivered: 0, gone: 0, failed: 0, retried: 0 };
  for (const audience of taskAudiences(task)) {
    const report = await ports.pusher.pushTo(
      ports.store.recipients(audience),
      await sequenced(ports.streams, audience, frame),
      `task:${task.taskId} ${describeAudience(audience)}`,
    );
    total.attempted += report.attempted;
    total.delivered += report.delivered;
    total.gone += report.gone;
    total.failed += report.failed;
    total.retried += report.retried;
  }
  return total;
}
