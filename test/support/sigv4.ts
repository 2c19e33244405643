import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { request } from 'node:http';
import { SignatureV4, type SignatureV4CryptoInit } from '@smithy/signature-v4';
import { LOCAL_REGION } from '../../local/lambda-types';

/** A key pair to sign with. */
export interface Keys {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

type SourceData = string | ArrayBuffer | ArrayBufferView;
const bytes = (d: SourceData) =>
  typeof d === 'string'
    ? Buffer.from(d)
    : ArrayBuffer.isView(d)
      ? Buffer.from(d.buffer, d.byteOffset, d.byteLength)
      : Buffer.from(d);

class Sha256 {
  private readonly h: Hash | Hmac;
  public constructor(secret?: SourceData) {
    this.h = secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(secret));
  }
  public update(d: SourceData): void {
    this.h.update(bytes(d));
  }
  public digest(): Promise<Uint8Array> {
    return Promise.resolve(new Uint8Array(this.h.digest()));
  }
}
const sha256: SignatureV4CryptoInit['sha256'] = Sha256;

/** A request to sign: the path as it goes on the wire (already percent-encoded). */
export interface ToSign {
  readonly method: string;
  readonly host: string;
  readonly path: string;
  readonly query?: Record<string, string>;
  readonly headers?: Record<string, string>;
  readonly body?: Buffer;
}

/** Signs a request the way the SDK does (service execute-api unless told otherwise). */
export async function sign(
  req: ToSign,
  keys: Keys,
  options: { date?: Date; region?: string; service?: string } = {},
): Promise<Record<string, string>> {
  const signer = new SignatureV4({
    credentials: keys,
    region: options.region ?? LOCAL_REGION,
    service: options.service ?? 'execute-api',
    sha256,
  });
  const signed = await signer.sign(
    {
      method: req.method,
      protocol: 'http:',
      hostname: req.host.split(':')[0] ?? req.host,
      path: req.path,
      query: req.query ?? {},
      headers: { host: req.host, ...req.headers },
      body: req.body,
    },
    { signingDate: options.date ?? new Date() },
  );
  return signed.headers;
}

/** What a raw HTTP request got back. */
export interface RawAnswer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

/** Sends exactly these headers and body over node:http (fetch would add or drop headers). */
export function send(
  url: string,
  method: string,
  headers: Record<string, string>,
  body?: Buffer,
): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const r = request(url, { method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString(),
        }),
      );
      res.on('error', reject);
    });
    r.on('error', reject);
    r.end(body);
  });
}
