/**
 * Chat text → Taskwire command (PROTOCOL.md, "WeCom"): the first word names the task type
 * (case-insensitive, with aliases such as 下载 → download), the rest are its arguments.
 *
 * Never throws: whatever a user types gets a command, a help answer or an error with the usage
 * line, because a chat user cannot read a stack trace and WeCom would retry a failed callback.
 */

/** Canonical command words. */
export type CommandWord = 'download' | 'logic' | 'status' | 'help';

const COMMAND_WORDS: ReadonlySet<string> = new Set<CommandWord>([
  'download',
  'logic',
  'status',
  'help',
]);

/** Default aliases (Chinese words the chat users type). Spread it to extend rather than replace. */
export const DEFAULT_ALIASES: Readonly<Record<string, CommandWord>> = {
  下载: 'download',
  分析: 'logic',
  状态: 'status',
  帮助: 'help',
};

/** Usage lines, shown in help and in every argument error. */
export const USAGE: Readonly<Record<CommandWord, string>> = {
  download: 'download [boxId] <dsNumber> [server]',
  logic: 'logic <args…>',
  status: 'status <taskId>',
  help: 'help',
};

/**
 * dsNumber and boxId: ASCII letters, digits, `_` and `-`, 1-64 characters. They end up in a
 * download URL path and in storage keys, so nothing that could traverse (`/`, `.`) or need
 * escaping is allowed; real values are short alphanumeric ids.
 */
export const DS_NUMBER_RE = /^[A-Za-z0-9_-]{1,64}$/;
/** See DS_NUMBER_RE; box ids (drop-table ids) follow the same rule. */
export const BOX_ID_RE = /^[A-Za-z0-9_-]{1,64}$/;
/** Task ids as Taskwire issues them (UUIDs, ULIDs, …): same alphabet, up to 128 characters. */
export const TASK_ID_RE = /^[A-Za-z0-9_-]{1,128}$/;

/** How to read commands. */
export interface CommandOptions {
  /** Names of the configured download servers; matched case-insensitively. */
  servers: readonly string[];
  /** The server used when a download names none. */
  defaultServer: string;
  /**
   * Alias word → command word. Replaces DEFAULT_ALIASES when given (pass
   * `{ ...DEFAULT_ALIASES, 取: 'download' }` to extend). Aliases to unknown words are ignored.
   */
  aliases?: Readonly<Record<string, string>>;
}

/** Arguments of a download task. */
export interface DownloadArgs {
  /** The dataset number to fetch. */
  dsNumber: string;
  /** The configured server to fetch from (its configured spelling). */
  server: string;
  /** The analysis (drop-table id) the chained logic task runs; absent: the standard report. */
  boxId?: string;
}

/** What a chat text asks for. */
export type Command =
  | { kind: 'task'; taskType: 'download'; args: DownloadArgs }
  | { kind: 'task'; taskType: 'logic'; args: { args: string[] } }
  | { kind: 'status'; taskId: string }
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
 * Chinese keyboard match. Only for command words and ids, never for free-form logic args.
 */
const fold = (word: string): string => word.normalize('NFKC').toLowerCase();

/** Splits on any run of Unicode whitespace (JS `\s` includes U+3000, the full-width space). */
const words = (text: string): string[] => text.split(/\s+/u).filter((w) => w !== '');

function usageError(word: CommandWord, problem: string): Command {
  return { kind: 'error', message: `${problem} 用法 Usage: ${USAGE[word]}`, usage: USAGE[word] };
}

/** Resolves the first word to a command word through the alias map. */
function resolveWord(word: string, aliases: Readonly<Record<string, string>>): CommandWord | null {
  const folded = fold(word);
  if (COMMAND_WORDS.has(folded)) return folded as CommandWord;
  // Own entries only: an indexed lookup would find `constructor` and friends on the prototype.
  for (const [alias, target] of Object.entries(aliases)) {
    if (fold(alias) === folded) {
      const canonical = fold(target);
      return COMMAND_WORDS.has(canonical) ? (canonical as CommandWord) : null;
    }
  }
  return null;
}

function parseDownload(args: string[], options: CommandOptions): Command {
  const servers = new Map(options.servers.map((s) => [fold(s), s] as const));
  const serverOf = (word: string): string | undefined => servers.get(fold(word));
  const ids = args.map((a) => a.normalize('NFKC'));

  let boxId: string | undefined;
  let dsNumber: string;
  let server = options.defaultServer;
  const [first, second, third] = ids;
  if (first === undefined || ids.length > 3) {
    return usageError('download', 'download 需要 1-3 个参数 / takes 1 to 3 arguments.');
  }
  if (second === undefined) {
    dsNumber = first;
  } else if (third === undefined) {
    const named = serverOf(second);
    if (named !== undefined) {
      dsNumber = first;
      server = named;
    } else {
      boxId = first;
      dsNumber = second;
    }
  } else {
    const named = serverOf(third);
    if (named === undefined) {
      const known = options.servers.length > 0 ? options.servers.join(', ') : '-';
      return usageError(
        'download',
        `未知服务器 unknown server "${third}" (可用 configured: ${known}).`,
      );
    }
    boxId = first;
    dsNumber = second;
    server = named;
  }
  if (!DS_NUMBER_RE.test(dsNumber)) {
    return usageError('download', `无效的 dsNumber / invalid dsNumber "${dsNumber}".`);
  }
  if (boxId !== undefined && !BOX_ID_RE.test(boxId)) {
    return usageError('download', `无效的 boxId / invalid boxId "${boxId}".`);
  }
  const result: DownloadArgs = { dsNumber, server };
  if (boxId !== undefined) result.boxId = boxId;
  return { kind: 'task', taskType: 'download', args: result };
}

/**
 * Parses chat text into a Command. Leading `@mentions` (how group chats address a robot:
 * "@Taskwire download 123") are skipped; a mention containing spaces cannot be told apart from
 * the command and is not supported.
 *
 * download rules (PROTOCOL.md): 1 arg = dsNumber on the default server; 2 args = dsNumber and
 * server when the second names a configured server, else boxId and dsNumber on the default
 * server; 3 args = boxId, dsNumber, server, where the server must be configured.
 */
export function parseCommand(text: string, options: CommandOptions): Command {
  const all = words(text);
  const start = all.findIndex((w) => !w.startsWith('@') && !w.startsWith('＠'));
  if (start < 0) return { kind: 'help', reason: 'empty' };
  const [head, ...args] = all.slice(start);
  if (head === undefined) return { kind: 'help', reason: 'empty' };

  const word = resolveWord(head, options.aliases ?? DEFAULT_ALIASES);
  switch (word) {
    case 'download':
      return parseDownload(args, options);
    case 'logic':
      if (args.length === 0) {
        return usageError('logic', 'logic 需要参数 / needs at least one argument.');
      }
      return { kind: 'task', taskType: 'logic', args: { args } };
    case 'status': {
      const taskId = args[0]?.normalize('NFKC');
      if (args.length !== 1 || taskId === undefined || !TASK_ID_RE.test(taskId)) {
        return usageError('status', 'status 需要一个任务 ID / takes one task id.');
      }
      return { kind: 'status', taskId };
    }
    case 'help':
      return { kind: 'help' };
    case null:
      return { kind: 'help', reason: 'unknown', word: head };
  }
}

/**
 * The help text for chat: commands, aliases and servers, short and bilingual (Chinese first,
 * since that is what the chat users read; English for everyone else).
 */
export function helpText(options: CommandOptions): string {
  const aliases = Object.entries(options.aliases ?? DEFAULT_ALIASES)
    .map(([alias, target]) => `${alias}=${target}`)
    .join(', ');
  const servers = options.servers.length > 0 ? options.servers.join(', ') : '-';
  return [
    'Taskwire 命令 / commands:',
    `• ${USAGE.download} — 下载并分析 / download, then analyse`,
    `• ${USAGE.logic} — 分析 / analyse`,
    `• ${USAGE.status} — 查询任务 / task status`,
    `• ${USAGE.help} — 帮助 / this help`,
    `服务器 servers: ${servers} (默认 default: ${options.defaultServer})`,
    ...(aliases === '' ? [] : [`别名 aliases: ${aliases}`]),
  ].join('\n');
}
