import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import type { TaskRegistry } from '../src/tasks/registry';
import type { ResolvedServer } from '../src/tasks/types/task-type';
import { MAX_WORKER_CONCURRENCY } from '../src/tasks/socket/placement';
import { LOG_LEVELS, type LogLevel } from './log';
import { readServers, SERVER_ENV, ServerSettingError, settingText } from './servers';

/** The help text of `npm run worker`. */
export const USAGE = `usage: npm run worker -- --url <ws url> --token <jwt> --type <taskType>[,<taskType>…] [options]
  --url <ws url>        the WebSocket URL (ws://127.0.0.1:3001 locally, the stack's WebSocketUrl)
  --token <jwt>         a token with the worker (or admin) role (or env TASKWIRE_TOKEN);
                        locally: npm run token -- --sub worker-1 --roles worker
  --type <taskType>     the task types to take (repeat it, or separate them with commas)
  --concurrency <n>     tasks of each type at once, 1..${MAX_WORKER_CONCURRENCY} (default 1)
  --artifacts <dir>     where downloads store files and logic reads them
                        (default <tmp>/taskwire-worker-artifacts; npm start prints its own)
  --servers <json>      download servers, as DOWNLOAD_SERVERS: {"name":{"baseUrl","path?"}}
                        (or env ${SERVER_ENV.servers})
  --credentials <json>  their basic-auth credentials: {"name":{"username","password"}}
                        (or env ${SERVER_ENV.credentials})
  --log-level <level>   ${LOG_LEVELS.join(', ')} (default info); JSON lines on stderr
  -h, --help            this text
SIGTERM or SIGINT drains: tasks in flight finish, new offers go back to the server, then it exits 0.`;

/** What `npm run worker` runs with. */
export interface WorkerCliOptions {
  readonly url: string;
  readonly token: string;
  readonly taskTypes: readonly string[];
  readonly concurrency: number;
  readonly artifactsDir: string;
  readonly servers: Readonly<Record<string, ResolvedServer>>;
  readonly logLevel: LogLevel;
}

/** What reading the command line gave. */
export type ParsedCli =
  | { readonly kind: 'run'; readonly options: WorkerCliOptions }
  | { readonly kind: 'help' }
  | { readonly kind: 'error'; readonly message: string };

/** The default artifacts folder: one per machine, so workers on it share their files. */
export const DEFAULT_ARTIFACTS_DIR = join(tmpdir(), 'taskwire-worker-artifacts');

const flagsSchema = z.object({
  url: z
    .string({ error: '--url is required (the WebSocket URL, e.g. ws://127.0.0.1:3001)' })
    .refine((v) => {
      try {
        return /^wss?:$/.test(new URL(v).protocol);
      } catch {
        return false;
      }
    }, '--url must be a ws:// or wss:// URL'),
  token: z
    .string({ error: '--token is required (a JWT with the worker role; or env TASKWIRE_TOKEN)' })
    .regex(/^[\w-]+\.[\w-]+\.[\w-]+$/, '--token is not a JWT (three base64url parts)'),
  concurrency: z
    .string()
    .regex(/^\d+$/, `--concurrency must be a whole number 1..${MAX_WORKER_CONCURRENCY}`)
    .transform(Number)
    .refine(
      (n) => n >= 1 && n <= MAX_WORKER_CONCURRENCY,
      `--concurrency must be 1..${MAX_WORKER_CONCURRENCY}`,
    )
    .default(1),
  'log-level': z
    .enum(LOG_LEVELS, { error: `--log-level must be one of ${LOG_LEVELS.join(', ')}` })
    .default('info'),
  artifacts: z.string().min(1, '--artifacts needs a folder').default(DEFAULT_ARTIFACTS_DIR),
});

/** The first problem of a zod error, as its message (ours name the flag). */
const firstIssue = (error: z.ZodError): string => error.issues[0]?.message ?? 'invalid arguments';

/**
 * Reads `npm run worker`'s arguments (node:util parseArgs, then zod): every bad flag gives a
 * message naming it. Types are checked against the registry, the download servers against the
 * runtime's own parsers (a `download` worker needs at least one).
 */
export function parseWorkerCli(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  registry: TaskRegistry,
): ParsedCli {
  let values: Record<string, string | boolean | string[] | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        url: { type: 'string' },
        token: { type: 'string' },
        type: { type: 'string', multiple: true },
        concurrency: { type: 'string' },
        artifacts: { type: 'string' },
        servers: { type: 'string' },
        credentials: { type: 'string' },
        'log-level': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (e) {
    return { kind: 'error', message: e instanceof Error ? e.message : String(e) };
  }
  if (values.help === true) return { kind: 'help' };

  const flags = flagsSchema.safeParse({
    ...values,
    token: values.token ?? (env.TASKWIRE_TOKEN || undefined),
  });
  if (!flags.success) return { kind: 'error', message: firstIssue(flags.error) };

  const typeFlags = Array.isArray(values.type) ? values.type : [];
  const taskTypes = [
    ...new Set(typeFlags.flatMap((t) => t.split(',').map((w) => w.trim()))),
  ].filter((t) => t.length > 0);
  if (taskTypes.length === 0) {
    return {
      kind: 'error',
      message: `--type is required: one or more of ${registry.names.join(', ')}`,
    };
  }
  const unknown = taskTypes.find((t) => !registry.find(t));
  if (unknown !== undefined) {
    return {
      kind: 'error',
      message: `--type: unknown task type "${unknown}"; known: ${registry.names.join(', ')}`,
    };
  }

  let servers: Record<string, ResolvedServer>;
  try {
    servers = readServers(
      settingText(str(values.servers), '--servers', env, SERVER_ENV.servers),
      settingText(str(values.credentials), '--credentials', env, SERVER_ENV.credentials),
    );
  } catch (e) {
    if (e instanceof ServerSettingError) return { kind: 'error', message: e.message };
    throw e;
  }
  if (taskTypes.includes('download') && Object.keys(servers).length === 0) {
    return {
      kind: 'error',
      message: `--type download needs download servers: --servers '<json>' or env ${SERVER_ENV.servers}`,
    };
  }
  return {
    kind: 'run',
    options: {
      url: flags.data.url,
      token: flags.data.token,
      taskTypes,
      concurrency: flags.data.concurrency,
      artifactsDir: flags.data.artifacts,
      servers,
      logLevel: flags.data['log-level'],
    },
  };
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
