import * as z from '../../validation/zod';
import { isArtifactOfTask, sha256Hex } from '../../artifacts/artifact-ref';
import { type ArtifactRef, artifactRefSchema } from '../../artifacts/artifact-ref-schema';
import { badRequest, isAppError } from '../../errors/app-error';
import { BOX_ID_RE } from './dataset-ids';
import { analyseFile, analyseWords, type BoxAnalysis, type LogicReport } from './logic-report';
import type { Task } from '../task';
import { PermanentTaskError, type TaskRunContext, type TaskTypeSpec } from './task-type';

/** Arguments of a `logic` task: free words, and/or a stored file from a download. */
export const logicArgsSchema = z
  .strictObject({
    args: z.optional(
      z.array(z.string().check(z.minLength(1), z.maxLength(256))).check(z.maxLength(32)),
    ),
    artifact: z.optional(artifactRefSchema),
    boxId: z.optional(z.string().check(z.regex(BOX_ID_RE))),
  })
  .check(
    z.refine(
      (a) => (a.args?.length ?? 0) > 0 || a.artifact !== undefined,
      'logic needs args or an artifact',
    ),
  );
export type LogicArgs = z.infer<typeof logicArgsSchema>;

/**
 * Files belong to the task chain that made them: a logic task may read only a file its parent
 * stored under its own id (download → logic). Submits cannot name a file at all (see
 * `chainOnlyArgs`); this is the second lock, for a record that got one anyway.
 * @throws PermanentTaskError otherwise.
 */
function assertParentsArtifact(task: Task, ref: ArtifactRef): void {
  const parent = task.source === 'chain' ? task.parentTaskId : undefined;
  if (parent === undefined || !isArtifactOfTask(ref.key, parent)) {
    throw new PermanentTaskError("the artifact is not one this task's parent task stored");
  }
}

/**
 * Reads a stored file and checks it is the one the reference names. The messages never give
 * the stored object's hash or size: they reach the task's audience, and would let a caller
 * learn about a file that is not theirs.
 * @throws PermanentTaskError when it is gone or its bytes differ: a retry reads the same.
 */
async function readVerified(ctx: TaskRunContext, ref: ArtifactRef): Promise<Uint8Array> {
  let bytes: Uint8Array;
  try {
    bytes = await ctx.artifacts.get(ref.key);
  } catch (e) {
    if (isAppError(e) && e.code === 'not_found') {
      throw new PermanentTaskError(`artifact "${ref.key}" is gone`, { cause: e });
    }
    throw e;
  }
  if (bytes.byteLength !== ref.size || sha256Hex(bytes) !== ref.sha256) {
    // The operator's log says which check failed; the task's error does not.
    ctx.log.warn('artifact does not match its reference', {
      key: ref.key,
      sizeMatches: bytes.byteLength === ref.size,
    });
    throw new PermanentTaskError(`artifact "${ref.key}" does not match its reference`);
  }
  return bytes;
}

/** Text from a file or a user as one markdown line: no line breaks, at most `max` characters. */
const inline = (text: string, max = 200): string =>
  Array.from(text.replace(/[\r\n]+/g, ' ').slice(0, max * 2))
    .slice(0, max)
    .join('');

/** Values shown of a boxId analysis in the chat (the task's result has TOP_VALUES). */
const CHAT_TOP_VALUES = 5;

function analysisLine(analysis: 'standard' | BoxAnalysis): string[] {
  if (analysis === 'standard') return [];
  const top = analysis.top
    .slice(0, CHAT_TOP_VALUES)
    .map((v) => `${inline(v.value, 40)} (${v.count})`)
    .join(', ');
  const column = analysis.column === null ? 'no column' : `column ${inline(analysis.column, 40)}`;
  return [
    `> boxId ${analysis.boxId}: ${column}, ${analysis.distinct} distinct${top ? `; top: ${top}` : ''}`,
  ];
}

/** The chat lines of a logic report: the figures people look for. */
function reportLines(report: LogicReport): string[] {
  if (report.kind === 'words') {
    return [`> ${report.count} words, ${report.unique} unique`, ...analysisLine(report.analysis)];
  }
  return [
    `> ${inline(report.name, 100)}: ${report.detectedType}, ${report.size} bytes, ` +
      `${report.records} records, ${report.lines} lines`,
    ...(report.columns?.length ? [`> columns: ${inline(report.columns.join(', '))}`] : []),
    ...analysisLine(report.analysis),
  ];
}

/**
 * `logic <args…>`: analyses a stored file (the download → logic chain) or the given words and
 * returns a report (see logic-report.ts). With both, the file is analysed.
 */
export const logicType: TaskTypeSpec<LogicArgs, LogicReport> = {
  name: 'logic',
  summary: '分析 / analyse a stored file or the given words',
  usage: 'logic <args…>',
  aliases: ['分析'],
  argsSchema: logicArgsSchema,
  // Only the download that stored the file hands it over (TaskRunContext.chain).
  chainOnlyArgs: ['artifact'],
  fromWords(words) {
    if (words.length === 0) throw badRequest('logic 需要参数 / needs at least one argument.');
    const parsed = logicArgsSchema.safeParse({ args: [...words] });
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw badRequest(
        `logic 的参数无效 / bad args${issue?.path.length ? ` (${issue.path.join('.')})` : ''}: ${issue?.message ?? 'invalid'}.`,
      );
    }
    return parsed.data;
  },
  chatSummary: (args) =>
    args.artifact ? inline(args.artifact.name, 100) : inline((args.args ?? []).join(' ')),
  chatResult: reportLines,
  async run(args, ctx): Promise<LogicReport> {
    const boxId = args.boxId;
    if (args.artifact) {
      assertParentsArtifact(ctx.task, args.artifact);
      const bytes = await readVerified(ctx, args.artifact);
      // A step: the progress write stops the run here if the task was cancelled meanwhile.
      await ctx.progress(0.5, 'file read');
      return analyseFile(bytes, { name: args.artifact.name, ...(boxId ? { boxId } : {}) });
    }
    return analyseWords(args.args ?? [], boxId);
  },
};
