import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { Audience } from '../../src/connections/audience';
import type { ConnectionStore } from '../../src/connections/store';
import { badRequest, notFound } from '../../src/errors/app-error';
import { submitPortsOf, type SubmitPortsSource, submitTask } from '../../src/tasks/submit';
import { TASK_ID_PATTERN } from '../../src/tasks/task-id';
import { groupSchema, userIdSchema } from '../../src/names/names';
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
import { requireAdmin } from '../shared/admin';
import { authSecret } from '../shared/auth-secret';
import { connectionStore, pusher } from '../shared/aws';
import { errorResult, type HttpResult, json } from '../shared/http';
import { header, type HttpEvent, httpEventSchema, jsonBody, pathParam } from '../shared/http-event';
import { submitPorts } from '../shared/tasks';
import { artifactStore, fanoutQueue, messageStore } from '../shared/messages';
import { lazyHandler } from '../shared/lazy';
import { logger } from '../shared/logger';

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
  readonly log: Log;
  readonly clock?: Clock;
  readonly submit: SubmitPortsSource;
  readonly messages: MessageStore;
  readonly fanout: FanoutQueue;
  readonly artifacts: ArtifactStore;
  /** Audiences larger than this go through the fan-out queue (default 2000). */
  readonly inlineLimit?: number;
  /** Scheduled messages due within this many ms are queued at once (see SchedulePorts). */
  readonly queueWithinMs?: number;
}

const submitBodySchema = z.strictObject({
  taskType: z.string().min(1).max(64),
  args: z.union([z.array(z.string()).max(32), z.record(z.string(), z.unknown())]),
  userId: z.optional(userIdSchema),
});
const taskIdSchema = z.string().regex(TASK_ID_PATTERN, 'not a task id');
const idempotencyKeySchema = z
  .string()
  .regex(/^[A-Za-z0-9_.:-]{1,128}$/, 'Idempotency-Key: 1-128 of A-Z a-z 0-9 _ . : -');

const pushBodySchema = z.strictObject({
  data: z.unknown().refine((v) => v !== undefined, 'data is required'),
  from: z.string().min(1).max(128).optional(),
  sendAt: z.string().max(64).optional(),
});
const scheduledIdSchema = z.string().regex(/^s_[0-9a-f-]{36}$/, 'not a scheduled message id');
const deliveryIdSchema = z.string().regex(/^d_[0-9a-f-]{36}$/, 'not a delivery id');

type Route = { auth: 'none' | 'admin'; run: (event: HttpEvent) => Promise<HttpResult> };

/** The HTTP API routes of the `httpApi` function, keyed by API Gateway route key. */
export function createApiHandler(ports: ApiPorts) {
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

  const routes: Record<string, Route> = {
    'GET /healthz': { auth: 'none', run: async () => json(200, { status: 'ok' }) },
    'POST /users/{userId}/messages': {
      auth: 'admin',
      run: (e) => push(e, { kind: 'user', userId: pathParam(e, 'userId', userIdSchema) }),
    },
    'POST /groups/{group}/messages': {
      auth: 'admin',
      run: (e) => push(e, { kind: 'group', group: pathParam(e, 'group', groupSchema) }),
    },
    'POST /broadcast': { auth: 'admin', run: (e) => push(e, { kind: 'all' }) },
    'GET /deliveries/{deliveryId}': {
      auth: 'admin',
      run: async (e) => {
        const id = pathParam(e, 'deliveryId', deliveryIdSchema);
        const d = await ports.messages.getDelivery(id);
        if (!d) throw notFound(`no delivery ${id}`);
        const { frame: _frame, kind: _kind, ...progress } = d;
        return json(200, progress);
      },
    },
    'GET /scheduled/{scheduledId}': {
      auth: 'admin',
      run: async (e) => {
        const id = pathParam(e, 'scheduledId', scheduledIdSchema);
        const s = await ports.messages.getScheduled(id);
        if (!s) throw notFound(`no scheduled message ${id}`);
        const { data: _data, dataKey: _key, kind: _kind, ...rest } = s;
        return json(200, rest);
      },
    },
    'DELETE /scheduled/{scheduledId}': {
      auth: 'admin',
      run: async (e) => {
        const id = pathParam(e, 'scheduledId', scheduledIdSchema);
        const cancelled = await cancelScheduled(ports, id);
        return json(200, { scheduledId: cancelled.id, status: cancelled.state });
      },
    },
    'GET /users/{userId}/presence': {
      auth: 'admin',
      run: async (e) => {
        const userId = pathParam(e, 'userId', userIdSchema);
        return json(200, { userId, connections: await ports.store.listUser(userId) });
      },
    },
    'GET /stats': {
      auth: 'admin',
      run: async () => {
        const [connections, tasks] = await Promise.all([
          ports.store.countByClientType(),
          submitPortsOf(ports.submit).tasks.countByStatus(),
        ]);
        return json(200, { connections, tasks });
      },
    },
    'POST /tasks': {
      auth: 'admin',
      run: async (e) => {
        const body = jsonBody(e, submitBodySchema, MAX_SUBMIT_BODY_BYTES);
        const rawKey = header(e, 'idempotency-key');
        const key = rawKey === undefined ? undefined : idempotencyKeySchema.safeParse(rawKey);
        if (key && !key.success)
          throw badRequest(key.error.issues[0]?.message ?? 'bad Idempotency-Key');
        const { task } = await submitTask(submitPortsOf(ports.submit), {
          taskType: body.taskType,
          args: body.args,
          source: 'http',
          requester: body.userId ? { userId: body.userId } : {},
          ...(key?.success ? { dedupeKey: key.data } : {}),
        });
        return json(202, { taskId: task.taskId, status: task.status });
      },
    },
    'GET /tasks/{taskId}': {
      auth: 'admin',
      run: async (e) => {
        const taskId = pathParam(e, 'taskId', taskIdSchema);
        const task = await submitPortsOf(ports.submit).tasks.get(taskId);
        if (!task) throw notFound(`no task ${taskId}`);
        return json(200, task);
      },
    },
  };

  return async (raw: unknown): Promise<HttpResult> => {
    const event = httpEventSchema.parse(raw);
    try {
      // Own keys only: a route key such as `constructor` is no route.
      const route = Object.hasOwn(routes, event.routeKey) ? routes[event.routeKey] : undefined;
      if (!route) throw notFound(`no route ${event.routeKey}`);
      if (route.auth === 'admin') await requireAdmin(event, await ports.secret(), clock.now());
      return await route.run(event);
    } catch (e) {
      return errorResult(e, ports.log, { routeKey: event.routeKey });
    }
  };
}

/** Lambda entry point. */
export const handler = lazyHandler(() =>
  createApiHandler({
    store: connectionStore(),
    pusher: pusher(),
    secret: authSecret(),
    log: logger,
    submit: submitPorts,
    messages: messageStore(),
    fanout: fanoutQueue(),
    artifacts: artifactStore(),
    queueWithinMs: SWEEP_HORIZON_MS,
  }),
);
