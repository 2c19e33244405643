import type { ArtifactStore } from '../../../src/artifacts/artifact-store';
import type { Log } from '../../../src/ports/log';
import type { SocketWorkerPorts } from '../../../src/tasks/socket/socket-workers';
import { once } from '../../runtime/lazy';
import { artifactStore } from './messages';
import { buildCloudSocketWorkerPorts } from './socket-workers';

/** The artifact bucket, opened only when a result is large enough to need it. */
const lazyArtifacts: ArtifactStore = {
  put: (a) => artifactStore().put(a),
  get: (k) => artifactStore().get(k),
  link: (k, ttl) => artifactStore().link(k, ttl),
};

const ports = /* @__PURE__ */ once(() => buildCloudSocketWorkerPorts(lazyArtifacts));

/**
 * The socket-worker ports of `wsMessage`, the one function that answers a worker's `result`
 * (a result over the inline cap is stored in the artifact bucket), with the invocation's log.
 */
export const socketWorkerAnswerPorts = (log: Log): SocketWorkerPorts => ({ ...ports(), log });
