import { AppError, badRequest, forbidden } from '../errors/app-error';
import { MAX_GROUPS_PER_CONNECTION } from '../names/names';
import { hasRole, mayJoin } from '../auth/token';
import type { Connection } from '../connections/connection';
import type { ConnectionStore } from '../connections/store';
import type { FrameFactory, ServerFrame } from '../push/frames';
import type { Clock } from '../ports/clock';
import { TASK_REGISTRY, type TaskRegistry } from '../tasks/registry';
import { OBSERVER_CLIENT_TYPE } from '../tasks/updates';
import { streamsOfConnection, type StreamName } from '../streams/names';
import {
  checkAgainstTips,
  checkResume,
  replayGap,
  type ResumeRequest,
  type ResumeResult,
} from '../streams/resume';
import type { StreamLog, StreamPosition } from '../streams/stream-log';
import type { ClientFrame } from './client-frames';
import { submitFromConnection, type WsSubmitPorts } from './submit';
import { cancelTask } from '../tasks/cancel';
import {
  type SocketWorkerPorts,
  workerFail,
  workerProgress,
  workerResult,
} from '../tasks/socket/socket-workers';

/**
 * Client types that receive other users' task updates or run work: the observer of every
 * task (`http`) and each task type's `workerClientType`. Only tokens with the `worker` or
 * `admin` role may register as one.
 */
export const privilegedClientTypes = (types: Pick<TaskRegistry, 'workerClientTypes'>): string[] => [
  OBSERVER_CLIENT_TYPE,
  ...types.workerClientTypes,
];

/** The privileged client types of the shipped task types (`http`, `download`, `logic`). */
export const PRIVILEGED_CLIENT_TYPES: readonly string[] = privilegedClientTypes(TASK_REGISTRY);

/** What the session operations need. */
export interface SessionPorts {
  readonly store: ConnectionStore;
  readonly frames: FrameFactory;
  readonly clock: Clock;
  /** Default PRIVILEGED_CLIENT_TYPES; a deployment with other task types passes its own. */
  readonly privilegedClientTypes?: readonly string[];
  /** Task submission; without it `submit` is answered `unknown_action`. */
  readonly submit?: Omit<WsSubmitPorts, 'frames'>;
  /** The stream log: tips on `registered`/`joined`, and resume. Without it neither. */
  readonly streams?: StreamLog;
  /**
   * Socket workers: `register` with `worker`, and `progress`/`result`/`fail`. Without it those
   * are answered `unknown_action`. A getter may build them on first use.
   */
  readonly workers?: SocketWorkerPorts;
}

/**
 * What the client is sent for one frame, in this order: a frame, or a frame's JSON text (a
 * replayed one, as the log holds it). Empty when the answer was already sent.
 */
export type SessionAnswer = readonly (ServerFrame | string)[];

async function connectionOf(store: ConnectionStore, connectionId: string): Promise<Connection> {
  const conn = await store.get(connectionId);
  if (!conn) throw new AppError('not_found', 'connection is not registered; reconnect');
  return conn;
}

function checkGroups(conn: Connection, groups: readonly string[]): void {
  const denied = groups.find((g) => !mayJoin({ groups: conn.allowedGroups }, g));
  if (denied !== undefined) throw forbidden(`your token does not allow group "${denied}"`);
}

/** Refuses a change that would put the connection in more than the allowed number of groups. */
function checkGroupCount(conn: Connection, adding: readonly string[]): void {
  const total = new Set([...conn.groups, ...adding]).size;
  if (total > MAX_GROUPS_PER_CONNECTION) {
    throw badRequest(`a connection may be in at most ${MAX_GROUPS_PER_CONNECTION} groups`);
  }
}

const withRequestId = (requestId: string | undefined) => (requestId ? { requestId } : {});

/**
 * Applies one validated client frame for a connection and returns what to send back, in order.
 * Every permission check happens before any write, so a refused frame changes nothing.
 * @throws AppError `forbidden` (role or group not allowed) or `not_found` (connection gone).
 */
export async function handleClientFrame(
  ports: SessionPorts,
  connectionId: string,
  frame: ClientFrame,
): Promise<SessionAnswer> {
  // Every frame (a `ping` heartbeat above all) shows the client is alive: it moves the record's
  // last-seen deadline out (one write per refresh interval at most). Best-effort: the sweep asks
  // GetConnection before it deletes anything, so a lost refresh costs one check, never a record.
  const refreshed = ports.store.touch(connectionId).catch(() => false);
  const [answer] = await Promise.all([applyFrame(ports, connectionId, frame), refreshed]);
  return answer === undefined ? [] : Array.isArray(answer) ? answer : [answer as ServerFrame];
}

/** The `streams` field of `registered`/`joined`: each stream's tip. */
const tipsField = (tips: ReadonlyMap<StreamName, StreamPosition>) =>
  Object.fromEntries([...tips].map(([stream, { epoch, seq }]) => [stream, { epoch, seq }]));

/**
 * Tips, then the gap of every resumed stream, for a connection that now receives `receives`:
 * the reply frame first (with the tips, read after the write so no frame falls between them
 * and the connection's first live one), the replayed frames, then `resumed`.
 */
async function withStreams(
  ports: SessionPorts,
  receives: readonly StreamName[],
  resume: ResumeRequest | undefined,
  before: ReadonlyMap<StreamName, StreamPosition> | undefined,
  reply: (streams: Record<string, StreamPosition>) => ServerFrame,
  requestId: string | undefined,
): Promise<SessionAnswer> {
  const log = ports.streams;
  if (!log) return [reply({})];
  const tips = await log.tips(receives);
  const out: (ServerFrame | string)[] = [reply(tipsField(tips))];
  if (!resume) return out;
  const results: Record<string, ResumeResult> = {};
  for (const [stream, position] of Object.entries(resume)) {
    const tip = tips.get(stream) ?? before?.get(stream);
    if (!tip) continue;
    const replay = await replayGap(log, stream, position, tip);
    out.push(...replay.texts);
    results[stream] = replay.result;
  }
  out.push(ports.frames.make('resumed', { streams: results, ...withRequestId(requestId) }));
  return out;
}

/** Checks a resume before any write: shape and rights first, then against the tips. */
async function checkedResume(
  ports: SessionPorts,
  resume: ResumeRequest | undefined,
  receives: readonly StreamName[],
): Promise<ReadonlyMap<StreamName, StreamPosition> | undefined> {
  if (!resume) return undefined;
  if (!ports.streams) throw new AppError('bad_request', 'this endpoint keeps no stream history');
  checkResume(resume, receives);
  const tips = await ports.streams.tips(Object.keys(resume));
  checkAgainstTips(resume, tips);
  return tips;
}

async function applyFrame(
  ports: SessionPorts,
  connectionId: string,
  frame: ClientFrame,
): Promise<ServerFrame | SessionAnswer | undefined> {
  const { store, frames } = ports;
  switch (frame.action) {
    case 'ping':
      return frames.make('pong', {
        ts: ports.clock.now().getTime(),
        ...withRequestId(frame.requestId),
      });
    case 'register': {
      const conn = await connectionOf(store, connectionId);
      const privileged = (ports.privilegedClientTypes ?? PRIVILEGED_CLIENT_TYPES).includes(
        frame.clientType,
      );
      if (privileged && !hasRole(conn, 'worker') && !hasRole(conn, 'admin')) {
        throw forbidden(`clientType "${frame.clientType}" needs the worker or admin role`);
      }
      if (frame.worker) {
        if (!ports.workers) throw new AppError('unknown_action', 'this endpoint takes no workers');
        if (!hasRole(conn, 'worker') && !hasRole(conn, 'admin')) {
          throw forbidden('registering as a socket worker needs the worker or admin role');
        }
        const types = ports.submit?.submit.types ?? TASK_REGISTRY;
        const unknown = frame.worker.taskTypes.find((t) => !types.find(t));
        if (unknown !== undefined) {
          throw badRequest(
            `worker.taskTypes: unknown task type "${unknown}"; known: ${types.names.join(', ')}`,
          );
        }
      }
      const groups = [...new Set(frame.groups ?? [])];
      checkGroups(conn, groups);
      checkGroupCount(conn, groups);
      const receives = streamsOfConnection({
        userId: conn.userId,
        clientType: frame.clientType,
        groups: [...new Set([...conn.groups, ...groups])],
      });
      const before = await checkedResume(ports, frame.resume, receives);
      const updated = await store.register(connectionId, frame.clientType, groups);
      if (frame.worker && ports.workers) {
        await ports.workers.workers.register(
          connectionId,
          [...new Set(frame.worker.taskTypes)],
          frame.worker.concurrency ?? 1,
          updated.expiresAt,
        );
      }
      return withStreams(
        ports,
        streamsOfConnection(updated),
        frame.resume,
        before,
        (streams) =>
          frames.make('registered', {
            connectionId,
            userId: updated.userId,
            clientType: frame.clientType,
            groups: updated.groups,
            ...(ports.streams ? { streams } : {}),
            ...withRequestId(frame.requestId),
          }),
        frame.requestId,
      );
    }
    case 'join': {
      const conn = await connectionOf(store, connectionId);
      checkGroups(conn, [frame.group]);
      checkGroupCount(conn, [frame.group]);
      const stream = `group:${frame.group}`;
      const resume = frame.resume ? { [stream]: frame.resume } : undefined;
      const before = await checkedResume(ports, resume, [stream]);
      await store.join(connectionId, frame.group);
      return withStreams(
        ports,
        [stream],
        resume,
        before,
        (streams) =>
          frames.make('joined', {
            group: frame.group,
            ...(ports.streams ? { streams } : {}),
            ...withRequestId(frame.requestId),
          }),
        frame.requestId,
      );
    }
    case 'submit': {
      if (!ports.submit) throw new AppError('unknown_action', 'this endpoint does not take tasks');
      const conn = await connectionOf(store, connectionId);
      return submitFromConnection({ ...ports.submit, frames }, conn, frame);
    }
    case 'cancel': {
      if (!ports.submit) throw new AppError('unknown_action', 'this endpoint does not take tasks');
      const conn = await connectionOf(store, connectionId);
      // The task's requester, or an admin (as `POST /tasks/{taskId}/cancel`).
      const { task, changed } = await cancelTask(ports.submit.submit, frame.taskId, {
        mayCancel: (t) => t.requester.userId === conn.userId || hasRole(conn, 'admin'),
        refusal: 'only the user who asked for the task, or an admin, may cancel it',
      });
      return frames.make('task.cancelled', {
        taskId: task.taskId,
        status: task.status,
        changed,
        ...withRequestId(frame.requestId),
      });
    }
    case 'progress':
    case 'result':
    case 'fail': {
      const workers = ports.workers;
      if (!workers) throw new AppError('unknown_action', 'this endpoint takes no workers');
      // Before any read of the task: a viewer learns nothing of it (not even that it exists).
      const conn = await connectionOf(store, connectionId);
      if (!hasRole(conn, 'worker') && !hasRole(conn, 'admin')) {
        throw forbidden('only a socket worker (role worker or admin) may answer for a task');
      }
      if (frame.action === 'progress') return workerProgress(workers, connectionId, frame);
      if (frame.action === 'result') return workerResult(workers, connectionId, frame);
      return workerFail(workers, connectionId, frame);
    }
    case 'leave': {
      await store.leave(connectionId, frame.group);
      return frames.make('left', { group: frame.group, ...withRequestId(frame.requestId) });
    }
  }
}
