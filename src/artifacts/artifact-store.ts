import type { ArtifactRef } from './artifact-ref-schema';

/** What to store. */
export interface PutArtifact {
  /** Key under the store's root, e.g. `downloads/<taskId>/<name>`; `[A-Za-z0-9._/-]` only. */
  readonly key: string;
  readonly name: string;
  readonly body: Uint8Array;
  readonly contentType?: string;
}

/**
 * Where files and large results live: S3 in the cloud (encrypted, expired by a lifecycle rule),
 * a folder in local mode. Links are short-lived and need no credentials to follow.
 */
export interface ArtifactStore {
  /** Stores the bytes and returns their reference (size and sha256 computed here). */
  put(artifact: PutArtifact): Promise<ArtifactRef>;
  /** Reads a stored artifact. @throws AppError `not_found`. */
  get(key: string): Promise<Uint8Array>;
  /** A URL that fetches the artifact for `ttlSeconds`. */
  link(key: string, ttlSeconds: number): Promise<string>;
}

/** Keys are path-like but may never climb out of the store's root. */
export const ARTIFACT_KEY_PATTERN = /^(?!.*\.\.)[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/;
