import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { fromEnv } from '@aws-sdk/credential-provider-env';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';

/**
 * Reads Secrets Manager secrets with one SigV4-signed `GetSecretValue` call over `fetch`.
 *
 * Why not the SDK's Secrets Manager client (or Powertools Parameters over it): a function
 * needs exactly this one call, and the client brings the whole SDK runtime along (protocols,
 * endpoint rules, retry strategies, event streams: ~165 KB minified). In the WebSocket
 * authorizer, which runs on every connect and uses no other client, that was two thirds of
 * the bundle and of its cold start (bench/sections/bundles.ts). Signing stays the SDK's
 * (`@smithy/signature-v4`, which every other client bundles anyway), credentials are the
 * environment's (what Lambda gives a function), and the wire format is AWS JSON 1.1, the one
 * the SDK client sends.
 */

/** Options of {@link secretsManagerReader}. */
export interface SecretReaderOptions {
  /** The region of the secrets (Lambda's `AWS_REGION`). */
  readonly region: string;
  /**
   * The service endpoint; default `https://secretsmanager.<region>.amazonaws.com` (`.com.cn` in
   * the China regions). The stack never sets one; tests point it at a local server.
   */
  readonly endpoint?: string;
  /** Default: the environment's (`AWS_ACCESS_KEY_ID`, …), as Lambda passes the role's. */
  readonly credentials?: AwsCredentialIdentity | AwsCredentialIdentityProvider;
  /** How long a read value is reused before the secret is read again (a rotation shows then). */
  readonly maxAgeSeconds: number;
  /** Attempts per read for throttling, 5xx and network faults (default 3, as the SDK's). */
  readonly maxAttempts?: number;
  /** Time limit of one attempt (default 3 s: an authorizer has 5 s in all). */
  readonly attemptTimeoutMs?: number;
  readonly fetch?: typeof fetch;
  /** Milliseconds since the epoch (default Date.now); drives the cache's age. */
  readonly now?: () => number;
  /** Waits between attempts (default a timer); tests pass one that returns at once. */
  readonly sleep?: (ms: number) => Promise<void>;
}

/** Reads a secret's `SecretString` by ARN or name, from the cache while it is fresh. */
export type SecretReader = (secretId: string) => Promise<string>;

/** Why a secret could not be read: the service's error type (or `NetworkError`) and message. */
export class SecretReadError extends Error {
  public constructor(
    /** E.g. `ResourceNotFoundException`, `AccessDeniedException`, `NetworkError`. */
    public readonly type: string,
    message: string,
    /** The HTTP status, when the service answered. */
    public readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'SecretReadError';
  }
}

/** Error types worth another attempt (besides 5xx answers and network faults). */
const RETRYABLE_TYPES = new Set([
  'ThrottlingException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'InternalServiceError',
]);
const BASE_BACKOFF_MS = 100;

type SourceData = string | ArrayBuffer | ArrayBufferView;
const bytesOf = (data: SourceData): Buffer =>
  typeof data === 'string'
    ? Buffer.from(data)
    : ArrayBuffer.isView(data)
      ? Buffer.from(data.buffer, data.byteOffset, data.byteLength)
      : Buffer.from(data);

/** SHA-256 (and its HMAC) for the signer, from node:crypto. */
class Sha256 {
  private readonly hash: Hash | Hmac;
  public constructor(secret?: SourceData) {
    this.hash = secret === undefined ? createHash('sha256') : createHmac('sha256', bytesOf(secret));
  }
  public update(data: SourceData): void {
    this.hash.update(bytesOf(data));
  }
  public digest(): Promise<Uint8Array> {
    return Promise.resolve(new Uint8Array(this.hash.digest()));
  }
}

/** The regional endpoint, as the SDK's endpoint rules give it for the aws and aws-cn partitions. */
export const secretsManagerEndpoint = (region: string): string =>
  `https://secretsmanager.${region}.${region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com'}`;

/** The error type of an AWS JSON answer: `__type` without its namespace (`…#Type`). */
function errorOf(status: number, text: string): SecretReadError {
  let body: { __type?: unknown; message?: unknown; Message?: unknown } = {};
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === 'object' && parsed !== null) body = parsed;
  } catch {
    // Not JSON (a proxy's page): the status says enough.
  }
  const rawType = typeof body.__type === 'string' ? body.__type : `HTTP ${status}`;
  const type = rawType.slice(rawType.lastIndexOf('#') + 1);
  const detail = typeof body.message === 'string' ? body.message : body.Message;
  return new SecretReadError(
    type,
    `${type}${typeof detail === 'string' ? `: ${detail}` : ''}`,
    status,
  );
}

const retryable = (e: SecretReadError): boolean =>
  e.status === undefined || e.status >= 500 || e.status === 429 || RETRYABLE_TYPES.has(e.type);

/**
 * A reader of Secrets Manager secrets: `GetSecretValue`, signed with SigV4, retried with
 * jittered backoff on throttling, 5xx and network faults, and cached per secret for
 * `maxAgeSeconds` (concurrent reads of one secret share one request).
 * @throws SecretReadError from the returned reader when the secret cannot be read, or has no
 *   `SecretString` (a binary secret).
 */
export function secretsManagerReader(options: SecretReaderOptions): SecretReader {
  const endpoint = new URL(options.endpoint ?? secretsManagerEndpoint(options.region));
  const signer = new SignatureV4({
    service: 'secretsmanager',
    region: options.region,
    credentials: options.credentials ?? fromEnv(),
    sha256: Sha256,
  });
  const doFetch = options.fetch ?? fetch;
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? ((ms) => new Promise<void>((r) => setTimeout(r, ms)));
  const maxAttempts = Math.max(1, options.maxAttempts ?? 3);
  const timeoutMs = options.attemptTimeoutMs ?? 3000;
  const cache = new Map<string, { readonly value: Promise<string>; readonly until: number }>();

  async function attempt(secretId: string): Promise<string> {
    const body = JSON.stringify({ SecretId: secretId });
    const signed = await signer.sign({
      method: 'POST',
      protocol: endpoint.protocol,
      hostname: endpoint.hostname,
      ...(endpoint.port ? { port: Number(endpoint.port) } : {}),
      path: endpoint.pathname,
      query: {},
      headers: {
        host: endpoint.host,
        'content-type': 'application/x-amz-json-1.1',
        'x-amz-target': 'secretsmanager.GetSecretValue',
      },
      body,
    });
    // fetch sets Host from the URL (the value signed above) and refuses to be given one.
    const headers = Object.fromEntries(
      Object.entries(signed.headers).filter(([name]) => name.toLowerCase() !== 'host'),
    );
    let status: number;
    let text: string;
    try {
      const answer = await doFetch(endpoint, {
        method: 'POST',
        headers,
        body,
        signal: AbortSignal.timeout(timeoutMs),
      });
      status = answer.status;
      text = await answer.text();
    } catch (e) {
      const why = e instanceof Error ? e.message : String(e);
      throw new SecretReadError('NetworkError', `Secrets Manager unreachable: ${why}`, undefined, {
        cause: e,
      });
    }
    if (status !== 200) throw errorOf(status, text);
    const out = JSON.parse(text) as { SecretString?: unknown };
    if (typeof out.SecretString !== 'string') {
      throw new SecretReadError('NoSecretString', `secret ${secretId} has no SecretString`, status);
    }
    return out.SecretString;
  }

  async function read(secretId: string): Promise<string> {
    for (let tries = 1; ; tries++) {
      try {
        return await attempt(secretId);
      } catch (e) {
        if (!(e instanceof SecretReadError) || !retryable(e) || tries >= maxAttempts) throw e;
        // Full jitter, as the SDK's standard retry strategy.
        await sleep(Math.random() * BASE_BACKOFF_MS * 2 ** (tries - 1));
      }
    }
  }

  return (secretId) => {
    const cached = cache.get(secretId);
    if (cached && cached.until > now()) return cached.value;
    const value = read(secretId);
    cache.set(secretId, { value, until: now() + options.maxAgeSeconds * 1000 });
    // A failed read is not kept: the next caller asks again.
    value.catch(() => {
      if (cache.get(secretId)?.value === value) cache.delete(secretId);
    });
    return value;
  };
}
