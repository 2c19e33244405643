/**
 * The project stands alone: a clone with nothing beside it installs, tests and runs. The
 * contract folder that sits next to the repository in development (`shared/`, one level up)
 * must never be read by code, tests, scripts or CI; what the tests need from it is copied into
 * test/fixtures/.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '../../..');

/** Generated or installed folders: not the project's own files. */
const SKIP_DIRS = new Set(['node_modules', '.git', 'cdk.out', 'coverage', '.bench']);
/** Files that can read a path: code, configuration, scripts. Prose (Markdown) may mention one. */
const CODE_FILE = /\.(?:[cm]?[jt]s|json|sh|ya?ml)$/;

function projectFiles(dir: string, out: string[] = []): string[] {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (!SKIP_DIRS.has(entry.name)) projectFiles(full, out);
    } else if (entry.isFile() && (CODE_FILE.test(entry.name) || dir.endsWith(`${path.sep}.ci`))) {
      out.push(full);
    }
  }
  return out;
}

const inside = (root: string, target: string): boolean => {
  const rel = path.relative(root, target);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
};

/**
 * References in `text` (of the file `file`) to a `shared` folder above the file that is not a
 * folder inside `root`: a relative path of one or more parent steps then `shared`, or a
 * path.join of parent steps and `shared`. From test/unit/core/fixtures/x/, one step up then
 * `shared` names test/unit/core/fixtures/shared/, a folder of the project, and is fine.
 */
function sharedReadsOutside(file: string, text: string, root: string): string[] {
  const found: string[] = [];
  const check = (ups: number, raw: string) => {
    const target = path.resolve(path.dirname(file), '../'.repeat(ups), 'shared');
    const fine = inside(root, target) && existsSync(target) && statSync(target).isDirectory();
    if (!fine) found.push(raw);
  };
  for (const m of text.matchAll(/((?:\.\.[\\/])+)shared\b/g)) {
    check((m[1] ?? '').length / 3, m[0]);
  }
  for (const m of text.matchAll(/((?:['"`]\.\.['"`]\s*,\s*)+)['"`]shared['"`]/g)) {
    check((m[1] ?? '').split('..').length - 1, m[0]);
  }
  return found;
}

describe('the project stands alone', () => {
  // Samples are assembled at run time, so this file's own text holds no reference to find.
  const up = '../';
  const q = (s: string) => `'${s}'`;
  const sample = (rel: string) => path.join(ROOT, rel);

  it.each([
    [
      'a test reading the contract folder',
      'test/unit/wecom/x.ts',
      `'${up.repeat(4)}shared/v.json'`,
    ],
    [
      'a script reading it from the root',
      'scripts/x.ts',
      `readFileSync('${up}shared/PROTOCOL.md')`,
    ],
    [
      'a path.join to it',
      'test/x.ts',
      `join(__dirname, ${[q('..'), q('..'), q('shared')].join(', ')})`,
    ],
    ['a CI step', '.ci/run', `cat ${up.repeat(2)}shared/hooks/before-stop`],
  ])('the check finds %s', (_what, file, text) => {
    expect(sharedReadsOutside(sample(file), text, ROOT)).toHaveLength(1);
  });

  it.each([
    [
      'an import of a shared folder inside the project',
      'test/unit/core/fixtures/x/y.ts',
      `from '${up}shared/thing'`,
    ],
    ['a word that only ends in shared', 'src/x.ts', `'${up}overshared'`],
  ])('the check allows %s', (_what, file, text) => {
    expect(sharedReadsOutside(sample(file), text, ROOT)).toEqual([]);
  });

  it('no file in the project reads the shared folder beside it', () => {
    const files = projectFiles(ROOT);
    expect(files.length).toBeGreaterThan(50);
    const offenders = files.flatMap((file) =>
      sharedReadsOutside(file, readFileSync(file, 'utf8'), ROOT).map(
        (ref) => `${path.relative(ROOT, file)}: ${ref}`,
      ),
    );
    expect(offenders).toEqual([]);
  });

  it('reads the WeCom vectors from its own fixture', () => {
    const fixture = path.join(ROOT, 'test/fixtures/wecom-vectors.json');
    const vectors = JSON.parse(readFileSync(fixture, 'utf8')) as { source?: unknown }[];
    expect(vectors.length).toBeGreaterThan(10);
    // Every vector keeps the public source it was taken from.
    for (const v of vectors) expect(typeof v.source).toBe('string');
    expect(readFileSync(path.join(ROOT, 'test/fixtures/README.md'), 'utf8')).toMatch(/source/);
  });
});
