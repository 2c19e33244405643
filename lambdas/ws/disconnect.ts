import type { Context } from 'aws-lambda';
import type { ConnectionStore } from '../../src/connections/store';
import type { Log } from '../../src/ports/log';
import { workerGone, type SocketWorkerPorts } from '../../src/tasks/socket/socket-workers';
import { connectionStore } from '../composition/cloud/connections';
import { socketWorkerPorts } from '../composition/cloud/socket-workers';
import { lazyHandler } from '../runtime/lazy';
import { invocationLog, logger } from '../runtime/logger';
import { type WsResult, wsEventSchema } from '../edge/ws-event';

/** Ports of the $disconnect handler. */
export interface DisconnectPorts {
  readonly store: ConnectionStore;
  readonly log: Log;
  /** Socket workers: the tasks a worker connection held are offered again (or failed). */
  readonly workers?: (log: Log) => SocketWorkerPorts;
}

/** $disconnect: deletes every record of the connection (best effort by API Gateway; TTL backs it). */
export function createDisconnectHandler(ports: DisconnectPorts) {
  return async (event: unknown, context?: Context): Promise<WsResult> => {
    const { requestContext } = wsEventSchema.parse(event);
    const log = invocationLog(ports.log, context, {
      route: requestContext.routeKey,
      connectionId: requestContext.connectionId,
      requestId: requestContext.requestId,
    });
    const connectionId = requestContext.connectionId;
    const workers = ports.workers;
    if (workers) {
      // Before the records go: the worker's markers say which capacity items are its. Building
      // the ports can throw too (settings missing): that must not keep the records alive.
      const lost = await Promise.resolve()
        .then(() => workerGone(workers(log), connectionId))
        .catch((e: unknown) => {
          // Its tasks' leases lapse and the sweep takes them back then.
          log.error('could not take back a socket worker’s tasks', {
            connectionId,
            error: e instanceof Error ? e.message : String(e),
          });
          return 0;
        });
      if (lost > 0) log.warn('socket worker gone: its tasks were taken back', { lost });
    }
    const removed = await ports.store.remove(connectionId);
    log.info('disconnected', { connectionId: requestContext.connectionId, removed });
    return { statusCode: 200 };
  };
}

/** Lambda entry point. */
export const handler = lazyHandler(() =>
  createDisconnectHandler({ store: connectionStore(), log: logger, workers: socketWorkerPorts }),
);
