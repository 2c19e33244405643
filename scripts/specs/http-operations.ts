import type { $ZodType } from 'zod/v4/core';
import {
  MAX_PUSH_BODY_BYTES,
  MAX_SUBMIT_BODY_BYTES,
  presenceQuerySchema,
  taskListQuerySchema,
} from '../../lambdas/http/api';
import { DEFAULT_LIST_LIMIT, MAX_LIST_LIMIT } from '../../src/tasks/list';
import type { HTTP_ROUTES, RouteKeyOf } from '../../lambdas/http/routes';
import { querySchema, urlCheckSchema } from '../../lambdas/http/wecom-callback';
import { DEFAULT_INLINE_LIMIT } from '../../src/deliveries/deliver';
import { PRESENCE_DEFAULT_LIMIT, PRESENCE_MAX_LIMIT } from '../../src/connections/presence';
import { MAX_BODY_BYTES as MAX_WECOM_BODY_BYTES } from '../../src/wecom/envelope';
import type { ErrorResponseName } from './http-errors';
import type { HttpSchemaName } from './http-schemas';

/** A route key of the route table (`GET /tasks/{taskId}`). */
export type HttpRouteKey = RouteKeyOf<(typeof HTTP_ROUTES)[number]>;

/** The operation groups of the document. */
export type HttpTag = 'health' | 'push' | 'presence' | 'stats' | 'tasks' | 'wecom' | 'console';

/** A parameter: its component schema and what it is. */
export interface ParamDoc {
  readonly schema: HttpSchemaName;
  readonly description: string;
}

/** A header the route reads. */
export interface HeaderDoc extends ParamDoc {
  readonly name: string;
  readonly required: boolean;
}

/** The query a route parses: the handler's schema, and a description of each of its fields. */
export interface QueryDoc {
  readonly schema: $ZodType;
  readonly descriptions: Readonly<Record<string, string>>;
}

/** Content by media type: a component, or one of several. */
export type ContentDoc = Readonly<Record<string, HttpSchemaName | readonly HttpSchemaName[]>>;

/** A request body: what it is, its cap and its content. */
export interface BodyDoc {
  readonly description: string;
  readonly maxBytes: number;
  readonly content: ContentDoc;
}

/** A success answer. */
export interface ResponseDoc {
  readonly description: string;
  readonly content: ContentDoc;
}

/** What the document says about one route of the table. */
export interface OperationDoc {
  readonly operationId: string;
  readonly tag: HttpTag;
  readonly summary: string;
  readonly description?: string;
  /** Every `{name}` of the path, with the schema the handler checks it against. */
  readonly pathParams?: Readonly<Record<string, ParamDoc>>;
  readonly query?: QueryDoc;
  readonly headers?: readonly HeaderDoc[];
  readonly body?: BodyDoc;
  readonly responses: Readonly<Record<number, ResponseDoc>>;
  /** Error answers besides those that follow from auth and inputs (see errorResponsesOf). */
  readonly errors?: readonly ErrorResponseName[];
}

const pushBody = (audience: string): BodyDoc => ({
  description: `The push, to ${audience}. At most ${MAX_PUSH_BODY_BYTES} bytes; no other fields.`,
  maxBytes: MAX_PUSH_BODY_BYTES,
  content: { 'application/json': 'PushBody' },
});

const PUSH_RESPONSES: Readonly<Record<number, ResponseDoc>> = {
  200: {
    description: `Sent now: an audience of at most ${DEFAULT_INLINE_LIMIT} live connections (the inline limit).`,
    content: { 'application/json': 'Delivered' },
  },
  202: {
    description: 'Queued for the fan-out workers (a larger audience), or scheduled (`sendAt`).',
    content: { 'application/json': ['DeliveryQueued', 'MessageScheduled'] },
  },
};

const WECOM_QUERY = {
  msg_signature: 'SHA-1 over the sorted token, timestamp, nonce and ciphertext (hex).',
  timestamp: 'Unix seconds; refused when more than 300 s from the server’s clock.',
  nonce: 'At most 64 characters.',
} as const;

/**
 * Every route of the table (lambdas/http/routes.ts), documented: a route without an entry, or
 * an entry without a route, fails tsc.
 */
export const HTTP_OPERATIONS = {
  'GET /healthz': {
    operationId: 'getHealth',
    tag: 'health',
    summary: 'Liveness check (no auth).',
    responses: { 200: { description: 'Up.', content: { 'application/json': 'Health' } } },
  },
  'POST /users/{userId}/messages': {
    operationId: 'pushToUser',
    tag: 'push',
    summary: 'Push a message to every live connection of a user.',
    pathParams: { userId: { schema: 'UserId', description: 'The user.' } },
    body: pushBody('the user'),
    responses: PUSH_RESPONSES,
  },
  'POST /groups/{group}/messages': {
    operationId: 'pushToGroup',
    tag: 'push',
    summary: 'Push a message to every live member of a group.',
    pathParams: { group: { schema: 'Group', description: 'The group.' } },
    body: pushBody('the group'),
    responses: PUSH_RESPONSES,
  },
  'POST /broadcast': {
    operationId: 'broadcast',
    tag: 'push',
    summary: 'Push a message to every live connection.',
    body: pushBody('everyone'),
    responses: PUSH_RESPONSES,
  },
  'GET /users/{userId}/presence': {
    operationId: 'getPresence',
    tag: 'presence',
    summary: 'A user’s live connections.',
    pathParams: { userId: { schema: 'UserId', description: 'The user.' } },
    responses: {
      200: { description: 'The connections.', content: { 'application/json': 'Presence' } },
    },
  },
  'GET /presence': {
    operationId: 'getOnline',
    tag: 'presence',
    summary: 'Who is online: users with their live connections by clientType.',
    description:
      'Reads the broadcast audience (a Query per broadcast shard, never a scan) up to `limit` connections, then their records; `truncated` says more were live. The console polls it.',
    query: {
      schema: presenceQuerySchema,
      descriptions: {
        limit: `Live connections to read, 1 to ${PRESENCE_MAX_LIMIT} (default ${PRESENCE_DEFAULT_LIMIT}).`,
      },
    },
    responses: {
      200: { description: 'The online users.', content: { 'application/json': 'Online' } },
    },
  },
  'GET /stats': {
    operationId: 'getStats',
    tag: 'stats',
    summary: 'Live connections by clientType and tasks by status.',
    responses: { 200: { description: 'The counts.', content: { 'application/json': 'Stats' } } },
  },
  'GET /deliveries/{deliveryId}': {
    operationId: 'getDelivery',
    tag: 'push',
    summary: 'Progress of a queued push (kept 7 days).',
    pathParams: { deliveryId: { schema: 'DeliveryId', description: 'From the 202 answer.' } },
    responses: {
      200: { description: 'The progress.', content: { 'application/json': 'DeliveryProgress' } },
    },
    errors: ['NotFound'],
  },
  'GET /scheduled/{scheduledId}': {
    operationId: 'getScheduled',
    tag: 'push',
    summary: 'A scheduled message (kept until 7 days after `sendAt`).',
    pathParams: { scheduledId: { schema: 'ScheduledId', description: 'From the 202 answer.' } },
    responses: {
      200: { description: 'The message.', content: { 'application/json': 'ScheduledMessage' } },
    },
    errors: ['NotFound'],
  },
  'DELETE /scheduled/{scheduledId}': {
    operationId: 'cancelScheduled',
    tag: 'push',
    summary: 'Cancel a pending or queued scheduled message.',
    pathParams: { scheduledId: { schema: 'ScheduledId', description: 'From the 202 answer.' } },
    responses: {
      200: {
        description: 'Cancelled (also when it already was).',
        content: { 'application/json': 'ScheduledCancelled' },
      },
    },
    errors: ['NotFound', 'Conflict'],
  },
  'POST /tasks': {
    operationId: 'submitTask',
    tag: 'tasks',
    summary: 'Submit a task.',
    description:
      'An unknown type or bad arguments are refused and nothing is written. `args.artifact` is set only by the task chain.',
    headers: [
      {
        name: 'Idempotency-Key',
        required: false,
        schema: 'IdempotencyKey',
        description:
          'Makes the call idempotent: the same key always yields the same task (keys are global to all admin callers).',
      },
    ],
    body: {
      description: `The task. At most ${MAX_SUBMIT_BODY_BYTES} bytes; no other fields.`,
      maxBytes: MAX_SUBMIT_BODY_BYTES,
      content: { 'application/json': 'SubmitBody' },
    },
    responses: {
      202: { description: 'Accepted.', content: { 'application/json': 'TaskSubmitted' } },
    },
  },
  'GET /tasks/{taskId}': {
    operationId: 'getTask',
    tag: 'tasks',
    summary: 'A task record.',
    pathParams: { taskId: { schema: 'TaskId', description: 'The task.' } },
    responses: { 200: { description: 'The task.', content: { 'application/json': 'Task' } } },
    errors: ['NotFound'],
  },
  'POST /tasks/{taskId}/cancel': {
    operationId: 'cancelTask',
    tag: 'tasks',
    summary: 'Cancel a task that has not ended.',
    description:
      'One conditional write: a queued or running task becomes `cancelled` (its audience gets the `task.update`, the chat its message, a running worker stops); a task that had already ended keeps its status and the answer says it.',
    pathParams: { taskId: { schema: 'TaskId', description: 'The task.' } },
    responses: {
      200: {
        description: 'The task’s status after the call.',
        content: { 'application/json': 'TaskCancelled' },
      },
    },
    errors: ['NotFound'],
  },
  'GET /tasks': {
    operationId: 'listTasks',
    tag: 'tasks',
    summary: 'Tasks of a user and/or in a status, newest first.',
    description:
      'Give `userId`, `status` or both. Queries an index (never a scan); a page may hold fewer than `limit` tasks when tasks changed status meanwhile, and still carries its `cursor`.',
    query: {
      schema: taskListQuerySchema,
      descriptions: {
        userId: 'The user the tasks were asked for (`requester.userId`).',
        status: 'Only tasks in this status.',
        limit: `Tasks per page, 1 to ${MAX_LIST_LIMIT} (default ${DEFAULT_LIST_LIMIT}).`,
        cursor: 'The previous page’s `cursor`, unchanged (a cursor of other filters is refused).',
      },
    },
    responses: {
      200: { description: 'A page of tasks.', content: { 'application/json': 'TaskList' } },
    },
  },
  'GET /wecom/callback': {
    operationId: 'wecomUrlCheck',
    tag: 'wecom',
    summary: 'WeCom’s URL check: answers the decrypted `echostr`.',
    query: {
      schema: urlCheckSchema,
      descriptions: { ...WECOM_QUERY, echostr: 'The encrypted challenge (base64).' },
    },
    responses: {
      200: { description: 'The decrypted echostr.', content: { 'text/plain': 'Text' } },
    },
  },
  'POST /wecom/callback': {
    operationId: 'wecomCallback',
    tag: 'wecom',
    summary: 'A WeCom message callback; a text is a command.',
    description:
      'Answered within WeCom’s 5 s. A retry of a message already accepted creates no second task.',
    query: { schema: querySchema, descriptions: WECOM_QUERY },
    body: {
      description: `The encrypted envelope, XML or JSON (the first character decides). At most ${MAX_WECOM_BODY_BYTES} bytes.`,
      maxBytes: MAX_WECOM_BODY_BYTES,
      content: { 'application/xml': 'Text', 'application/json': 'WecomJsonEnvelope' },
    },
    responses: {
      200: {
        description:
          '`success` (not a text, or nothing to say), or the encrypted passive reply in the envelope format of the callback.',
        content: {
          'text/plain': 'Text',
          'application/xml': 'Text',
          'application/json': 'WecomJsonReply',
        },
      },
    },
  },
  'GET /wecom/bot': {
    operationId: 'wecomBotUrlCheck',
    tag: 'wecom',
    summary: 'The intelligent bot’s URL check: answers the decrypted `echostr` (empty receive id).',
    query: {
      schema: urlCheckSchema,
      descriptions: { ...WECOM_QUERY, echostr: 'The encrypted challenge (base64).' },
    },
    responses: {
      200: { description: 'The decrypted echostr.', content: { 'text/plain': 'Text' } },
    },
  },
  'POST /wecom/bot': {
    operationId: 'wecomBotCallback',
    tag: 'wecom',
    summary: 'The intelligent bot’s JSON callback: text/mixed commands, stream refreshes, events.',
    description:
      'A command answers an encrypted stream reply tied to its task; each refresh answers the task’s state, `finish: true` once it ended (or near the end of WeCom’s 6-minute window, the result then following via `response_url`). Card clicks answer `update_template_card`. A retry of a message (same `msgid`) creates no second task.',
    query: { schema: querySchema, descriptions: WECOM_QUERY },
    body: {
      description: `The encrypted envelope \`{"encrypt"}\`. At most ${MAX_WECOM_BODY_BYTES} bytes.`,
      maxBytes: MAX_WECOM_BODY_BYTES,
      content: { 'application/json': 'WecomJsonEnvelope' },
    },
    responses: {
      200: {
        description:
          'The encrypted, signed answer (stream, text or card update), or empty (nothing to say).',
        content: { 'text/plain': 'Text', 'application/json': 'WecomJsonReply' },
      },
    },
  },
  'GET /console': {
    operationId: 'consoleRedirect',
    tag: 'console',
    summary: 'Redirects to the console page, `/console/`.',
    responses: {
      308: { description: 'To `console/` (also the body).', content: { 'text/plain': 'Text' } },
    },
  },
  'GET /console/{proxy+}': {
    operationId: 'consoleFile',
    tag: 'console',
    summary:
      'The console: the page (`/console/`, `index.html`), `app.js`, `console.css`, `config.json`.',
    description:
      'Public, static and same-origin with this API; every answer carries a Content-Security-Policy (self and the WebSocket origin only), `X-Content-Type-Options: nosniff` and `Referrer-Policy: no-referrer`. `config.json` names the WebSocket URL (and, locally, the dev token).',
    pathParams: {
      'proxy+': {
        schema: 'ConsoleFile',
        description: 'The file: empty, `index.html`, `app.js`, `console.css` or `config.json`.',
      },
    },
    responses: {
      200: {
        description: 'The file.',
        content: {
          'text/html': 'Text',
          'text/javascript': 'Text',
          'text/css': 'Text',
          'application/json': 'ConsoleConfig',
        },
      },
    },
    errors: ['NotFound'],
  },
} as const satisfies Record<HttpRouteKey, OperationDoc>;
