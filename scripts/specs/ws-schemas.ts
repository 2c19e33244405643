import { z } from 'zod';
import { taskIdSchema } from '../../lambdas/http/api';
import { ERROR_CODES } from '../../src/errors/app-error';
import { clientTypeSchema, groupSchema, userIdSchema } from '../../src/names/names';
import { type ClientAction, schemas as clientFrameSchemas } from '../../src/ws/client-frames';
import { isoTimeSchema, messageToSchema, taskSchema, taskStatusSchema } from './records';
import { SchemaCatalog } from './schema-catalog';

/*
 * The WebSocket API's schemas. Client frames are the schemas the message route parses with
 * (src/ws/client-frames.ts); server frames are built without a schema (src/push/frames.ts
 * `frames.make`), so theirs are written here and held to the real frames by test/specs.
 */

/** The `requestId` a client may send, echoed on the reply (the client frames' own schema). */
const requestIdSchema = clientFrameSchemas.ping.shape.requestId;
const frameIdSchema = z.uuid();
const errorCodeSchema = z.enum(ERROR_CODES as [string, ...string[]]);

/** A server frame: `type`, `id` and `at` (src/push/frames.ts), then the type's own fields. */
const serverFrame = <T extends string, S extends z.ZodRawShape>(type: T, shape: S) =>
  z.object({ type: z.literal(type), id: frameIdSchema, at: isoTimeSchema, ...shape });

/** Where a pushed frame sits in its stream (docs/protocol.md, "Streams"). */
const sequenced = {
  stream: z.string().min(1).max(200).optional(),
  seq: z.number().int().min(1).optional(),
  replayed: z.literal(true).optional(),
};
/** A stream's tip: its epoch and the seq of its newest frame. */
const streamTipSchema = z.object({
  epoch: z.string().min(1).max(64),
  seq: z.number().int().min(0),
});
/** The tips of every stream the connection receives (with the stream log on). */
const streamsSchema = z.record(z.string(), streamTipSchema).optional();

const messageBase = {
  to: messageToSchema,
  from: z.string().min(1).max(128).optional(),
  ...sequenced,
};

/** A `message` frame with its data inline. */
export const inlineMessageFrameSchema = serverFrame('message', {
  ...messageBase,
  data: z.unknown().refine((v) => v !== undefined, 'data is required'),
});
/** A `message` frame whose data was too large for API Gateway's 128 KB and travels as a link. */
export const linkMessageFrameSchema = serverFrame('message', {
  ...messageBase,
  dataUrl: z.url(),
  dataBytes: z.number().int().min(0),
  dataSha256: z.string().regex(/^[0-9a-f]{64}$/),
  dataExpiresAt: isoTimeSchema,
});

/** The frames the server sends, by `type` (docs/protocol.md, "WebSocket: server → client"). */
export const SERVER_FRAMES = {
  registered: serverFrame('registered', {
    connectionId: z.string().min(1),
    userId: userIdSchema,
    clientType: clientTypeSchema,
    groups: z.array(groupSchema),
    streams: streamsSchema,
    requestId: requestIdSchema,
  }),
  joined: serverFrame('joined', {
    group: groupSchema,
    streams: streamsSchema,
    requestId: requestIdSchema,
  }),
  resumed: serverFrame('resumed', {
    streams: z.record(
      z.string(),
      z.object({
        recovered: z.boolean(),
        epoch: z.string().min(1).max(64),
        seq: z.number().int().min(0),
      }),
    ),
    requestId: requestIdSchema,
  }),
  'session.expiring': serverFrame('session.expiring', { closesAt: isoTimeSchema }),
  left: serverFrame('left', { group: groupSchema, requestId: requestIdSchema }),
  pong: serverFrame('pong', { ts: z.number().int().min(0), requestId: requestIdSchema }),
  'task.accepted': serverFrame('task.accepted', {
    taskId: taskIdSchema,
    requestId: requestIdSchema,
  }),
  'task.cancelled': serverFrame('task.cancelled', {
    taskId: taskIdSchema,
    status: taskStatusSchema,
    changed: z.boolean(),
    requestId: requestIdSchema,
  }),
  'task.update': serverFrame('task.update', {
    ...taskSchema.pick({
      taskId: true,
      taskType: true,
      status: true,
      parentTaskId: true,
      progress: true,
      result: true,
      error: true,
    }).shape,
    ...sequenced,
  }),
  'task.assign': serverFrame('task.assign', {
    taskId: taskIdSchema,
    taskType: z.string().min(1),
    args: z.record(z.string(), z.unknown()),
    parentTaskId: z
      .string()
      .regex(/^t_[a-z2-7]{20}$/)
      .optional(),
    attempt: z.number().int().min(1),
    leaseSeconds: z.number().int().min(1),
  }),
  'task.cancel': serverFrame('task.cancel', { taskId: taskIdSchema }),
  'task.ack': serverFrame('task.ack', { taskId: taskIdSchema, requestId: requestIdSchema }),
  message: z.union([inlineMessageFrameSchema, linkMessageFrameSchema]),
  error: serverFrame('error', {
    code: errorCodeSchema,
    message: z.string().min(1),
    requestId: requestIdSchema,
  }),
} as const;

/** A server frame type. */
export type ServerFrameType = keyof typeof SERVER_FRAMES;

/** The reply to each client action (a new action without a reply fails tsc). */
export const REPLIES: Readonly<Record<ClientAction, ServerFrameType>> = {
  register: 'registered',
  join: 'joined',
  leave: 'left',
  ping: 'pong',
  submit: 'task.accepted',
  cancel: 'task.cancelled',
  progress: 'task.ack',
  result: 'task.ack',
  fail: 'task.ack',
};

/** The component name of a frame (`task.update` → `TaskUpdateFrame`). */
export const frameComponentName = (name: string): string =>
  `${name
    .split('.')
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join('')}Frame`;

/** The WebSocket API's schema catalog: every frame and the names they share. */
export function wsCatalog(): SchemaCatalog<string> {
  const frames: Record<string, { schema: z.core.$ZodType; description: string }> = {};
  for (const [action, schema] of Object.entries(clientFrameSchemas)) {
    frames[frameComponentName(action)] = { schema, description: `The \`${action}\` action.` };
  }
  for (const [type, schema] of Object.entries(SERVER_FRAMES)) {
    frames[frameComponentName(type)] = { schema, description: `The \`${type}\` frame.` };
  }
  return new SchemaCatalog({
    ...frames,
    UserId: { schema: userIdSchema, description: 'A user id (the token `sub`).' },
    Group: { schema: groupSchema, description: 'A group name.' },
    ClientType: { schema: clientTypeSchema, description: 'A connection’s client type.' },
    TaskId: { schema: taskIdSchema, description: 'A task id: `t_` and 20 base32 characters.' },
    TaskStatus: {
      schema: taskStatusSchema,
      description: 'queued → running → succeeded | failed; queued | running → cancelled.',
    },
    RequestId: {
      schema: requestIdSchema,
      description: 'Any string of 1–128 characters a client sends, echoed on the reply.',
    },
    FrameId: { schema: frameIdSchema, description: 'A server frame’s unique id (a UUID).' },
    IsoTime: { schema: isoTimeSchema, description: 'An ISO 8601 time in UTC.' },
    MessageTo: { schema: messageToSchema, description: 'Who a `message` was sent to.' },
    ErrorCode: { schema: errorCodeSchema, description: 'The code of an `error` frame.' },
  });
}
