import type { Audience } from '../connections/audience';
import type { ConnectionStore } from '../connections/store';
import type { FrameFactory, ServerFrame } from '../push/frames';
import { unionRecipients } from '../push/audiences';
import type { FramePusher, PushReport } from '../push/frame-pusher';
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
}

/** Pushes a task's state to its audience. */
export function publishTaskUpdate(ports: TaskUpdatePorts, task: Task): Promise<PushReport> {
  return ports.pusher.pushTo(
    unionRecipients(ports.store, taskAudiences(task)),
    taskUpdateFrame(ports.frames, task),
    `task:${task.taskId}`,
  );
}
