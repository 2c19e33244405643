import type { Context } from 'aws-lambda';
import type { ConnectionStore } from '../../src/connections/store';
import type { Log } from '../../src/ports/log';
import { connectionStore } from '../composition/cloud/connections';
import { lazyHandler } from '../runtime/lazy';
import { invocationLog, logger } from '../runtime/logger';
import { type WsResult, wsEventSchema } from '../edge/ws-event';

/** Ports of the $disconnect handler. */
export interface DisconnectPorts {
  readonly store: ConnectionStore;
  readonly log: Log;
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
    const removed = await ports.store.remove(requestContext.connectionId);
    log.info('disconnected', { connectionId: requestContext.connectionId, removed });
    return { statusCode: 200 };
  };
}

/** Lambda entry point. */
export const handler = lazyHandler(() =>
  createDisconnectHandler({ store: connectionStore(), log: logger }),
);
