import { type ChildProcess, fork } from 'node:child_process';
import { join } from 'node:path';
import { newLocalCredentials } from './clients';
import type { LocalHandler } from './lambda-types';
import {
  postRateFromEnv,
  type WsGateway,
  type WsGatewayOptions,
  type WsRoutes,
} from './ws-gateway';
import {
  answerOf,
  exitText,
  hasOp,
  PendingCalls,
  type PlacementMode,
  placementFromEnv,
} from './ipc';
import {
  AUTHORIZER_ROUTE,
  type FromGateway,
  type GatewayCall,
  type ToGateway,
} from './ws-gateway-ipc';

/** Where the local WebSocket gateway runs: in the runtime's process, or in one of its own. */
export type GatewayMode = PlacementMode;

/** `TASKWIRE_WS_GATEWAY`: `inline` or `process`, else the fallback when unset. */
export const gatewayModeFromEnv = (
  fallback: GatewayMode,
  raw = process.env.TASKWIRE_WS_GATEWAY,
): GatewayMode => placementFromEnv('TASKWIRE_WS_GATEWAY', fallback, raw);

/** Options of {@link startWsGatewayProcess}. */
export interface WsGatewayProcessOptions extends WsGatewayOptions {
  /**
   * Called once if the gateway process ends without being closed (it crashed or was killed):
   * every connection is gone with it. Default: the error is logged.
   */
  readonly onExit?: (error: Error) => void;
  /** How long close() waits for the process to finish before it is killed (default 10 s). */
  readonly closeTimeoutMs?: number;
}

/** A {@link WsGateway} in a process of its own, with that process's id. */
export interface WsGatewayProcess extends WsGateway {
  readonly pid: number;
}

const errorText = (e: unknown) => (e instanceof Error ? e.message : String(e));

/** An error carrying a system error's code (EADDRINUSE) across the process boundary. */
const errorWithCode = (message: string, code: string | undefined): NodeJS.ErrnoException =>
  Object.assign(new Error(message), code ? { code } : {});

/**
 * Starts the local WebSocket gateway (local/ws-gateway.ts) in a child process of its own
 * (local/ws-gateway-child.ts), as API Gateway is a service apart from the functions: the
 * sockets, the handshake, SigV4 checks and frame writes of `@connections` then cost the
 * runtime's event loop nothing, so a fan-out's posts compete only with the handlers. Events
 * and messages come here as invocations of the routes' handlers; the answers go back.
 * The same {@link WsGateway} as startWsGateway's; a throttle hook is asked over IPC per post.
 */
export async function startWsGatewayProcess(
  options: WsGatewayProcessOptions,
): Promise<WsGatewayProcess> {
  const { log, onExit, closeTimeoutMs, ...gatewayOptions } = options;
  const credentials = options.credentials ?? newLocalCredentials();
  // Read here, so a bad setting fails the runtime's start with its own message.
  const postRateLimit = options.postRateLimit ?? postRateFromEnv();
  const env = { ...process.env };
  delete env.TASKWIRE_WS_POST_RPS;
  const child: ChildProcess = fork(join(__dirname, 'ws-gateway-child.ts'), [], {
    execArgv: ['--import', 'tsx'],
    env,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error('the WebSocket gateway process did not start');

  const calls = new PendingCalls();
  let routes: { authorizer?: LocalHandler; handlers: Map<string, LocalHandler> } = {
    handlers: new Map(),
  };
  let throttle: ((connectionId: string) => boolean | Promise<boolean>) | undefined;
  let closing = false;
  let ready: ((m: { url: string; managementEndpoint: string }) => void) | undefined;
  let refused: ((e: Error) => void) | undefined;

  const send = (message: ToGateway): void => {
    if (!child.connected) return;
    child.send(message, (e) => {
      if (e) log.debug('gateway process message not sent', { error: e.message });
    });
  };

  async function invoke(route: string, event: unknown): Promise<unknown> {
    const handler = route === AUTHORIZER_ROUTE ? routes.authorizer : routes.handlers.get(route);
    if (!handler) throw new Error(`no handler for route ${route}`);
    return handler(event);
  }

  child.on('message', (m: unknown) => {
    if (!hasOp(m)) return;
    const message = m as FromGateway;
    switch (message.op) {
      case 'ready':
        return ready?.(message);
      case 'failed':
        // With its code (EADDRINUSE): `npm start` tells a port in use from other failures.
        return refused?.(errorWithCode(message.message, message.code));
      case 'log':
        return log[message.level](message.message, ...message.attributes);
      case 'answer':
        return calls.settle(message);
      case 'invoke':
        void answerOf(message.id, () => invoke(message.route, message.event)).then(send);
        return;
      case 'throttled': {
        const hook = throttle;
        void answerOf(message.id, async () => (hook ? hook(message.connectionId) : false)).then(
          send,
        );
        return;
      }
    }
  });
  // The IPC channel's own errors (the child died mid-send) are reported by 'exit' below.
  child.on('error', (e) => log.debug('gateway process error', { error: e.message }));
  const exited = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      const e = new Error(`the WebSocket gateway process ended (${exitText(code, signal)})`);
      calls.fail(e);
      refused?.(e);
      resolve();
      if (closing) return;
      if (onExit) onExit(e);
      else log.error(e.message, { pid });
    });
  });

  const started = new Promise<{ url: string; managementEndpoint: string }>((resolve, reject) => {
    ready = resolve;
    refused = reject;
  });
  send({
    op: 'start',
    options: {
      ...gatewayOptions,
      host: gatewayOptions.host ?? '127.0.0.1',
      port: gatewayOptions.port ?? 0,
      ...(postRateLimit !== undefined ? { postRateLimit } : {}),
      credentials: { ...credentials },
    },
  });
  let endpoints: { url: string; managementEndpoint: string };
  try {
    endpoints = await started;
  } catch (e) {
    closing = true;
    child.kill('SIGKILL');
    await exited;
    throw errorWithCode(
      `the WebSocket gateway did not start: ${errorText(e)}`,
      (e as NodeJS.ErrnoException).code,
    );
  }
  ready = undefined;
  refused = undefined;

  const call = (message: GatewayCall) =>
    calls.call((id) => {
      if (!child.connected) throw new Error('the WebSocket gateway process has ended');
      send({ op: 'call', id, ...message });
    });

  return {
    pid,
    url: endpoints.url,
    managementEndpoint: endpoints.managementEndpoint,
    credentials,
    setRoutes: (r: WsRoutes) => {
      // Own entries only: a Map, so no key of Object.prototype can ever be a route.
      routes = { authorizer: r.authorizer, handlers: new Map(Object.entries(r.routes)) };
      send({ op: 'routes', routes: [...routes.handlers.keys()] });
    },
    connectionIds: async () => {
      const ids = await call({ method: 'connectionIds' });
      return Array.isArray(ids) ? ids.filter((id): id is string => typeof id === 'string') : [];
    },
    dropWithoutDisconnect: async (connectionId) => {
      await call({ method: 'drop', connectionId });
    },
    quotaRefusals: async () => Number(await call({ method: 'quotaRefusals' })),
    setThrottle: (t) => {
      throttle = t;
      send({ op: 'throttle', on: t !== undefined });
    },
    close: async () => {
      if (closing) return exited;
      closing = true;
      const timeout = setTimeout(() => child.kill('SIGKILL'), closeTimeoutMs ?? 10_000);
      try {
        // The child closes its sockets, waits for the invocations under way (still answered
        // here), answers, and leaves.
        await call({ method: 'close' }).catch((e: unknown) =>
          log.debug('gateway process close', { error: errorText(e) }),
        );
        await exited;
      } finally {
        clearTimeout(timeout);
      }
    },
  };
}
