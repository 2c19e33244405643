import { sweepConnections, type SweepPorts, type SweepReport } from '../../src/connections/sweep';
import { connectionStore, pusher } from '../shared/aws';
import { lazyHandler } from '../shared/lazy';
import { logger } from '../shared/logger';

/**
 * Runs on a schedule (EventBridge): removes the records of connections API Gateway dropped
 * without a $disconnect, so pushes, presence and stats stop counting them.
 */
export function createConnectionSweeperHandler(ports: SweepPorts) {
  return async (): Promise<SweepReport> => sweepConnections(ports);
}

/** Lambda entry point. */
export const handler = lazyHandler(() =>
  createConnectionSweeperHandler({
    store: connectionStore(),
    isGone: (id) => pusher().isGone(id),
    log: logger,
  }),
);
