import { collectGarbage } from '../harness';

/**
 * Shared by the memory section's measured children (bench/children/runtime.ts, bare-ws.ts):
 * the process's memory after forced garbage collection, in bytes.
 */

export interface MemoryReport {
  readonly heapUsed: number;
  readonly external: number;
  readonly arrayBuffers: number;
  readonly rss: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Full GCs (`--expose-gc`'s `gc`, else the harness's) with pauses between, then the figures. */
export async function memoryAfterGc(): Promise<MemoryReport> {
  const gc = (globalThis as { gc?: () => void }).gc ?? collectGarbage;
  // Several passes: finalizers and weak callbacks of one pass free more in the next.
  for (let i = 0; i < 4; i++) {
    await sleep(100);
    gc();
  }
  const m = process.memoryUsage();
  return { heapUsed: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers, rss: m.rss };
}

/** Waits (at most `timeoutMs`) until `count()` is `expected`. */
export async function waitFor(
  count: () => number | Promise<number>,
  expected: number,
  timeoutMs = 30_000,
) {
  const end = Date.now() + timeoutMs;
  while ((await count()) !== expected && Date.now() < end) await sleep(20);
  return count();
}
