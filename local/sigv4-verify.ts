import { createHash, createHmac, type Hash, type Hmac, timingSafeEqual } from 'node:crypto';
import { SignatureV4, type SignatureV4CryptoInit } from '@smithy/signature-v4';

/** An access key pair the verifier accepts (the local runtime's own). */
export interface SigV4Credentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

/** What a request must be signed for. */
export interface SigV4Policy {
  readonly credentials: SigV4Credentials;
  readonly region: string;
  /** The signing name, e.g. `execute-api`. */
  readonly service: string;
  readonly now?: () => Date;
  /** How far the signing time may be from now (default 15 minutes, as AWS). */
  readonly maxSkewMs?: number;
}

/** A request as it arrived, before anything was decoded. */
export interface IncomingSignedRequest {
  readonly method: string;
  /** The request target as sent: path and query, still percent-encoded. */
  readonly target: string;
  /** Header name → value; the name in any case, repeated headers joined by `,`. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Uint8Array;
}

/** The AWS error types a refused signature is answered with (all HTTP 403). */
export type SigV4ErrorType =
  | 'MissingAuthenticationTokenException'
  | 'IncompleteSignatureException'
  | 'InvalidSignatureException'
  | 'UnrecognizedClientException';

/** Why a request was refused, worded as AWS words it. */
export interface SigV4Refusal {
  readonly type: SigV4ErrorType;
  readonly message: string;
}

/** The parts of an `Authorization: AWS4-HMAC-SHA256 …` header. */
interface ParsedAuthorization {
  readonly accessKeyId: string;
  readonly scopeDate: string;
  readonly region: string;
  readonly service: string;
  readonly terminator: string;
  readonly signedHeaders: readonly string[];
  readonly signedHeaderList: string;
  readonly signature: string;
}

const ALGORITHM = 'AWS4-HMAC-SHA256';
const DEFAULT_SKEW_MS = 15 * 60 * 1000;
const MISMATCH =
  'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.';

const refuse = (type: SigV4ErrorType, message: string): SigV4Refusal => ({ type, message });

type SourceData = string | ArrayBuffer | ArrayBufferView;
const bytesOf = (data: SourceData): Buffer =>
  typeof data === 'string'
    ? Buffer.from(data, 'utf8')
    : ArrayBuffer.isView(data)
      ? Buffer.from(data.buffer, data.byteOffset, data.byteLength)
      : Buffer.from(data);

/** SHA-256 / HMAC-SHA256 from node:crypto in the shape the smithy signer takes. */
class NodeSha256 {
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
const sha256: SignatureV4CryptoInit['sha256'] = NodeSha256;

/** Lower-cased header names → values (the verifier's view of the request's headers). */
function lowerHeaders(headers: Readonly<Record<string, string>>): Map<string, string> {
  const out = new Map<string, string>();
  for (const [name, value] of Object.entries(headers)) {
    const key = name.toLowerCase();
    const seen = out.get(key);
    out.set(key, seen === undefined ? value : `${seen},${value}`);
  }
  return out;
}

/** Reads the Authorization header, or says (as AWS does) what is missing from it. */
function parseAuthorization(value: string): ParsedAuthorization | SigV4Refusal {
  const space = value.indexOf(' ');
  const algorithm = space < 0 ? value : value.slice(0, space);
  if (algorithm !== ALGORITHM) {
    return refuse(
      'IncompleteSignatureException',
      `Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' parameter. Authorization header requires 'SignedHeaders' parameter. Authorization=${value.slice(0, 64)}`,
    );
  }
  const params = new Map<string, string>();
  for (const part of value.slice(space + 1).split(',')) {
    const eq = part.indexOf('=');
    if (eq > 0) params.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  const credential = params.get('Credential');
  const signedHeaderList = params.get('SignedHeaders');
  const signature = params.get('Signature');
  const missing = [
    credential === undefined ? 'Credential' : undefined,
    signature === undefined ? 'Signature' : undefined,
    signedHeaderList === undefined ? 'SignedHeaders' : undefined,
  ].filter((m): m is string => m !== undefined);
  if (credential === undefined || signedHeaderList === undefined || signature === undefined) {
    return refuse(
      'IncompleteSignatureException',
      missing.map((m) => `Authorization header requires '${m}' parameter.`).join(' '),
    );
  }
  const scope = credential.split('/');
  const [accessKeyId, scopeDate, region, service, terminator] = scope;
  if (
    scope.length !== 5 ||
    !accessKeyId ||
    scopeDate === undefined ||
    region === undefined ||
    service === undefined ||
    terminator === undefined
  ) {
    return refuse(
      'IncompleteSignatureException',
      `Credential should be scoped to a valid region, service and terminator: ${credential.slice(0, 128)}`,
    );
  }
  return {
    accessKeyId,
    scopeDate,
    region,
    service,
    terminator,
    signedHeaders: signedHeaderList.split(';'),
    signedHeaderList,
    signature,
  };
}

/** `20240131T235959Z` → its Date, or undefined when not SigV4's basic ISO-8601 format. */
function parseAmzDate(value: string): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  if (!m) return undefined;
  const n = (i: number) => Number(m[i]);
  const at = new Date(Date.UTC(n(1), n(2) - 1, n(3), n(4), n(5), n(6)));
  // Rejects 20241345T…: Date.UTC would roll it over into another valid date.
  const back = at.toISOString().replace(/[-:]|\.\d{3}/g, '');
  return back === value ? at : undefined;
}

/** The query of a request target as the signer canonicalises it (undefined when malformed). */
function parseQuery(query: string): Record<string, string | string[]> | undefined {
  const out: Record<string, string | string[]> = {};
  if (query === '') return out;
  for (const pair of query.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    let key: string;
    let value: string;
    try {
      key = decodeURIComponent(eq < 0 ? pair : pair.slice(0, eq));
      value = eq < 0 ? '' : decodeURIComponent(pair.slice(eq + 1));
    } catch {
      return undefined;
    }
    const seen = Object.hasOwn(out, key) ? out[key] : undefined;
    if (seen === undefined)
      Object.defineProperty(out, key, { value, enumerable: true, writable: true });
    else out[key] = Array.isArray(seen) ? [...seen, value] : [seen, value];
  }
  return out;
}

/** Compares two strings in time independent of where they differ. */
function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * One signer per key pair, region and service: the signer caches its derived signing keys (four
 * HMACs a day), which a signer made per request would derive again for every post.
 */
const signers = new WeakMap<SigV4Credentials, Map<string, SignatureV4>>();
function signerFor(policy: SigV4Policy): SignatureV4 {
  let byScope = signers.get(policy.credentials);
  if (!byScope) {
    byScope = new Map();
    signers.set(policy.credentials, byScope);
  }
  const scope = `${policy.region}/${policy.service}`;
  let signer = byScope.get(scope);
  if (!signer) {
    signer = new SignatureV4({
      credentials: policy.credentials,
      region: policy.region,
      service: policy.service,
      sha256,
      uriEscapePath: true,
      // Never adds x-amz-content-sha256 itself: only the client's headers are signed.
      applyChecksum: false,
    });
    byScope.set(scope, signer);
  }
  return signer;
}

const amzTime = (d: Date) => d.toISOString().replace(/[-:]|\.\d{3}/g, '');

/**
 * Checks a request's header SigV4 signature the way AWS does for an IAM-authorised API: the
 * Authorization header, then the access key, the signing time (within 15 minutes of now), the
 * credential scope (date, region, service), and finally the signature itself, recomputed with
 * the smithy signer the SDK signs with (same canonical path, query and headers) and compared
 * in constant time. The payload hash is always that of the body received, so a body changed
 * after signing fails even when the client sent `x-amz-content-sha256`.
 * @returns undefined when the request is correctly signed, else the refusal to answer 403 with.
 */
export async function verifySigV4(
  request: IncomingSignedRequest,
  policy: SigV4Policy,
): Promise<SigV4Refusal | undefined> {
  const headers = lowerHeaders(request.headers);
  const authorization = headers.get('authorization');
  if (authorization === undefined || authorization.trim() === '') {
    return refuse('MissingAuthenticationTokenException', 'Missing Authentication Token');
  }
  const auth = parseAuthorization(authorization.trim());
  if ('type' in auth) return auth;
  const amzDate = headers.get('x-amz-date');
  if (amzDate === undefined) {
    return refuse(
      'IncompleteSignatureException',
      "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.",
    );
  }
  if (!sameSecret(auth.accessKeyId, policy.credentials.accessKeyId)) {
    return refuse(
      'UnrecognizedClientException',
      'The security token included in the request is invalid.',
    );
  }
  const signedAt = parseAmzDate(amzDate);
  if (!signedAt) {
    return refuse(
      'IncompleteSignatureException',
      `Date must be in ISO-8601 'basic format'. Got '${amzDate.slice(0, 32)}'. See http://en.wikipedia.org/wiki/ISO_8601`,
    );
  }
  const now = (policy.now ?? (() => new Date()))();
  const skew = policy.maxSkewMs ?? DEFAULT_SKEW_MS;
  const minutes = Math.round(skew / 60_000);
  if (signedAt.getTime() < now.getTime() - skew) {
    return refuse(
      'InvalidSignatureException',
      `Signature expired: ${amzDate} is now earlier than ${amzTime(new Date(now.getTime() - skew))} (${amzTime(now)} - ${minutes} min.)`,
    );
  }
  if (signedAt.getTime() > now.getTime() + skew) {
    return refuse(
      'InvalidSignatureException',
      `Signature not yet current: ${amzDate} is still later than ${amzTime(new Date(now.getTime() + skew))} (${amzTime(now)} + ${minutes} min.)`,
    );
  }
  if (auth.scopeDate !== amzDate.slice(0, 8)) {
    return refuse(
      'InvalidSignatureException',
      `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${auth.scopeDate.slice(0, 16)}' != '${amzDate.slice(0, 8)}', from '${amzDate}'.`,
    );
  }
  if (auth.region !== policy.region) {
    return refuse('InvalidSignatureException', 'Credential should be scoped to a valid region.');
  }
  if (auth.service !== policy.service) {
    return refuse(
      'InvalidSignatureException',
      `Credential should be scoped to correct service: '${policy.service}'.`,
    );
  }
  if (auth.terminator !== 'aws4_request') {
    return refuse(
      'InvalidSignatureException',
      `Credential should be scoped with a valid terminator: 'aws4_request', not '${auth.terminator.slice(0, 32)}'.`,
    );
  }
  if (!auth.signedHeaders.includes('host')) {
    return refuse(
      'InvalidSignatureException',
      "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.",
    );
  }
  const bodyHash = createHash('sha256').update(request.body).digest('hex');
  const claimedHash = headers.get('x-amz-content-sha256');
  if (claimedHash !== undefined && claimedHash !== bodyHash) {
    return refuse('InvalidSignatureException', MISMATCH);
  }
  const q = request.target.indexOf('?');
  const path = q < 0 ? request.target : request.target.slice(0, q);
  const query = parseQuery(q < 0 ? '' : request.target.slice(q + 1));
  if (query === undefined || !path.startsWith('/')) {
    return refuse('InvalidSignatureException', MISMATCH);
  }
  // Only the headers the client signed, so the re-signed request has its exact header set.
  const signed: Record<string, string> = {};
  for (const name of auth.signedHeaders) {
    const value = headers.get(name);
    if (value === undefined) return refuse('InvalidSignatureException', MISMATCH);
    if (name !== 'authorization') {
      Object.defineProperty(signed, name, { value, enumerable: true, writable: true });
    }
  }
  const signer = signerFor(policy);
  let expected: string | undefined;
  try {
    const resigned = await signer.sign(
      {
        method: request.method,
        protocol: 'http:',
        hostname: 'localhost',
        path,
        query,
        headers: signed,
        body: request.body,
      },
      { signingDate: signedAt, signableHeaders: new Set(auth.signedHeaders) },
    );
    expected = resigned.headers.authorization;
  } catch {
    return refuse('InvalidSignatureException', MISMATCH);
  }
  const m = /SignedHeaders=([^,]*), Signature=([0-9a-f]+)$/.exec(expected ?? '');
  if (!m || m[1] !== auth.signedHeaderList || !sameSecret(m[2] ?? '', auth.signature)) {
    return refuse('InvalidSignatureException', MISMATCH);
  }
  return undefined;
}
