import type { Log } from '../src/ports/log';
import type { LocalHandler } from './lambda-types';
import { startWsGateway, type WsGateway } from './ws-gateway';
import { answerOf, forwardingLog, hasOp, PendingCalls, sendToParent } from './ipc';
import { AUTHORIZER_ROUTE, type FromGateway, type ToGateway } from './ws-gateway-ipc';

/**
 * The local WebSocket gateway as a process of its own (forked by local/ws-gateway-process.ts):
 * the sockets, the handshake and the `@connections` endpoint run here, on their own core, as
 * API Gateway is a service apart from the functions it invokes. Each authorizer, `$connect`,
 * message and `$disconnect` invocation goes to the runtime over IPC and its answer comes back;
 * the gateway's own logs go to the runtime's log. The process ends with the runtime's channel.
 */

// The runtime went away while a message was on its way: the 'disconnect' handler ends the process.
const send = (message: FromGateway): void => sendToParent(message);

const errorText = (e: unknown) => (e instanceof Error ? e.message : String(e));

const log: Log = forwardingLog(send);

/** Invocations and throttle questions waiting for the runtime's answer (one id counter). */
const calls = new PendingCalls();
let gateway: WsGateway | undefined;

/** A handler that runs in the runtime: the event goes over, the answer (or its error) back. */
const remote =
  (route: string): LocalHandler =>
  (event) =>
    calls.call((id) => send({ op: 'invoke', id, route, event }));

async function onMessage(m: ToGateway): Promise<void> {
  switch (m.op) {
    case 'start': {
      try {
        gateway = await startWsGateway({ ...m.options, log });
        send({ op: 'ready', url: gateway.url, managementEndpoint: gateway.managementEndpoint });
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        send({ op: 'failed', message: errorText(e), ...(code ? { code } : {}) });
        process.exitCode = 1;
        process.disconnect?.();
      }
      return;
    }
    case 'routes':
      gateway?.setRoutes({
        authorizer: remote(AUTHORIZER_ROUTE),
        routes: Object.fromEntries(m.routes.map((r) => [r, remote(r)])),
      });
      return;
    case 'throttle':
      gateway?.setThrottle(
        m.on
          ? async (connectionId) =>
              (await calls.call((id) => send({ op: 'throttled', id, connectionId }))) === true
          : undefined,
      );
      return;
    case 'answer':
      calls.settle(m);
      return;
    case 'call': {
      const gw = gateway;
      const answer = await answerOf(m.id, async () => {
        if (!gw) throw new Error('the gateway has not started');
        if (m.method === 'connectionIds') return gw.connectionIds();
        if (m.method === 'quotaRefusals') return gw.quotaRefusals();
        if (m.method === 'drop') return gw.dropWithoutDisconnect(m.connectionId);
        await gw.close();
        return undefined;
      });
      send(answer);
      if (m.method === 'close') process.disconnect?.();
      return;
    }
  }
}

// The runtime stopped or died: the sockets go with it (a client sees its connection drop).
process.on('disconnect', () => process.exit());
process.on('message', (m: unknown) => {
  if (!hasOp(m)) return;
  onMessage(m as ToGateway).catch((e: unknown) =>
    log.error('gateway process message failed', { error: errorText(e) }),
  );
});
