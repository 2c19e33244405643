import { z } from 'zod';
import { sha256Hex } from '../../artifacts/artifact-ref';
import type { ArtifactStore } from '../../artifacts/artifact-store';
import { badRequest, isAppError } from '../../errors/app-error';
import { BOX_ID_RE } from '../../wecom/commands';
import { analyseFile, analyseWords, type LogicReport } from './logic-report';
import { PermanentTaskError, type TaskTypeSpec } from './task-type';

/** A file in the artifact store, as a download hands it to its logic task. */
export const artifactRefSchema = z.strictObject({
  key: z.string().min(1).max(512),
  name: z.string().min(1).max(256),
  size: z.number().int().nonnegative(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  contentType: z.string().max(128).optional(),
});
export type ArtifactRef = z.infer<typeof artifactRefSchema>;

/** Arguments of a `logic` task: free words, and/or a stored file from a download. */
export const logicArgsSchema = z
  .strictObject({
    args: z.array(z.string().min(1).max(256)).max(32).optional(),
    artifact: artifactRefSchema.optional(),
    boxId: z.string().regex(BOX_ID_RE).optional(),
  })
  .refine(
    (a) => (a.args?.length ?? 0) > 0 || a.artifact !== undefined,
    'logic needs args or an artifact',
  );
export type LogicArgs = z.infer<typeof logicArgsSchema>;

/**
 * Reads a stored file and checks it is the one the reference names.
 * @throws PermanentTaskError when it is gone or its bytes differ: a retry reads the same.
 */
async function readVerified(store: ArtifactStore, ref: ArtifactRef): Promise<Uint8Array> {
  let bytes: Uint8Array;
  try {
    bytes = await store.get(ref.key);
  } catch (e) {
    if (isAppError(e) && e.code === 'not_found') {
      throw new PermanentTaskError(`artifact "${ref.key}" is gone`, { cause: e });
    }
    throw e;
  }
  const sha256 = sha256Hex(bytes);
  if (bytes.byteLength !== ref.size || sha256 !== ref.sha256) {
    throw new PermanentTaskError(
      `artifact "${ref.key}" does not match its reference: sha256 ${sha256} (${bytes.byteLength} bytes), expected ${ref.sha256} (${ref.size} bytes)`,
    );
  }
  return bytes;
}

/**
 * `logic <args…>`: analyses a stored file (the download → logic chain) or the given words and
 * returns a report (see logic-report.ts). With both, the file is analysed.
 */
export const logicType: TaskTypeSpec<LogicArgs> = {
  name: 'logic',
  summary: 'analyse a stored file or the given words and return a report',
  argsSchema: logicArgsSchema,
  fromWords(words) {
    if (words.length === 0) throw badRequest('usage: logic <args…>');
    const parsed = logicArgsSchema.safeParse({ args: [...words] });
    if (!parsed.success)
      throw badRequest(`logic: ${parsed.error.issues[0]?.message ?? 'bad args'}`);
    return parsed.data;
  },
  async run(args, ctx): Promise<LogicReport> {
    const boxId = args.boxId;
    if (args.artifact) {
      const bytes = await readVerified(ctx.artifacts, args.artifact);
      return analyseFile(bytes, { name: args.artifact.name, ...(boxId ? { boxId } : {}) });
    }
    return analyseWords(args.args ?? [], boxId);
  },
};
