import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sha256Hex } from '../../../src/artifacts/artifact-ref';
import {
  LocalArtifactStore,
  verifyArtifactLink,
} from '../../../src/adapters/local-files/artifact-store';
import { AppError } from '../../../src/errors/app-error';
import { ManualClock } from '../../unit/core/fakes';

const SECRET = 'link-secret';
const NOW = new Date('2030-01-01T00:00:00Z');
const body = new TextEncoder().encode('a,b\n1,2\n');

let root: string;
let clock: ManualClock;
let store: LocalArtifactStore;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'taskwire-artifacts-'));
  clock = new ManualClock(NOW);
  store = new LocalArtifactStore({
    root,
    baseUrl: 'http://127.0.0.1:3000/',
    secret: SECRET,
    clock,
  });
});
afterEach(() => rm(root, { recursive: true, force: true }));

/** The pieces of a link as the HTTP route reads them. */
function parts(link: string) {
  const url = new URL(link);
  return {
    key: url.pathname.replace(/^\/artifacts\//, ''),
    expires: url.searchParams.get('expires') ?? '',
    sig: url.searchParams.get('sig') ?? '',
  };
}

const codeOf = (fn: () => Promise<unknown>) =>
  fn().then(
    () => 'resolved',
    (e: unknown) => (e instanceof AppError ? e.code : String(e)),
  );

describe('LocalArtifactStore', () => {
  it('puts and gets bytes, computing size and sha256', async () => {
    const ref = await store.put({
      key: 'downloads/t1/DS1',
      name: 'DS1',
      body,
      contentType: 'text/csv',
    });
    expect(ref).toEqual({
      key: 'downloads/t1/DS1',
      name: 'DS1',
      size: body.byteLength,
      sha256: sha256Hex(body),
      contentType: 'text/csv',
    });
    await expect(store.get('downloads/t1/DS1')).resolves.toEqual(body);
  });

  it('replaces a key atomically and leaves no temp files', async () => {
    await store.put({ key: 'k/a', name: 'a', body });
    await store.put({ key: 'k/a', name: 'a', body: new Uint8Array([1, 2, 3]) });
    await expect(store.get('k/a')).resolves.toEqual(new Uint8Array([1, 2, 3]));
    await expect(readdir(join(root, 'k'))).resolves.toEqual(['a']);
  });

  it('answers not_found for a missing key or a folder', async () => {
    await store.put({ key: 'dir/file', name: 'f', body });
    expect(await codeOf(() => store.get('nope'))).toBe('not_found');
    expect(await codeOf(() => store.get('dir'))).toBe('not_found');
    expect(await codeOf(() => store.get('dir/file/deeper'))).toBe('not_found');
  });

  it.each(['../x', 'a/../../x', '/etc/passwd', 'a//b', '.', 'a b', 'x'.repeat(513), ''])(
    'refuses key %j with bad_request',
    async (key) => {
      expect(await codeOf(() => store.put({ key, name: 'n', body }))).toBe('bad_request');
      expect(await codeOf(() => store.get(key))).toBe('bad_request');
      expect(await codeOf(() => store.link(key, 60))).toBe('bad_request');
    },
  );

  it('signs links that verify until they expire', async () => {
    const link = await store.link('downloads/t1/DS1', 300);
    expect(link).toMatch(
      /^http:\/\/127\.0\.0\.1:3000\/artifacts\/downloads\/t1\/DS1\?expires=\d+&sig=[0-9a-f]{64}$/,
    );
    const { key, expires, sig } = parts(link);
    expect(Number(expires)).toBe(NOW.getTime() / 1000 + 300);
    expect(verifyArtifactLink(key, expires, sig, SECRET, NOW)).toBe(true);
    expect(verifyArtifactLink(key, expires, sig, SECRET, new Date(NOW.getTime() + 299_000))).toBe(
      true,
    );
    expect(verifyArtifactLink(key, expires, sig, SECRET, new Date(NOW.getTime() + 300_000))).toBe(
      false,
    );
  });

  it('rejects tampered links', async () => {
    const { key, expires, sig } = parts(await store.link('downloads/t1/DS1', 300));
    const flipped = `${sig.slice(0, -1)}${sig.endsWith('0') ? '1' : '0'}`;
    expect(verifyArtifactLink(key, expires, flipped, SECRET, NOW)).toBe(false);
    expect(verifyArtifactLink('downloads/t1/DS2', expires, sig, SECRET, NOW)).toBe(false);
    expect(verifyArtifactLink(key, String(Number(expires) + 3600), sig, SECRET, NOW)).toBe(false);
    expect(verifyArtifactLink(key, expires, sig, 'another-secret', NOW)).toBe(false);
    expect(verifyArtifactLink(key, `${expires}x`, sig, SECRET, NOW)).toBe(false);
    expect(verifyArtifactLink(key, expires, sig.toUpperCase(), SECRET, NOW)).toBe(false);
    expect(verifyArtifactLink('../x', expires, sig, SECRET, NOW)).toBe(false);
  });

  it('refuses a ttl that is not a positive whole number', async () => {
    expect(await codeOf(() => store.link('k', 0))).toBe('bad_request');
    expect(await codeOf(() => store.link('k', 1.5))).toBe('bad_request');
  });

  it('refuses an empty secret', () => {
    expect(() => new LocalArtifactStore({ root, baseUrl: 'http://x', secret: '' })).toThrow();
  });
});
