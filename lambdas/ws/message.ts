import { randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';
import type { ConnectionStore } from '../../src/connections/store';
import type { Clock } from '../../src/ports/clock';
import { systemClock } from '../../src/ports/clock';
import type { Log } from '../../src/ports/log';
import { frameFactory, type ServerFrame } from '../../src/push/frames';
import { parseClientFrame } from '../../src/ws/client-frames';
import { handleClientFrame, type SessionPorts } from '../../src/ws/session';
import type { Pusher } from '../../src/push/pusher';
import type { StreamLog } from '../../src/streams/stream-log';
import type { SocketWorkerPorts } from '../../src/tasks/socket/socket-workers';
import { submitPortsOf, type SubmitPortsSource } from '../../src/tasks/submit';
import { connectionStore, pusher, streamLog } from '../composition/cloud/connections';
import { submitPorts } from '../composition/cloud/submit';
import { socketWorkerAnswerPorts } from '../composition/cloud/socket-worker-answers';
import { lazyHandler } from '../runtime/lazy';
import { invocationLog, logger } from '../runtime/logger';
import { wsErrorFrame } from './error-frame';
import { type WsResult, wsEventSchema } from '../edge/ws-event';

/** Ports of the message routes. */
export interface MessagePorts {
  readonly store: ConnectionStore;
  /** Task submission and a direct line to the connection (for `task.accepted`). */
  readonly submit?: SubmitPortsSource;
  readonly pusher?: Pusher;
  /** The stream log (tips on `registered`/`joined`, resume). */
  readonly streams?: StreamLog;
  readonly log: Log;
  readonly clock?: Clock;
  readonly newId?: () => string;
  /** Socket workers (register `worker`, progress/result/fail), built on first use. */
  readonly workers?: (log: Log) => SocketWorkerPorts;
}

const reply = (frame: ServerFrame): WsResult => ({ statusCode: 200, body: JSON.stringify(frame) });

/**
 * Sends several frames (a reply, replayed frames, `resumed`) one after another through
 * `@connections`, each after the last was accepted, so they arrive in this order: a route
 * response would only arrive after them all.
 */
async function postInOrder(
  ports: MessagePorts,
  connectionId: string,
  answer: readonly (ServerFrame | string)[],
): Promise<void> {
  if (!ports.pusher) throw new Error('the message route has no pusher to answer with');
  for (const frame of answer) {
    const text = typeof frame === 'string' ? frame : JSON.stringify(frame);
    const { outcome } = await ports.pusher.post(connectionId, Buffer.from(text));
    // Gone mid-replay: the client resumes again on its next connection.
    if (outcome !== 'delivered') throw new Error(`could not answer the connection: ${outcome}`);
  }
}

/**
 * register / join / leave / ping / $default: reads the frame once, applies it, and answers with
 * the reply frame (sent to the client as the route response). Bad input is answered with an
 * error frame and the connection stays open.
 */
export function createMessageHandler(ports: MessagePorts) {
  const clock = ports.clock ?? systemClock;
  const frames = frameFactory(clock, ports.newId ?? randomUUID);
  return async (event: unknown, context?: Context): Promise<WsResult> => {
    const { requestContext, body, isBase64Encoded } = wsEventSchema.parse(event);
    const connectionId = requestContext.connectionId;
    const log = invocationLog(ports.log, context, {
      route: requestContext.routeKey,
      connectionId,
      requestId: requestContext.requestId,
    });
    const text = isBase64Encoded && body ? Buffer.from(body, 'base64').toString('utf8') : body;
    const parsed = parseClientFrame(text);
    if (!parsed.ok) {
      return reply(wsErrorFrame(frames, parsed.error, log, { connectionId }, parsed.requestId));
    }
    const { frame } = parsed;
    try {
      const pusher = ports.pusher;
      const source = ports.submit;
      const submit =
        source && pusher
          ? {
              // A getter: task settings are read only when a client actually submits.
              get submit() {
                return { ...submitPortsOf(source), log };
              },
              sendToConnection: async (f: ServerFrame) => {
                const { outcome } = await pusher.post(connectionId, Buffer.from(JSON.stringify(f)));
                if (outcome !== 'delivered')
                  throw new Error(`could not answer the connection: ${outcome}`);
              },
            }
          : undefined;
      const workers = ports.workers;
      const session: SessionPorts = {
        store: ports.store,
        frames,
        clock,
        ...(submit ? { submit } : {}),
        ...(ports.streams ? { streams: ports.streams } : {}),
      };
      if (workers) {
        // A getter: the worker settings are read only when a worker frame arrives.
        Object.defineProperty(session, 'workers', { get: () => workers(log), enumerable: true });
      }
      const answer = await handleClientFrame(session, connectionId, frame);
      const [only] = answer;
      if (answer.length === 1 && typeof only === 'object') return reply(only);
      if (answer.length > 1) await postInOrder(ports, connectionId, answer);
      return { statusCode: 200 };
    } catch (e) {
      const where = { connectionId, action: frame.action };
      return reply(wsErrorFrame(frames, e, log, where, frame.requestId));
    }
  };
}

/** Lambda entry point. */
export const handler = lazyHandler(() =>
  createMessageHandler({
    store: connectionStore(),
    log: logger,
    submit: submitPorts,
    pusher: pusher(),
    streams: streamLog(),
    workers: socketWorkerAnswerPorts,
  }),
);
