import { badRequest, isAppError } from '../errors/app-error';
import { CLIENT_TYPE_PATTERN } from '../names/names';
import { downloadType } from './types/download';
import { logicType } from './types/logic';
import { type ArgsContext, type TaskTypeSpec, withUsage } from './types/task-type';

/**
 * The task types one deployment runs, looked up by name. The command parser, the help text,
 * submit validation, the chat messages and the worker take one; the composition passes the
 * shipped {@link TASK_REGISTRY}, tests may pass their own.
 */
export interface TaskRegistry {
  /** The types, in the order given (the help text lists them so). */
  readonly types: readonly TaskTypeSpec[];
  readonly names: readonly string[];
  /** The clientTypes worker processes of these types register with (privileged). */
  readonly workerClientTypes: readonly string[];
  /** The type of that name, or undefined. */
  find(name: string): TaskTypeSpec | undefined;
  /** The type of that name. @throws AppError `bad_request` for an unknown type. */
  get(name: string): TaskTypeSpec;
}

/**
 * Widens a typed task type for a registry list. A type's arguments and result are its own
 * business; the registry hands every type only what that type's own schema accepted.
 */
export const anyTaskType = <A extends Record<string, unknown>, R>(
  spec: TaskTypeSpec<A, R>,
): TaskTypeSpec => spec as unknown as TaskTypeSpec;

/** Names become queue names (`taskwire-<name>`) and function names (`<name>Worker`). */
const TASK_TYPE_NAME_RE = /^[a-z][a-z0-9-]{0,31}$/;

/** Chat words compare as the command parser compares them (NFKC, lower case). */
const chatWord = (word: string): string => word.normalize('NFKC').toLowerCase();

/**
 * A registry of the given types.
 * @throws Error for a bad or repeated name, a workerClientType no client could register as, or
 *   a chat word (name or alias) two types share:
 *   a mistake of the code, found when the composition starts rather than by a chat user.
 */
export function createTaskRegistry(types: readonly TaskTypeSpec[]): TaskRegistry {
  const byName = new Map<string, TaskTypeSpec>();
  const words = new Map<string, string>();
  for (const spec of types) {
    if (!TASK_TYPE_NAME_RE.test(spec.name)) {
      throw new Error(`task type name "${spec.name}": 1-32 of a-z 0-9 -, starting with a letter`);
    }
    if (spec.workerClientType !== undefined && !CLIENT_TYPE_PATTERN.test(spec.workerClientType)) {
      throw new Error(
        `workerClientType "${spec.workerClientType}" of "${spec.name}" is no clientType`,
      );
    }
    if (byName.has(spec.name)) throw new Error(`task type "${spec.name}" is registered twice`);
    byName.set(spec.name, spec);
    for (const word of [spec.name, ...(spec.aliases ?? [])]) {
      const owner = words.get(chatWord(word));
      if (owner !== undefined && owner !== spec.name) {
        throw new Error(`chat word "${word}" of task type "${spec.name}" is also "${owner}"'s`);
      }
      words.set(chatWord(word), spec.name);
    }
  }
  const names = [...byName.keys()];
  return {
    types: [...types],
    names,
    workerClientTypes: [...new Set(types.map((t) => t.workerClientType ?? t.name))],
    // A Map, not an object: a type named "constructor" must not find Object.prototype's.
    find: (name) => byName.get(name),
    get(name) {
      const spec = byName.get(name);
      if (!spec) throw badRequest(`unknown taskType "${name}"; known: ${names.join(', ')}`);
      return spec;
    },
  };
}

/**
 * The shipped task types. Adding a type: one module under types/ and one line here; the stack
 * (lambdas/catalog.ts) and the local runtime derive its queue, DLQ and worker from this list.
 */
export const TASK_TYPES: readonly TaskTypeSpec[] = [
  anyTaskType(downloadType),
  anyTaskType(logicType),
];

/** The registry of the shipped types. */
export const TASK_REGISTRY: TaskRegistry = createTaskRegistry(TASK_TYPES);

/** Names of the shipped types. */
export const TASK_TYPE_NAMES: readonly string[] = TASK_REGISTRY.names;

/** The spec of a shipped task type. @throws AppError `bad_request` for an unknown type. */
export const taskTypeOf = (name: string): TaskTypeSpec => TASK_REGISTRY.get(name);

/**
 * Reads a submit's `args` (docs/protocol.md: a string array or an object) into the type's
 * arguments: words through the type's grammar (an error ends with its usage line), an object
 * through its schema and configuration check.
 * @throws AppError `bad_request`.
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
    try {
      return spec.fromWords(args, context);
    } catch (e) {
      if (isAppError(e) && e.code === 'bad_request') throw badRequest(withUsage(spec, e.message));
      throw e;
    }
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
