import { z } from 'zod';

/**
 * A file in the artifact store, as a store's `put` returns it and a download hands it to its
 * logic task. Here rather than in the logic task type, so the stores need nothing of tasks.
 */
export const artifactRefSchema = z.strictObject({
  key: z.string().min(1).max(512),
  name: z.string().min(1).max(256),
  size: z.number().int().nonnegative(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  contentType: z.string().max(128).optional(),
});
export type ArtifactRef = z.infer<typeof artifactRefSchema>;
