import { z } from 'zod';
import { deliveryIdSchema, scheduledIdSchema, taskIdSchema } from '../../lambdas/http/api';
import type { Audience } from '../../src/connections/audience';
import type { ConnectionSummary } from '../../src/connections/connection';
import type { DeliveryRecord, ScheduledRecord } from '../../src/deliveries/records';
import { clientTypeSchema, groupSchema, userIdSchema } from '../../src/names/names';
import type { MessageTo } from '../../src/push/notify';
import { TASK_STATUSES, type Task, type TaskSource } from '../../src/tasks/task';
import { type SameShape, sameShape } from './same-shape';

/*
 * Schemas of what the server answers and pushes. These are built from domain records and
 * frame builders that have no zod schema, so they are written here, in zod, held to the domain
 * types with `sameShape` (a drift fails tsc) and to the real answers and frames by
 * test/specs. Lambda code never imports this folder.
 */

/** An ISO 8601 time in UTC, as `Date.prototype.toISOString` writes it. */
export const isoTimeSchema = z.iso.datetime();
/** A count (0 or more). */
export const countSchema = z.number().int().min(0);
const epochSeconds = z.number().int().min(0);

/** A task's status. */
export const taskStatusSchema = z.enum(TASK_STATUSES);

const taskSources = ['ws', 'http', 'wecom', 'chain'] as const satisfies readonly TaskSource[];
sameShape<SameShape<(typeof taskSources)[number], TaskSource>>();

/** Who a push goes to (src/connections/audience.ts). */
export const audienceSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('connection'), connectionId: z.string() }),
  z.object({ kind: z.literal('user'), userId: userIdSchema }),
  z.object({ kind: z.literal('group'), group: groupSchema }),
  z.object({ kind: z.literal('clientType'), clientType: clientTypeSchema }),
  z.object({ kind: z.literal('all') }),
]);
sameShape<SameShape<z.output<typeof audienceSchema>, Audience>>();

/** Who asked for a task (src/tasks/task.ts). */
export const requesterSchema = z.object({
  userId: z.optional(userIdSchema),
  wecom: z
    .object({
      userId: z.string(),
      chatId: z.string().optional(),
      webhookUrl: z.string().optional(),
    })
    .optional(),
});

/** A task record (src/tasks/task.ts): `GET /tasks/{taskId}`. */
export const taskSchema = z.object({
  taskId: taskIdSchema,
  taskType: z.string(),
  args: z.record(z.string(), z.unknown()),
  status: taskStatusSchema,
  source: z.enum(taskSources),
  requester: requesterSchema,
  parentTaskId: z.optional(taskIdSchema),
  createdAt: isoTimeSchema,
  updatedAt: isoTimeSchema,
  expiresAt: epochSeconds,
  enqueuedAt: isoTimeSchema.optional(),
  progress: z.number().min(0).max(1).optional(),
  /** The socket worker's last `progress` note. */
  note: z.string().optional(),
  result: z.unknown().optional(),
  error: z.string().optional(),
  /** The socket worker's connection holding the task's lease (docs/protocol.md). */
  workerConnectionId: z.string().optional(),
  leaseExpiresAt: isoTimeSchema.optional(),
  /** Offers of the task to socket workers so far. */
  attempt: z.number().int().min(0).optional(),
});
sameShape<SameShape<z.output<typeof taskSchema>, Task>>();

/** A queued push's progress: the delivery record without its frame and kind. */
export const deliveryProgressSchema = z.object({
  id: deliveryIdSchema,
  state: z.enum(['running', 'done']),
  audience: audienceSchema,
  recipients: countSchema,
  batches: z.number().int().min(-1),
  batchesDone: countSchema,
  delivered: countSchema,
  gone: countSchema,
  failed: countSchema,
  createdAt: isoTimeSchema,
  updatedAt: isoTimeSchema,
  expiresAt: epochSeconds,
});
sameShape<
  SameShape<z.output<typeof deliveryProgressSchema>, Omit<DeliveryRecord, 'frame' | 'kind'>>
>();

/** A scheduled message's state. */
export const scheduleStateSchema = z.enum(['pending', 'queued', 'sending', 'sent', 'cancelled']);

/** A scheduled message: the record without its data and kind (notices are internal). */
export const scheduledMessageSchema = z.object({
  id: scheduledIdSchema,
  state: scheduleStateSchema,
  audience: audienceSchema,
  from: z.string().optional(),
  sendAt: isoTimeSchema,
  dueMinute: z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/),
  createdAt: isoTimeSchema,
  expiresAt: epochSeconds,
  deliveryId: z.optional(deliveryIdSchema),
  delivered: countSchema.optional(),
  movedAt: isoTimeSchema.optional(),
});
sameShape<
  SameShape<
    z.output<typeof scheduledMessageSchema>,
    Omit<ScheduledRecord, 'data' | 'dataKey' | 'kind' | 'notice'>
  >
>();

/** A live connection as presence shows it. */
export const connectionSummarySchema = z.object({
  connectionId: z.string(),
  clientType: z.optional(clientTypeSchema),
  connectedAt: isoTimeSchema,
});
sameShape<SameShape<z.output<typeof connectionSummarySchema>, ConnectionSummary>>();

/** The `to` of a `message` frame (src/push/notify.ts). */
export const messageToSchema = z.union([
  z.object({ user: userIdSchema }),
  z.object({ group: groupSchema }),
  z.object({ all: z.literal(true) }),
]);
sameShape<SameShape<z.output<typeof messageToSchema>, MessageTo>>();
