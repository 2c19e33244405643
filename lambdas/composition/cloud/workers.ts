import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import { systemClock } from '../../../src/ports/clock';
import { ENV } from '../../config/env';
import { parseCredentials, resolveServers } from '../../config/download-servers';
import { once } from '../../runtime/lazy';
import { logger } from '../../runtime/logger';
import { buildWorkerPorts, type WorkerDeps } from '../workers';
import { chatNotifier } from './chat';
import { taskUpdates } from './connections';
import { artifactStore } from './messages';
import { submitPorts, taskConfig } from './submit';
import { taskQueue } from './tasks';

/** How long fetched download credentials are reused before Secrets Manager is asked again. */
const SECRET_MAX_AGE_SECONDS = 300;

/** The download servers with their credentials (the secret cached five minutes). */
const downloadServers = (): WorkerDeps['servers'] => {
  const servers = taskConfig().servers;
  const credentialsArn = process.env[ENV.downloadCredentialsArn];
  return async () =>
    resolveServers(
      servers,
      credentialsArn
        ? parseCredentials(
            await getSecret<string>(credentialsArn, { maxAge: SECRET_MAX_AGE_SECONDS }),
            credentialsArn,
          )
        : {},
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
