import { createHash } from 'node:crypto';
import { badRequest } from '../errors/app-error';
import type { ArtifactRef } from './artifact-ref-schema';
import { ARTIFACT_KEY_PATTERN, type PutArtifact } from './artifact-store';

/** Longest key a store accepts (the ArtifactRef schema's limit). */
export const MAX_ARTIFACT_KEY_LENGTH = 512;

/** Lower-case hex SHA-256 of the bytes (the form ArtifactRef carries). */
export const sha256Hex = (bytes: Uint8Array): string =>
  createHash('sha256').update(bytes).digest('hex');

/** Base64 SHA-256 of the bytes (the form S3's ChecksumSHA256 wants). */
export const sha256Base64 = (bytes: Uint8Array): string =>
  createHash('sha256').update(bytes).digest('base64');

/** @throws AppError `bad_request` unless the key matches ARTIFACT_KEY_PATTERN and fits. */
export function assertArtifactKey(key: string): void {
  if (key.length > MAX_ARTIFACT_KEY_LENGTH || !ARTIFACT_KEY_PATTERN.test(key)) {
    throw badRequest(
      `artifact key "${key.slice(0, 80)}": path segments of [A-Za-z0-9._-], no "..", at most ${MAX_ARTIFACT_KEY_LENGTH} characters`,
    );
  }
}

/**
 * The key of a file a task makes: `<area>/<taskId>/<name>`. The task id as the second segment
 * is what ties a stored file to its task (see {@link isArtifactOfTask}).
 */
export function taskArtifactKey(area: string, taskId: string, name: string): string {
  const key = `${area}/${taskId}/${name}`;
  assertArtifactKey(key);
  return key;
}

/** True when the key is one that task made (`<area>/<taskId>/<name…>`, see taskArtifactKey). */
export function isArtifactOfTask(key: string, taskId: string): boolean {
  const [area, owner, ...name] = key.split('/');
  return taskId !== '' && area !== undefined && area !== '' && owner === taskId && name.length > 0;
}

/** The reference every store returns from put: size and sha256 computed from the bytes. */
export function artifactRefOf(artifact: PutArtifact): ArtifactRef {
  return {
    key: artifact.key,
    name: artifact.name,
    size: artifact.body.byteLength,
    sha256: sha256Hex(artifact.body),
    ...(artifact.contentType !== undefined ? { contentType: artifact.contentType } : {}),
  };
}
