/**
 * The frames of the Taskwire protocol as the client sees them (docs/protocol.md). Every server
 * frame has `type`, `id` and `at`; pushed frames also carry `stream` and `seq`.
 */

/** A stream's position: its epoch and a seq in it. */
export interface StreamPosition {
  readonly epoch: string;
  readonly seq: number;
}

/** Fields every server frame has. */
export interface BaseFrame {
  readonly type: string;
  readonly id?: string;
  readonly at?: string;
  readonly requestId?: string;
  readonly [field: string]: unknown;
}

/** Fields of a frame appended to a stream (`message`, `task.update`, `task.assign`, `task.cancel`). */
export interface PushedFields {
  readonly stream?: string;
  readonly seq?: number;
  /** True when the frame was sent again by a resume. */
  readonly replayed?: boolean;
}

/** A task's status; `cancelled` is terminal like `succeeded` and `failed`. */
export type TaskStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';

/** The statuses after which a task never changes again. */
export const TERMINAL_STATUSES: readonly TaskStatus[] = ['succeeded', 'failed', 'cancelled'];

/** A pushed message (`POST /users/{u}/messages`, `/groups/{g}/messages`, `/broadcast`). */
export interface MessageFrame extends BaseFrame, PushedFields {
  readonly type: 'message';
  readonly data?: unknown;
  readonly to?: { readonly user?: string; readonly group?: string; readonly all?: true };
  readonly from?: string;
}

/** A change of a task: its full current state. */
export interface TaskUpdateFrame extends BaseFrame, PushedFields {
  readonly type: 'task.update';
  readonly taskId: string;
  readonly taskType: string;
  readonly status: TaskStatus;
  /** The task this one was chained from (e.g. the `download` of a `logic`). */
  readonly parentTaskId?: string;
  readonly progress?: number;
  readonly result?: unknown;
  readonly error?: unknown;
}

/** The reply to `submit`: the task exists. */
export interface TaskAcceptedFrame extends BaseFrame {
  readonly type: 'task.accepted';
  readonly taskId: string;
}

/** A task offered to a socket worker. */
export interface TaskAssignFrame extends BaseFrame, PushedFields {
  readonly type: 'task.assign';
  readonly taskId: string;
  readonly taskType: string;
  readonly args: unknown;
  readonly attempt: number;
  readonly leaseSeconds: number;
}

/** Tells a socket worker to stop a task. */
export interface TaskCancelFrame extends BaseFrame, PushedFields {
  readonly type: 'task.cancel';
  readonly taskId: string;
}

/** The reply to `register`, with the tip of every stream the connection receives. */
export interface RegisteredFrame extends BaseFrame {
  readonly type: 'registered';
  readonly connectionId: string;
  readonly userId: string;
  readonly clientType: string;
  readonly groups: readonly string[];
  readonly streams?: Readonly<Record<string, StreamPosition>>;
}

/** The reply to `join`, with the group stream's tip. */
export interface JoinedFrame extends BaseFrame {
  readonly type: 'joined';
  readonly group: string;
  readonly streams?: Readonly<Record<string, StreamPosition>>;
}

/** The reply to `leave`. */
export interface LeftFrame extends BaseFrame {
  readonly type: 'left';
  readonly group: string;
}

/** How the resume of one stream ended. */
export interface ResumeOutcome extends StreamPosition {
  /** False when frames may have been lost (history gone): re-read state. */
  readonly recovered: boolean;
}

/** Sent after the replayed frames of a `register`/`join` with `resume`. */
export interface ResumedFrame extends BaseFrame {
  readonly type: 'resumed';
  readonly streams: Readonly<Record<string, ResumeOutcome>>;
}

/** The gateway closes this connection at `closesAt`; the client rolls over before. */
export interface SessionExpiringFrame extends BaseFrame {
  readonly type: 'session.expiring';
  readonly closesAt: string;
}

/** The reply to `ping`. */
export interface PongFrame extends BaseFrame {
  readonly type: 'pong';
  readonly ts: number;
}

/** A refused frame; the connection stays open. */
export interface ErrorFrame extends BaseFrame {
  readonly type: 'error';
  readonly code: string;
  readonly message: string;
}

/** Every server frame type the client knows, by its `type`. */
export interface ServerFrameMap {
  message: MessageFrame;
  'task.update': TaskUpdateFrame;
  'task.accepted': TaskAcceptedFrame;
  'task.assign': TaskAssignFrame;
  'task.cancel': TaskCancelFrame;
  registered: RegisteredFrame;
  joined: JoinedFrame;
  left: LeftFrame;
  resumed: ResumedFrame;
  'session.expiring': SessionExpiringFrame;
  pong: PongFrame;
  error: ErrorFrame;
}

/** A server frame of a known type, or any other frame. */
export type ServerFrame = ServerFrameMap[keyof ServerFrameMap] | BaseFrame;

/** A frame the client sends: an `action` and its fields. */
export interface ClientFrame {
  readonly action: string;
  readonly requestId?: string;
  readonly [field: string]: unknown;
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Parses a text frame; undefined for anything that is not a JSON object with a string `type`. */
export function parseFrame(text: string): BaseFrame | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return isRecord(value) && typeof value.type === 'string' ? (value as BaseFrame) : undefined;
  } catch {
    return undefined;
  }
}

/** True for a frame appended to a stream: it has a string `stream` and an integer `seq`. */
export const isPushed = (
  frame: BaseFrame,
): frame is BaseFrame & { readonly stream: string; readonly seq: number } =>
  typeof frame.stream === 'string' && typeof frame.seq === 'number' && Number.isInteger(frame.seq);

/** The `streams` field of `registered`/`joined`/`resumed`, checked entry by entry. */
export function streamsOf(frame: BaseFrame): [string, StreamPosition & { recovered?: boolean }][] {
  const streams = frame.streams;
  if (!isRecord(streams)) return [];
  const out: [string, StreamPosition & { recovered?: boolean }][] = [];
  for (const [stream, value] of Object.entries(streams)) {
    if (!isRecord(value) || typeof value.epoch !== 'string' || typeof value.seq !== 'number') {
      continue;
    }
    out.push([
      stream,
      {
        epoch: value.epoch,
        seq: value.seq,
        ...(typeof value.recovered === 'boolean' ? { recovered: value.recovered } : {}),
      },
    ]);
  }
  return out;
}

/** True when a task status is terminal. */
export const isTerminal = (status: unknown): boolean =>
  TERMINAL_STATUSES.includes(status as TaskStatus);
