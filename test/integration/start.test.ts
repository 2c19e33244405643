import { spawn } from 'node:child_process';
import path from 'node:path';
import { TestClient } from '../support/ws-client';

const root = path.resolve(__dirname, '../..');

/** `npm start`'s command (node --import tsx local/main.ts), on free ports. */
describe('npm start', () => {
  it('prints the URLs, a dev token and a ready line, serves, and stops cleanly on SIGINT', async () => {
    // Prepare
    const child = spawn(process.execPath, ['--import', 'tsx', 'local/main.ts'], {
      cwd: root,
      env: { ...process.env, TASKWIRE_WS_PORT: '0', TASKWIRE_HTTP_PORT: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) =>
      child.on('exit', (code) => resolve(code)),
    );

    // Act
    const ready = await new Promise<RegExpExecArray>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ready line:\n${out}`)), 20_000);
      child.stdout.on('data', () => {
        const m = /ready: ws=(\S+) http=(\S+)/.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(m);
        }
      });
    });
    const [, wsUrl = '', httpUrl = ''] = ready;
    const token = /TOKEN=(\S+)/.exec(out)?.[1] ?? '';

    // Assess
    expect(out).toContain('npx wscat -c');
    expect((await fetch(`${httpUrl}/healthz`)).status).toBe(200);
    const client = await TestClient.connect(wsUrl, token);
    expect(await client.request({ action: 'register', clientType: 'viewer' })).toMatchObject({
      type: 'registered',
      userId: 'dev',
    });
    await client.close();
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(out).toContain('stopped');
  });
});
