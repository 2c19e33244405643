import WebSocket from 'ws';
import { mapLimit } from '../harness';
import { send, serveChild } from './serve';

/**
 * The memory section's WebSocket clients, in a process of their own so they cost the measured
 * process nothing. Every client registers (`{"action":"register","clientType":"viewer"}`) and
 * waits for its `registered` frame, so the server holds a registered connection.
 *
 * - `open`: opens one client per token, `parallel` at a time, and keeps them open (idle).
 * - `closeAll`: closes the open clients (close handshake) and waits until they are closed.
 * - `soak`: `count` connection lifetimes (connect, register, close), `wave` at a time in
 *   waves, stopping early once `budgetMs` has passed; replies how many completed and failed.
 */

type Command =
  | { op: 'open'; url: string; tokens: string[]; parallel: number }
  | { op: 'closeAll' }
  | { op: 'soak'; url: string; tokens: string[]; count: number; wave: number; budgetMs: number };

const REGISTER = JSON.stringify({ action: 'register', clientType: 'viewer' });
const LIFETIME_TIMEOUT_MS = 60_000;

const open: WebSocket[] = [];

/** Connects, registers and resolves with the socket once `registered` has arrived. */
function connectRegistered(url: string, token: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`${url}/?token=${encodeURIComponent(token)}`);
    const timer = setTimeout(() => {
      socket.terminate();
      reject(new Error('no registered frame in time'));
    }, LIFETIME_TIMEOUT_MS);
    const fail = (e: Error) => {
      clearTimeout(timer);
      socket.terminate();
      reject(e);
    };
    socket.once('open', () => socket.send(REGISTER));
    socket.on('message', (data: WebSocket.RawData) => {
      let type: unknown;
      try {
        type = (JSON.parse(String(data)) as { type?: unknown }).type;
      } catch {
        // Not JSON: not the answer.
      }
      if (type === 'registered') {
        clearTimeout(timer);
        socket.removeAllListeners('message');
        resolve(socket);
      } else if (type === 'error') {
        fail(new Error(`register answered ${String(data)}`));
      }
    });
    socket.once('unexpected-response', (_req, res) =>
      fail(new Error(`upgrade refused: ${res.statusCode ?? '?'}`)),
    );
    socket.once('error', fail);
  });
}

/** Closes with the close handshake and resolves once the socket is closed. */
function closeSocket(socket: WebSocket): Promise<void> {
  if (socket.readyState === WebSocket.CLOSED) return Promise.resolve();
  return new Promise((resolve) => {
    socket.once('close', () => resolve());
    socket.close(1000, 'bye');
  });
}

async function openIdle(url: string, tokens: readonly string[], parallel: number) {
  await mapLimit(tokens, parallel, async (token) => {
    open.push(await connectRegistered(url, token));
  });
}

async function soak(command: Extract<Command, { op: 'soak' }>) {
  const end = performance.now() + command.budgetMs;
  let done = 0;
  let failed = 0;
  let firstError: string | undefined;
  while (done + failed < command.count && performance.now() < end) {
    const size = Math.min(command.wave, command.count - done - failed);
    const results = await Promise.allSettled(
      Array.from({ length: size }, async (_, i) => {
        const token = command.tokens[(done + failed + i) % command.tokens.length] ?? '';
        await closeSocket(await connectRegistered(command.url, token));
      }),
    );
    for (const r of results) {
      if (r.status === 'fulfilled') done++;
      else {
        failed++;
        firstError ??= r.reason instanceof Error ? r.reason.message : String(r.reason);
      }
    }
  }
  return { done, failed, ...(firstError !== undefined ? { firstError } : {}) };
}

serveChild<Command>(async () => ({
  handle: async (command) => {
    const t0 = performance.now();
    if (command.op === 'open') {
      await openIdle(command.url, command.tokens, command.parallel);
      send({ op: 'opened', count: open.length, ms: performance.now() - t0 });
    } else if (command.op === 'closeAll') {
      await Promise.all(open.splice(0).map(closeSocket));
      send({ op: 'closedAll', ms: performance.now() - t0 });
    } else {
      send({ op: 'soaked', ...(await soak(command)), ms: performance.now() - t0 });
    }
  },
  close: async () => {
    for (const s of open.splice(0)) s.terminate();
  },
}));
