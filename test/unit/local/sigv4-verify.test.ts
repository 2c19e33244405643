import fc from 'fast-check';
import { LOCAL_REGION } from '../../../local/lambda-types';
import {
  type IncomingSignedRequest,
  type SigV4Policy,
  verifySigV4,
} from '../../../local/sigv4-verify';
import { sign, type ToSign } from '../../support/sigv4';

const keys = { accessKeyId: 'LOCALTESTKEY', secretAccessKey: 'the-runtime-secret-0123456789' };
const now = new Date('2025-03-04T05:06:07Z');
const policy: SigV4Policy = {
  credentials: keys,
  region: LOCAL_REGION,
  service: 'execute-api',
  now: () => now,
};
const post: ToSign = {
  method: 'POST',
  host: '127.0.0.1:4000',
  path: '/local/@connections/abc%3D',
  headers: { 'content-type': 'application/octet-stream' },
  body: Buffer.from('{"type":"message","data":"héllo"}'),
};

/** The request as the server would see it, with the signed headers. */
async function incoming(
  req: ToSign,
  signWith = keys,
  options: Parameters<typeof sign>[2] = {},
): Promise<IncomingSignedRequest & { headers: Record<string, string> }> {
  const headers = await sign(req, signWith, { date: now, ...options });
  // As the SDK's http handler writes a query: every key and value percent-encoded.
  const query = Object.entries(req.query ?? {})
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)
    .join('&');
  return {
    method: req.method,
    target: query ? `${req.path}?${query}` : req.path,
    headers,
    body: req.body ?? Buffer.alloc(0),
  };
}

describe('verifySigV4', () => {
  it('accepts a request signed with the runtime credentials', async () => {
    expect(await verifySigV4(await incoming(post), policy)).toBeUndefined();
  });

  it('accepts a GET with a query and a header it did not sign', async () => {
    // Prepare
    const get = { method: 'GET', host: post.host, path: post.path, query: { a: 'x y', b: '' } };
    const req = await incoming(get);
    // Act
    const refusal = await verifySigV4(
      { ...req, headers: { ...req.headers, 'User-Agent': 'later' } },
      policy,
    );
    // Assess
    expect(refusal).toBeUndefined();
  });

  it('refuses a request without a signature as MissingAuthenticationToken', async () => {
    const req = await incoming(post);
    const { authorization: _a, ...headers } = req.headers;
    expect(await verifySigV4({ ...req, headers }, policy)).toEqual({
      type: 'MissingAuthenticationTokenException',
      message: 'Missing Authentication Token',
    });
  });

  it('refuses a signature made with a wrong secret', async () => {
    const req = await incoming(post, { ...keys, secretAccessKey: 'guessed' });
    expect(await verifySigV4(req, policy)).toMatchObject({
      type: 'InvalidSignatureException',
      message: expect.stringMatching(/^The request signature we calculated does not match/),
    });
  });

  it('refuses an access key it does not know as UnrecognizedClient', async () => {
    const req = await incoming(post, { ...keys, accessKeyId: 'AKIAOTHER' });
    expect(await verifySigV4(req, policy)).toMatchObject({ type: 'UnrecognizedClientException' });
  });

  it.each([
    ['16 minutes old', -16, /^Signature expired: 20250304T045007Z is now earlier than/],
    ['16 minutes ahead', 16, /^Signature not yet current: 20250304T052207Z is still later than/],
  ])('refuses a signature %s', async (_name, minutes, message) => {
    const req = await incoming(post, keys, { date: new Date(now.getTime() + minutes * 60_000) });
    expect(await verifySigV4(req, policy)).toMatchObject({
      type: 'InvalidSignatureException',
      message: expect.stringMatching(message),
    });
  });

  it('accepts a signature 14 minutes old', async () => {
    const req = await incoming(post, keys, { date: new Date(now.getTime() - 14 * 60_000) });
    expect(await verifySigV4(req, policy)).toBeUndefined();
  });

  it.each([
    ['the body', (r: IncomingSignedRequest) => ({ ...r, body: Buffer.from('{"forged":true}') })],
    ['the path', (r: IncomingSignedRequest) => ({ ...r, target: '/local/@connections/other%3D' })],
    ['the method', (r: IncomingSignedRequest) => ({ ...r, method: 'DELETE' })],
    ['the query', (r: IncomingSignedRequest) => ({ ...r, target: `${r.target}?x=1` })],
    [
      'a signed header',
      (r: IncomingSignedRequest) => ({
        ...r,
        headers: { ...r.headers, 'content-type': 'text/plain' },
      }),
    ],
    [
      'the body and its x-amz-content-sha256',
      (r: IncomingSignedRequest) => ({
        ...r,
        body: Buffer.from('x'),
        headers: {
          ...r.headers,
          'x-amz-content-sha256':
            '2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881',
        },
      }),
    ],
  ])('refuses a request whose %s changed after signing', async (_name, tamper) => {
    const signed = await incoming(post);
    expect(await verifySigV4(tamper(signed), policy)).toMatchObject({
      type: 'InvalidSignatureException',
    });
  });

  it('refuses an UNSIGNED-PAYLOAD claim: the body received is what is hashed', async () => {
    const headers = { ...post.headers, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' };
    const req = await incoming({ ...post, headers });
    expect(await verifySigV4(req, policy)).toMatchObject({ type: 'InvalidSignatureException' });
  });

  it.each([
    ['another region', { region: 'eu-west-1' }, /valid region/],
    ['another service', { service: 's3' }, /correct service: 'execute-api'/],
  ])('refuses a signature scoped to %s', async (_name, options, message) => {
    const req = await incoming(post, keys, options);
    expect(await verifySigV4(req, policy)).toMatchObject({
      type: 'InvalidSignatureException',
      message: expect.stringMatching(message),
    });
  });

  it.each([
    ['Bearer abc'],
    ['AWS4-HMAC-SHA256 Credential=LOCALTESTKEY/20250304/us-east-1/execute-api/aws4_request'],
    ['AWS4-HMAC-SHA256 Credential=x, SignedHeaders=host, Signature=00'],
  ])('refuses a malformed Authorization header %s as IncompleteSignature', async (header) => {
    const req = await incoming(post);
    expect(
      await verifySigV4({ ...req, headers: { ...req.headers, authorization: header } }, policy),
    ).toMatchObject({ type: 'IncompleteSignatureException' });
  });

  it('refuses an x-amz-date that is not ISO-8601 basic format', async () => {
    const req = await incoming(post);
    const headers = { ...req.headers, 'x-amz-date': '2025-03-04T05:06:07Z' };
    expect(await verifySigV4({ ...req, headers }, policy)).toMatchObject({
      type: 'IncompleteSignatureException',
    });
  });

  it('refuses every single-byte change of a signed body (property)', async () => {
    const req = await incoming(post);
    const body = Buffer.from(req.body);
    await fc.assert(
      fc.asyncProperty(
        fc.nat({ max: body.length - 1 }),
        fc.integer({ min: 1, max: 255 }),
        async (at, flip) => {
          const changed = Buffer.from(body);
          changed[at] = (changed[at] ?? 0) ^ flip;
          const refusal = await verifySigV4({ ...req, body: changed }, policy);
          return refusal?.type === 'InvalidSignatureException';
        },
      ),
      { seed: 8, numRuns: 200 },
    );
  });

  it('never throws on garbage headers (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.dictionary(
          fc.constantFrom(
            'authorization',
            'x-amz-date',
            'host',
            'x-amz-content-sha256',
            '__proto__',
          ),
          fc.string({ maxLength: 200 }),
        ),
        fc.string({ maxLength: 80 }),
        async (headers, target) => {
          const refusal = await verifySigV4(
            { method: 'POST', target, headers, body: Buffer.alloc(0) },
            policy,
          );
          return refusal !== undefined;
        },
      ),
      { seed: 8, numRuns: 300 },
    );
  });
});
