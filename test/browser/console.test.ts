import { DeleteConnectionCommand } from '@aws-sdk/client-apigatewaymanagementapi';
import type { Browser, Page } from 'playwright-core';
import type { LocalRuntime } from '../../local/runtime';
import { SLOW_DATASET } from '../../local/sample-server';
import { launchChromium } from '../../scripts/console-browser';
import { startTestRuntime, tokenFor } from '../support/runtime';
import { eventually, TestClient } from '../support/ws-client';

/*
 * The console in a real browser (headless chromium through playwright-core) against a local
 * runtime: sign in, run a download to its result, see pushes and presence, survive a connection
 * dropped by the server without losing or doubling a row, and cancel a running task.
 */

jest.setTimeout(120_000);

const USER = 'console-e2e';
let runtime: LocalRuntime;
let browser: Browser;
let page: Page;
let token: string;
const others: TestClient[] = [];

async function push(data: string): Promise<void> {
  const res = await fetch(`${runtime.httpUrl}/users/${USER}/messages`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ data }),
  });
  expect(res.status).toBe(200);
}

/** The data of every message row, in page order. */
async function messageRows(): Promise<{ id: string; data: string }[]> {
  const rows = page.locator('#messages li.message');
  const out: { id: string; data: string }[] = [];
  for (let i = 0, n = await rows.count(); i < n; i++) {
    const row = rows.nth(i);
    out.push({
      id: (await row.getAttribute('data-id')) ?? '',
      data: (await row.locator('.data').textContent()) ?? '',
    });
  }
  return out;
}

const connectionIdOfPage = async () =>
  (await page.locator('body').getAttribute('data-connection-id')) ?? '';

beforeAll(async () => {
  // First: without chromium the suite fails here, naming the binary and how to install it.
  browser = await launchChromium();
  token = await tokenFor({ sub: USER, roles: ['client', 'admin'], groups: ['*'] });
  runtime = await startTestRuntime({ consoleToken: token });
  page = await browser.newPage();
});

afterAll(async () => {
  await Promise.all(others.map((c) => c.close()));
  await page?.close().catch(() => undefined);
  await browser?.close();
  await runtime?.stop();
});

describe('console in a browser', () => {
  it('serves the page with its security headers and no token in any URL', async () => {
    const res = await page.goto(runtime.consoleUrl);
    expect(res?.status()).toBe(200);
    const headers = res?.headers() ?? {};
    const wsOrigin = new URL(runtime.wsUrl).origin.replace(/^http/, 'ws');
    expect(headers['content-security-policy']).toContain(`connect-src 'self' ${wsOrigin}`);
    expect(headers['content-security-policy']).toContain("script-src 'self'");
    expect(headers['x-content-type-options']).toBe('nosniff');
    expect(headers['referrer-policy']).toBe('no-referrer');
    await page.waitForSelector('body[data-ready="true"]');
    // Locally config.json pre-fills the dev (here: the test's) token.
    expect(await page.inputValue('#token')).toBe(token);
    expect(page.url()).not.toContain('token');
  });

  it('signs in and shows the connection open', async () => {
    await page.click('#signin');
    await page.waitForSelector('#state[data-state="open"]');
    expect(await connectionIdOfPage()).not.toBe('');
    expect(await page.locator('#who').textContent()).toContain(USER);
    expect(await page.isVisible('#push-panel')).toBe(true);
  });

  it('runs `download 12345` and shows its progress bar reach the result', async () => {
    await page.fill('#command', 'download 12345');
    await page.press('#command', 'Enter');
    const row = page.locator('li.task', { has: page.locator('strong', { hasText: /^download$/ }) });
    await row.first().waitFor();
    await page.waitForSelector('li.task[data-status="succeeded"] strong:text-is("download")');
    const done = page.locator('li.task[data-status="succeeded"]', {
      has: page.locator('strong', { hasText: /^download$/ }),
    });
    expect(await done.locator('progress').getAttribute('value')).toBe('1');
    expect(await done.locator('pre.result').textContent()).toContain('artifact');
    // The chained logic task ends too, with its report.
    await page.waitForSelector('li.task[data-status="succeeded"] strong:text-is("logic")');
    // Exactly one row per task.
    const ids = await page
      .locator('li.task')
      .evaluateAll((els) => els.map((e) => e.getAttribute('data-task-id')));
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('shows a message pushed over HTTP', async () => {
    await push('hello console');
    await page.waitForSelector('#messages li.message .data:text-is("hello console")');
  });

  it('shows presence change when a second client connects', async () => {
    await page.waitForSelector(`#presence li[data-user="${USER}"]`);
    expect(await page.locator('#presence li[data-user="second-user"]').count()).toBe(0);
    const second = await TestClient.connect(
      runtime.wsUrl,
      await tokenFor({ sub: 'second-user', roles: ['client'] }),
    );
    others.push(second);
    const registered = await second.request({ action: 'register', clientType: 'terminal' });
    expect(registered.type).toBe('registered');
    // The console polls every 3 s: the user appears with its registered clientType.
    const row = page.locator('#presence li[data-user="second-user"]', { hasText: 'terminal' });
    await row.waitFor({ timeout: 15_000 });
    expect(await row.getAttribute('data-connections')).toBe('1');
    await second.close();
    await row.waitFor({ state: 'detached', timeout: 15_000 });
  });

  it('survives a connection dropped by the server: nothing lost, nothing doubled', async () => {
    await push('before-1');
    await push('before-2');
    await page.waitForSelector('#messages li.message .data:text-is("before-2")');
    const first = await connectionIdOfPage();
    // Drop the page's connection from the server side, as API Gateway may.
    await runtime.management.send(new DeleteConnectionCommand({ ConnectionId: first }));
    // While the page is away (its reconnect waits out a backoff): pushed to its user stream.
    await push('while-1');
    await push('while-2');
    await eventually(async () => {
      const id = await connectionIdOfPage();
      return id !== '' && id !== first;
    }, 30_000);
    await page.waitForSelector('#state[data-state="open"]');
    // The page saw the drop and reconnected (its client's `retry` event).
    expect(await page.locator('#events').textContent()).toContain('reconnecting in');
    await push('after-1');
    await page.waitForSelector('#messages li.message .data:text-is("after-1")');
    const rows = await messageRows();
    const sent = ['hello console', 'before-1', 'before-2', 'while-1', 'while-2', 'after-1'];
    // Each message exactly once (by text and by frame id), none missing.
    expect(rows.map((r) => r.data).sort()).toEqual([...sent].sort());
    expect(new Set(rows.map((r) => r.id)).size).toBe(rows.length);
    // The stream was resumed without loss.
    expect(
      await page.getAttribute(`#streams li[data-stream="user:${USER}"]`, 'data-recovered'),
    ).toBe('true');
  });

  it('cancels a running task with its Cancel button', async () => {
    await page.fill('#command', `download ${SLOW_DATASET}`);
    await page.press('#command', 'Enter');
    const running = page.locator('li.task[data-status="running"]', {
      has: page.locator('strong', { hasText: /^download$/ }),
    });
    await running.first().waitFor({ timeout: 20_000 });
    const taskId = (await running.first().getAttribute('data-task-id')) ?? '';
    await running.first().locator('button.cancel').click();
    const row = page.locator(`li.task[data-task-id="${taskId}"]`);
    await page.waitForSelector(`li.task[data-task-id="${taskId}"][data-status="cancelled"]`, {
      timeout: 20_000,
    });
    expect(await row.locator('button.cancel').count()).toBe(0);
    const record = await runtime.tasks.get(taskId);
    expect(record?.status).toBe('cancelled');
  });
});
