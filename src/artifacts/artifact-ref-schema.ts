import * as z from '../validation/zod';

/**
 * A file in the artifact store, as a store's `put` returns it and a download hands it to its
 * logic task. Here rather than in the logic task type, so the stores need nothing of tasks.
 */
export const artifactRefSchema = z.strictObject({
  key: z.string().check(z.minLength(1), z.maxLength(512)),
  name: z.string().check(z.minLength(1), z.maxLength(256)),
  size: z.number().check(z.int(), z.nonnegative()),
  sha256: z.string().check(z.regex(/^[0-9a-f]{64}$/)),
  contentType: z.optional(z.string().check(z.maxLength(128))),
});
export type ArtifactRef = z.infer<typeof artifactRefSchema>;
