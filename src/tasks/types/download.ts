import * as z from '../../validation/zod';
import { taskArtifactKey } from '../../artifacts/artifact-ref';
import { badRequest } from '../../errors/app-error';
import type { ArtifactRef } from '../../artifacts/artifact-ref-schema';
import { BOX_ID_RE, DS_NUMBER_RE } from './dataset-ids';
import { fetchDataset } from './download-fetch';
import { type ArgsContext, PermanentTaskError, type TaskTypeSpec } from './task-type';

/** Arguments of a `download` task. */
export const downloadArgsSchema = z.strictObject({
  dsNumber: z.string().check(z.regex(DS_NUMBER_RE, 'dsNumber: 1-64 characters of A-Z a-z 0-9 _ -')),
  server: z.string().check(z.minLength(1), z.maxLength(64)),
  boxId: z.optional(
    z.string().check(z.regex(BOX_ID_RE, 'boxId: 1-64 characters of A-Z a-z 0-9 _ -')),
  ),
});
export type DownloadArgs = z.infer<typeof downloadArgsSchema>;

/** What a `download` task returns. */
export interface DownloadResult {
  /** The stored file, as handed to the chained logic task. */
  readonly artifact: ArtifactRef;
  /** The configured server's name. */
  readonly server: string;
  /** The URL that served the file (after same-origin redirects), without credentials. */
  readonly url: string;
  /** The chained `logic` task that analyses the file. */
  readonly logicTaskId: string;
}

/** Folds full-width forms (１２３, ＣＮ) to ASCII, as users type them on a Chinese keyboard. */
const nfkc = (word: string): string => word.normalize('NFKC');

/**
 * The positional rules (docs/protocol.md, "Commands"): 1 word = dsNumber on the default server;
 * 2 words = dsNumber and server when the second names a configured server (case-insensitive),
 * else boxId and dsNumber on the default server; 3 words = boxId, dsNumber, server, where the
 * server must be configured.
 * @throws AppError `bad_request` saying which word is wrong.
 */
export function downloadArgsFromWords(
  words: readonly string[],
  context: ArgsContext,
): DownloadArgs {
  const servers = new Map(context.servers.map((s) => [nfkc(s).toLowerCase(), s] as const));
  const serverOf = (word: string): string | undefined => servers.get(word.toLowerCase());
  const ids = words.map(nfkc);

  let boxId: string | undefined;
  let dsNumber: string;
  let server = context.defaultServer;
  const [first, second, third] = ids;
  if (first === undefined || ids.length > 3) {
    throw badRequest('download 需要 1-3 个参数 / takes 1 to 3 arguments.');
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
      const known = context.servers.length > 0 ? context.servers.join(', ') : '-';
      throw badRequest(`未知服务器 unknown server "${third}" (可用 configured: ${known}).`);
    }
    boxId = first;
    dsNumber = second;
    server = named;
  }
  if (!DS_NUMBER_RE.test(dsNumber)) {
    throw badRequest(`无效的 dsNumber / invalid dsNumber "${dsNumber}".`);
  }
  if (boxId !== undefined && !BOX_ID_RE.test(boxId)) {
    throw badRequest(`无效的 boxId / invalid boxId "${boxId}".`);
  }
  return boxId === undefined ? { dsNumber, server } : { dsNumber, server, boxId };
}

/**
 * `download [boxId] <dsNumber> [server]`: fetches the dataset from an allow-listed server with
 * its credentials, timeout and size cap, stores it under `downloads/<taskId>/<dsNumber>`, then
 * chains a `logic` task on it (with the boxId, which selects that task's analysis).
 */
export const downloadType: TaskTypeSpec<DownloadArgs, DownloadResult> = {
  name: 'download',
  summary: '下载并分析 / fetch a dataset from a configured server, then analyse it',
  usage: 'download [boxId] <dsNumber> [server]',
  aliases: ['下载'],
  argsSchema: downloadArgsSchema,
  // One reading of the positional rules for chat and WebSocket alike.
  fromWords: downloadArgsFromWords,
  checkArgs(args, context) {
    if (!context.servers.includes(args.server)) {
      throw badRequest(
        `args.server: unknown server "${args.server}"; configured: ${context.servers.join(', ')}`,
      );
    }
  },
  chatSummary: (args) =>
    [args.boxId, args.dsNumber, args.server].filter((v) => v !== undefined).join(' '),
  // Typed as run returns it; a record of another shape throws here and gets the default.
  chatResult: (result) => [
    `> file: ${result.artifact.name} (${result.artifact.size} bytes)`,
    `> server: ${result.server}`,
    `> logic: \`${result.logicTaskId}\``,
  ],
  async run(args, ctx): Promise<DownloadResult> {
    // hasOwn: a server named "constructor" must not find Object.prototype's.
    const server = Object.hasOwn(ctx.servers, args.server) ? ctx.servers[args.server] : undefined;
    if (!server) throw new PermanentTaskError(`unknown server "${args.server}"`);
    const fetched = await fetchDataset(server, args.dsNumber, ctx);
    const artifact = await ctx.artifacts.put({
      // Under the task's id: the chained logic task checks the file is its parent's.
      key: taskArtifactKey('downloads', ctx.task.taskId, args.dsNumber),
      name: args.dsNumber,
      body: fetched.body,
      ...(fetched.contentType !== undefined ? { contentType: fetched.contentType } : {}),
    });
    ctx.log.info('downloaded', { server: server.name, url: fetched.url, size: artifact.size });
    // After the put: a retry of a failed chain refetches into the same key, so nothing is lost.
    const logicTaskId = await ctx.chain('logic', {
      artifact,
      ...(args.boxId !== undefined ? { boxId: args.boxId } : {}),
    });
    return { artifact, server: server.name, url: fetched.url, logicTaskId };
  },
};
