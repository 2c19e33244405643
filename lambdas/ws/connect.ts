import type { Context } from 'aws-lambda';
import * as z from '../../src/validation/zod';
import { ROLES } from '../../src/auth/token';
import type { ConnectionStore } from '../../src/connections/store';
import type { Log } from '../../src/ports/log';
import { connectionStore } from '../composition/cloud/connections';
import { lazyHandler } from '../runtime/lazy';
import { invocationLog, logger } from '../runtime/logger';
import { authorizerContextSchema, type WsResult, wsEventSchema } from '../edge/ws-event';

const rolesSchema = z.array(z.enum(ROLES));
const groupsSchema = z.array(z.string());

/** Ports of the $connect handler. */
export interface ConnectPorts {
  readonly store: ConnectionStore;
  readonly log: Log;
}

/** $connect: records the connection with the principal the authorizer verified. */
export function createConnectHandler(ports: ConnectPorts) {
  return async (event: unknown, context?: Context): Promise<WsResult> => {
    const { requestContext } = wsEventSchema.parse(event);
    const log = invocationLog(ports.log, context, {
      route: requestContext.routeKey,
      connectionId: requestContext.connectionId,
      requestId: requestContext.requestId,
    });
    // Only reachable through the authorizer; a missing context is a wiring fault, not bad input.
    const ctx = authorizerContextSchema.parse(requestContext.authorizer);
    const connection = await ports.store.add({
      connectionId: requestContext.connectionId,
      userId: ctx.userId,
      roles: rolesSchema.parse(JSON.parse(ctx.roles)),
      allowedGroups: groupsSchema.parse(JSON.parse(ctx.groups)),
      connectedAt: new Date(requestContext.connectedAt ?? Date.now()).toISOString(),
    });
    log.info('connected', {
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
