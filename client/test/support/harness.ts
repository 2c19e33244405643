import { TaskwireClient, type BaseFrame, type TaskwireClientOptions } from '../../src/index.js';
import { FakeSocket, flush } from './fake-socket.js';

/** The tips a fresh viewer of user `u` is told. */
export const TIPS = {
  'user:u': { epoch: 'eu', seq: 0 },
  'type:viewer': { epoch: 'et', seq: 0 },
  all: { epoch: 'ea', seq: 0 },
};

/** A client on fake sockets; `token` counts its calls. */
export function makeClient(options: Partial<TaskwireClientOptions> = {}) {
  let n = 0;
  const token = jest.fn(() => `t${++n}`);
  const client = new TaskwireClient({
    url: 'ws://gateway.test/',
    token,
    WebSocket: FakeSocket,
    random: () => 1,
    ...options,
  });
  const frames: BaseFrame[] = [];
  client.on('frame', (f) => frames.push(f));
  return { client, token, frames };
}

/** Connects a client: the upgrade succeeds and the register is answered with `tips`. */
export async function open(
  client: TaskwireClient,
  tips: Record<string, { epoch: string; seq: number }> = TIPS,
) {
  const opened = client.connect();
  await flush();
  const socket = FakeSocket.last;
  socket.accept();
  socket.registered(tips);
  await opened;
  return socket;
}

/** A message frame of a stream. */
export const msg = (
  stream: string,
  seq: number,
  id = `${stream}#${seq}`,
): Record<string, unknown> => ({
  type: 'message',
  id,
  stream,
  seq,
  data: { n: seq },
});

/** The (stream, seq) of the messages delivered. */
export const delivered = (frames: BaseFrame[]) =>
  frames.filter((f) => f.type === 'message').map((f) => `${String(f.stream)}:${String(f.seq)}`);
