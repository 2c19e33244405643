import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { mapLimit } from '../../bench/harness';
import {
  type BuiltBundle,
  bundleFunction,
  bundleGrowthProblems,
  bundleTargets,
  committedBundleBytes,
  GROWTH_TOLERANCE,
} from '../../bench/sections/bundles';

/**
 * The CI gate on Lambda bundle growth: every function is bundled as the stack bundles it
 * (bench/sections/bundles.ts, in memory) and compared with the size committed in
 * bench/results.json by `npm run bench -- bundles`. A bundle more than 10 % over fails, naming
 * the function, both sizes and its largest packages; a deliberate growth is committed by
 * running the bench again.
 */

const ROOT = resolve(__dirname, '../..');
const KB = 1024;

const bundle = (kb: number, top: BuiltBundle['topPackages'] = []) => ({
  bytes: Math.round(kb * KB),
  topPackages: top,
});

describe('bundle growth check (the comparison)', () => {
  const committed = new Map([
    ['wsConnect', 250 * KB],
    ['httpApi', 500 * KB],
  ]);

  it('passes bundles up to 10 % over their committed size, and smaller ones', () => {
    // Act
    const problems = bundleGrowthProblems(
      committed,
      new Map([
        ['wsConnect', bundle(275)],
        ['httpApi', bundle(120)],
      ]),
    );

    // Assess
    expect(GROWTH_TOLERANCE).toBe(0.1);
    expect(problems).toEqual([]);
  });

  it('fails a bundle more than 10 % over, naming it, both sizes and its largest packages', () => {
    // Act: classic zod back in httpApi.
    const problems = bundleGrowthProblems(
      committed,
      new Map([
        ['wsConnect', bundle(250)],
        [
          'httpApi',
          bundle(945.3, [
            { name: 'zod', kb: 445.4 },
            { name: '@smithy/core', kb: 135 },
          ]),
        ],
      ]),
    );

    // Assess
    expect(problems).toEqual([
      'httpApi: 945.3 KB is 89.1 % over the committed 500.0 KB (bench/results.json; at most 10 % ' +
        'allowed). Largest packages: zod 445.4 KB, @smithy/core 135.0 KB. If the growth is ' +
        'meant, run `npm run bench -- bundles` and commit bench/results.json.',
    ]);
  });

  it('fails a function that has no committed size', () => {
    // Act
    const problems = bundleGrowthProblems(committed, new Map([['newFunction', bundle(100)]]));

    // Assess
    expect(problems).toEqual([
      'newFunction: 100.0 KB, but bench/results.json has no committed size for it; run ' +
        '`npm run bench -- bundles` and commit bench/results.json',
    ]);
  });

  it('reads the committed sizes from the results file, leaving out failed builds', () => {
    // Act
    const sizes = committedBundleBytes({
      sections: {
        bundles: {
          functions: {
            wsConnect: { bytes: 1234, kb: 1.2 },
            broken: { pass: false, error: 'build: esbuild failed' },
          },
        },
      },
    });

    // Assess
    expect([...sizes]).toEqual([['wsConnect', 1234]]);
    expect(committedBundleBytes({})).toEqual(new Map());
    expect(committedBundleBytes(null)).toEqual(new Map());
  });
});

describe('Lambda bundles against bench/results.json', () => {
  it('keeps every bundle within 10 % of its committed size', async () => {
    // Prepare
    const results: unknown = JSON.parse(readFileSync(join(ROOT, 'bench', 'results.json'), 'utf8'));
    const committed = committedBundleBytes(results);
    const targets = bundleTargets();

    // Act: two builds at a time (CI has two cores).
    const built = await mapLimit(targets, 2, async (t) => {
      const b = await bundleFunction(ROOT, t.entry);
      return [t.name, b] as const;
    });

    // Assess
    expect(built.map(([name]) => name)).toEqual(
      expect.arrayContaining(['wsAuthorizer', 'taskWorker']),
    );
    expect(bundleGrowthProblems(committed, new Map(built))).toEqual([]);
  }, 120_000);
});
