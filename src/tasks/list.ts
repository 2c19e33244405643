import * as z from '../validation/zod';
import { badRequest } from '../errors/app-error';
import { TASK_STATUSES, type TaskStatus } from './task';
import { TASK_ID_PATTERN } from './task-id';
import type { TaskListPosition } from './task-store';

/** `GET /tasks` answers at most this many tasks a page, and this many by default. */
export const MAX_LIST_LIMIT = 100;
export const DEFAULT_LIST_LIMIT = 20;
/** Longest cursor accepted (the ones issued are about 150 characters). */
const MAX_CURSOR_CHARS = 1024;

/** The filters of a listing, which its cursors are bound to. */
export interface TaskListFilter {
  readonly userId?: string;
  readonly status?: TaskStatus;
}

const cursorSchema = z.strictObject({
  v: z.literal(1),
  u: z.optional(z.string().check(z.maxLength(128))),
  s: z.optional(z.enum(TASK_STATUSES)),
  t: z.string().check(z.regex(TASK_ID_PATTERN)),
  c: z.iso.datetime(),
});

/**
 * The opaque `cursor` of a page: base64url JSON of the position and the filters it belongs to,
 * so a cursor of one listing cannot continue another.
 */
export function encodeCursor(filter: TaskListFilter, position: TaskListPosition): string {
  const json = {
    v: 1,
    ...(filter.userId !== undefined ? { u: filter.userId } : {}),
    ...(filter.status !== undefined ? { s: filter.status } : {}),
    t: position.taskId,
    c: position.createdAt,
  };
  return Buffer.from(JSON.stringify(json)).toString('base64url');
}

const NOT_OURS = 'cursor: not one this API issued; pass the previous page’s `cursor` unchanged';

/**
 * Reads a cursor back, checking every part of it: a garbled or forged cursor is a client's
 * mistake and answered as one, never handed to DynamoDB.
 * @throws AppError `bad_request`.
 */
export function decodeCursor(text: string, filter: TaskListFilter): TaskListPosition {
  if (text.length === 0 || text.length > MAX_CURSOR_CHARS || !/^[A-Za-z0-9_-]+$/.test(text)) {
    throw badRequest(NOT_OURS);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    throw badRequest(NOT_OURS);
  }
  const parsed = cursorSchema.safeParse(raw);
  if (!parsed.success) throw badRequest(NOT_OURS);
  const { u, s, t, c } = parsed.data;
  if (u !== filter.userId || s !== filter.status) {
    throw badRequest('cursor: it belongs to a listing with other filters (userId, status)');
  }
  return { taskId: t, createdAt: c };
}
