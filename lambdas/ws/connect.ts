import type { Context } from 'aws-lambda';
import * as z from '../../src/validation/zod';
import { ROLES } from '../../src/auth/token';
import {
  API_GATEWAY_MAX_AGE_SECONDS,
  scheduleSessionNotice,
  type SessionNoticePorts,
} from '../../src/connections/lifetime';
import type { ConnectionStore } from '../../src/connections/store';
import { systemClock } from '../../src/ports/clock';
import type { Log } from '../../src/ports/log';
import { ENV } from '../config/env';
import { connectionStore, messageStore } from '../composition/cloud/connections';
import { lazyHandler } from '../runtime/lazy';
import { invocationLog, logger } from '../runtime/logger';
import { authorizerContextSchema, type WsResult, wsEventSchema } from '../edge/ws-event';

const rolesSchema = z.array(z.enum(ROLES));
const groupsSchema = z.array(z.string());

/** Ports of the $connect handler. */
export interface ConnectPorts {
  readonly store: ConnectionStore;
  readonly log: Log;
  /** Where the `session.expiring` notice is scheduled (absent: none is sent). */
  readonly notices?: SessionNoticePorts;
}

/**
 * $connect: records the connection with the principal the authorizer verified, and schedules
 * its `session.expiring` notice ahead of the gateway's cap.
 */
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
    if (ports.notices) {
      // Best-effort: a connection without its notice still works; it is closed without warning.
      await scheduleSessionNotice(
        ports.notices,
        connection.connectionId,
        new Date(connection.connectedAt),
      ).catch((e: unknown) =>
        log.error('could not schedule the session notice', {
          error: e instanceof Error ? e.message : String(e),
        }),
      );
    }
    log.info('connected', {
      connectionId: connection.connectionId,
      userId: connection.userId,
    });
    return { statusCode: 200 };
  };
}

/** Lambda entry point. */
export const handler = lazyHandler(() =>
  createConnectHandler({
    store: connectionStore(),
    log: logger,
    notices: {
      messages: messageStore(),
      clock: systemClock,
      maxAgeSeconds: Number(process.env[ENV.wsMaxAgeSeconds] ?? API_GATEWAY_MAX_AGE_SECONDS),
    },
  }),
);
