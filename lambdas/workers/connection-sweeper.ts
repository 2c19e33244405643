import type { Context } from 'aws-lambda';
import { sweepConnections, type SweepPorts, type SweepReport } from '../../src/connections/sweep';
import { connectionStore, pusher } from '../composition/cloud/connections';
import { lazyHandler } from '../runtime/lazy';
import { invocationLog, logger } from '../runtime/logger';

/**
 * Runs on a schedule (EventBridge): removes the records of connections API Gateway dropped
 * without a $disconnect, so pushes, presence and stats stop counting them.
 */
export function createConnectionSweeperHandler(ports: SweepPorts) {
  return async (_event?: unknown, context?: Context): Promise<SweepReport> =>
    sweepConnections({ ...ports, log: invocationLog(ports.log, context, {}) });
}

/** Lambda entry point. */
export const handler = lazyHandler(() =>
  createConnectionSweeperHandler({
    store: connectionStore(),
    isGone: (id) => pusher().isGone(id),
    log: logger,
  }),
);
