import { z } from 'zod';
import { taskArtifactKey } from '../../artifacts/artifact-ref';
import { badRequest } from '../../errors/app-error';
import { BOX_ID_RE, DS_NUMBER_RE, parseCommand } from '../../wecom/commands';
import { fetchDataset } from './download-fetch';
import type { ArtifactRef } from '../../artifacts/artifact-ref-schema';
import { PermanentTaskError, type TaskTypeSpec } from './task-type';

/** Arguments of a `download` task. */
export const downloadArgsSchema = z.strictObject({
  dsNumber: z.string().regex(DS_NUMBER_RE, 'dsNumber: 1-64 characters of A-Z a-z 0-9 _ -'),
  server: z.string().min(1).max(64),
  boxId: z.string().regex(BOX_ID_RE, 'boxId: 1-64 characters of A-Z a-z 0-9 _ -').optional(),
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

/**
 * `download [boxId] <dsNumber> [server]`: fetches the dataset from an allow-listed server with
 * its credentials, timeout and size cap, stores it under `downloads/<taskId>/<dsNumber>`, then
 * chains a `logic` task on it (with the boxId, which selects that task's analysis).
 */
export const downloadType: TaskTypeSpec<DownloadArgs> = {
  name: 'download',
  summary: 'fetch a dataset from a configured server, then analyse it (download → logic)',
  argsSchema: downloadArgsSchema,
  fromWords(words, context) {
    // One reading of the positional rules for chat and WebSocket alike.
    const command = parseCommand(['download', ...words].join(' '), {
      servers: context.servers,
      defaultServer: context.defaultServer,
    });
    if (command.kind === 'task' && command.taskType === 'download') return command.args;
    throw badRequest(
      command.kind === 'error' ? command.message : 'usage: download [boxId] <dsNumber> [server]',
    );
  },
  checkArgs(args, context) {
    if (!context.servers.includes(args.server)) {
      throw badRequest(
        `args.server: unknown server "${args.server}"; configured: ${context.servers.join(', ')}`,
      );
    }
  },
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
