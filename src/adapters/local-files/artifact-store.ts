import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, resolve, sep } from 'node:path';
import { AppError, badRequest } from '../../errors/app-error';
import { type Clock, systemClock } from '../../ports/clock';
import type { ArtifactRef } from '../../artifacts/artifact-ref-schema';
import { artifactRefOf, assertArtifactKey } from '../../artifacts/artifact-ref';
import type { ArtifactStore, PutArtifact } from '../../artifacts/artifact-store';

/** Options of {@link LocalArtifactStore}. */
export interface LocalArtifactStoreOptions {
  /** The folder that holds the artifacts. */
  readonly root: string;
  /** Where the local HTTP API answers, e.g. `http://127.0.0.1:3000`; links point under it. */
  readonly baseUrl: string;
  /** HMAC key that signs links; the HTTP route verifies with the same one. */
  readonly secret: string | Uint8Array;
  readonly clock?: Clock;
}

// A newline cannot occur in a key or in the digits of `expires`, so the signed text is
// unambiguous: no other (key, expires) pair signs the same bytes.
const signature = (key: string, expires: number, secret: string | Uint8Array): string =>
  createHmac('sha256', secret).update(`${key}\n${expires}`).digest('hex');

/**
 * Checks a link made by {@link LocalArtifactStore.link}: the key is well formed, the link has
 * not expired at `now`, and `sig` is the HMAC of key and expiry. Takes the query values as the
 * route reads them (strings); never throws.
 */
export function verifyArtifactLink(
  key: string,
  expires: string | number,
  sig: string,
  secret: string | Uint8Array,
  now: Date,
): boolean {
  const expiresText = String(expires);
  if (!/^\d{1,15}$/.test(expiresText) || !/^[0-9a-f]{64}$/.test(sig)) return false;
  try {
    assertArtifactKey(key);
  } catch {
    return false;
  }
  const expiresAt = Number(expiresText);
  if (expiresAt * 1000 <= now.getTime()) return false;
  // Constant-time, so response timing tells nothing about how much of a guess was right.
  return timingSafeEqual(
    Buffer.from(signature(key, expiresAt, secret), 'hex'),
    Buffer.from(sig, 'hex'),
  );
}

/**
 * Artifacts in a local folder (local mode). Keys map to paths under `root`; links are signed,
 * expiring URLs on the local HTTP API, which serves them after {@link verifyArtifactLink}.
 */
export class LocalArtifactStore implements ArtifactStore {
  private readonly root: string;
  private readonly baseUrl: string;
  private readonly clock: Clock;

  public constructor(private readonly options: LocalArtifactStoreOptions) {
    if (options.secret.length === 0) throw new Error('LocalArtifactStore: an empty link secret');
    this.root = resolve(options.root);
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.clock = options.clock ?? systemClock;
  }

  /** Writes via a temp file and a rename, so a reader never sees half a file. */
  public async put(artifact: PutArtifact): Promise<ArtifactRef> {
    const path = this.pathOf(artifact.key);
    await mkdir(dirname(path), { recursive: true });
    // Same folder as the target: rename is atomic only within one file system.
    const temp = `${path}.${randomUUID()}.tmp`;
    try {
      await writeFile(temp, artifact.body, { flag: 'wx' });
      await rename(temp, path);
    } catch (e) {
      await rm(temp, { force: true });
      throw e;
    }
    return artifactRefOf(artifact);
  }

  public async get(key: string): Promise<Uint8Array> {
    const path = this.pathOf(key);
    try {
      return new Uint8Array(await readFile(path));
    } catch (e) {
      // A key that names a folder (a prefix of other keys) is no artifact either.
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'EISDIR' || code === 'ENOTDIR') {
        throw new AppError('not_found', `no artifact "${key}"`, { cause: e });
      }
      throw e;
    }
  }

  /** `${baseUrl}/artifacts/${key}?expires=<epoch s>&sig=<hex HMAC-SHA256 of key and expires>`. */
  public async link(key: string, ttlSeconds: number): Promise<string> {
    this.pathOf(key);
    if (!Number.isInteger(ttlSeconds) || ttlSeconds <= 0) {
      throw badRequest(`link ttl: a positive whole number of seconds, not ${ttlSeconds}`);
    }
    const expires = Math.floor(this.clock.now().getTime() / 1000) + ttlSeconds;
    // Key characters are all URL-safe ([A-Za-z0-9._/-]), so the key goes in unescaped.
    return `${this.baseUrl}/artifacts/${key}?expires=${expires}&sig=${signature(key, expires, this.options.secret)}`;
  }

  /** The file of a key. @throws AppError `bad_request` for a key that would leave the root. */
  private pathOf(key: string): string {
    assertArtifactKey(key);
    const path = resolve(this.root, key);
    // The pattern already forbids `..`; this also refuses `.` and anything resolve() surprises
    // us with, so no key ever reaches outside the folder.
    if (!path.startsWith(this.root + sep))
      throw badRequest(`artifact key "${key}": outside the store`);
    return path;
  }
}
