import WebSocket from 'ws';
import { mapLimit } from '../harness';
import { send, serveChild } from './serve';

/**
 * A bench child process holding the WebSocket clients, so receiving frames costs the measured
 * runtime's process nothing (issue 10: honest baselines). Started by bench/processes.ts over IPC;
 * counts frames per marker (`data.marker`, else the frame's `id`) on every client and
 * reports when the last expected client has its first copy (epoch ms, sub-millisecond).
 */

type Command =
  | { op: 'open'; url: string; tokens: string[]; parallel: number }
  | { op: 'expect'; marker: string; count: number }
  | { op: 'check'; marker: string };

const epochMs = () => performance.timeOrigin + performance.now();

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

interface Client {
  readonly socket: WebSocket;
  readonly seen: Map<string, number>;
}

const clients: Client[] = [];
const expected = new Map<string, { count: number; first: number }>();
let frameBytes = 0;

function onFrame(client: Client, text: string): void {
  const frame: unknown = JSON.parse(text);
  if (!isRecord(frame)) return;
  const data = frame.data;
  const marker =
    isRecord(data) && typeof data.marker === 'string'
      ? data.marker
      : typeof frame.id === 'string'
        ? frame.id
        : undefined;
  if (marker === undefined) return;
  const n = (client.seen.get(marker) ?? 0) + 1;
  client.seen.set(marker, n);
  frameBytes = Buffer.byteLength(text);
  const e = expected.get(marker);
  if (!e || n > 1) return;
  e.first++;
  if (e.first === e.count) send({ op: 'done', marker, at: epochMs() });
}

function connect(url: string, token: string): Promise<Client> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`${url}/?token=${encodeURIComponent(token)}`);
    const client: Client = { socket, seen: new Map() };
    socket.on('message', (data: WebSocket.RawData) => onFrame(client, data.toString()));
    socket.once('open', () => resolve(client));
    socket.once('unexpected-response', (_req, res) =>
      reject(new Error(`upgrade refused: ${res.statusCode ?? '?'}`)),
    );
    socket.once('error', reject);
  });
}

async function open(url: string, tokens: readonly string[], parallel: number): Promise<void> {
  await mapLimit(tokens, parallel, async (token) => {
    clients.push(await connect(url, token));
  });
}

serveChild<Command>(async () => ({
  handle: async (command) => {
    if (command.op === 'open') {
      const t0 = performance.now();
      await open(command.url, command.tokens, command.parallel);
      send({ op: 'opened', count: clients.length, ms: performance.now() - t0 });
    } else if (command.op === 'expect') {
      expected.set(command.marker, { count: command.count, first: 0 });
      send({ op: 'expecting', marker: command.marker });
    } else if (command.op === 'check') {
      const counts = clients.map((c) => c.seen.get(command.marker) ?? 0);
      send({
        op: 'checked',
        marker: command.marker,
        missing: counts.filter((n) => n === 0).length,
        duplicated: counts.filter((n) => n > 1).length,
        frameBytes,
      });
      expected.delete(command.marker);
      for (const c of clients) c.seen.delete(command.marker);
    }
  },
  close: async () => {
    for (const c of clients) c.socket.terminate();
    clients.length = 0;
  },
}));
