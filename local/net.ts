import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Log } from '../src/ports/log';

/** Listens on host:port (0 = a free port) and resolves with the port taken. */
export async function listen(server: Server, host: string, port = 0): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return (server.address() as AddressInfo).port;
}

/** Closes a server and every connection it still holds (keep-alive sockets included). */
export function closeServer(server: Server): Promise<void> {
  return new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

const errorText = (e: unknown) => (e instanceof Error ? e.message : String(e));
const errorCode = (e: unknown) =>
  e instanceof Error && 'code' in e && typeof e.code === 'string' ? e.code : undefined;

/** The answer Node's own parser gives a request it cannot read (see `clientError`). */
function clientErrorStatus(code: string | undefined): { status: number; text: string } {
  if (code === 'HPE_HEADER_OVERFLOW')
    return { status: 431, text: 'Request Header Fields Too Large' };
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') return { status: 408, text: 'Request Timeout' };
  return { status: 400, text: 'Bad Request' };
}

/**
 * Gives a local server the error listeners it needs so that nothing a client sends can end the
 * process: server errors after listening are logged, and a request Node cannot parse (garbage,
 * huge headers, a reset mid-headers) is answered 400/431/408 and its socket closed.
 */
export function guardServer(server: Server, log: Log, name: string): void {
  server.on('error', (e) => log.error(`${name} server error`, { error: errorText(e) }));
  server.on('clientError', (e: Error, socket: Duplex) => {
    const code = errorCode(e);
    // As Node's default: no raw answer over a response already under way.
    const inFlight = Reflect.get(socket, '_httpMessage') as ServerResponse | null | undefined;
    if (code === 'ECONNRESET' || !socket.writable || inFlight?.headersSent) {
      socket.destroy();
      return;
    }
    const { status, text } = clientErrorStatus(code);
    const body = JSON.stringify({ message: text });
    socket.end(
      `HTTP/1.1 ${status} ${text}\r\nContent-Type: application/json\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      () => socket.destroy(),
    );
  });
}

/**
 * Listens for errors on a request and its response: a client that resets mid-body or goes away
 * before the answer makes them emit `error`, which must not reach the process.
 */
export function guardExchange(req: IncomingMessage, res: ServerResponse, log: Log): void {
  const onError = (e: unknown) => log.debug('client went away', { error: errorText(e) });
  req.on('error', onError);
  res.on('error', onError);
}

/** A request body read up to a limit: the bytes kept, and the full size the client sent. */
export interface ReadBody {
  readonly body: Buffer;
  readonly size: number;
  readonly tooLarge: boolean;
}

/**
 * Reads a request body, keeping at most `limit` bytes (the rest is drained so the answer can be
 * written). Rejects when the client aborts before the body ends.
 */
export async function readBody(req: IncomingMessage, limit: number): Promise<ReadBody> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = chunk as Buffer;
    size += buf.length;
    if (size <= limit) chunks.push(buf);
  }
  if (!req.complete) throw new Error('request aborted before its body ended');
  return { body: Buffer.concat(chunks), size, tooLarge: size > limit };
}

/** The path and query of a request target, still percent-encoded. */
export interface RequestTarget {
  readonly path: string;
  readonly query: string;
}

/**
 * Splits a request target into path and query without letting a client-chosen target throw:
 * `//`, `/%zz` or an absolute-form URL are all read; undefined only when it cannot be a URL.
 * The path keeps WHATWG URL normalisation (dot segments, `\`) relative to this server only, so
 * `//x` stays a path and never becomes a host.
 */
export function requestTarget(url: string | undefined): RequestTarget | undefined {
  const raw = url ?? '/';
  let parsed: URL;
  try {
    parsed = raw.startsWith('/') ? new URL(`http://local${raw}`) : new URL(raw);
  } catch {
    return undefined;
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return undefined;
  return { path: parsed.pathname, query: parsed.search.slice(1) };
}

/** `decodeURIComponent` that answers undefined for malformed percent-encoding instead of throwing. */
export function safeDecode(text: string): string | undefined {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}
