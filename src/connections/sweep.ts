import type { Log } from '../ports/log';
import { forEachBounded } from '../push/concurrency';
import type { ConnectionStore } from './store';

/** What the clean-up sweep needs. */
export interface SweepPorts {
  readonly store: ConnectionStore;
  /** True when API Gateway no longer knows the connection (GetConnection answers 410). */
  readonly isGone: (connectionId: string) => Promise<boolean>;
  readonly log: Log;
  readonly concurrency?: number;
}

/** What a sweep found. */
export interface SweepReport {
  readonly checked: number;
  readonly removed: number;
  readonly errors: number;
}

/**
 * Removes the records of connections that API Gateway dropped without a $disconnect (it sends
 * that event on a best-effort basis): expired records at once, live-looking ones after
 * GetConnection answers 410. Reads with Query pages over the broadcast shards, never a Scan.
 */
export async function sweepConnections(ports: SweepPorts): Promise<SweepReport> {
  let checked = 0;
  let removed = 0;
  let errors = 0;
  await forEachBounded(ports.store.everyRecord(), ports.concurrency ?? 20, async (record) => {
    checked++;
    try {
      if (record.expired || (await ports.isGone(record.connectionId))) {
        await ports.store.remove(record.connectionId);
        removed++;
      }
    } catch (e) {
      errors++;
      ports.log.warn('sweep could not check a connection', {
        connectionId: record.connectionId,
        error: e instanceof Error ? e.message : String(e),
      });
    }
  });
  if (removed > 0 || errors > 0) ports.log.info('connections swept', { checked, removed, errors });
  return { checked, removed, errors };
}
