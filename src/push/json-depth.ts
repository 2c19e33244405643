import { badRequest } from '../errors/app-error';

/**
 * Deepest nesting of arrays and objects accepted in anything a client sends (push `data`,
 * WebSocket frames, task `args`). A scalar is 0 levels, `{}` and `[1]` are 1, `{"a":[1]}` is 2.
 *
 * Why 24 and not more: inline scheduled `data` (and task args and results) is stored as a
 * DynamoDB map, and DynamoDB refuses items nested 32 levels deep (dynalite, locally, does not
 * check), so the cap keeps every stored form, with the record's own wrapping levels, inside
 * what AWS accepts. Why a cap at all: JSON.stringify, the SDK's marshalling and zod recurse,
 * and a 20 KB body of `[[[[…` is enough to overflow the stack.
 */
export const MAX_JSON_DEPTH = 24;

/**
 * True when the value nests arrays or objects more than `max` levels deep. Iterative (an
 * explicit stack), so no input can overflow the call stack, and it stops at the first path
 * found too deep.
 */
export function jsonDepthExceeds(value: unknown, max: number = MAX_JSON_DEPTH): boolean {
  const stack: { readonly value: object; readonly depth: number }[] = [];
  if (typeof value === 'object' && value !== null) stack.push({ value, depth: 1 });
  for (let top = stack.pop(); top !== undefined; top = stack.pop()) {
    if (top.depth > max) return true;
    const children: unknown[] = Array.isArray(top.value) ? top.value : Object.values(top.value);
    for (const child of children) {
      if (typeof child === 'object' && child !== null) {
        stack.push({ value: child, depth: top.depth + 1 });
      }
    }
  }
  return false;
}

/**
 * Refuses a client value nested too deeply, before anything recursive touches it.
 * @param what names the value in the message, e.g. `data` or `args`.
 * @throws AppError `bad_request` "<what> is too deeply nested: …".
 */
export function assertJsonDepth(value: unknown, what: string, max: number = MAX_JSON_DEPTH): void {
  if (jsonDepthExceeds(value, max)) {
    throw badRequest(`${what} is too deeply nested: at most ${max} levels of arrays and objects`);
  }
}
