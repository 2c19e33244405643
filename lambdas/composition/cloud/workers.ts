import { systemClock } from '../../../src/ports/clock';
import { ENV } from '../../config/env';
import { parseCredentials, resolveServers } from '../../config/download-servers';
import { once } from '../../runtime/lazy';
import { logger } from '../../runtime/logger';
import { buildFinishPorts, buildWorkerPorts, type WorkerDeps } from '../workers';
import { chatNotifier } from './chat';
import { readSecret } from './secrets';
import { taskUpdates } from './connections';
import { artifactStore } from './messages';
import { submitPorts, taskConfig } from './submit';
import { taskQueue } from './tasks';

/** The download servers with their credentials (the secret cached five minutes). */
const downloadServers = (): WorkerDeps['servers'] => {
  const servers = taskConfig().servers;
  const credentialsArn = process.env[ENV.downloadCredentialsArn];
  return async () =>
    resolveServers(
      servers,
      credentialsArn ? parseCredentials(await readSecret(credentialsArn), credentialsArn) : {},
    );
};

/** The ports of the task worker and the dead-letter handler. */
export const workerPorts = /* @__PURE__ */ once(() =>
  buildWorkerPorts({
    submit: submitPorts(),
    updates: taskUpdates(),
    artifacts: artifactStore(),
    servers: downloadServers(),
    chat: chatNotifier(),
    queue: taskQueue(),
    fetch,
    clock: systemClock,
    log: logger,
  }),
);

/**
 * The dead-letter handler's ports: finishing tasks without running them, so no artifact store
 * and no download credentials (the function bundles neither S3 nor their secret's reader).
 */
export const deadLetterPorts = /* @__PURE__ */ once(() =>
  buildFinishPorts({
    submit: submitPorts(),
    updates: taskUpdates(),
    chat: chatNotifier(),
    queue: taskQueue(),
    log: logger,
  }),
);
