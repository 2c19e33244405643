import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { startLocalRuntime } from '../local/runtime';
import { signToken } from '../src/auth/token';
import { launchChromium } from './console-browser';

/**
 * `npm run console:screenshot`: starts a local runtime, opens the console in headless chromium,
 * signs in, runs `download 12345` to its result (and the chained logic report), pushes a message
 * and saves docs/console.png (shown in README.md).
 */
const OUT = path.resolve(__dirname, '..', 'docs', 'console.png');

async function main(): Promise<void> {
  const secret = randomBytes(32).toString('hex');
  const token = await signToken(
    { sub: 'dev', roles: ['client', 'worker', 'admin'], groups: ['*'], ttlSeconds: 600 },
    secret,
  );
  const runtime = await startLocalRuntime({ authSecret: secret, consoleToken: token });
  const browser = await launchChromium();
  try {
    const page = await browser.newPage({ viewport: { width: 1360, height: 820 } });
    await page.goto(runtime.consoleUrl);
    await page.waitForSelector('body[data-ready="true"]');
    await page.click('#signin');
    await page.waitForSelector('#state[data-state="open"]');
    await page.fill('#command', 'download 12345');
    await page.press('#command', 'Enter');
    await page.waitForSelector('li.task[data-status="succeeded"] strong:text-is("logic")', {
      timeout: 30_000,
    });
    for (const data of ['deploy finished on ops-7', { alert: 'disk 91%', host: 'box-3' }]) {
      await fetch(`${runtime.httpUrl}/users/dev/messages`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ data, from: 'ops' }),
      });
    }
    await page.waitForSelector('#messages li.message:nth-child(2)');
    await page.waitForSelector('#presence li[data-user="dev"]', { timeout: 10_000 });
    await page.screenshot({ path: OUT, fullPage: true });
    process.stdout.write(`wrote ${path.relative(process.cwd(), OUT)}\n`);
  } finally {
    await browser.close();
    await runtime.stop();
  }
}

main().catch((e: unknown) => {
  process.stderr.write(
    `console:screenshot: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`,
  );
  process.exit(1);
});
