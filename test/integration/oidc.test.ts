/**
 * A team's own identity provider through the whole local runtime: a local OpenID Connect issuer
 * (keys made here, JWKS and discovery on 127.0.0.1) is trusted beside the HS256 secret. Its good
 * tokens open a WebSocket (real `ws` client) and pass the HTTP admin check; each bad one is
 * refused with 401 and writes nothing: no connection record, no message.
 */
import { SignJWT, UnsecuredJWT } from 'jose';
import type { LocalRuntime } from '../../local/runtime';
import { LOCAL_TABLES } from '../../local/tables';
import { parseOidcSettings } from '../../src/auth/oidc-settings';
import { OIDC_CLOCK_TOLERANCE_SECONDS } from '../../src/auth/oidc';
import { startTestIssuer, type TestIssuer } from '../support/oidc-issuer';
import { killSpawned, spawnLocalMain } from '../support/processes';
import { startTestRuntime, tokenFor } from '../support/runtime';
import { allConnectionItems, scanTable } from '../support/table';
import { eventually, TestClient } from '../support/ws-client';

let issuer: TestIssuer;
let rt: LocalRuntime;
const clients: TestClient[] = [];

beforeAll(async () => {
  issuer = await startTestIssuer();
  // No jwksUrl: the runtime discovers it from the issuer, as a deployment would.
  rt = await startTestRuntime({
    workers: false,
    connectionSweepMs: 0,
    oidc: parseOidcSettings({ issuer: issuer.issuer, audience: issuer.audience }, 'test'),
  });
});
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  // $disconnect removes records after the close: wait, so each test starts from an empty table.
  await eventually(async () => (await allConnectionItems(rt.dynamoEndpoint)).length === 0);
});
afterAll(async () => {
  await rt.stop();
  await issuer.close();
});

const connect = async (token: string) => {
  const client = await TestClient.connect(rt.wsUrl, token);
  clients.push(client);
  return client;
};

const adminCall = (token: string, user = 'nobody') =>
  fetch(`${rt.httpUrl}/users/${user}/messages`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ data: 'from the admin' }),
  });

const nowS = () => Math.floor(Date.now() / 1000);

/** Every bad token the issue lists, and a few more, with the reason it is refused. */
const BAD_TOKENS: [string, () => Promise<string>][] = [
  ['a wrong issuer', () => issuer.token({ claims: { iss: 'https://evil.example.com' } })],
  ['a wrong audience', () => issuer.token({ claims: { aud: 'another-app' } })],
  ['an unknown kid', () => issuer.token({ kid: 'not-in-the-jwks' })],
  ['a key the issuer does not publish', () => issuer.token({ foreignKey: true })],
  [
    'alg none',
    async () =>
      new UnsecuredJWT({
        iss: issuer.issuer,
        aud: issuer.audience,
        sub: 'mallory',
        roles: ['admin'],
        exp: nowS() + 300,
      }).encode(),
  ],
  [
    'HS256 signed with the issuer’s public key',
    () =>
      new SignJWT({
        iss: issuer.issuer,
        aud: issuer.audience,
        sub: 'mallory',
        roles: ['admin'],
        exp: nowS() + 300,
      })
        .setProtectedHeader({ alg: 'HS256', kid: 'rsa-1' })
        .sign(new TextEncoder().encode(issuer.publicKeyPem)),
  ],
  [
    'an expired token',
    () =>
      issuer.token({
        claims: { roles: ['admin'], exp: nowS() - OIDC_CLOCK_TOLERANCE_SECONDS - 60 },
      }),
  ],
  ['an unknown role', () => issuer.token({ claims: { roles: ['superuser'] } })],
];

describe('WebSocket connect with OIDC tokens', () => {
  it.each(['RS256', 'ES256'] as const)(
    'accepts a good %s token with its roles and groups',
    async (alg) => {
      // Prepare
      const token = await issuer.token({
        alg,
        claims: { sub: `oidc-${alg}`, roles: ['client', 'worker'], groups: ['ops'] },
      });
      // Act
      const client = await connect(token);
      const reply = await client.request({
        action: 'register',
        clientType: 'viewer',
        groups: ['ops'],
      });
      // Assess
      expect(reply).toMatchObject({ type: 'registered', userId: `oidc-${alg}`, groups: ['ops'] });
      expect(await rt.store.listUser(`oidc-${alg}`)).toHaveLength(1);
    },
  );

  it('treats a token without a roles claim as a client', async () => {
    // Prepare
    const token = await issuer.token({ claims: { sub: 'plain-user' } });
    // Act
    await (await connect(token)).request({ action: 'ping' });
    // Assess: the roles the connection record keeps for every later frame's checks.
    const records = await allConnectionItems(rt.dynamoEndpoint);
    expect(records.filter((r) => r.userId === 'plain-user')).toEqual([
      expect.objectContaining({ roles: [{ S: 'client' }], allowedGroups: [] }),
    ]);
  });

  it('still accepts the deployment’s HS256 tokens', async () => {
    // Prepare
    const token = await tokenFor({ sub: 'service' });
    // Act
    const client = await connect(token);
    // Assess
    expect(await client.request({ action: 'ping' })).toMatchObject({ type: 'pong' });
  });

  it.each(BAD_TOKENS)('refuses %s with 401 and writes nothing', async (_what, make) => {
    // Prepare
    const token = await make();
    const before = await allConnectionItems(rt.dynamoEndpoint);
    // Act
    const attempt = TestClient.connect(rt.wsUrl, token);
    // Assess
    await expect(attempt).rejects.toMatchObject({ status: 401 });
    expect(await allConnectionItems(rt.dynamoEndpoint)).toEqual(before);
  });
});

describe('HTTP admin routes with OIDC tokens', () => {
  it('accepts a good token with the admin role', async () => {
    // Prepare
    const token = await issuer.token({
      alg: 'ES256',
      claims: { sub: 'ops-lead', roles: ['admin'] },
    });
    // Act
    const res = await fetch(`${rt.httpUrl}/stats`, {
      headers: { authorization: `Bearer ${token}` },
    });
    // Assess
    expect(res.status).toBe(200);
  });

  it('refuses a good token without the admin role with 403', async () => {
    // Prepare
    const token = await issuer.token({ claims: { roles: ['worker'] } });
    // Act
    const res = await adminCall(token);
    // Assess
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({ error: { code: 'forbidden' } });
  });

  it.each(BAD_TOKENS)('refuses %s with 401 and writes nothing', async (_what, make) => {
    // Prepare: a connected user the refused push would have reached.
    const target = await connect(await issuer.token({ claims: { sub: 'target' } }));
    await target.request({ action: 'ping' });
    const before = await scanTable(rt.dynamoEndpoint, LOCAL_TABLES.messages);
    // Act
    const res = await adminCall(await make(), 'target');
    // Assess
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ error: { code: 'unauthorized' } });
    expect(await scanTable(rt.dynamoEndpoint, LOCAL_TABLES.messages)).toEqual(before);
    await target.request({ action: 'ping' });
    expect(target.ofType('message')).toEqual([]);
  });
});

/**
 * Runs `npm start`'s command with `env` on free ports until its ready line; `ready` is undefined
 * when it exited first (its output then read to the end).
 */
async function startMain(env: NodeJS.ProcessEnv) {
  const main = spawnLocalMain({ ...env, TASKWIRE_WS_PORT: '0', TASKWIRE_HTTP_PORT: '0' });
  const ready = await main.waitForOutput(/ready: ws=(\S+)/).then(
    (m) => m[1],
    (e: unknown) => {
      if (main.running()) throw e;
      return undefined;
    },
  );
  return {
    child: main.process,
    ready,
    exited: main.exited,
    // The exit code, once what it printed is read to the end.
    exitWithin: async () => {
      const code = await main.exitWithin();
      await main.closed;
      return code;
    },
    output: () => ({ stdout: main.stdout(), stderr: main.stderr() }),
  };
}

describe('npm start with TASKWIRE_OIDC', () => {
  // The SDK's switch is removed from the environment (the test set-up sets it): npm start must
  // keep the warning away by itself.
  const { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: _unset, ...baseEnv } = process.env;
  // A failed test leaves no runtime behind.
  afterEach(killSpawned);

  it('trusts the issuer and prints no SDK Node-version warning', async () => {
    // Prepare
    const settings = { issuer: issuer.issuer, audience: issuer.audience, jwksUrl: issuer.jwksUrl };
    const main = await startMain({ ...baseEnv, TASKWIRE_OIDC: JSON.stringify(settings) });
    try {
      // Act
      const client = await TestClient.connect(main.ready ?? '', await issuer.token());
      const reply = await client.request({ action: 'register', clientType: 'viewer' });
      await client.close();
      // Assess
      expect(reply).toMatchObject({ type: 'registered', userId: 'oidc-user' });
      expect(main.output().stdout).toContain(`OIDC issuer     ${issuer.issuer}`);
    } finally {
      main.child.kill('SIGINT');
      expect(await main.exitWithin()).toBe(0);
    }
    expect(main.output().stderr).not.toMatch(/NodeVersionSupportWarning|AWS SDK for JavaScript/);
  }, 180_000);

  it('refuses to start on malformed settings, naming the field', async () => {
    // Prepare / Act
    const main = await startMain({
      ...baseEnv,
      TASKWIRE_OIDC: JSON.stringify({ issuer: 'http://id.example.com', audience: 'a' }),
    });
    // Assess
    expect(main.ready).toBeUndefined();
    expect(await main.exited).toBe(1);
    expect(main.output().stderr).toMatch(
      /taskwire: failed to start: TASKWIRE_OIDC: issuer: an https/,
    );
  }, 180_000);
});
