import { build, type BuildOptions } from 'esbuild';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import {
  type BenchContext,
  fmt,
  median,
  round,
  type Section,
  type SectionResult,
} from '../harness';

/**
 * Issue 12: the browser build of `@taskwire/client` (min+gzip), side by side with
 * socket.io-client and centrifuge bundled by the same esbuild settings in the same run. Each
 * library is bundled from a one-line entry that imports what an application imports (the
 * client class), so tree-shaking leaves what a page would ship.
 */

/** The goal: at most 6 KB min+gzip. */
const GOAL_BYTES = 6 * 1024;
/** Builds per library: sizes are deterministic, the rounds show that they are. */
const ROUNDS = 3;

/** The same settings for every library: a browser ESM bundle, minified, modern targets. */
const BROWSER_BUILD: BuildOptions = {
  bundle: true,
  minify: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  treeShaking: true,
  write: false,
  logLevel: 'silent',
};

interface Library {
  readonly name: string;
  readonly version: string;
  /** The entry's source: what a page imports. */
  readonly entry: string;
}

async function versionOf(root: string, pkg: string): Promise<string> {
  const json = JSON.parse(
    await readFile(join(root, 'node_modules', pkg, 'package.json'), 'utf8'),
  ) as { version?: string };
  return json.version ?? '?';
}

async function libraries(root: string): Promise<Library[]> {
  const client = JSON.parse(await readFile(join(root, 'client/package.json'), 'utf8')) as {
    version: string;
  };
  return [
    {
      name: '@taskwire/client',
      version: client.version,
      entry: `export { TaskwireClient } from ${JSON.stringify(join(root, 'client/src/index.ts'))};`,
    },
    {
      name: 'socket.io-client',
      version: await versionOf(root, 'socket.io-client'),
      entry: "export { io } from 'socket.io-client';",
    },
    {
      name: 'centrifuge',
      version: await versionOf(root, 'centrifuge'),
      entry: "export { Centrifuge } from 'centrifuge';",
    },
  ];
}

/** Bundles one entry; its minified and min+gzip sizes in bytes. */
async function sizeOf(
  root: string,
  dir: string,
  lib: Library,
): Promise<{ min: number; gzip: number }> {
  const file = join(dir, `${lib.name.replace(/[@/]/g, '_')}.ts`);
  await writeFile(file, `${lib.entry}\n`);
  const out = await build({ ...BROWSER_BUILD, entryPoints: [file], absWorkingDir: root });
  const code = out.outputFiles?.[0]?.contents;
  if (!code) throw new Error(`${lib.name}: esbuild wrote nothing`);
  return { min: code.byteLength, gzip: gzipSync(code, { level: 9 }).byteLength };
}

async function runClientSize(ctx: BenchContext): Promise<SectionResult> {
  const dir = join(ctx.scratch, 'client-size');
  await mkdir(dir, { recursive: true });
  const libs = await libraries(ctx.root);
  const sizes = new Map<string, { min: number[]; gzip: number[] }>();
  for (let r = 0; r < ROUNDS; r++) {
    for (const lib of libs) {
      const s = await sizeOf(ctx.root, dir, lib);
      const seen = sizes.get(lib.name) ?? { min: [], gzip: [] };
      seen.min.push(s.min);
      seen.gzip.push(s.gzip);
      sizes.set(lib.name, seen);
    }
  }
  const gzipOf = (name: string) => median(sizes.get(name)?.gzip ?? [NaN]);
  const minOf = (name: string) => median(sizes.get(name)?.min ?? [NaN]);
  const ours = gzipOf('@taskwire/client');
  const pass = ours <= GOAL_BYTES;
  const rows = libs.map((lib) => [
    `${lib.name} ${lib.version}`,
    fmt(minOf(lib.name)),
    fmt(gzipOf(lib.name)),
    `${fmt(gzipOf(lib.name) / 1024, 2)} KB`,
    lib.name === '@taskwire/client' ? '1.00x' : `${fmt(ours / gzipOf(lib.name), 2)}x`,
  ]);
  ctx.progress(`@taskwire/client ${fmt(ours)} B min+gzip (goal ≤ ${fmt(GOAL_BYTES)})`);
  return {
    figures: {
      goalBytes: GOAL_BYTES,
      rounds: ROUNDS,
      libraries: Object.fromEntries(
        libs.map((lib) => [
          lib.name,
          {
            version: lib.version,
            minifiedBytes: minOf(lib.name),
            minGzipBytes: gzipOf(lib.name),
            minGzipKB: round(gzipOf(lib.name) / 1024, 2),
            ratioOursToThis: round(ours / gzipOf(lib.name), 3),
            everyRoundSame: new Set(sizes.get(lib.name)?.gzip).size === 1,
          },
        ]),
      ),
      method:
        'each library bundled from a one-line entry exporting its client class (TaskwireClient; socket.io-client io; centrifuge Centrifuge) by esbuild with the same settings (bundle, minify, ESM, platform browser, target es2022, tree-shaking), gzip level 9 of the output; 3 rounds in this run (sizes are deterministic), median.',
    },
    goal: `@taskwire/client ≤ ${fmt(GOAL_BYTES)} B (6 KB) min+gzip in the browser`,
    pass,
    table: {
      headers: ['library', 'minified B', 'min+gzip B', 'min+gzip', 'ours / this'],
      rows,
    },
    notes: [
      'socket.io-client and centrifuge are devDependencies used only by this section',
      'the browser build needs no runtime dependency: it uses the platform WebSocket',
    ],
  };
}

export const clientSizeSection: Section = {
  name: 'client-size',
  title: 'The browser client, min+gzip, vs socket.io-client and centrifuge (same esbuild)',
  run: runClientSize,
};
