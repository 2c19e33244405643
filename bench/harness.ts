import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { dirname } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { Log } from '../src/ports/log';

/**
 * The small shared harness of `npm run bench`: what a section is, statistics, timing, a table
 * printer and the results writer that merges one section at a time into bench/results.json.
 */

/** A JSON value, so figures can be written to results.json without `any`. */
export type Json =
  string | number | boolean | null | readonly Json[] | { readonly [key: string]: Json };
export type JsonObject = { readonly [key: string]: Json };

/** A table for the printed summary: a header row and rows of cells. */
export interface Table {
  readonly headers: readonly string[];
  readonly rows: readonly (readonly string[])[];
}

/** What a section hands back. */
export interface SectionResult {
  /** Written to results.json under the section's name. */
  readonly figures: JsonObject;
  /** The goal in words, when the section has one. */
  readonly goal?: string;
  /** Whether the goal was met. */
  readonly pass?: boolean;
  /** Printed in the summary. */
  readonly table?: Table;
  /** Printed under the table. */
  readonly notes?: readonly string[];
}

/** What every section gets. */
export interface BenchContext {
  /** The project root (absolute). */
  readonly root: string;
  /** A gitignored scratch folder for build output (absolute): `<root>/.bench`. */
  readonly scratch: string;
  /** Progress line on stderr (the summary goes to stdout). */
  progress(message: string): void;
}

/** One benchmark section: a file under bench/sections/, registered in bench/run.ts. */
export interface Section {
  /** Key in results.json and the name for `npm run bench -- <name>`. */
  readonly name: string;
  readonly title: string;
  run(ctx: BenchContext): Promise<SectionResult>;
}

/** The command that reproduces the figures, recorded with every section. */
export const BENCH_COMMAND = 'npm run bench';

// ---------------------------------------------------------------------------------------------
// Statistics and timing

/** Percentile with linear interpolation between closest ranks (p in 0..100). */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) throw new Error('percentile of no values');
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (Math.min(Math.max(p, 0), 100) / 100) * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  const a = sorted[lo] ?? 0;
  const b = sorted[hi] ?? a;
  return a + (b - a) * (rank - lo);
}

export const median = (values: readonly number[]): number => percentile(values, 50);

/** Rounds to a number of decimals (for results.json and the table). */
export const round = (value: number, decimals = 2): number => {
  const f = 10 ** decimals;
  return Math.round(value * f) / f;
};

/** Monotonic clock in milliseconds (fractional). */
export const nowMs = (): number => Number(process.hrtime.bigint()) / 1e6;

/** Runs `fn` and returns its result with the elapsed milliseconds. */
export async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const start = process.hrtime.bigint();
  const value = await fn();
  return { value, ms: Number(process.hrtime.bigint() - start) / 1e6 };
}

let gcFunction: (() => void) | null | undefined;

/**
 * Runs a full garbage collection, so garbage left by one measurement is not collected (and
 * paid for) during the next. Uses V8's `gc` without needing `--expose-gc` on the command line;
 * a no-op if V8 refuses.
 */
export function collectGarbage(): void {
  if (gcFunction === undefined) {
    try {
      setFlagsFromString('--expose-gc');
      gcFunction = runInNewContext('gc') as () => void;
    } catch {
      gcFunction = null;
    }
  }
  gcFunction?.();
}

/**
 * Lets pending I/O and timers run: call between measured steps whose baseline runs in a process
 * of its own. No forced GC there: the baseline's process gets none, and a forced full GC in the
 * runtime's process was measured to hold its next inline broadcast at about 0.5 of the baseline
 * (about 0.85 without it), which is the harness's cost, not the engine's.
 */
export async function pause(ms = 50): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, ms));
}

/** Lets pending I/O and timers run, then collects garbage: call between measured steps. */
export async function settle(ms = 50): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, ms));
  collectGarbage();
}

/** Runs `work` on every item with at most `limit` in flight; results keep the input order. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await work(items[i] as T, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/** p50 / p99 / mean / min / max of a sample, in its own unit. */
export interface Distribution {
  readonly count: number;
  readonly p50: number;
  readonly p99: number;
  readonly mean: number;
  readonly min: number;
  readonly max: number;
}

/** Summarises a non-empty sample (percentiles as {@link percentile}). */
export function distribution(values: readonly number[]): Distribution {
  if (values.length === 0) throw new Error('distribution of no values');
  return {
    count: values.length,
    p50: percentile(values, 50),
    p99: percentile(values, 99),
    mean: values.reduce((a, b) => a + b, 0) / values.length,
    min: Math.min(...values),
    max: Math.max(...values),
  };
}

/** A distribution rounded for results.json. */
export const roundDistribution = (d: Distribution, decimals = 2): JsonObject => ({
  count: d.count,
  p50: round(d.p50, decimals),
  p99: round(d.p99, decimals),
  mean: round(d.mean, decimals),
  min: round(d.min, decimals),
  max: round(d.max, decimals),
});

/** Splits a list into pages of at most `size`. */
export function pages<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

// ---------------------------------------------------------------------------------------------
// Logs

/** A log that counts warnings and errors and keeps the first few (for a section's report). */
export interface CollectingLog extends Log {
  readonly entries: string[];
  /** Warnings and errors so far. */
  count: number;
  /** How often each info message was logged (e.g. 'chat notification deferred'). */
  readonly infoCounts: Map<string, number>;
}

export function collectingLog(limit = 10): CollectingLog {
  const entries: string[] = [];
  const infoCounts = new Map<string, number>();
  const log: CollectingLog = {
    entries,
    count: 0,
    infoCounts,
    debug() {},
    info: (message: string) => void infoCounts.set(message, (infoCounts.get(message) ?? 0) + 1),
    warn: (message: string, ...attributes: Record<string, unknown>[]) =>
      keep('warn', message, attributes),
    error: (message: string, ...attributes: Record<string, unknown>[]) =>
      keep('error', message, attributes),
  };
  function keep(level: string, message: string, attributes: Record<string, unknown>[]) {
    log.count++;
    if (entries.length < limit) entries.push(`${level}: ${message} ${JSON.stringify(attributes)}`);
  }
  return log;
}

// ---------------------------------------------------------------------------------------------
// Output

/** Formats a number with thousands separators and fixed decimals. */
export const fmt = (value: number, decimals = 0): string =>
  value.toLocaleString('en-US', {
    minimumFractionDigits: decimals,
    maximumFractionDigits: decimals,
  });

/** Renders a table with aligned columns (numbers right-aligned). */
export function formatTable(table: Table): string {
  const widths = table.headers.map((h, i) =>
    Math.max(h.length, ...table.rows.map((r) => (r[i] ?? '').length)),
  );
  const numeric = (s: string) => /^[-+]?[\d,.]+( ?(ms|KB|B|x|\/s|%))?$/.test(s);
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (numeric(c) ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [
    line(table.headers),
    widths.map((w) => '-'.repeat(w)).join('  '),
    ...table.rows.map(line),
  ].join('\n');
}

/** The pass/fail word for a goal. */
export const verdict = (pass: boolean | undefined): string =>
  pass === undefined ? 'n/a' : pass ? 'PASS' : 'FAIL';

// ---------------------------------------------------------------------------------------------
// Results file

/** The machine the figures come from. */
export function machineInfo(): { cpus: number; model: string } {
  const list = cpus();
  return { cpus: list.length, model: list[0]?.model.trim() ?? 'unknown' };
}

const isObject = (value: unknown): value is Record<string, Json> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Merges one section's figures into the results file: other sections are kept as they are,
 * this one is replaced; the header (generatedAt, node, machine) describes the latest run.
 * `order` lists section names in the order they should appear (others follow).
 */
export async function writeSectionResult(
  file: string,
  name: string,
  entry: JsonObject,
  order: readonly string[] = [],
): Promise<void> {
  let sections: Record<string, Json> = {};
  try {
    const previous: unknown = JSON.parse(await readFile(file, 'utf8'));
    if (isObject(previous) && isObject(previous.sections)) sections = { ...previous.sections };
  } catch {
    // No file yet (or an unreadable one): start over.
  }
  sections[name] = entry;
  // Registered sections in their run order, then any others as they were.
  const rank = (k: string) => (order.includes(k) ? order.indexOf(k) : order.length);
  const keys = Object.keys(sections).sort((a, b) => rank(a) - rank(b));
  const ordered = Object.fromEntries(keys.map((k) => [k, sections[k] ?? null]));
  const document: JsonObject = {
    generatedAt: new Date().toISOString(),
    node: process.version,
    machine: machineInfo(),
    sections: ordered,
  };
  await mkdir(dirname(file), { recursive: true });
  // Write then rename, so an interrupted run never leaves half a file.
  const temp = `${file}.tmp`;
  await writeFile(temp, `${JSON.stringify(document, null, 2)}\n`);
  await rename(temp, file);
}
