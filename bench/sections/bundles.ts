import { build, type BuildOptions, type Metafile } from 'esbuild';
import { execFile } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { FUNCTIONS, type FunctionName } from '../../lambdas/catalog';
import {
  LAMBDA_CREDENTIALS_MODULE,
  SDK_CREDENTIAL_CHAIN,
} from '../../lib/constructs/taskwire-function';
import {
  type BenchContext,
  fmt,
  type JsonObject,
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
const GOAL_KB = 250;
const GOAL_MAX_CLIENTS = 2;

/**
 * esbuild options as the CDK stack bundles a function: minified CJS for node22 with the AWS SDK
 * bundled (not external), ES-module entry points first so the SDK tree-shakes, and an external
 * source map (written next to the bundle, not counted in its size).
 */
const STACK_BUILD: BuildOptions = {
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
function packageOf(input: string): string | undefined {
  const at = input.lastIndexOf('node_modules/');
  if (at < 0) return undefined;
  const parts = input.slice(at + 'node_modules/'.length).split('/');
  return parts[0]?.startsWith('@') ? `${parts[0]}/${parts[1] ?? ''}` : parts[0];
}

interface BuiltBundle {
  readonly file: string;
  readonly bytes: number;
  readonly sdkClients: readonly string[];
  /** Largest contributors to the bundle, KB by package (`(project)` for our own code). */
  readonly topPackages: readonly { readonly name: string; readonly kb: number }[];
}

async function bundle(
  ctx: BenchContext,
  entry: string,
  outfile: string,
  external: readonly string[],
): Promise<BuiltBundle> {
  const result = await build({
    ...STACK_BUILD,
    absWorkingDir: ctx.root,
    entryPoints: [entry],
    outfile,
    external: [...external],
  });
  if (result.errors.length > 0) throw new Error(`esbuild failed for ${entry}`);
  const metafile: Metafile = result.metafile ?? { inputs: {}, outputs: {} };
  const clients = new Set<string>();
  for (const input of Object.keys(metafile.inputs)) {
    const pkg = packageOf(input);
    if (pkg?.startsWith('@aws-sdk/client-')) clients.add(pkg);
  }
  const output = Object.values(metafile.outputs).find((o) => o.entryPoint !== undefined);
  const byPackage = new Map<string, number>();
  for (const [input, { bytesInOutput }] of Object.entries(output?.inputs ?? {})) {
    const pkg = packageOf(input) ?? '(project)';
    byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + bytesInOutput);
  }
  const topPackages = [...byPackage.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 5)
    .map(([name, bytes]) => ({ name, kb: round(bytes / KB, 1) }));
  // The .js file only: the external source map is not deployed code.
  const { size } = await stat(outfile);
  return { file: outfile, bytes: size, sdkClients: [...clients].sort(), topPackages };
}

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

async function runBundles(ctx: BenchContext): Promise<SectionResult> {
  const names = Object.keys(FUNCTIONS) as FunctionName[];
  const outDir = join(ctx.scratch, 'bundles');
  const built = new Map<FunctionName, { stack: BuiltBundle; sdkExternal: BuiltBundle }>();
  // A function that cannot be built (or loaded) is recorded as failed; the others still run.
  const failures = new Map<FunctionName, string>();
  const reason = (e: unknown) =>
    (e instanceof Error ? e.message : String(e)).split('\n').slice(0, 4).join(' ');
  for (const name of names) {
    const entry = FUNCTIONS[name].entry;
    try {
      const stack = await bundle(ctx, entry, join(outDir, name, 'index.js'), []);
      const sdkExternal = await bundle(
        ctx,
        entry,
        join(outDir, `${name}.sdk-external`, 'index.js'),
        SDK_EXTERNAL,
      );
      built.set(name, { stack, sdkExternal });
      ctx.progress(
        `${name}: ${fmt(stack.bytes / KB, 1)} KB, ${stack.sdkClients.length} SDK client(s)`,
      );
    } catch (e) {
      failures.set(name, `build: ${reason(e)}`);
      ctx.progress(`${name}: build failed`);
    }
  }

  // Module load: fresh processes, interleaved so drift and noise hit both variants alike.
  const env = probeEnv();
  const loads = new Map<FunctionName, { stack: number[]; sdkExternal: number[] }>();
  for (const name of names) loads.set(name, { stack: [], sdkExternal: [] });
  for (const name of names) {
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
    for (const name of names) {
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
  const applicable: boolean[] = [];
  for (const name of names) {
    const b = built.get(name);
    const l = loads.get(name);
    const failure = failures.get(name);
    if (failure !== undefined || !b || !l) {
      applicable.push(false);
      functions[name] = {
        entry: FUNCTIONS[name].entry,
        pass: false,
        error: failure ?? 'not built',
      };
      rows.push([name, 'error', '', '', 'FAIL', '', '', '']);
      continue;
    }
    const kb = b.stack.bytes / KB;
    const goalApplies = b.stack.sdkClients.length <= GOAL_MAX_CLIENTS;
    const pass = goalApplies ? kb <= GOAL_KB : undefined;
    if (pass !== undefined) applicable.push(pass);
    const bundledMs = median(l.stack);
    const unbundledMs = median(l.sdkExternal);
    const ratio = bundledMs / unbundledMs;
    functions[name] = {
      entry: FUNCTIONS[name].entry,
      bytes: b.stack.bytes,
      kb: round(kb, 1),
      sdkClientCount: b.stack.sdkClients.length,
      sdkClients: b.stack.sdkClients,
      goalApplies,
      pass: pass ?? null,
      topPackages: b.stack.topPackages,
      sdkExternalBytes: b.sdkExternal.bytes,
      load: {
        runs: LOAD_RUNS,
        bundledMedianMs: round(bundledMs),
        bundledP90Ms: round(percentile(l.stack, 90)),
        unbundledMedianMs: round(unbundledMs),
        unbundledP90Ms: round(percentile(l.sdkExternal, 90)),
        ratioBundledToUnbundled: round(ratio, 3),
      },
    };
    rows.push([
      name,
      fmt(b.stack.bytes),
      fmt(kb, 1),
      String(b.stack.sdkClients.length),
      verdict(pass),
      fmt(bundledMs, 1),
      fmt(unbundledMs, 1),
      `${fmt(ratio, 2)}x`,
    ]);
  }

  const pass = applicable.length > 0 ? applicable.every(Boolean) : undefined;
  const largest = names
    .map((n) => ({ n, top: built.get(n)?.stack.topPackages[0] }))
    .filter((x) => x.top !== undefined)
    .map((x) => `${x.n}: ${x.top?.name} ${fmt(x.top?.kb ?? 0, 0)} KB`);
  return {
    figures: {
      build:
        'esbuild: bundle, minify, platform node, target node22, format cjs, sourcemap external (not counted), treeShaking, mainFields [module, main], AWS SDK bundled, credential chain aliased to env-only (as the stack does)',
      unbundledBuild:
        'same build with @aws-sdk/* and @smithy/* external, resolved from node_modules (the runtime SDK)',
      loadMeasure: `median of ${LOAD_RUNS} fresh node processes; require() of the bundle timed with process.hrtime.bigint() inside the child`,
      kbUnit: 'KB = 1024 bytes',
      functions,
    },
    goal: `≤ ${GOAL_KB} KB minified for handlers with ≤ ${GOAL_MAX_CLIENTS} @aws-sdk/client-* packages`,
    ...(pass !== undefined ? { pass } : {}),
    table: {
      headers: [
        'function',
        'bytes',
        'KB',
        'clients',
        `≤${GOAL_KB}KB`,
        'load bundled ms',
        'load runtime-SDK ms',
        'ratio',
      ],
      rows,
    },
    notes: [
      `largest package per bundle: ${largest.join('; ')}`,
      ...[...failures].map(([name, why]) => `${name} failed: ${why}`),
    ],
  };
}

export const bundlesSection: Section = {
  name: 'bundles',
  title: 'Lambda bundle size and module load time',
  run: runBundles,
};
