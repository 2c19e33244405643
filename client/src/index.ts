/**
 * `@taskwire/client`: the typed Taskwire WebSocket client for browsers and Node.
 * @packageDocumentation
 */
export {
  TaskwireClient,
  type ClientEvents,
  type ClientState,
  type DroppedEvent,
  type OutboxInfo,
  type RetryEvent,
  type StateEvent,
  type SubmitOptions,
} from './client.js';
export { DEFAULTS, type TaskwireClientOptions, type WorkerRegistration } from './options.js';
export { backoffDelay, DEFAULT_BACKOFF, type BackoffOptions } from './connection/backoff.js';
export {
  connectUrl,
  type SocketEvent,
  type WebSocketConstructor,
  type WebSocketLike,
} from './connection/socket.js';
export {
  TaskwireConnectionError,
  TaskwireDroppedError,
  TaskwireError,
  TaskwireServerError,
  TaskwireTimeoutError,
} from './errors.js';
export type { Handler } from './events/emitter.js';
export type { GapRepair, StreamInfo } from './streams/stream-tracker.js';
export {
  isTerminal,
  TERMINAL_STATUSES,
  type BaseFrame,
  type ClientFrame,
  type ErrorFrame,
  type JoinedFrame,
  type LeftFrame,
  type MessageFrame,
  type PongFrame,
  type PushedFields,
  type RegisteredFrame,
  type ResumedFrame,
  type ResumeOutcome,
  type ServerFrame,
  type ServerFrameMap,
  type SessionExpiringFrame,
  type StreamPosition,
  type TaskAcceptedFrame,
  type TaskAssignFrame,
  type TaskCancelFrame,
  type TaskStatus,
  type TaskUpdateFrame,
} from './frames.js';
