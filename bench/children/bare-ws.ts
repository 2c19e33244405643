import { WebSocketServer } from 'ws';
import { memoryAfterGc, waitFor } from './memory-report';
import { send, serveChild } from './serve';

/**
 * The memory section's baseline in a process of its own: a plain `ws` WebSocketServer that
 * accepts every connection and answers a register-like JSON frame with one small JSON frame,
 * nothing else. Forked with `--expose-gc`; replies `ready` with its URL; `measure` waits until
 * it holds `live` connections, collects garbage and replies the memory figures.
 */

type Command = { op: 'measure'; live: number };

serveChild<Command>(async () => {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve, reject) => {
    wss.once('listening', resolve);
    wss.once('error', reject);
  });
  wss.on('connection', (socket) => {
    socket.on('error', () => undefined);
    socket.on('message', (data) => {
      let action: unknown;
      try {
        action = (JSON.parse(String(data)) as { action?: unknown }).action;
      } catch {
        // Not JSON: no answer.
      }
      if (action === 'register') socket.send(JSON.stringify({ type: 'registered' }));
    });
  });
  const address = wss.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    ready: { url: `ws://127.0.0.1:${port}` },
    handle: async (command) => {
      const live = await waitFor(() => wss.clients.size, command.live);
      send({ op: 'measured', ...(await memoryAfterGc()), live });
    },
    close: async () => {
      for (const c of wss.clients) c.terminate();
      await new Promise((resolve) => wss.close(resolve));
    },
  };
});
