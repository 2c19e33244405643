import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createConsoleHandler, securityHeaders } from '../../lambdas/http/console';
import { CONSOLE_ASSETS } from '../../console/generated/assets';
import {
  addMessage,
  applyTaskUpdate,
  linksOf,
  parseCommand,
  type MessageView,
  type TaskView,
} from '../../console/src/model';

const ROOT = path.resolve(__dirname, '..', '..');
const ASSETS = 'console/generated/assets.ts';

describe('console/generated/assets.ts', () => {
  it('is what `npm run console:build` generates', () => {
    // In a child process: esbuild's JS API does not run inside jest's module sandbox.
    const generated = execFileSync(
      process.execPath,
      ['--import', 'tsx', path.join(ROOT, 'scripts/build-console.ts'), '--print'],
      { cwd: ROOT, encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 },
    );
    const committed = readFileSync(path.join(ROOT, ASSETS), 'utf8');
    if (generated !== committed) {
      throw new Error(
        `${ASSETS} is out of date with console/ and client/src: run npm run console:build`,
      );
    }
  }, 60_000);

  it('holds the page, the stylesheet and the script', () => {
    expect(CONSOLE_ASSETS.html).toContain('<script type="module" src="app.js"></script>');
    expect(CONSOLE_ASSETS.css.length).toBeGreaterThan(100);
    expect(CONSOLE_ASSETS.js.length).toBeGreaterThan(1000);
  });
});

describe('console function', () => {
  const handler = createConsoleHandler(() => ({
    wsUrl: 'wss://abc.execute-api.eu-west-1.amazonaws.com/prod',
  }));
  const get = (rawPath: string) => handler({ rawPath });

  it('serves each file with its type and the security headers', async () => {
    for (const [file, type] of [
      ['/console/', 'text/html'],
      ['/console/index.html', 'text/html'],
      ['/console/app.js', 'text/javascript'],
      ['/console/console.css', 'text/css'],
      ['/console/config.json', 'application/json'],
    ] as const) {
      const result = await get(file);
      expect([file, result.statusCode, result.headers['content-type']]).toEqual([
        file,
        200,
        expect.stringContaining(type),
      ]);
      expect(result.headers['content-security-policy']).toBe(
        securityHeaders('wss://abc.execute-api.eu-west-1.amazonaws.com/prod')[
          'content-security-policy'
        ],
      );
      expect(result.headers['x-content-type-options']).toBe('nosniff');
      expect(result.headers['referrer-policy']).toBe('no-referrer');
    }
  });

  it('allows only self and the WebSocket origin', () => {
    const csp = securityHeaders('wss://abc.execute-api.eu-west-1.amazonaws.com/prod')[
      'content-security-policy'
    ];
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self';");
    expect(csp).toContain("connect-src 'self' wss://abc.execute-api.eu-west-1.amazonaws.com;");
    expect(csp).not.toContain('unsafe');
  });

  it('tells the page the WebSocket URL and, in the cloud, no token', async () => {
    const result = await get('/console/config.json');
    expect(JSON.parse(result.body)).toEqual({
      wsUrl: 'wss://abc.execute-api.eu-west-1.amazonaws.com/prod',
    });
    expect(result.headers['cache-control']).toBe('no-store');
    const local = createConsoleHandler(() => ({ wsUrl: 'ws://127.0.0.1:3001', token: 'dev.jwt' }));
    expect(JSON.parse((await local({ rawPath: '/console/config.json' })).body)).toEqual({
      wsUrl: 'ws://127.0.0.1:3001',
      token: 'dev.jwt',
    });
  });

  it('redirects /console to /console/ and answers 404 for anything else', async () => {
    const redirect = await get('/console');
    expect([redirect.statusCode, redirect.headers.location]).toEqual([308, 'console/']);
    expect((await get('/console/../secrets')).statusCode).toBe(404);
    expect((await get('/console/app.js.map')).statusCode).toBe(404);
  });
});

describe('console model', () => {
  it('keys tasks by taskId and never moves a task back from a terminal status', () => {
    const tasks = new Map<string, TaskView>();
    applyTaskUpdate(tasks, {
      taskId: 't1',
      taskType: 'download',
      status: 'running',
      progress: 0.5,
    });
    applyTaskUpdate(tasks, {
      taskId: 't1',
      taskType: 'download',
      status: 'succeeded',
      result: { a: 1 },
    });
    expect(
      applyTaskUpdate(tasks, { taskId: 't1', status: 'running', progress: 0.6 }),
    ).toBeUndefined();
    expect(tasks.size).toBe(1);
    expect(tasks.get('t1')).toMatchObject({ status: 'succeeded', progress: 1, result: { a: 1 } });
  });

  it('adds a message once per frame id', () => {
    const messages = new Map<string, MessageView>();
    expect(addMessage(messages, { id: 'f1', data: 'x', to: { user: 'u' } })).toMatchObject({
      to: 'user u',
    });
    expect(addMessage(messages, { id: 'f1', data: 'x', to: { user: 'u' } })).toBeUndefined();
    expect(messages.size).toBe(1);
  });

  it('reads a command line and finds links in a result', () => {
    expect(parseCommand('  Download   12345 local ')).toEqual({
      taskType: 'download',
      args: ['12345', 'local'],
    });
    expect(parseCommand('   ')).toBeUndefined();
    expect(linksOf({ artifact: { url: 'https://x/a.csv' }, n: 1, s: 'ftp://no' })).toEqual([
      { label: 'artifact.url', href: 'https://x/a.csv' },
    ]);
  });
});
