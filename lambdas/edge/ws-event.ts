import * as z from '../../src/validation/zod';

/**
 * The parts of an API Gateway WebSocket event that Taskwire reads. (Powertools Parser's
 * WebSocket schema also demands fields such as methodArn that message events do not carry,
 * so the edge uses this narrower one.)
 */
export const wsEventSchema = z.object({
  requestContext: z.object({
    connectionId: z.string().check(z.minLength(1)),
    routeKey: z.string().check(z.minLength(1)),
    // API Gateway's id of the request, logged with every line the request writes.
    requestId: z.optional(z.string()),
    eventType: z.enum(['CONNECT', 'MESSAGE', 'DISCONNECT']),
    connectedAt: z.optional(z.number()),
    domainName: z.optional(z.string()),
    stage: z.optional(z.string()),
    authorizer: z.nullish(z.record(z.string(), z.unknown())),
  }),
  body: z.nullish(z.string()),
  isBase64Encoded: z.optional(z.boolean()),
});

/** A parsed WebSocket event. */
export type WsEvent = z.infer<typeof wsEventSchema>;

/** The context our authorizer attaches (API Gateway passes context values as strings). */
export const authorizerContextSchema = z.object({
  userId: z.string().check(z.minLength(1)),
  roles: z.string(),
  groups: z.string(),
});

/** The route's answer to API Gateway; `body` is sent to the client when route responses are on. */
export interface WsResult {
  readonly statusCode: number;
  readonly body?: string;
}
