import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import {
  BENCH_COMMAND,
  type BenchContext,
  formatTable,
  machineInfo,
  round,
  type Section,
  verdict,
  writeSectionResult,
} from './harness';
import { broadcastSection } from './sections/broadcast';
import { bundlesSection } from './sections/bundles';
import { callbackSection } from './sections/callback';
import { memorySection } from './sections/memory';
import { pushSection } from './sections/push';
import { quotaSection } from './sections/quota';
import { streamsSection } from './sections/streams';
import { clientSizeSection } from './sections/client-size';
import { sweepSection } from './sections/sweep';
import { socketWorkersSection } from './sections/socket-workers';
import { tasksSection } from './sections/tasks';

/**
 * `npm run bench` runs every section below in order; `npm run bench -- <name> [<name>…]` runs
 * only those. Each section's figures replace its own entry in bench/results.json, so sections
 * can be run (and added) independently.
 *
 * To add a section: create bench/sections/<name>.ts exporting a `Section` (see harness.ts) and
 * append it to this list.
 */
const SECTIONS: readonly Section[] = [
  bundlesSection,
  pushSection,
  callbackSection,
  tasksSection,
  socketWorkersSection,
  broadcastSection,
  streamsSection,
  clientSizeSection,
  quotaSection,
  sweepSection,
  memorySection,
];

const ROOT = resolve(__dirname, '..');
const RESULTS_FILE = join(ROOT, 'bench', 'results.json');
const ORDER = SECTIONS.map((s) => s.name);

async function main(): Promise<void> {
  const wanted = process.argv.slice(2).filter((a) => a !== '--');
  const unknown = wanted.filter((w) => !SECTIONS.some((s) => s.name === w));
  if (unknown.length > 0) {
    console.error(
      `unknown section(s): ${unknown.join(', ')}; known: ${SECTIONS.map((s) => s.name).join(', ')}`,
    );
    process.exitCode = 2;
    return;
  }
  const selected = wanted.length > 0 ? SECTIONS.filter((s) => wanted.includes(s.name)) : SECTIONS;

  const scratch = join(ROOT, '.bench');
  await mkdir(scratch, { recursive: true });
  const ctx: BenchContext = {
    root: ROOT,
    scratch,
    progress: (message) => process.stderr.write(`  · ${message}\n`),
  };

  const machine = machineInfo();
  console.log(`Taskwire bench — node ${process.version}, ${machine.cpus} × ${machine.model}`);
  const overview: string[][] = [];
  const started = Date.now();
  for (const section of selected) {
    process.stderr.write(`\n▶ ${section.name}: ${section.title}\n`);
    const t0 = Date.now();
    try {
      const result = await section.run(ctx);
      const seconds = (Date.now() - t0) / 1000;
      await writeSectionResult(
        RESULTS_FILE,
        section.name,
        {
          ...result.figures,
          measuredAt: new Date().toISOString(),
          durationSeconds: round(seconds, 1),
          command: BENCH_COMMAND,
          ...(result.goal !== undefined ? { goal: result.goal } : {}),
          ...(result.pass !== undefined ? { pass: result.pass } : {}),
        },
        ORDER,
      );
      console.log(`\n== ${section.name}: ${section.title} (${seconds.toFixed(1)} s)`);
      if (result.table) console.log(formatTable(result.table));
      for (const note of result.notes ?? []) console.log(note);
      if (result.goal !== undefined) console.log(`goal: ${result.goal} → ${verdict(result.pass)}`);
      overview.push([section.name, result.goal ?? '—', verdict(result.pass)]);
    } catch (e) {
      const message = e instanceof Error ? (e.stack ?? e.message) : String(e);
      console.error(`\n== ${section.name} FAILED TO RUN\n${message}`);
      await writeSectionResult(
        RESULTS_FILE,
        section.name,
        {
          measuredAt: new Date().toISOString(),
          command: BENCH_COMMAND,
          error: e instanceof Error ? e.message : String(e),
        },
        ORDER,
      );
      overview.push([section.name, 'error', 'ERROR']);
      process.exitCode = 1;
    }
  }
  console.log(`\n== summary (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  console.log(formatTable({ headers: ['section', 'goal', 'result'], rows: overview }));
  console.log(`results: ${RESULTS_FILE}`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
