import { SWEEP_HORIZON_MS, sweepDue, type SchedulePorts } from '../../src/deliveries/schedule';
import { systemClock } from '../../src/ports/clock';
import type { Log } from '../../src/ports/log';
import { lazyHandler } from '../shared/lazy';
import { logger } from '../shared/logger';
import { fanoutQueue, messageStore } from '../shared/messages';

/** Ports of the scheduler. */
export interface SchedulerPorts {
  readonly schedule: Pick<SchedulePorts, 'messages' | 'fanout' | 'clock'>;
  readonly log: Log;
  readonly horizonMs?: number;
}

/** Runs every minute (EventBridge): queues the scheduled messages that fall due soon. */
export function createSchedulerHandler(ports: SchedulerPorts) {
  return async (): Promise<{ queued: number }> => {
    const queued = await sweepDue(ports.schedule, ports.horizonMs ?? SWEEP_HORIZON_MS);
    if (queued > 0) ports.log.info('scheduled messages queued', { queued });
    return { queued };
  };
}

/** Lambda entry point. */
export const handler = lazyHandler(() =>
  createSchedulerHandler({
    schedule: { messages: messageStore(), fanout: fanoutQueue(), clock: systemClock },
    log: logger,
  }),
);
