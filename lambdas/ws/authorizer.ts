import type { Context } from 'aws-lambda';
import * as z from '../../src/validation/zod';
import type { OidcVerifier } from '../../src/auth/oidc';
import { verifyAnyToken } from '../../src/auth/verify';
import { isAppError } from '../../src/errors/app-error';
import type { Log } from '../../src/ports/log';
import { authSecret } from '../config/auth-secret';
import { oidcVerifier } from '../config/oidc';
import { lazyHandler } from '../runtime/lazy';
import { invocationLog, logger } from '../runtime/logger';

const authorizerEventSchema = z.object({
  methodArn: z.string().check(z.minLength(1)),
  queryStringParameters: z.nullish(z.record(z.string(), z.optional(z.string()))),
  requestContext: z.optional(
    z.object({
      connectionId: z.optional(z.string()),
      routeKey: z.optional(z.string()),
      requestId: z.optional(z.string()),
    }),
  ),
});

/** The IAM policy answer of a REQUEST authorizer, with the principal as context. */
export interface AuthorizerResult {
  principalId: string;
  policyDocument: {
    Version: '2012-10-17';
    Statement: { Action: 'execute-api:Invoke'; Effect: 'Allow'; Resource: string }[];
  };
  context: { userId: string; roles: string; groups: string };
}

/** Ports of the authorizer. */
export interface AuthorizerPorts {
  readonly secret: () => Promise<string>;
  /** The OIDC issuer trusted beside the secret (docs/protocol.md: Identity providers). */
  readonly oidc?: OidcVerifier | undefined;
  readonly log: Log;
  readonly now?: () => Date;
}

/**
 * Verifies the `?token=` JWT of a WebSocket upgrade. A bad token throws `Unauthorized`, which
 * API Gateway answers with 401 and never calls $connect, so no record is written.
 */
export function createAuthorizerHandler(ports: AuthorizerPorts) {
  return async (event: unknown, context?: Context): Promise<AuthorizerResult> => {
    const parsed = authorizerEventSchema.safeParse(event);
    if (!parsed.success) throw new Error('Unauthorized');
    const request = parsed.data.requestContext;
    const log = invocationLog(ports.log, context, {
      route: request?.routeKey ?? '$connect',
      connectionId: request?.connectionId,
      requestId: request?.requestId,
    });
    const token = parsed.data.queryStringParameters?.token;
    try {
      const principal = await verifyAnyToken(
        token,
        { secret: ports.secret, oidc: ports.oidc },
        ports.now?.(),
      );
      return {
        principalId: principal.userId,
        policyDocument: {
          Version: '2012-10-17',
          Statement: [
            { Action: 'execute-api:Invoke', Effect: 'Allow', Resource: parsed.data.methodArn },
          ],
        },
        context: {
          userId: principal.userId,
          roles: JSON.stringify(principal.roles),
          groups: JSON.stringify(principal.groups),
        },
      };
    } catch (e) {
      if (!isAppError(e)) throw e;
      log.info('connection refused', {
        reason: e.message,
        connectionId: parsed.data.requestContext?.connectionId,
      });
      // API Gateway turns exactly this message into a 401; the reason stays in our log.
      throw new Error('Unauthorized', { cause: e });
    }
  };
}

/** Lambda entry point. */
export const handler = lazyHandler(() =>
  createAuthorizerHandler({ secret: authSecret(), oidc: oidcVerifier(), log: logger }),
);
