import WebSocket from 'ws';
import { type DroppedEvent, TaskwireClient } from '../../client/src/index.js';
import type { LocalRuntime } from '../../local/runtime';
import { startTestRuntime, tokenFor } from '../support/runtime';
import { eventually } from '../support/ws-client';

/**
 * The client library's outbox against the local runtime: frames sent while there is no
 * connection wait, at most `outboxLimit` of them; past it the oldest go, each said with a
 * `dropped` event; the rest are sent, in order, once the connection opens.
 */

let rt: LocalRuntime;
beforeAll(async () => {
  rt = await startTestRuntime({ workers: false, connectionSweepMs: 0 });
});
afterAll(async () => rt.stop());

it('keeps at most outboxLimit frames while connecting, drops the oldest and says so', async () => {
  // Prepare: a token provider that holds the first connection back until the test lets it go
  let release: () => void = () => undefined;
  const held = new Promise<void>((resolve) => (release = resolve));
  const client = new TaskwireClient({
    url: rt.wsUrl,
    token: async () => {
      await held;
      return tokenFor({ sub: 'outbox-user' });
    },
    WebSocket,
    outboxLimit: 5,
  });
  const dropped: DroppedEvent[] = [];
  client.on('dropped', (e) => dropped.push(e));
  const pongs: string[] = [];
  client.on('pong', (f) => pongs.push(String(f.requestId)));
  const connected = client.connect();

  // Act: eight pings while the connection cannot open yet
  for (let i = 1; i <= 8; i++) client.send({ action: 'ping', requestId: `p${i}` });
  const whileConnecting = { ...client.outbox };
  release();
  await connected;

  // Assess: the three oldest dropped (and named), the five newest answered, in order
  expect(whileConnecting).toEqual({ size: 5, limit: 5, dropped: 3 });
  expect(dropped.map((d) => [d.reason, (d.frame as { requestId?: string }).requestId])).toEqual([
    ['outbox_full', 'p1'],
    ['outbox_full', 'p2'],
    ['outbox_full', 'p3'],
  ]);
  await eventually(() => pongs.length === 5);
  expect(pongs).toEqual(['p4', 'p5', 'p6', 'p7', 'p8']);
  expect(client.outbox).toMatchObject({ size: 0, dropped: 3 });
  await client.close();
});
