import { badRequest } from '../errors/app-error';
import { downloadType } from './types/download';
import { logicType } from './types/logic';
import type { ArgsContext, TaskTypeSpec } from './types/task-type';

/** The shipped task types. Adding a type: one module under types/ and one line here. */
export const TASK_TYPES: readonly TaskTypeSpec[] = [downloadType, logicType] as TaskTypeSpec[];

/** Task type names. */
export const TASK_TYPE_NAMES = TASK_TYPES.map((t) => t.name);

/** The spec of a task type. @throws AppError `bad_request` for an unknown type. */
export function taskTypeOf(name: string): TaskTypeSpec {
  const spec = TASK_TYPES.find((t) => t.name === name);
  if (!spec) throw badRequest(`unknown taskType "${name}"; known: ${TASK_TYPE_NAMES.join(', ')}`);
  return spec;
}

/**
 * Reads a submit's `args` (PROTOCOL.md: a string array or an object) into the type's
 * arguments. @throws AppError `bad_request`.
 */
export function readTaskArgs(
  spec: TaskTypeSpec,
  args: unknown,
  context: ArgsContext,
): Record<string, unknown> {
  if (Array.isArray(args)) {
    if (!args.every((a): a is string => typeof a === 'string' && a.length > 0 && !/\s/.test(a))) {
      throw badRequest('args: an array of non-empty strings without spaces');
    }
    return spec.fromWords(args, context);
  }
  if (typeof args === 'object' && args !== null) {
    const parsed = spec.argsSchema.safeParse(args);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw badRequest(
        `args${issue?.path.length ? `.${issue.path.join('.')}` : ''}: ${issue?.message ?? 'invalid'}`,
      );
    }
    spec.checkArgs?.(parsed.data, context);
    return parsed.data;
  }
  throw badRequest('args: a string array or an object');
}
