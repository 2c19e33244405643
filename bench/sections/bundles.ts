import { build, type BuildOptions, type Metafile } from 'esbuild';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { FUNCTIONS, type FunctionName, TASK_WORKERS } from '../../lambdas/catalog';
import {
  LAMBDA_CREDENTIALS_MODULE,
  SDK_CREDENTIAL_CHAIN,
} from '../../lib/constructs/taskwire-function';
import {
  type BenchContext,
  fmt,
  type JsonObject,
  mapLimit,
  median,
  percentile,
  round,
  type Section,
  type SectionResult,
  verdict,
} from '../harness';

const run = promisify(execFile);

/** Fresh child processes per variant and function. */
const LOAD_RUNS = 15;
const KB = 1024;

/** The issue's size goal: every function at most this many KB minified… */
export const GOAL_KB = 250;
/** …and the authorizer, on the path of every WebSocket connect, at most this. */
export const AUTHORIZER_GOAL_KB = 200;
/** Bundled module load at most this fraction of the same handler loading the runtime's SDK. */
export const GOAL_LOAD_RATIO = 0.5;
/** Packages listed per bundle (results.json and the CI gate's message). */
const TOP_PACKAGES = 8;

/**
 * esbuild options as the CDK stack bundles a function (lib/constructs/taskwire-function.ts):
 * minified CJS for node22 with the AWS SDK bundled (not external), ES-module entry points first
 * so the SDK tree-shakes, and an external source map (not counted in the size).
 */
export const STACK_BUILD: BuildOptions = {
  bundle: true,
  minify: true,
  platform: 'node',
  target: 'node22',
  format: 'cjs',
  sourcemap: 'external',
  treeShaking: true,
  mainFields: ['module', 'main'],
  // The stack swaps the SDK's default credential chain for an env-only provider in Lambda.
  alias: { [SDK_CREDENTIAL_CHAIN]: LAMBDA_CREDENTIALS_MODULE },
  metafile: true,
  logLevel: 'silent',
};

/**
 * The same build with the SDK left to `require()`: resolved from node_modules at run time, as
 * a function using the Lambda runtime's built-in SDK would load it.
 */
const SDK_EXTERNAL: readonly string[] = ['@aws-sdk/*', '@smithy/*'];

/** One deployed bundle: a catalog function, or the task worker every task type runs. */
export interface BundleTarget {
  readonly name: string;
  readonly entry: string;
  /** The KB goal of this function. */
  readonly goalKb: number;
}

/**
 * Every bundle the stack deploys: the catalog's functions, then one per distinct task worker
 * entry (today one, `taskWorker`, which every task type's worker runs).
 */
export function bundleTargets(): BundleTarget[] {
  const functions = (Object.keys(FUNCTIONS) as FunctionName[]).map((name) => ({
    name,
    entry: FUNCTIONS[name].entry,
    goalKb: name === 'wsAuthorizer' ? AUTHORIZER_GOAL_KB : GOAL_KB,
  }));
  const workerEntries = [...new Set(Object.values(TASK_WORKERS).map((w) => w.entry))];
  const workers = workerEntries.map((entry, i) => ({
    name: workerEntries.length === 1 ? 'taskWorker' : `taskWorker${i + 1}`,
    entry,
    goalKb: GOAL_KB,
  }));
  return [...functions, ...workers];
}

/** Loads a bundle in this child and prints the milliseconds `require()` took. */
const LOAD_PROBE = [
  'const file = process.argv[1];',
  'const t0 = process.hrtime.bigint();',
  'const mod = require(file);',
  'const t1 = process.hrtime.bigint();',
  "if (typeof mod.handler !== 'function') { console.error('no handler export'); process.exit(3); }",
  'process.stdout.write(String(Number(t1 - t0) / 1e6));',
].join('\n');

/** The package a metafile input belongs to (`@scope/name` or `name`), or undefined for ours. */
export function packageOf(input: string): string | undefined {
  const at = input.lastIndexOf('node_modules/');
  if (at < 0) return undefined;
  const parts = input.slice(at + 'node_modules/'.length).split('/');
  return parts[0]?.startsWith('@') ? `${parts[0]}/${parts[1] ?? ''}` : parts[0];
}

/** A package's share of a bundle (a type, not an interface: it is written to results.json). */
export type PackageShare = { readonly name: string; readonly kb: number };

/** What building one function gave. */
export interface BuiltBundle {
  /** Where the bundle was written, when it was. */
  readonly file?: string;
  /** Size of the minified .js (the source map is not deployed code). */
  readonly bytes: number;
  /** `@aws-sdk/client-*` packages with code in the bundle (an import esbuild drops is none). */
  readonly sdkClients: readonly string[];
  /** Largest contributors to the bundle, KB by package (`(project)` for our own code). */
  readonly topPackages: readonly PackageShare[];
}

/**
 * Bundles one handler with the stack's settings ({@link STACK_BUILD}). With `outfile` the
 * bundle is written there (to load it); without, it is built in memory (the CI size gate).
 * @throws Error when esbuild fails.
 */
export async function bundleFunction(
  root: string,
  entry: string,
  options: { readonly outfile?: string; readonly external?: readonly string[] } = {},
): Promise<BuiltBundle> {
  const result = await build({
    ...STACK_BUILD,
    absWorkingDir: root,
    entryPoints: [entry],
    // In memory, esbuild still needs a name to place the map and the output under.
    outfile: options.outfile ?? join(root, '.bench', 'in-memory', 'index.js'),
    write: options.outfile !== undefined,
    external: [...(options.external ?? [])],
  });
  if (result.errors.length > 0) throw new Error(`esbuild failed for ${entry}`);
  const metafile: Metafile = result.metafile ?? { inputs: {}, outputs: {} };
  const output = Object.values(metafile.outputs).find((o) => o.entryPoint !== undefined);
  const byPackage = new Map<string, number>();
  for (const [input, { bytesInOutput }] of Object.entries(output?.inputs ?? {})) {
    if (bytesInOutput === 0) continue;
    const pkg = packageOf(input) ?? '(project)';
    byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + bytesInOutput);
  }
  const sdkClients = [...byPackage.keys()].filter((p) => p.startsWith('@aws-sdk/client-')).sort();
  const topPackages = [...byPackage.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, TOP_PACKAGES)
    .map(([name, bytes]) => ({ name, kb: round(bytes / KB, 1) }));
  // The .js only: the external source map is not deployed code.
  const bytes = output?.bytes ?? 0;
  return {
    ...(options.outfile !== undefined ? { file: options.outfile } : {}),
    bytes,
    sdkClients,
    topPackages,
  };
}

// ---------------------------------------------------------------------------------------------
// The CI gate on bundle growth (test/bench/bundle-size.test.ts)

/** How far a bundle may grow over its committed size before CI fails (10 %). */
export const GROWTH_TOLERANCE = 0.1;

/**
 * The bundle sizes committed in bench/results.json (`sections.bundles.functions.<name>.bytes`),
 * by function. Functions without a size (a failed build) are left out.
 */
export function committedBundleBytes(results: unknown): Map<string, number> {
  const out = new Map<string, number>();
  const functions = pick(pick(pick(results, 'sections'), 'bundles'), 'functions');
  if (typeof functions !== 'object' || functions === null) return out;
  for (const [name, figures] of Object.entries(functions)) {
    const bytes = pick(figures, 'bytes');
    if (typeof bytes === 'number' && bytes > 0) out.set(name, bytes);
  }
  return out;
}

function pick(value: unknown, key: string): unknown {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)[key]
    : undefined;
}

const kbText = (bytes: number): string => `${fmt(bytes / KB, 1)} KB`;

/**
 * Compares freshly built bundles with the committed sizes. Answers one line per problem: a
 * bundle more than `tolerance` over its committed size (naming the function, both sizes and its
 * largest packages), or a function with no committed size. Empty when every bundle is within.
 */
export function bundleGrowthProblems(
  committed: ReadonlyMap<string, number>,
  built: ReadonlyMap<string, Pick<BuiltBundle, 'bytes' | 'topPackages'>>,
  tolerance: number = GROWTH_TOLERANCE,
): string[] {
  const problems: string[] = [];
  for (const [name, bundle] of built) {
    const before = committed.get(name);
    if (before === undefined) {
      problems.push(
        `${name}: ${kbText(bundle.bytes)}, but bench/results.json has no committed size for it; ` +
          'run `npm run bench -- bundles` and commit bench/results.json',
      );
      continue;
    }
    if (bundle.bytes <= before * (1 + tolerance)) continue;
    const growth = (bundle.bytes / before - 1) * 100;
    const top = bundle.topPackages.map((p) => `${p.name} ${fmt(p.kb, 1)} KB`).join(', ');
    problems.push(
      `${name}: ${kbText(bundle.bytes)} is ${fmt(growth, 1)} % over the committed ` +
        `${kbText(before)} (bench/results.json; at most ${fmt(tolerance * 100, 0)} % allowed). ` +
        `Largest packages: ${top}. If the growth is meant, run \`npm run bench -- bundles\` and ` +
        'commit bench/results.json.',
    );
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------
// The bench section

/** Environment of the load probe: ours minus anything that would preload code (tsx). */
function probeEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, AWS_REGION: 'us-east-1' };
  delete env.NODE_OPTIONS;
  for (const key of Object.keys(env)) if (key.startsWith('TSX')) delete env[key];
  return env;
}

async function loadMs(file: string, env: NodeJS.ProcessEnv): Promise<number> {
  const { stdout } = await run(process.execPath, ['-e', LOAD_PROBE, file], { env });
  const ms = Number(stdout.trim());
  if (!Number.isFinite(ms))
    throw new Error(`load probe of ${file} printed ${JSON.stringify(stdout)}`);
  return ms;
}

interface Built {
  readonly stack: BuiltBundle & { readonly file: string };
  readonly sdkExternal: BuiltBundle & { readonly file: string };
}

async function runBundles(ctx: BenchContext): Promise<SectionResult> {
  const targets = bundleTargets();
  const outDir = join(ctx.scratch, 'bundles');
  const built = new Map<string, Built>();
  // A function that cannot be built (or loaded) is recorded as failed; the others still run.
  const failures = new Map<string, string>();
  const reason = (e: unknown) =>
    (e instanceof Error ? e.message : String(e)).split('\n').slice(0, 4).join(' ');
  await mapLimit(targets, 2, async ({ name, entry }) => {
    try {
      const stackFile = join(outDir, name, 'index.js');
      const externalFile = join(outDir, `${name}.sdk-external`, 'index.js');
      const stack = await bundleFunction(ctx.root, entry, { outfile: stackFile });
      const sdkExternal = await bundleFunction(ctx.root, entry, {
        outfile: externalFile,
        external: SDK_EXTERNAL,
      });
      built.set(name, {
        stack: { ...stack, file: stackFile },
        sdkExternal: { ...sdkExternal, file: externalFile },
      });
      ctx.progress(
        `${name}: ${fmt(stack.bytes / KB, 1)} KB, ${stack.sdkClients.length} SDK client(s)`,
      );
    } catch (e) {
      failures.set(name, `build: ${reason(e)}`);
      ctx.progress(`${name}: build failed`);
    }
  });

  // Module load: fresh processes, one at a time, interleaved so drift and noise hit both
  // variants alike.
  const env = probeEnv();
  const loads = new Map<string, { stack: number[]; sdkExternal: number[] }>();
  for (const { name } of targets) loads.set(name, { stack: [], sdkExternal: [] });
  for (const { name } of targets) {
    const b = built.get(name);
    // One discarded run each warms the file cache.
    if (!b) continue;
    try {
      await loadMs(b.stack.file, env);
      await loadMs(b.sdkExternal.file, env);
    } catch (e) {
      failures.set(name, `load: ${reason(e)}`);
      built.delete(name);
      ctx.progress(`${name}: load failed`);
    }
  }
  for (let i = 0; i < LOAD_RUNS; i++) {
    for (const { name } of targets) {
      const b = built.get(name);
      const l = loads.get(name);
      if (!b || !l) continue;
      if (i % 2 === 0) {
        l.stack.push(await loadMs(b.stack.file, env));
        l.sdkExternal.push(await loadMs(b.sdkExternal.file, env));
      } else {
        l.sdkExternal.push(await loadMs(b.sdkExternal.file, env));
        l.stack.push(await loadMs(b.stack.file, env));
      }
    }
    ctx.progress(`load run ${i + 1}/${LOAD_RUNS}`);
  }

  const functions: Record<string, JsonObject> = {};
  const rows: string[][] = [];
  const verdicts: boolean[] = [];
  for (const { name, entry, goalKb } of targets) {
    const b = built.get(name);
    const l = loads.get(name);
    const failure = failures.get(name);
    if (failure !== undefined || !b || !l) {
      verdicts.push(false);
      functions[name] = { entry, pass: false, error: failure ?? 'not built' };
      rows.push([name, 'error', '', '', '', 'FAIL', '', '', '', 'FAIL']);
      continue;
    }
    const kb = b.stack.bytes / KB;
    const sizePass = kb <= goalKb;
    const bundledMs = median(l.stack);
    const unbundledMs = median(l.sdkExternal);
    const ratio = bundledMs / unbundledMs;
    const loadPass = ratio <= GOAL_LOAD_RATIO;
    verdicts.push(sizePass && loadPass);
    functions[name] = {
      entry,
      bytes: b.stack.bytes,
      kb: round(kb, 1),
      goalKb,
      sizePass,
      sdkClientCount: b.stack.sdkClients.length,
      sdkClients: b.stack.sdkClients,
      topPackages: b.stack.topPackages,
      sdkExternalBytes: b.sdkExternal.bytes,
      load: {
        runs: LOAD_RUNS,
        bundledMedianMs: round(bundledMs),
        bundledP90Ms: round(percentile(l.stack, 90)),
        unbundledMedianMs: round(unbundledMs),
        unbundledP90Ms: round(percentile(l.sdkExternal, 90)),
        ratioBundledToUnbundled: round(ratio, 3),
        pass: loadPass,
      },
      pass: sizePass && loadPass,
    };
    rows.push([
      name,
      fmt(b.stack.bytes),
      fmt(kb, 1),
      String(goalKb),
      String(b.stack.sdkClients.length),
      verdict(sizePass),
      fmt(bundledMs, 1),
      fmt(unbundledMs, 1),
      `${fmt(ratio, 2)}x`,
      verdict(loadPass),
    ]);
  }

  const pass = verdicts.length > 0 && verdicts.every(Boolean);
  const breakdown = targets
    .map(({ name }) => ({ name, top: built.get(name)?.stack.topPackages ?? [] }))
    .filter((x) => x.top.length > 0)
    .map((x) => `  ${x.name}: ${x.top.map((p) => `${p.name} ${fmt(p.kb, 1)}`).join(', ')}`);
  const workerTypes = Object.keys(TASK_WORKERS).join(', ');
  return {
    figures: {
      build:
        'esbuild: bundle, minify, platform node, target node22, format cjs, sourcemap external (not counted), treeShaking, mainFields [module, main], AWS SDK bundled, credential chain aliased to env-only (as the stack does)',
      unbundledBuild:
        'same build with @aws-sdk/* and @smithy/* external, resolved from node_modules (the runtime SDK)',
      loadMeasure: `median of ${LOAD_RUNS} fresh node processes; require() of the bundle timed with process.hrtime.bigint() inside the child`,
      kbUnit: 'KB = 1024 bytes',
      taskWorker: `one bundle (lambdas/workers/task-worker.ts) deployed once per task type: ${workerTypes}`,
      functions,
    },
    goal:
      `every function ≤ ${GOAL_KB} KB minified (wsAuthorizer ≤ ${AUTHORIZER_GOAL_KB} KB) and its ` +
      `module load ≤ ${GOAL_LOAD_RATIO}× the same handler loading the runtime's unbundled SDK`,
    pass,
    table: {
      headers: [
        'function',
        'bytes',
        'KB',
        'goal KB',
        'clients',
        'size',
        'load bundled ms',
        'load runtime-SDK ms',
        'ratio',
        `≤${GOAL_LOAD_RATIO}x`,
      ],
      rows,
    },
    notes: [
      `largest packages per bundle (KB):\n${breakdown.join('\n')}`,
      `taskWorker is the worker of every task type (${workerTypes})`,
      ...[...failures].map(([name, why]) => `${name} failed: ${why}`),
    ],
  };
}

export const bundlesSection: Section = {
  name: 'bundles',
  title: 'Lambda bundle size and module load time',
  run: runBundles,
};
