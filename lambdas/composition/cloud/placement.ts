import { systemClock } from '../../../src/ports/clock';
import { TASK_REGISTRY } from '../../../src/tasks/registry';
import { requireEnv } from '../../config/config';
import { ENV } from '../../config/env';
import { readPlacementSettings } from '../../config/placement-config';
import { once } from '../../runtime/lazy';
import { buildWorkerStore } from '../dynamo';
import { documentClient } from './connections';

/**
 * Socket workers' capacity items in the connections table: one per container, shared by submit
 * (offers at record, cancel notices) and the socket-worker ports.
 */
export const workerStore = /* @__PURE__ */ once(() =>
  buildWorkerStore(
    { doc: documentClient(), clock: systemClock },
    requireEnv(process.env, ENV.connectionsTable),
  ),
);

/** The placement settings (TASKWIRE_PLACEMENT, …), read and checked once per container. */
export const placementSettings = /* @__PURE__ */ once(() =>
  readPlacementSettings(process.env, TASK_REGISTRY.names),
);
