/**
 * Chat text → Taskwire command (docs/protocol.md, "Commands"): the first word names a task type
 * of the registry or one of the chat's own commands (`status`, `cancel`, `help`), case-insensitively and
 * through aliases such as 下载 → download; the rest are its arguments, read by the task type's
 * own grammar.
 *
 * Never throws for what a user types: whatever it is gets a command, a help answer or an error
 * with the usage line, because a chat user cannot read a stack trace and WeCom would retry a
 * failed callback.
 */
import { isAppError } from '../errors/app-error';
import { TASK_REGISTRY, type TaskRegistry } from '../tasks/registry';
import { type TaskTypeSpec, withUsage } from '../tasks/types/task-type';

/** The chat's own commands: not task types, so the registry has no say in them. */
export type FixedCommandWord = 'status' | 'cancel' | 'help';

/** Usage lines of the fixed commands. */
export const FIXED_USAGE: Readonly<Record<FixedCommandWord, string>> = {
  status: 'status <taskId>',
  cancel: 'cancel <taskId>',
  help: 'help',
};

/** The help line of each fixed command (after its usage line). */
const FIXED_SUMMARY: Readonly<Record<FixedCommandWord, string>> = {
  status: '查询任务 / task status',
  cancel: '取消任务 / cancel a task you asked for',
  help: '帮助 / this help',
};

/** Default aliases of the fixed commands. */
const FIXED_ALIASES: Readonly<Record<string, FixedCommandWord>> = {
  状态: 'status',
  取消: 'cancel',
  帮助: 'help',
};

const isFixedWord = (word: string): word is FixedCommandWord => Object.hasOwn(FIXED_USAGE, word);

/**
 * The default aliases of a registry: each task type's own (`aliases` on the type), then the
 * fixed commands'. Spread it to extend rather than replace.
 */
export function defaultAliases(types: TaskRegistry = TASK_REGISTRY): Record<string, string> {
  const aliases: Record<string, string> = {};
  for (const spec of types.types)
    for (const alias of spec.aliases ?? []) aliases[alias] = spec.name;
  return { ...aliases, ...FIXED_ALIASES };
}

/** Default aliases of the shipped task types (Chinese words the chat users type). */
export const DEFAULT_ALIASES: Readonly<Record<string, string>> = defaultAliases(TASK_REGISTRY);

/** Task ids as Taskwire issues them (UUIDs, ULIDs, …): ASCII letters, digits, `_`, `-`, ≤ 128. */
export const TASK_ID_RE = /^[A-Za-z0-9_-]{1,128}$/;

/** How to read commands. */
export interface CommandOptions {
  /** Names of the configured download servers; matched case-insensitively. */
  servers: readonly string[];
  /** The server used when a download names none. */
  defaultServer: string;
  /**
   * Alias word → command word (a task type's name, `status`, `cancel` or `help`). Replaces the default
   * aliases (of `types`) when given (pass `{ ...DEFAULT_ALIASES, 取: 'download' }` to extend).
   * Aliases to unknown words are ignored.
   */
  aliases?: Readonly<Record<string, string>>;
  /** The task types the chat can start (default: the shipped ones). */
  types?: TaskRegistry;
}

/** What a chat text asks for. */
export type Command =
  | {
      kind: 'task';
      taskType: string;
      /** The arguments as the type's grammar read them (submit still checks its schema). */
      args: Record<string, unknown>;
    }
  | { kind: 'status'; taskId: string }
  | { kind: 'cancel'; taskId: string }
  | {
      kind: 'help';
      /** `unknown`: the first word is no command (see `word`); `empty`: nothing was typed. */
      reason?: 'unknown' | 'empty';
      /** The unrecognised word, for "unknown command X". */
      word?: string;
    }
  | {
      kind: 'error';
      /** What is wrong, bilingual, ending with the usage line. */
      message: string;
      /** The usage line of the command. */
      usage: string;
    };

/**
 * Folds full-width forms (ｄｏｗｎｌｏａｄ, １２３) to ASCII and case, so the words users type on a
 * Chinese keyboard match. Only for command words and ids, never for free-form task args.
 */
const fold = (word: string): string => word.normalize('NFKC').toLowerCase();

/** Splits on any run of Unicode whitespace (JS `\s` includes U+3000, the full-width space). */
const words = (text: string): string[] => text.split(/\s+/u).filter((w) => w !== '');

const usageError = (usage: string, problem: string): Command => ({
  kind: 'error',
  message: withUsage({ usage }, problem),
  usage,
});

/** What the first word names: a fixed command, a task type, or nothing. */
type Resolved = { fixed: FixedCommandWord } | { spec: TaskTypeSpec } | null;

/** The command word itself (no alias): fixed commands first, so no type can shadow them. */
function commandOf(word: string, types: TaskRegistry): Resolved {
  if (isFixedWord(word)) return { fixed: word };
  const spec = types.find(word);
  return spec ? { spec } : null;
}

/** Resolves the first word to a command through the alias map. */
function resolveWord(
  word: string,
  types: TaskRegistry,
  aliases: Readonly<Record<string, string>>,
): Resolved {
  const folded = fold(word);
  const direct = commandOf(folded, types);
  if (direct) return direct;
  // Own entries only: an indexed lookup would find `constructor` and friends on the prototype.
  for (const [alias, target] of Object.entries(aliases)) {
    if (fold(alias) === folded) return commandOf(fold(target), types);
  }
  return null;
}

function parseTask(spec: TaskTypeSpec, args: readonly string[], options: CommandOptions): Command {
  try {
    return {
      kind: 'task',
      taskType: spec.name,
      args: spec.fromWords(args, {
        servers: options.servers,
        defaultServer: options.defaultServer,
      }),
    };
  } catch (e) {
    // The type's grammar refused the words: the person gets the reason and the usage line.
    // Anything else is a bug of the type and surfaces as one.
    if (isAppError(e) && e.code === 'bad_request') return usageError(spec.usage, e.message);
    throw e;
  }
}

/**
 * Parses chat text into a Command. Leading `@mentions` (how group chats address a robot:
 * "@Taskwire download 123") are skipped; a mention containing spaces cannot be told apart from
 * the command and is not supported. A task type's words are read by its `fromWords`.
 */
export function parseCommand(text: string, options: CommandOptions): Command {
  const all = words(text);
  const start = all.findIndex((w) => !w.startsWith('@') && !w.startsWith('＠'));
  if (start < 0) return { kind: 'help', reason: 'empty' };
  const [head, ...args] = all.slice(start);
  if (head === undefined) return { kind: 'help', reason: 'empty' };

  const types = options.types ?? TASK_REGISTRY;
  const resolved = resolveWord(head, types, options.aliases ?? defaultAliases(types));
  if (resolved === null) return { kind: 'help', reason: 'unknown', word: head };
  if ('spec' in resolved) return parseTask(resolved.spec, args, options);
  switch (resolved.fixed) {
    case 'status': {
      const taskId = args[0]?.normalize('NFKC');
      if (args.length !== 1 || taskId === undefined || !TASK_ID_RE.test(taskId)) {
        return usageError(FIXED_USAGE.status, 'status 需要一个任务 ID / takes one task id.');
      }
      return { kind: 'status', taskId };
    }
    case 'cancel': {
      const taskId = args[0]?.normalize('NFKC');
      if (args.length !== 1 || taskId === undefined || !TASK_ID_RE.test(taskId)) {
        return usageError(FIXED_USAGE.cancel, 'cancel 需要一个任务 ID / takes one task id.');
      }
      return { kind: 'cancel', taskId };
    }
    case 'help':
      return { kind: 'help' };
  }
}

/**
 * The help text for chat: the task types of the registry with their usage lines, the fixed
 * commands, aliases and servers, short and bilingual (Chinese first, since that is what the
 * chat users read; English for everyone else).
 */
export function helpText(options: CommandOptions): string {
  const types = options.types ?? TASK_REGISTRY;
  const aliases = Object.entries(options.aliases ?? defaultAliases(types))
    .map(([alias, target]) => `${alias}=${target}`)
    .join(', ');
  const servers = options.servers.length > 0 ? options.servers.join(', ') : '-';
  return [
    'Taskwire 命令 / commands:',
    ...types.types.map((spec) => `• ${spec.usage} — ${spec.summary}`),
    ...(Object.keys(FIXED_USAGE) as FixedCommandWord[]).map(
      (word) => `• ${FIXED_USAGE[word]} — ${FIXED_SUMMARY[word]}`,
    ),
    `服务器 servers: ${servers} (默认 default: ${options.defaultServer})`,
    ...(aliases === '' ? [] : [`别名 aliases: ${aliases}`]),
  ].join('\n');
}
