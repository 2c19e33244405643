import {
  ApiGatewayManagementApiClient,
  DeleteConnectionCommand,
  GetConnectionCommand,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import { localClientConfig } from '../../../local/clients';
import { startWsGateway, type WsGateway } from '../../../local/ws-gateway';
import { silentLog } from '../../../src/ports/log';
import { send, sign } from '../../support/sigv4';
import { eventually, TestClient } from '../../support/ws-client';

let gw: WsGateway;
let client: TestClient;
let connectionId: string;
const clients: ApiGatewayManagementApiClient[] = [];

/** A real management client; one attempt, so a refusal is seen as it is (no clock-skew retry). */
const managementClient = (credentials = gw.credentials) => {
  const c = new ApiGatewayManagementApiClient({
    ...localClientConfig(gw.managementEndpoint, credentials),
    maxAttempts: 1,
  });
  clients.push(c);
  return c;
};

const path = (id: string) => `/local/@connections/${encodeURIComponent(id)}`;
const host = () => new URL(gw.managementEndpoint).host;
const url = (id: string) => `http://${host()}${path(id)}`;

beforeAll(async () => {
  gw = await startWsGateway({ log: silentLog });
  gw.setRoutes({
    authorizer: async () => ({
      principalId: 'u',
      policyDocument: { Statement: [{ Effect: 'Allow' }] },
    }),
    routes: {
      $connect: async () => ({ statusCode: 200 }),
      $disconnect: async () => ({ statusCode: 200 }),
      $default: async () => ({ statusCode: 200 }),
    },
  });
});
beforeEach(async () => {
  client = await TestClient.connect(gw.url, 't');
  connectionId = (await gw.connectionIds()).at(-1) ?? '';
});
afterEach(async () => {
  await client.close();
});
afterAll(async () => {
  for (const c of clients) c.destroy();
  await gw.close();
});

describe('@connections with the runtime credentials', () => {
  it('posts, reads and deletes a connection with the real ApiGatewayManagementApiClient', async () => {
    // Prepare
    const management = managementClient();
    // Act
    await management.send(
      new PostToConnectionCommand({
        ConnectionId: connectionId,
        Data: Buffer.from('{"type":"hi"}'),
      }),
    );
    const info = await management.send(new GetConnectionCommand({ ConnectionId: connectionId }));
    await management.send(new DeleteConnectionCommand({ ConnectionId: connectionId }));
    // Assess
    expect(await client.waitFor((f) => f.type === 'hi')).toEqual({ type: 'hi' });
    expect(info.ConnectedAt).toBeInstanceOf(Date);
    expect(info.Identity).toMatchObject({ SourceIp: '127.0.0.1' });
    await eventually(async () => !(await gw.connectionIds()).includes(connectionId));
  });

  it('answers 410 GoneException for a connection that is not open', async () => {
    const management = managementClient();
    await expect(
      management.send(
        new PostToConnectionCommand({ ConnectionId: 'nope=', Data: Buffer.from('{}') }),
      ),
    ).rejects.toMatchObject({ name: 'GoneException', $metadata: { httpStatusCode: 410 } });
  });

  it('answers 400 for a signed request whose connection id is not percent-decodable', async () => {
    const headers = await sign(
      { method: 'GET', host: host(), path: '/local/@connections/%E0%A4%A' },
      gw.credentials,
    );
    const answer = await send(`http://${host()}/local/@connections/%E0%A4%A`, 'GET', headers);
    expect(answer.status).toBe(400);
    expect(answer.headers['x-amzn-errortype']).toBe('BadRequestException');
  });
});

describe('@connections refuses', () => {
  const refused = async (
    status: number,
    type: string,
    answer: { status: number; headers: Record<string, unknown>; body: string },
  ) => {
    expect(answer.status).toBe(status);
    expect(answer.headers['x-amzn-errortype']).toBe(type);
    expect(JSON.parse(answer.body)).toMatchObject({ message: expect.any(String) });
    // Nothing reached the client.
    await new Promise((r) => setTimeout(r, 30));
    expect(client.frames).toEqual([]);
  };

  it.each(['POST', 'GET', 'DELETE'])('an unsigned %s with 403', async (method) => {
    const answer = await send(url(connectionId), method, {}, Buffer.from('{"forged":1}'));
    await refused(403, 'MissingAuthenticationTokenException', answer);
    expect(await gw.connectionIds()).toContain(connectionId);
  });

  it('a signature with a wrong secret with 403', async () => {
    const management = managementClient({ ...gw.credentials, secretAccessKey: 'guessed' });
    await expect(
      management.send(
        new PostToConnectionCommand({ ConnectionId: connectionId, Data: Buffer.from('{}') }),
      ),
    ).rejects.toMatchObject({
      name: 'InvalidSignatureException',
      $metadata: { httpStatusCode: 403 },
    });
    await expect(
      managementClient({ ...gw.credentials, secretAccessKey: 'guessed' }).send(
        new DeleteConnectionCommand({ ConnectionId: connectionId }),
      ),
    ).rejects.toMatchObject({ name: 'InvalidSignatureException' });
    expect(await gw.connectionIds()).toContain(connectionId);
  });

  it('an access key it does not know with 403 UnrecognizedClientException', async () => {
    const management = managementClient({ accessKeyId: 'local', secretAccessKey: 'local' });
    await expect(
      management.send(new GetConnectionCommand({ ConnectionId: connectionId })),
    ).rejects.toMatchObject({
      name: 'UnrecognizedClientException',
      $metadata: { httpStatusCode: 403 },
    });
  });

  it('a signature 20 minutes old with 403', async () => {
    const body = Buffer.from('{"late":1}');
    const headers = await sign(
      { method: 'POST', host: host(), path: path(connectionId), body },
      gw.credentials,
      { date: new Date(Date.now() - 20 * 60_000) },
    );
    const answer = await send(url(connectionId), 'POST', headers, body);
    await refused(403, 'InvalidSignatureException', answer);
    expect(JSON.parse(answer.body).message).toMatch(/^Signature expired/);
  });

  it('a tampered body with 403', async () => {
    const body = Buffer.from('{"type":"signed"}');
    const headers = await sign(
      { method: 'POST', host: host(), path: path(connectionId), body },
      gw.credentials,
    );
    const answer = await send(url(connectionId), 'POST', headers, Buffer.from('{"type":"forged"}'));
    await refused(403, 'InvalidSignatureException', answer);
  });

  it('a signature for another connection with 403', async () => {
    const body = Buffer.from('{"type":"signed"}');
    const headers = await sign(
      { method: 'POST', host: host(), path: path('other='), body },
      gw.credentials,
    );
    const answer = await send(url(connectionId), 'POST', headers, body);
    await refused(403, 'InvalidSignatureException', answer);
  });
});
