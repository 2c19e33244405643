import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { AppError, badRequest } from '../../errors/app-error';
import type { ArtifactRef } from '../../artifacts/artifact-ref-schema';
import { artifactRefOf, assertArtifactKey, sha256Base64 } from '../../artifacts/artifact-ref';
import type { ArtifactStore, PutArtifact } from '../../artifacts/artifact-store';

/** SigV4 presigned URLs live at most 7 days. */
export const MAX_LINK_TTL_SECONDS = 7 * 24 * 60 * 60;

/** Options of {@link S3ArtifactStore}. */
export interface S3ArtifactStoreOptions {
  readonly client: S3Client;
  readonly bucket: string;
  /** Prepended to every key inside the bucket, e.g. `artifacts/` (default none). */
  readonly prefix?: string;
  /** Encrypt with this KMS key (SSE-KMS); without it, S3-managed keys (SSE-S3, AES256). */
  readonly kmsKeyId?: string;
}

/**
 * Artifacts in an S3 bucket (the cloud). Objects are encrypted at rest and carry a SHA-256
 * checksum that S3 verifies on upload; links are presigned GETs.
 */
export class S3ArtifactStore implements ArtifactStore {
  public constructor(private readonly options: S3ArtifactStoreOptions) {}

  public async put(artifact: PutArtifact): Promise<ArtifactRef> {
    assertArtifactKey(artifact.key);
    const { kmsKeyId } = this.options;
    await this.options.client.send(
      new PutObjectCommand({
        Bucket: this.options.bucket,
        Key: this.objectKey(artifact.key),
        Body: artifact.body,
        ContentLength: artifact.body.byteLength,
        ...(artifact.contentType !== undefined ? { ContentType: artifact.contentType } : {}),
        // Our own digest: S3 rejects the upload if the bytes it received differ.
        ChecksumSHA256: sha256Base64(artifact.body),
        ...(kmsKeyId !== undefined
          ? { ServerSideEncryption: 'aws:kms', SSEKMSKeyId: kmsKeyId }
          : { ServerSideEncryption: 'AES256' }),
      }),
    );
    return artifactRefOf(artifact);
  }

  public async get(key: string): Promise<Uint8Array> {
    assertArtifactKey(key);
    try {
      const out = await this.options.client.send(
        new GetObjectCommand({ Bucket: this.options.bucket, Key: this.objectKey(key) }),
      );
      if (!out.Body) throw new AppError('not_found', `no artifact "${key}"`);
      return await out.Body.transformToByteArray();
    } catch (e) {
      // By name rather than instanceof: a second copy of the SDK has its own NoSuchKey class.
      if (e instanceof Error && e.name === 'NoSuchKey') {
        throw new AppError('not_found', `no artifact "${key}"`, { cause: e });
      }
      throw e;
    }
  }

  /** A presigned GET, computed locally (no call to S3). */
  public async link(key: string, ttlSeconds: number): Promise<string> {
    assertArtifactKey(key);
    if (!Number.isInteger(ttlSeconds) || ttlSeconds <= 0 || ttlSeconds > MAX_LINK_TTL_SECONDS) {
      throw badRequest(`link ttl: whole seconds from 1 to ${MAX_LINK_TTL_SECONDS}`);
    }
    return getSignedUrl(
      this.options.client,
      new GetObjectCommand({ Bucket: this.options.bucket, Key: this.objectKey(key) }),
      { expiresIn: ttlSeconds },
    );
  }

  private objectKey(key: string): string {
    return `${this.options.prefix ?? ''}${key}`;
  }
}
