import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { authSecret } from '../../../lambdas/config/auth-secret';
import { verifySigV4 } from '../../../local/sigv4-verify';
import {
  SecretReadError,
  secretsManagerEndpoint,
  secretsManagerReader,
} from '../../../src/adapters/secrets-manager/secret-reader';

/**
 * The Secrets Manager reader against a stand-in service on 127.0.0.1: what it sends (an AWS
 * JSON 1.1 GetSecretValue with a SigV4 signature the local verifier accepts), what it answers,
 * how it caches, and how it fails.
 */

const KEYS = { accessKeyId: 'AKIDSECRETS', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCY' };
const REGION = 'eu-west-1';
const ARN = 'arn:aws:secretsmanager:eu-west-1:000000000000:secret:taskwire-auth-AbCdEf';

/** One request as the stand-in service saw it. */
interface Seen {
  readonly method: string;
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly body: string;
  /** The local SigV4 verifier's refusal, or undefined when the signature holds. */
  readonly refusal: Awaited<ReturnType<typeof verifySigV4>>;
}

/** An answer of the stand-in: status and JSON body. */
type Answer = readonly [number, unknown];

/** A stand-in Secrets Manager that answers from a script (the last answer repeats). */
async function standIn(answers: readonly Answer[]) {
  const seen: Seen[] = [];
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        const body = Buffer.concat(chunks);
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(req.headers)) {
          if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(',') : v;
        }
        const refusal = await verifySigV4(
          { method: req.method ?? '', target: req.url ?? '/', headers, body },
          { credentials: KEYS, region: REGION, service: 'secretsmanager' },
        );
        seen.push({
          method: req.method ?? '',
          url: req.url ?? '',
          headers,
          body: body.toString(),
          refusal,
        });
        const [status, json] = answers[Math.min(seen.length, answers.length) - 1] ?? [500, {}];
        res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
        res.end(JSON.stringify(json));
      })();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    seen,
    endpoint: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const found = (value: string): Answer => [200, { ARN, Name: 'taskwire-auth', SecretString: value }];
const noWait = async () => {};

describe('Secrets Manager reader', () => {
  const servers: { close: () => Promise<void> }[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });
  const start = async (answers: readonly Answer[]) => {
    const s = await standIn(answers);
    servers.push(s);
    return s;
  };

  it('sends a SigV4-signed GetSecretValue and answers the SecretString', async () => {
    // Prepare
    const service = await start([found('s3cr3t-value')]);
    const read = secretsManagerReader({
      region: REGION,
      endpoint: service.endpoint,
      credentials: { ...KEYS, sessionToken: 'session-token' },
      maxAgeSeconds: 300,
    });

    // Act
    const value = await read(ARN);

    // Assess
    expect(value).toBe('s3cr3t-value');
    expect(service.seen).toHaveLength(1);
    const [request] = service.seen;
    expect(request?.refusal).toBeUndefined();
    expect(request).toMatchObject({
      method: 'POST',
      url: '/',
      body: JSON.stringify({ SecretId: ARN }),
      headers: expect.objectContaining({
        'content-type': 'application/x-amz-json-1.1',
        'x-amz-target': 'secretsmanager.GetSecretValue',
        'x-amz-security-token': 'session-token',
      }),
    });
    expect(request?.headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDSECRETS\/\d{8}\/eu-west-1\/secretsmanager\/aws4_request, /,
    );
  });

  it('reuses a value for maxAgeSeconds, then reads the secret again', async () => {
    // Prepare
    const service = await start([found('first'), found('rotated')]);
    let now = 1_000_000;
    const read = secretsManagerReader({
      region: REGION,
      endpoint: service.endpoint,
      credentials: KEYS,
      maxAgeSeconds: 300,
      now: () => now,
    });

    // Act
    const [a, b] = await Promise.all([read(ARN), read(ARN)]);
    now += 299_000;
    const c = await read(ARN);
    now += 2_000;
    const d = await read(ARN);

    // Assess: concurrent reads share a request; the rotated value shows after five minutes.
    expect([a, b, c, d]).toEqual(['first', 'first', 'first', 'rotated']);
    expect(service.seen).toHaveLength(2);
  });

  it('fails at once, with the service error type and message, on an error no retry fixes', async () => {
    // Prepare
    const service = await start([
      [
        400,
        {
          __type: 'com.amazonaws.secretsmanager#ResourceNotFoundException',
          message: "Secrets Manager can't find the specified secret.",
        },
      ],
    ]);
    const read = secretsManagerReader({
      region: REGION,
      endpoint: service.endpoint,
      credentials: KEYS,
      maxAgeSeconds: 300,
      sleep: noWait,
    });

    // Act
    const failure = await read(ARN).catch((e: unknown) => e);

    // Assess
    expect(failure).toBeInstanceOf(SecretReadError);
    expect(failure).toMatchObject({
      type: 'ResourceNotFoundException',
      status: 400,
      message: "ResourceNotFoundException: Secrets Manager can't find the specified secret.",
    });
    expect(service.seen).toHaveLength(1);
  });

  it('retries throttling and 5xx answers, up to maxAttempts', async () => {
    // Prepare
    const throttled: Answer = [400, { __type: 'ThrottlingException', message: 'Rate exceeded' }];
    const flaky = await start([throttled, [503, {}], found('after-retries')]);
    const down = await start([[500, { __type: 'InternalServiceError' }]]);
    const options = { region: REGION, credentials: KEYS, maxAgeSeconds: 300, sleep: noWait };

    // Act
    const value = await secretsManagerReader({ ...options, endpoint: flaky.endpoint })(ARN);
    const failure = await secretsManagerReader({ ...options, endpoint: down.endpoint })(ARN).catch(
      (e: unknown) => e,
    );

    // Assess
    expect(value).toBe('after-retries');
    expect(flaky.seen).toHaveLength(3);
    expect(failure).toMatchObject({ type: 'InternalServiceError', status: 500 });
    expect(down.seen).toHaveLength(3);
  });

  it('does not keep a failed read: the next call asks again', async () => {
    // Prepare
    const service = await start([
      [400, { __type: 'AccessDeniedException', message: 'not allowed' }],
      found('granted'),
    ]);
    const read = secretsManagerReader({
      region: REGION,
      endpoint: service.endpoint,
      credentials: KEYS,
      maxAgeSeconds: 300,
    });

    // Act
    const first = await read(ARN).catch((e: unknown) => e);
    const second = await read(ARN);

    // Assess
    expect(first).toMatchObject({ type: 'AccessDeniedException', message: /not allowed/ });
    expect(second).toBe('granted');
  });

  it('refuses a binary secret (no SecretString) with a clear error', async () => {
    // Prepare
    const service = await start([[200, { ARN, SecretBinary: 'AAEC' }]]);
    const read = secretsManagerReader({
      region: REGION,
      endpoint: service.endpoint,
      credentials: KEYS,
      maxAgeSeconds: 300,
    });

    // Act / Assess
    await expect(read(ARN)).rejects.toMatchObject({
      type: 'NoSecretString',
      message: `secret ${ARN} has no SecretString`,
    });
  });

  it('answers NetworkError after maxAttempts when the service cannot be reached', async () => {
    // Prepare: a port that was just free.
    const gone = await standIn([]);
    await gone.close();
    const read = secretsManagerReader({
      region: REGION,
      endpoint: gone.endpoint,
      credentials: KEYS,
      maxAgeSeconds: 300,
      maxAttempts: 2,
      sleep: noWait,
    });

    // Act / Assess
    await expect(read(ARN)).rejects.toMatchObject({
      name: 'SecretReadError',
      type: 'NetworkError',
      message: /^Secrets Manager unreachable: /,
    });
  });

  it('uses the regional endpoint of the aws and aws-cn partitions', () => {
    expect(secretsManagerEndpoint('eu-west-1')).toBe(
      'https://secretsmanager.eu-west-1.amazonaws.com',
    );
    expect(secretsManagerEndpoint('cn-north-1')).toBe(
      'https://secretsmanager.cn-north-1.amazonaws.com.cn',
    );
  });
});

describe('the cloud auth secret (lambdas/config/auth-secret.ts)', () => {
  const saved = { ...process.env };
  afterEach(() => {
    for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
    Object.assign(process.env, saved);
  });

  it('reads AUTH_SECRET_ARN with the environment credentials and endpoint, as the SDK would', async () => {
    // Prepare
    const service = await standIn([found('a-signing-secret-of-at-least-32-chars!!')]);
    Object.assign(process.env, {
      AWS_REGION: REGION,
      AWS_ACCESS_KEY_ID: KEYS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: KEYS.secretAccessKey,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: service.endpoint,
      AUTH_SECRET_ARN: ARN,
    });
    delete process.env.TASKWIRE_AUTH_SECRET;
    delete process.env.AWS_SESSION_TOKEN;
    try {
      // Act
      const secret = await authSecret()();

      // Assess
      expect(secret).toBe('a-signing-secret-of-at-least-32-chars!!');
      expect(service.seen.map((s) => [s.body, s.refusal])).toEqual([
        [JSON.stringify({ SecretId: ARN }), undefined],
      ]);
    } finally {
      await service.close();
    }
  });
});
