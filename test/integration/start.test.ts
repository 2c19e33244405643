import { killSpawned, spawnLocalMain } from '../support/processes';
import { TestClient } from '../support/ws-client';

/** `npm start`'s command (node --import tsx local/main.ts), on free ports. */
describe('npm start', () => {
  // A failed test leaves no runtime behind.
  afterEach(killSpawned);

  it('prints the URLs, a dev token and a ready line, serves, and stops cleanly on SIGINT', async () => {
    // Prepare
    const child = spawnLocalMain({
      ...process.env,
      TASKWIRE_WS_PORT: '0',
      TASKWIRE_HTTP_PORT: '0',
    });

    // Act
    const ready = await child.waitForOutput(/ready: ws=(\S+) http=(\S+)/);
    const [, wsUrl = '', httpUrl = ''] = ready;
    const token = /TOKEN=(\S+)/.exec(child.output())?.[1] ?? '';

    // Assess
    expect(child.output()).toContain('npx wscat -c');
    expect((await fetch(`${httpUrl}/healthz`)).status).toBe(200);
    const client = await TestClient.connect(wsUrl, token);
    expect(await client.request({ action: 'register', clientType: 'viewer' })).toMatchObject({
      type: 'registered',
      userId: 'dev',
    });
    await client.close();
    child.process.kill('SIGINT');
    expect(await child.exitWithin()).toBe(0);
    // Everything it printed before exiting, read to the end.
    await child.closed;
    expect(child.output()).toContain('stopped');
  }, 180_000);

  it('says so and exits 1 when its gateway process dies', async () => {
    // Prepare
    const child = spawnLocalMain({
      ...process.env,
      TASKWIRE_WS_PORT: '0',
      TASKWIRE_HTTP_PORT: '0',
    });
    await child.waitForOutput(/ready: ws=/);
    const gatewayPid = Number(/gateway process (\d+)/.exec(child.output())?.[1]);
    expect(gatewayPid).toBeGreaterThan(0);

    // Act
    process.kill(gatewayPid, 'SIGKILL');

    // Assess
    expect(await child.exitWithin()).toBe(1);
    await child.closed;
    expect(child.stderr()).toContain(
      'taskwire: the WebSocket gateway process ended (killed by SIGKILL); stopping (restart npm start)',
    );
    expect(child.output()).toContain('stopped');
  }, 180_000);
});
