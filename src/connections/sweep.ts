import type { Log } from '../ports/log';
import { forEachBounded } from '../push/concurrency';
import type { ConnectionStore } from './store';
import { createTokenBucket, type TokenBucket } from './token-bucket';

/** GetConnection checks per second a sweep makes by default (a sliver of the 10,000/s quota). */
export const DEFAULT_SWEEP_CHECKS_PER_SECOND = 100;

/** What the clean-up sweep needs. */
export interface SweepPorts {
  readonly store: ConnectionStore;
  /** True when API Gateway no longer knows the connection (GetConnection answers 410). */
  readonly isGone: (connectionId: string) => Promise<boolean>;
  readonly log: Log;
  /** Checks in flight at once (default 20). */
  readonly concurrency?: number;
  /**
   * GetConnection calls per second at most (default DEFAULT_SWEEP_CHECKS_PER_SECOND; 0 = no
   * limit): they share the account's `@connections` quota with every push.
   */
  readonly checksPerSecond?: number;
}

/** Options of one sweep run. */
export interface SweepOptions {
  /** Also check records whose last-seen deadline falls within this many seconds (default 0). */
  readonly withinSeconds?: number;
}

/** What a sweep found. */
export interface SweepReport {
  /** Records read past their deadline. */
  readonly checked: number;
  /** GetConnection calls made (expired records need none). */
  readonly probed: number;
  readonly removed: number;
  /** Records GetConnection found alive: their deadline moved out, so they are not read again. */
  readonly alive: number;
  readonly errors: number;
}

/**
 * Removes the records of connections that API Gateway dropped without a $disconnect (it sends
 * that event on a best-effort basis). Reads only records past their last-seen deadline (a Query
 * on the byStaleAt index, never a Scan), so its cost is O(stale), not O(connections): expired
 * records go at once; the others are checked with GetConnection at a bounded rate, and deleted
 * when it answers 410 or refreshed when the connection is alive but silent. It walks the stale
 * records again while a walk still found any (at most three walks), so none is left for the next
 * run; a record whose check failed is left for it.
 */
export async function sweepConnections(
  ports: SweepPorts,
  options: SweepOptions = {},
): Promise<SweepReport> {
  // Evenly spaced, never in bursts: a burst of checks (each a GetConnection, a Query and a
  // delete) arriving at once is what a push waiting behind it feels as latency.
  const bucket = createTokenBucket({
    perSecond: ports.checksPerSecond ?? DEFAULT_SWEEP_CHECKS_PER_SECOND,
    burst: 1,
  });
  const counts = { checked: 0, probed: 0, removed: 0, alive: 0, errors: 0 };
  // A record that failed its check this run stays stale; later passes leave it to the next run.
  const failed = new Set<string>();
  // Another pass while the last one found anything: records that went stale during a long pass
  // are due too.
  for (let pass = 0; pass < MAX_PASSES; pass++) {
    const before = counts.checked;
    await sweepPass(ports, options, bucket, counts, failed);
    if (counts.checked === before) break;
  }
  if (counts.removed > 0 || counts.errors > 0) ports.log.info('connections swept', counts);
  return counts;
}

/** Passes one sweep may make over the stale records (each a Query per shard when empty). */
const MAX_PASSES = 3;

/** One walk over the records past their deadline, skipping those that failed earlier. */
async function sweepPass(
  ports: SweepPorts,
  options: SweepOptions,
  bucket: TokenBucket,
  counts: { -readonly [K in keyof SweepReport]: number },
  failed: Set<string>,
): Promise<void> {
  const records = ports.store.staleRecords(
    options.withinSeconds ? { withinSeconds: options.withinSeconds } : {},
  );
  await forEachBounded(records, ports.concurrency ?? 20, async (record) => {
    if (failed.has(record.connectionId)) return;
    counts.checked++;
    try {
      if (!record.expired) {
        await bucket.take();
        counts.probed++;
        if (!(await ports.isGone(record.connectionId))) {
          await ports.store.touch(record.connectionId, { force: true });
          counts.alive++;
          return;
        }
      }
      await ports.store.remove(record.connectionId);
      counts.removed++;
    } catch (e) {
      counts.errors++;
      failed.add(record.connectionId);
      ports.log.warn('sweep could not check a connection', {
        connectionId: record.connectionId,
        error: e instanceof Error ? e.message : String(e),
      });
    }
  });
}
