import type { StreamLog } from '../../src/streams/stream-log';
import { randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';
import * as z from '../../src/validation/zod';
import type { Audience } from '../../src/connections/audience';
import type { ConnectionStore } from '../../src/connections/store';
import { badRequest, notFound } from '../../src/errors/app-error';
import { submitPortsOf, type SubmitPortsSource, submitTask } from '../../src/tasks/submit';
import { TASK_ID_PATTERN } from '../../src/tasks/task-id';
import { cancelTask } from '../../src/tasks/cancel';
import {
  decodeCursor,
  DEFAULT_LIST_LIMIT,
  encodeCursor,
  MAX_LIST_LIMIT,
} from '../../src/tasks/list';
import { TASK_STATUSES } from '../../src/tasks/task';
import { groupSchema, userIdSchema } from '../../src/names/names';
import {
  PRESENCE_DEFAULT_LIMIT,
  PRESENCE_MAX_LIMIT,
  readPresence,
} from '../../src/connections/presence';
import { type Clock, systemClock } from '../../src/ports/clock';
import type { Log } from '../../src/ports/log';
import { frameFactory } from '../../src/push/frames';
import { buildMessageFrame } from '../../src/push/payload';
import type { ArtifactStore } from '../../src/artifacts/artifact-store';
import { deliver } from '../../src/deliveries/deliver';
import type { FanoutQueue, MessageStore } from '../../src/deliveries/records';
import {
  cancelScheduled,
  parseSendAt,
  scheduleMessage,
  SWEEP_HORIZON_MS,
} from '../../src/deliveries/schedule';
import type { Pusher } from '../../src/push/pusher';
import { requireAdmin } from '../edge/admin';
import { authSecret } from '../config/auth-secret';
import { oidcVerifier } from '../config/oidc';
import type { OidcVerifier } from '../../src/auth/oidc';
import { connectionStore, pusher, streamLog } from '../composition/cloud/connections';
import { type HttpResult, json } from '../edge/http';
import { header, type HttpEvent, httpEventSchema, jsonBody, pathParam } from '../edge/http-event';
import { submitPorts } from '../composition/cloud/submit';
import { artifactStore, fanoutQueue, messageStore } from '../composition/cloud/messages';
import { lazyHandler } from '../runtime/lazy';
import { invocationLog, logger } from '../runtime/logger';
import { httpErrorResult } from './error-response';
import { type ApiRouteKey, httpRouteOf, type RouteHandlers } from './routes';

/**
 * Largest push body accepted. Data that does not fit API Gateway's 128 KB WebSocket message
 * travels as a link to the artifact store; Lambda's 6 MB request limit bounds the rest.
 */
export const MAX_PUSH_BODY_BYTES = 4 * 1024 * 1024;
/** Largest task submission accepted. */
export const MAX_SUBMIT_BODY_BYTES = 32 * 1024;

/** Ports of the HTTP API. */
export interface ApiPorts {
  readonly store: ConnectionStore;
  readonly pusher: Pusher;
  readonly secret: () => Promise<string>;
  /** The OIDC issuer admin tokens may also come from (docs/protocol.md: Identity providers). */
  readonly oidc?: OidcVerifier | undefined;
  readonly log: Log;
  readonly clock?: Clock;
  readonly submit: SubmitPortsSource;
  readonly messages: MessageStore;
  readonly fanout: FanoutQueue;
  readonly artifacts: ArtifactStore;
  /** The stream log pushed frames are appended to (absent: unsequenced, as in some tests). */
  readonly streams?: StreamLog;
  /** Audiences larger than this go through the fan-out queue (default 2000). */
  readonly inlineLimit?: number;
  /** Scheduled messages due within this many ms are queued at once (see SchedulePorts). */
  readonly queueWithinMs?: number;
}

export const submitBodySchema = z.strictObject({
  taskType: z.string().check(z.minLength(1), z.maxLength(64)),
  args: z.union([z.array(z.string()).check(z.maxLength(32)), z.record(z.string(), z.unknown())]),
  userId: z.optional(userIdSchema),
});
export const taskIdSchema = z.string().check(z.regex(TASK_ID_PATTERN, 'not a task id'));
export const idempotencyKeySchema = z
  .string()
  .check(z.regex(/^[A-Za-z0-9_.:-]{1,128}$/, 'Idempotency-Key: 1-128 of A-Z a-z 0-9 _ . : -'));

export const pushBodySchema = z.strictObject({
  data: z.unknown().check(z.refine((v) => v !== undefined, 'data is required')),
  from: z.optional(z.string().check(z.minLength(1), z.maxLength(128))),
  sendAt: z.optional(z.string().check(z.maxLength(64))),
});
/** The query of `GET /presence`: how many live connections to read (the page size). */
export const presenceQuerySchema = z.strictObject({
  limit: z.optional(
    z
      .string()
      .check(z.regex(/^\d{1,4}$/, `a whole number from 1 to ${PRESENCE_MAX_LIMIT}`))
      .check(
        z.refine(
          (v) => Number(v) >= 1 && Number(v) <= PRESENCE_MAX_LIMIT,
          `a whole number from 1 to ${PRESENCE_MAX_LIMIT}`,
        ),
      ),
  ),
});
/** The query of `GET /tasks`: a user and/or a status, a page size and the previous page's cursor. */
export const taskListQuerySchema = z
  .strictObject({
    userId: z.optional(userIdSchema),
    status: z.optional(z.enum(TASK_STATUSES)),
    limit: z.optional(
      z
        .string()
        .check(z.regex(/^\d{1,3}$/, `a whole number from 1 to ${MAX_LIST_LIMIT}`))
        .check(
          z.refine(
            (v) => Number(v) >= 1 && Number(v) <= MAX_LIST_LIMIT,
            `a whole number from 1 to ${MAX_LIST_LIMIT}`,
          ),
        ),
    ),
    cursor: z.optional(z.string()),
  })
  .check(
    z.refine(
      (q) => q.userId !== undefined || q.status !== undefined,
      'give userId, status or both (GET /tasks lists a user’s tasks or those in a status)',
    ),
  );

export const scheduledIdSchema = z
  .string()
  .check(z.regex(/^s_[0-9a-f-]{36}$/, 'not a scheduled message id'));
export const deliveryIdSchema = z.string().check(z.regex(/^d_[0-9a-f-]{36}$/, 'not a delivery id'));

/**
 * A route's handler: the parsed event and the request's log in, the answer out. Authentication
 * has happened by then, as the route table says (lambdas/http/routes.ts).
 */
export type RouteHandler = (event: HttpEvent, log: Log) => Promise<HttpResult>;

/**
 * The handlers of the `httpApi` function: exactly one per route of the table it serves, so a
 * route without a handler, or a handler without a route, does not compile.
 */
export type ApiRouteHandlers = RouteHandlers<'httpApi', RouteHandler>;

/** The HTTP API's route handlers, keyed by API Gateway route key (`GET /tasks/{taskId}`). */
export function createApiRoutes(ports: ApiPorts): ApiRouteHandlers {
  const clock = ports.clock ?? systemClock;
  const frames = frameFactory(clock, randomUUID);

  const push = async (event: HttpEvent, audience: Audience) => {
    const body = jsonBody(event, pushBodySchema, MAX_PUSH_BODY_BYTES);
    const notification = { data: body.data, ...(body.from ? { from: body.from } : {}) };
    if (body.sendAt !== undefined) {
      const at = parseSendAt(body.sendAt, clock.now());
      const scheduled = await scheduleMessage({ ...ports, clock }, audience, notification, at);
      return json(202, {
        scheduledId: scheduled.id,
        status: 'scheduled',
        sendAt: scheduled.sendAt,
      });
    }
    const frame = await buildMessageFrame(
      { frames, artifacts: ports.artifacts, now: () => clock.now() },
      audience,
      notification,
    );
    const result = await deliver({ ...ports, clock }, audience, frame);
    if (result.mode === 'inline') return json(200, { delivered: result.report.delivered });
    return json(202, {
      deliveryId: result.deliveryId,
      status: 'queued',
      recipients: result.recipients,
    });
  };

  return {
    'GET /healthz': async () => json(200, { status: 'ok' }),
    'POST /users/{userId}/messages': (e) =>
      push(e, { kind: 'user', userId: pathParam(e, 'userId', userIdSchema) }),
    'POST /groups/{group}/messages': (e) =>
      push(e, { kind: 'group', group: pathParam(e, 'group', groupSchema) }),
    'POST /broadcast': (e) => push(e, { kind: 'all' }),
    'GET /deliveries/{deliveryId}': async (e) => {
      const id = pathParam(e, 'deliveryId', deliveryIdSchema);
      const d = await ports.messages.getDelivery(id);
      if (!d) throw notFound(`no delivery ${id}`);
      const { frame: _frame, kind: _kind, ...progress } = d;
      return json(200, progress);
    },
    'GET /scheduled/{scheduledId}': async (e) => {
      const id = pathParam(e, 'scheduledId', scheduledIdSchema);
      const s = await ports.messages.getScheduled(id);
      if (!s) throw notFound(`no scheduled message ${id}`);
      const { data: _data, dataKey: _key, kind: _kind, ...rest } = s;
      return json(200, rest);
    },
    'DELETE /scheduled/{scheduledId}': async (e) => {
      const id = pathParam(e, 'scheduledId', scheduledIdSchema);
      const cancelled = await cancelScheduled(ports, id);
      return json(200, { scheduledId: cancelled.id, status: cancelled.state });
    },
    'GET /users/{userId}/presence': async (e) => {
      const userId = pathParam(e, 'userId', userIdSchema);
      return json(200, { userId, connections: await ports.store.listUser(userId) });
    },
    'GET /presence': async (e) => {
      const parsed = z.safeParse(presenceQuerySchema, e.queryStringParameters ?? {});
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        const where = issue?.path.length ? `${issue.path.join('.')}: ` : '';
        throw badRequest(`${where}${issue?.message ?? 'bad query'}`);
      }
      const raw = parsed.data.limit;
      const limit = raw === undefined ? PRESENCE_DEFAULT_LIMIT : Number(raw);
      return json(200, { ...(await readPresence(ports.store, limit)), limit });
    },
    'GET /stats': async () => {
      const [connections, tasks] = await Promise.all([
        ports.store.countByClientType(),
        submitPortsOf(ports.submit).tasks.countByStatus(),
      ]);
      return json(200, { connections, tasks });
    },
    'POST /tasks': async (e, log) => {
      const body = jsonBody(e, submitBodySchema, MAX_SUBMIT_BODY_BYTES);
      const rawKey = header(e, 'idempotency-key');
      const key = rawKey === undefined ? undefined : idempotencyKeySchema.safeParse(rawKey);
      if (key && !key.success)
        throw badRequest(key.error.issues[0]?.message ?? 'bad Idempotency-Key');
      const { task } = await submitTask(
        { ...submitPortsOf(ports.submit), log },
        {
          taskType: body.taskType,
          args: body.args,
          source: 'http',
          requester: body.userId ? { userId: body.userId } : {},
          ...(key?.success ? { dedupeKey: key.data } : {}),
        },
      );
      return json(202, { taskId: task.taskId, status: task.status });
    },
    'GET /tasks/{taskId}': async (e) => {
      const taskId = pathParam(e, 'taskId', taskIdSchema);
      const task = await submitPortsOf(ports.submit).tasks.get(taskId);
      if (!task) throw notFound(`no task ${taskId}`);
      return json(200, task);
    },
    'POST /tasks/{taskId}/cancel': async (e, log) => {
      const taskId = pathParam(e, 'taskId', taskIdSchema);
      // An admin may cancel any task (the route's auth said so).
      const { task, changed } = await cancelTask({ ...submitPortsOf(ports.submit), log }, taskId, {
        mayCancel: () => true,
        refusal: 'admin only',
      });
      return json(200, { taskId: task.taskId, status: task.status, changed });
    },
    'GET /tasks': async (e) => {
      const parsed = z.safeParse(taskListQuerySchema, e.queryStringParameters ?? {});
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        const where = issue?.path.length ? `${issue.path.join('.')}: ` : '';
        throw badRequest(`${where}${issue?.message ?? 'bad query'}`);
      }
      const q = parsed.data;
      const filter = {
        ...(q.userId !== undefined ? { userId: q.userId } : {}),
        ...(q.status !== undefined ? { status: q.status } : {}),
      };
      const page = await submitPortsOf(ports.submit).tasks.list({
        ...filter,
        limit: q.limit === undefined ? DEFAULT_LIST_LIMIT : Number(q.limit),
        ...(q.cursor !== undefined ? { after: decodeCursor(q.cursor, filter) } : {}),
      });
      return json(200, {
        tasks: page.tasks,
        ...(page.next ? { cursor: encodeCursor(filter, page.next) } : {}),
      });
    },
  };
}

/**
 * The `httpApi` function: finds the event's route in the route table, authenticates the caller
 * as the table says, runs the route's handler, and answers any error through the HTTP error
 * mapper. Every line it logs carries the request's keys (awsRequestId, route, requestId).
 */
export function createApiHandler(ports: ApiPorts) {
  const clock = ports.clock ?? systemClock;
  const routes = createApiRoutes(ports);

  return async (raw: unknown, context?: Context): Promise<HttpResult> => {
    const event = httpEventSchema.parse(raw);
    const log = invocationLog(ports.log, context, {
      route: event.routeKey,
      requestId: event.requestContext?.requestId,
    });
    try {
      const route = httpRouteOf(event.routeKey);
      // The table's httpApi entries are exactly the keys of `routes` (ApiRouteHandlers).
      if (route?.fn !== 'httpApi') throw notFound(`no route ${event.routeKey}`);
      switch (route.auth) {
        case 'public':
          break;
        case 'adminToken':
          await requireAdmin(event, await ports.secret(), clock.now(), ports.oidc);
          break;
        case 'wecomSignature':
          // This function holds no WeCom token (the stack refuses such a route as well).
          throw new Error(`route ${event.routeKey} needs a WeCom signature check httpApi lacks`);
      }
      return await routes[event.routeKey as ApiRouteKey](event, log);
    } catch (e) {
      return httpErrorResult(e, log, { routeKey: event.routeKey });
    }
  };
}

/** Lambda entry point. */
export const handler = lazyHandler(() =>
  createApiHandler({
    store: connectionStore(),
    pusher: pusher(),
    secret: authSecret(),
    oidc: oidcVerifier(),
    log: logger,
    submit: submitPorts,
    messages: messageStore(),
    fanout: fanoutQueue(),
    artifacts: artifactStore(),
    streams: streamLog(),
    queueWithinMs: SWEEP_HORIZON_MS,
  }),
);
