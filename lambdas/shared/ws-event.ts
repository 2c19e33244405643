import { z } from 'zod';

/**
 * The parts of an API Gateway WebSocket event that Taskwire reads. (Powertools Parser's
 * WebSocket schema also demands fields such as methodArn that message events do not carry,
 * so the edge uses this narrower one.)
 */
export const wsEventSchema = z.object({
  requestContext: z.object({
    connectionId: z.string().min(1),
    routeKey: z.string().min(1),
    eventType: z.enum(['CONNECT', 'MESSAGE', 'DISCONNECT']),
    connectedAt: z.number().optional(),
    domainName: z.string().optional(),
    stage: z.string().optional(),
    authorizer: z.record(z.string(), z.unknown()).nullish(),
  }),
  body: z.string().nullish(),
  isBase64Encoded: z.boolean().optional(),
});

/** A parsed WebSocket event. */
export type WsEvent = z.infer<typeof wsEventSchema>;

/** The context our authorizer attaches (API Gateway passes context values as strings). */
export const authorizerContextSchema = z.object({
  userId: z.string().min(1),
  roles: z.string(),
  groups: z.string(),
});

/** The route's answer to API Gateway; `body` is sent to the client when route responses are on. */
export interface WsResult {
  readonly statusCode: number;
  readonly body?: string;
}
