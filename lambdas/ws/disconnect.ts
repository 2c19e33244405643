import type { ConnectionStore } from '../../src/connections/store';
import type { Log } from '../../src/ports/log';
import { connectionStore } from '../shared/aws';
import { lazyHandler } from '../shared/lazy';
import { logger } from '../shared/logger';
import { type WsResult, wsEventSchema } from '../shared/ws-event';

/** Ports of the $disconnect handler. */
export interface DisconnectPorts {
  readonly store: ConnectionStore;
  readonly log: Log;
}

/** $disconnect: deletes every record of the connection (best effort by API Gateway; TTL backs it). */
export function createDisconnectHandler(ports: DisconnectPorts) {
  return async (event: unknown): Promise<WsResult> => {
    const { requestContext } = wsEventSchema.parse(event);
    const removed = await ports.store.remove(requestContext.connectionId);
    ports.log.info('disconnected', { connectionId: requestContext.connectionId, removed });
    return { statusCode: 200 };
  };
}

/** Lambda entry point. */
export const handler = lazyHandler(() =>
  createDisconnectHandler({ store: connectionStore(), log: logger }),
);
