import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';

/** Header and query maps of an upgrade request, as API Gateway puts them in the event. */
export interface RequestMaps {
  readonly headers: Record<string, string>;
  readonly multiValueHeaders: Record<string, string[]>;
  readonly queryStringParameters: Record<string, string> | null;
  readonly multiValueQueryStringParameters: Record<string, string[]> | null;
}

/**
 * Builds the event's maps from what the client sent. Through Maps and `Object.fromEntries`, so a
 * header or parameter named `__proto__` or `constructor` is just an own key like any other.
 */
export function requestMaps(req: IncomingMessage): RequestMaps {
  const headers = new Map<string, string[]>();
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    const k = req.rawHeaders[i] ?? '';
    const list = headers.get(k) ?? [];
    list.push(req.rawHeaders[i + 1] ?? '');
    headers.set(k, list);
  }
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  // URLSearchParams never throws: malformed percent-encoding is kept as it came.
  const params = new URLSearchParams(q < 0 ? '' : url.slice(q + 1));
  const query = new Map<string, string[]>();
  for (const [k, v] of params) {
    const list = query.get(k) ?? [];
    list.push(v);
    query.set(k, list);
  }
  return {
    headers: Object.fromEntries([...headers].map(([k, v]) => [k, v.join(',')])),
    multiValueHeaders: Object.fromEntries(headers),
    // API Gateway's single-value map keeps the last value of a repeated parameter.
    queryStringParameters: query.size
      ? Object.fromEntries([...query].map(([k, v]) => [k, v[v.length - 1] ?? '']))
      : null,
    multiValueQueryStringParameters: query.size ? Object.fromEntries(query) : null,
  };
}

const KEY = /^[+/0-9A-Za-z]{22}==$/;

/**
 * The handshake checks `ws` makes, done before the authorizer and $connect run, so a request
 * that can never become a WebSocket is refused without invoking anything.
 * @returns the status and message to refuse with, or undefined when the handshake is sound.
 */
export function handshakeProblem(
  req: IncomingMessage,
): { status: number; message: string } | undefined {
  if (req.method !== 'GET') return { status: 405, message: 'Method Not Allowed' };
  if (req.headers.upgrade?.toLowerCase() !== 'websocket') {
    return { status: 400, message: 'Bad Request' };
  }
  const key = req.headers['sec-websocket-key'];
  if (key === undefined || !KEY.test(key)) return { status: 400, message: 'Bad Request' };
  const version = req.headers['sec-websocket-version'];
  if (version !== '13' && version !== '8') return { status: 400, message: 'Bad Request' };
  return undefined;
}

const REASONS: Readonly<Record<number, string>> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  405: 'Method Not Allowed',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/**
 * Answers an upgrade with an HTTP error and closes the socket once the answer is written; a
 * socket the client already closed or reset is just destroyed.
 */
export function rejectUpgrade(socket: Duplex, status: number, message: string): void {
  if (socket.destroyed || !socket.writable) {
    socket.destroy();
    return;
  }
  const body = JSON.stringify({ message });
  const reason = Object.hasOwn(REASONS, status) ? REASONS[status] : message;
  socket.end(
    `HTTP/1.1 ${status} ${reason ?? 'Error'}\r\nContent-Type: application/json\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    () => socket.destroy(),
  );
}
