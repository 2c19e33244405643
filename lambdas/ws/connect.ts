import * as z from 'zod/mini';
import { ROLES } from '../../src/auth/token';
import type { ConnectionStore } from '../../src/connections/store';
import type { Log } from '../../src/ports/log';
import { connectionStore } from '../shared/aws';
import { lazyHandler } from '../shared/lazy';
import { logger } from '../shared/logger';
import { authorizerContextSchema, type WsResult, wsEventSchema } from '../shared/ws-event';

const rolesSchema = z.array(z.enum(ROLES));
const groupsSchema = z.array(z.string());

/** Ports of the $connect handler. */
export interface ConnectPorts {
  readonly store: ConnectionStore;
  readonly log: Log;
}

/** $connect: records the connection with the principal the authorizer verified. */
export function createConnectHandler(ports: ConnectPorts) {
  return async (event: unknown): Promise<WsResult> => {
    const { requestContext } = wsEventSchema.parse(event);
    // Only reachable through the authorizer; a missing context is a wiring fault, not bad input.
    const ctx = authorizerContextSchema.parse(requestContext.authorizer);
    const connection = await ports.store.add({
      connectionId: requestContext.connectionId,
      userId: ctx.userId,
      roles: rolesSchema.parse(JSON.parse(ctx.roles)),
      allowedGroups: groupsSchema.parse(JSON.parse(ctx.groups)),
      connectedAt: new Date(requestContext.connectedAt ?? Date.now()).toISOString(),
    });
    ports.log.info('connected', {
      connectionId: connection.connectionId,
      userId: connection.userId,
    });
    return { statusCode: 200 };
  };
}

/** Lambda entry point. */
export const handler = lazyHandler(() =>
  createConnectHandler({ store: connectionStore(), log: logger }),
);
