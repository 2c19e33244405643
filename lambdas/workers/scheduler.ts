import type { Context } from 'aws-lambda';
import {
  recoverStuck,
  STUCK_AFTER,
  type StuckAfter,
  SWEEP_HORIZON_MS,
  sweepDue,
  type SchedulePorts,
  type UnsentScheduledStore,
} from '../../src/deliveries/schedule';
import type { Log } from '../../src/ports/log';
import { lazyHandler } from '../runtime/lazy';
import { invocationLog, logger } from '../runtime/logger';
import { messageStore, schedulePorts } from '../composition/cloud/messages';

/** How the scheduler recovers handed-on messages that will never be sent. */
export interface SchedulerRecovery {
  readonly store: UnsentScheduledStore;
  /** When a queued or sending message counts as stuck (default {@link STUCK_AFTER}). */
  readonly stuck?: StuckAfter;
  /**
   * Recover at most this often (default 0: every run, as the cloud's runs are a minute apart;
   * the local sweep runs several times a second).
   */
  readonly everyMs?: number;
}

/** Ports of the scheduler. */
export interface SchedulerPorts {
  readonly schedule: Pick<SchedulePorts, 'messages' | 'fanout' | 'clock'>;
  readonly log: Log;
  readonly horizonMs?: number;
  /** Also queue stuck messages again (none when absent). */
  readonly recovery?: SchedulerRecovery;
}

/**
 * Runs every minute (EventBridge): queues the scheduled messages that fall due soon, and queues
 * again those whose fan-out message or sender was lost, so each is sent.
 */
export function createSchedulerHandler(ports: SchedulerPorts) {
  const horizonMs = ports.horizonMs ?? SWEEP_HORIZON_MS;
  // Kept across invocations of this environment, like any module state in Lambda.
  let lastRecovery = Number.NEGATIVE_INFINITY;
  return async (
    _event?: unknown,
    context?: Context,
  ): Promise<{ queued: number; recovered: number }> => {
    const log = invocationLog(ports.log, context, {});
    const queued = await sweepDue(ports.schedule, horizonMs);
    let recovered = 0;
    const recovery = ports.recovery;
    const now = ports.schedule.clock.now().getTime();
    if (recovery && now - lastRecovery >= (recovery.everyMs ?? 0)) {
      lastRecovery = now;
      recovered = await recoverStuck(
        { messages: recovery.store, fanout: ports.schedule.fanout, clock: ports.schedule.clock },
        recovery.stuck ?? STUCK_AFTER,
        horizonMs,
      );
    }
    if (queued > 0) log.info('scheduled messages queued', { queued });
    if (recovered > 0) log.warn('stuck scheduled messages queued again', { recovered });
    return { queued, recovered };
  };
}

/** Lambda entry point. */
export const handler = lazyHandler(() =>
  createSchedulerHandler({
    schedule: schedulePorts(),
    log: logger,
    recovery: { store: messageStore() },
  }),
);
