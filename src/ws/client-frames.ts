import * as z from '../validation/zod';
import { AppError } from '../errors/app-error';
import { clientTypeSchema, groupSchema, MAX_GROUPS_PER_CONNECTION } from '../names/names';
import { jsonDepthExceeds, MAX_JSON_DEPTH } from '../push/json-depth';
import { MAX_WORKER_CONCURRENCY } from '../tasks/socket/placement';
import { TASK_ID_PATTERN } from '../tasks/task-id';

/**
 * Largest client frame we accept. API Gateway itself caps a frame at 32 KB and a message at
 * 128 KB and drops the connection past that; we refuse anything larger with `too_large` while
 * keeping the connection open.
 */
export const MAX_CLIENT_FRAME_BYTES = 32 * 1024;

const requestId = z.optional(z.string().check(z.minLength(1), z.maxLength(128)));

/** The last frame a client holds of a stream (docs/protocol.md, "Streams"). */
const streamPosition = z.strictObject({
  epoch: z.string().check(z.minLength(1), z.maxLength(64)),
  seq: z.number().check(z.int(), z.gte(0), z.lte(Number.MAX_SAFE_INTEGER)),
});
/** Stream → position; names, rights and the count are checked by the session (src/streams). */
const resumeMap = z.record(z.string().check(z.minLength(1), z.maxLength(200)), streamPosition);

const taskTypeName = z.string().check(z.minLength(1), z.maxLength(64));
const taskId = z.string().check(z.regex(TASK_ID_PATTERN, 'not a task id'));

/** `register`'s `worker`: the task types a socket worker takes, and how many at once (each). */
const workerRegistration = z.strictObject({
  taskTypes: z.array(taskTypeName).check(z.minLength(1), z.maxLength(16)),
  concurrency: z.optional(z.number().check(z.int(), z.gte(1), z.lte(MAX_WORKER_CONCURRENCY))),
});

const registerFrame = z.strictObject({
  action: z.literal('register'),
  clientType: clientTypeSchema,
  groups: z.optional(z.array(groupSchema).check(z.maxLength(MAX_GROUPS_PER_CONNECTION))),
  resume: z.optional(resumeMap),
  worker: z.optional(workerRegistration),
  requestId,
});
const joinFrame = z.strictObject({
  action: z.literal('join'),
  group: groupSchema,
  resume: z.optional(streamPosition),
  requestId,
});
const leaveFrame = z.strictObject({ action: z.literal('leave'), group: groupSchema, requestId });
const pingFrame = z.strictObject({ action: z.literal('ping'), requestId });
const submitFrame = z.strictObject({
  action: z.literal('submit'),
  taskType: z.string().check(z.minLength(1), z.maxLength(64)),
  args: z.union([z.array(z.string()).check(z.maxLength(32)), z.record(z.string(), z.unknown())]),
  requestId,
});

const cancelFrame = z.strictObject({
  action: z.literal('cancel'),
  taskId,
  requestId,
});

/* A socket worker's answers about a task it was offered (docs/protocol.md). */
const progressFrame = z.strictObject({
  action: z.literal('progress'),
  taskId,
  progress: z.optional(z.number().check(z.gte(0), z.lte(1))),
  note: z.optional(z.string().check(z.maxLength(500))),
  requestId,
});
const resultFrame = z.strictObject({
  action: z.literal('result'),
  taskId,
  result: z.unknown().check(z.refine((v) => v !== undefined, 'result is required')),
  next: z.optional(
    z.strictObject({ taskType: taskTypeName, args: z.record(z.string(), z.unknown()) }),
  ),
  requestId,
});
const failFrame = z.strictObject({
  action: z.literal('fail'),
  taskId,
  error: z.string().check(z.minLength(1), z.maxLength(1000)),
  retryable: z.optional(z.boolean()),
  requestId,
});

export const schemas = {
  register: registerFrame,
  join: joinFrame,
  leave: leaveFrame,
  ping: pingFrame,
  submit: submitFrame,
  cancel: cancelFrame,
  progress: progressFrame,
  result: resultFrame,
  fail: failFrame,
} as const;

/** The actions a client may send. */
export type ClientAction = keyof typeof schemas;
export const CLIENT_ACTIONS = Object.keys(schemas) as ClientAction[];

/** A validated client frame. */
export type ClientFrame = z.infer<(typeof schemas)[ClientAction]>;

/** The result of reading a client frame: the frame, or the error to answer with. */
export type ParsedClientFrame =
  | { readonly ok: true; readonly frame: ClientFrame }
  | { readonly ok: false; readonly error: AppError; readonly requestId?: string };

const isClientAction = (a: unknown): a is ClientAction =>
  typeof a === 'string' && Object.prototype.hasOwnProperty.call(schemas, a);

/** Formats the first zod issue as `field: message`. */
function describeIssue(error: z.core.$ZodError): string {
  const issue = error.issues[0];
  if (!issue) return 'invalid frame';
  const path = issue.path.join('.');
  return path ? `${path}: ${issue.message}` : issue.message;
}

/**
 * Reads a raw WebSocket message: size, JSON, action, the action's fields, then the nesting of
 * submit's `args` (at most MAX_JSON_DEPTH levels). Never throws; the error carries the
 * `requestId` the client sent when it could be read.
 */
export function parseClientFrame(body: string | null | undefined): ParsedClientFrame {
  if (body === null || body === undefined || body.length === 0) {
    return { ok: false, error: new AppError('bad_request', 'empty message: send a JSON object') };
  }
  if (Buffer.byteLength(body, 'utf8') > MAX_CLIENT_FRAME_BYTES) {
    return {
      ok: false,
      error: new AppError('too_large', `message over ${MAX_CLIENT_FRAME_BYTES} bytes`),
    };
  }
  let raw: unknown;
  try {
    raw = JSON.parse(body);
  } catch {
    return { ok: false, error: new AppError('bad_request', 'message is not valid JSON') };
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return { ok: false, error: new AppError('bad_request', 'message must be a JSON object') };
  }
  const fields = raw as Record<string, unknown>;
  const rid = typeof fields.requestId === 'string' ? fields.requestId.slice(0, 128) : undefined;
  const fail = (error: AppError): ParsedClientFrame => ({
    ok: false,
    error,
    ...(rid ? { requestId: rid } : {}),
  });
  if (fields.action === undefined) {
    return fail(new AppError('bad_request', 'missing "action"'));
  }
  if (!isClientAction(fields.action)) {
    const known = CLIENT_ACTIONS.join(', ');
    return fail(new AppError('unknown_action', `unknown action; use one of: ${known}`));
  }
  const parsed = schemas[fields.action].safeParse(fields);
  if (!parsed.success) return fail(new AppError('bad_request', describeIssue(parsed.error)));
  // zod checked every field but submit's object `args`, whose values it leaves unread; the
  // submit (zod again, the task record's marshalling) would recurse into them.
  const nested =
    parsed.data.action === 'submit'
      ? parsed.data.args
      : parsed.data.action === 'result'
        ? [parsed.data.result, parsed.data.next?.args]
        : undefined;
  // The result's pair adds one level of its own.
  const depth = parsed.data.action === 'result' ? MAX_JSON_DEPTH + 1 : MAX_JSON_DEPTH;
  if (nested !== undefined && jsonDepthExceeds(nested, depth)) {
    return fail(
      new AppError(
        'bad_request',
        `${parsed.data.action === 'submit' ? 'args' : 'result'} is too deeply nested: at most ${MAX_JSON_DEPTH} levels of arrays and objects`,
      ),
    );
  }
  return { ok: true, frame: parsed.data };
}
