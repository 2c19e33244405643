import { z } from 'zod';
import {
  deliveryIdSchema,
  idempotencyKeySchema,
  pushBodySchema,
  scheduledIdSchema,
  submitBodySchema,
  taskIdSchema,
} from '../../lambdas/http/api';
import { clientTypeSchema, groupSchema, userIdSchema } from '../../src/names/names';
import {
  audienceSchema,
  connectionSummarySchema,
  countSchema,
  deliveryProgressSchema,
  isoTimeSchema,
  requesterSchema,
  scheduledMessageSchema,
  scheduleStateSchema,
  taskSchema,
  taskStatusSchema,
} from './records';
import { SchemaCatalog } from './schema-catalog';

/*
 * The HTTP API's schemas. Requests, path parameters and headers are the schemas the handlers
 * parse with (lambdas/http/api.ts, src/names/names.ts); answers are those of records.ts.
 */

/** The HTTP API's components, by name. */
export const HTTP_SCHEMAS = {
  PushBody: {
    schema: pushBodySchema,
    description:
      'A push: `data` (any JSON value, at most 24 levels deep), `from?`, `sendAt?` (ISO 8601 with a zone, in the future, at most 366 days ahead).',
  },
  SubmitBody: {
    schema: submitBodySchema,
    description:
      'A task submission: `args` is an array of words (read like the chat command) or an object checked against the task type.',
  },
  UserId: { schema: userIdSchema, description: 'A user id (the token `sub`).' },
  Group: { schema: groupSchema, description: 'A group name.' },
  ClientType: { schema: clientTypeSchema, description: 'A connection’s client type.' },
  TaskId: { schema: taskIdSchema, description: 'A task id: `t_` and 20 base32 characters.' },
  DeliveryId: { schema: deliveryIdSchema, description: 'A queued push: `d_` and a UUID.' },
  ScheduledId: { schema: scheduledIdSchema, description: 'A scheduled message: `s_` and a UUID.' },
  IdempotencyKey: {
    schema: idempotencyKeySchema,
    description: 'The same key always yields the same task (for the task record’s 14 days).',
  },
  IsoTime: { schema: isoTimeSchema, description: 'An ISO 8601 time in UTC.' },
  Health: { schema: z.object({ status: z.literal('ok') }), description: 'The API is up.' },
  Delivered: {
    schema: z.object({ delivered: countSchema }),
    description: 'Sent now: the live connections that accepted the frame (0 is not an error).',
  },
  DeliveryQueued: {
    schema: z.object({
      deliveryId: deliveryIdSchema,
      status: z.literal('queued'),
      recipients: countSchema,
    }),
    description:
      'An audience over the inline limit: the fan-out workers push it; follow it with `GET /deliveries/{deliveryId}`.',
  },
  MessageScheduled: {
    schema: z.object({
      scheduledId: scheduledIdSchema,
      status: z.literal('scheduled'),
      sendAt: isoTimeSchema,
    }),
    description: 'A push with `sendAt`, kept until then.',
  },
  Audience: { schema: audienceSchema, description: 'Who a push goes to.' },
  DeliveryProgress: { schema: deliveryProgressSchema, description: 'A queued push’s progress.' },
  ScheduleState: {
    schema: scheduleStateSchema,
    description: 'pending → queued → sending → sent, or cancelled.',
  },
  ScheduledMessage: { schema: scheduledMessageSchema, description: 'A scheduled message.' },
  ScheduledCancelled: {
    schema: z.object({ scheduledId: scheduledIdSchema, status: z.literal('cancelled') }),
    description: 'The scheduled message is cancelled (also when it already was).',
  },
  ConnectionSummary: { schema: connectionSummarySchema, description: 'A live connection.' },
  Presence: {
    schema: z.object({ userId: userIdSchema, connections: z.array(connectionSummarySchema) }),
    description: 'A user’s live connections.',
  },
  Online: {
    schema: z.object({
      users: z.array(
        z.object({
          userId: userIdSchema,
          connections: countSchema,
          clientTypes: z.record(z.string(), countSchema),
        }),
      ),
      connections: countSchema,
      truncated: z.boolean(),
      limit: countSchema,
    }),
    description:
      'Online users sorted by id, each with its live connections and their clientTypes (`unregistered` before `register`).',
  },
  ConsoleFile: {
    schema: z.enum(['', 'index.html', 'app.js', 'console.css', 'config.json']),
    description: 'A file of the console.',
  },
  ConsoleConfig: {
    schema: z.object({ wsUrl: z.string(), token: z.string().optional() }),
    description: 'Where the console connects; `token` only from the local runtime (the dev token).',
  },
  TaskStatus: {
    schema: taskStatusSchema,
    description: 'queued → running → succeeded | failed; queued | running → cancelled.',
  },
  Stats: {
    schema: z.object({
      connections: z.record(z.string(), countSchema),
      tasks: z.record(taskStatusSchema, countSchema),
    }),
    description:
      'Live connections by clientType (`unregistered` for those that never registered) and task records by status.',
  },
  TaskSubmitted: {
    schema: z.object({ taskId: taskIdSchema, status: taskStatusSchema }),
    description:
      'The task: `queued` when new; a repeat with the same Idempotency-Key answers its current status.',
  },
  Requester: {
    schema: requesterSchema,
    description: 'Who asked for a task, and so who hears of it.',
  },
  Task: { schema: taskSchema, description: 'A task record (kept 14 days).' },
  TaskCancelled: {
    schema: z.object({ taskId: taskIdSchema, status: taskStatusSchema, changed: z.boolean() }),
    description:
      'The task’s status after the call: `changed` true when this call cancelled it, false when it had already ended (nothing changed).',
  },
  TaskList: {
    schema: z.object({
      tasks: z.array(taskSchema),
      cursor: z.string().min(1).optional(),
    }),
    description:
      'Tasks newest first; `cursor` (opaque) fetches the next page and is absent on the last one.',
  },
  WecomJsonEnvelope: {
    schema: z.object({
      encrypt: z.string().min(1),
      tousername: z.string().optional(),
      agentid: z.string().optional(),
    }),
    description: 'A JSON callback (keys are case-insensitive); the XML one carries `<Encrypt>`.',
  },
  WecomJsonReply: {
    schema: z.object({
      encrypt: z.string(),
      msgsignature: z.string(),
      timestamp: z.number().int(),
      nonce: z.string(),
    }),
    description: 'The encrypted passive reply to a JSON callback.',
  },
  Text: { schema: z.string(), description: 'Plain text or XML.' },
} as const;

/** A component name of the HTTP API. */
export type HttpSchemaName = keyof typeof HTTP_SCHEMAS;

/** The HTTP API's schema catalog (a new one each call: a catalog holds its own registry). */
export const httpCatalog = (): SchemaCatalog<HttpSchemaName> => new SchemaCatalog(HTTP_SCHEMAS);

/** The error body every Taskwire error answer has, with the codes a response may carry. */
export const errorBodySchema = (codes: readonly [string, ...string[]]) =>
  z.object({ error: z.object({ code: z.enum(codes), message: z.string().min(1) }) });
