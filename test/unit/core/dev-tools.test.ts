/**
 * The commands the docs and `npm start` print work on a fresh `npm ci`, offline, and without a
 * prompt: `npx wscat` comes from the pinned devDependency, never from the registry.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '../../..');
const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
  devDependencies?: Record<string, string>;
};

describe('npx wscat', () => {
  it('is a pinned devDependency', () => {
    expect(pkg.devDependencies?.wscat).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('runs with --no-install (nothing fetched, no prompt) and is the pinned version', () => {
    const out = execFileSync('npx', ['--no-install', 'wscat', '--version'], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 20_000,
      // Offline and non-interactive, as in CI: a missing package fails instead of downloading.
      env: { ...process.env, npm_config_offline: 'true', npm_config_yes: 'false' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    expect(out.trim()).toBe(pkg.devDependencies?.wscat);
  });
});
