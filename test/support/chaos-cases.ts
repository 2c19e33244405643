import { request as httpRequest, type Agent } from 'node:http';
import { Rng } from './prng';
import {
  ANSWER_BOUND_MS,
  closePayload,
  encodeFrame,
  type Endpoint,
  type FrameSpec,
  httpStatus,
  parseServerFrames,
  RawWebSocket,
  rawExchange,
  type RawStep,
  upgradeRequest,
} from './raw-socket';

/** What the cases need from the runtime under test. */
export interface ChaosTarget {
  readonly ws: Endpoint;
  readonly http: Endpoint;
  /** A valid client token (round-robin over a pool of users). */
  token(): string;
  readonly adminToken: string;
  /** Signs a `@connections` request with the runtime's credentials (headers to send). */
  signManagement(method: string, path: string, body: Buffer): Promise<Record<string, string>>;
  readonly agent: Agent;
}

/** What one case saw: every HTTP status and every problem (a failed expectation). */
export interface CaseOutcome {
  readonly kind: string;
  readonly statuses: number[];
  readonly problems: string[];
}

const BAD_PERCENT = ['%', '%E0%A4%A', '%zz', '%C3', '%%', '%ED%A0%80', '%u0041', '%0'];
const PROTO_WORDS = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty'];
const ACTIONS = [
  'ping',
  'dance',
  '$default',
  '$connect',
  '$disconnect',
  'register',
  'valueOf',
  ...PROTO_WORDS,
];

/** True for the close codes a client may send (RFC 6455 §7.4, as `ws` checks them). */
export const isValidCloseCode = (code: number) =>
  (code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006) ||
  (code >= 3000 && code <= 4999);

/** A random path segment, often with malformed percent-encoding or an Object.prototype name. */
function segment(rng: Rng): string {
  switch (rng.int(0, 6)) {
    case 0:
      return rng.pick(BAD_PERCENT);
    case 1:
      return rng.pick(PROTO_WORDS);
    case 2:
      return encodeURIComponent(rng.text(12));
    case 3:
      return rng.pick(['..', '.', '', '%2e%2e', '%2F', '@connections']);
    case 4:
      return `${encodeURIComponent(rng.text(4))}${rng.pick(BAD_PERCENT)}`;
    default:
      return rng.pick(['tasks', 'users', 'groups', 'messages', 'presence', 'healthz', 'stats']);
  }
}

/** A random request path, e.g. `/users/%/presence`. */
export function fuzzPath(rng: Rng): string {
  const parts = Array.from({ length: rng.int(0, 4) }, () => segment(rng));
  const query = rng.bool(0.3)
    ? `?${rng.pick([...PROTO_WORDS, 'token', 'a'])}=${rng.pick([...BAD_PERCENT, 'x', ''])}`
    : '';
  return `/${parts.join('/')}${query}`;
}

/** A valid WebSocket frame a well-behaved client might send (JSON text, binary, ping, pong). */
function validFrames(rng: Rng): Buffer[] {
  const action = rng.pick(ACTIONS);
  switch (rng.int(0, 7)) {
    case 0:
      return [encodeFrame({ opcode: 2, payload: rng.bytes(rng.int(0, 300)) })];
    case 1:
      return [encodeFrame({ opcode: 9, payload: rng.bytes(rng.int(0, 125)) })];
    case 2:
      return [encodeFrame({ opcode: 10, payload: rng.bytes(rng.int(0, 20)) })];
    case 3:
      return [encodeFrame({ opcode: 1, payload: rng.text(200) })];
    case 4: {
      // A fragmented text message with a ping between its fragments (allowed by RFC 6455).
      const text = JSON.stringify({ action, requestId: 'frag' });
      const cut = rng.int(1, text.length - 1);
      return [
        encodeFrame({ opcode: 1, fin: false, payload: text.slice(0, cut) }),
        encodeFrame({ opcode: 9, payload: 'p' }),
        encodeFrame({ opcode: 0, payload: text.slice(cut) }),
      ];
    }
    case 5:
      // Nested deep enough to matter for recursive code, small enough for one frame.
      return [
        encodeFrame({
          opcode: 1,
          payload: `{"action":"${action}","x":${'['.repeat(rng.int(100, 5000))}`,
        }),
      ];
    default:
      return [
        encodeFrame({
          opcode: 1,
          payload: JSON.stringify({ action, requestId: 'r', extra: rng.text(20) }),
        }),
      ];
  }
}

/** The last frame of a ws case and the close code the server must answer it with. */
interface Terminal {
  readonly name: string;
  readonly bytes: Buffer;
  /** The close code the server must send; undefined when any outcome is fine. */
  readonly expect?: number;
  readonly thenReset?: boolean;
}

function terminal(rng: Rng): Terminal {
  const text = (payload: Buffer | string, more: Partial<FrameSpec> = {}) =>
    encodeFrame({ opcode: 1, payload, ...more });
  switch (rng.int(0, 13)) {
    case 0: {
      const code = rng.pick([1000, 1001, 1003, 1007, 1008, 1011, 3000, 4000, 4999]);
      return {
        name: `close ${code}`,
        bytes: encodeFrame({ opcode: 8, payload: closePayload(code, rng.text(10)) }),
        expect: code,
      };
    }
    case 1: {
      let code = rng.int(0, 65535);
      if (isValidCloseCode(code)) code = rng.pick([0, 999, 1004, 1005, 1006, 1015, 2999, 5000]);
      return {
        name: `close ${code}`,
        bytes: encodeFrame({ opcode: 8, payload: closePayload(code) }),
        expect: 1002,
      };
    }
    case 2:
      return {
        name: 'oversize',
        bytes: text('a'.repeat(GATEWAY_MAX + rng.int(1, 70_000))),
        expect: 1009,
      };
    case 3:
      return {
        name: 'invalid utf-8',
        bytes: text(
          Buffer.concat([
            Buffer.from('{"a":"'),
            rng.pick([
              Buffer.from([0xc3, 0x28]),
              Buffer.from([0xff]),
              Buffer.from([0xed, 0xa0, 0x80]),
              Buffer.from([0xe2, 0x82]),
            ]),
          ]),
        ),
        expect: 1007,
      };
    case 4:
      return { name: 'unmasked', bytes: text('{"action":"ping"}', { mask: false }), expect: 1002 };
    case 5:
      return { name: 'rsv', bytes: text('{}', { rsv: rng.int(1, 7) }), expect: 1002 };
    case 6:
      return {
        name: 'reserved opcode',
        bytes: encodeFrame({
          opcode: rng.pick([3, 4, 5, 6, 7, 11, 12, 13, 14, 15]),
          payload: rng.bytes(rng.int(0, 10)),
        }),
        expect: 1002,
      };
    case 7:
      return {
        name: 'lone continuation',
        bytes: encodeFrame({ opcode: 0, payload: rng.bytes(rng.int(0, 10)) }),
        expect: 1002,
      };
    case 8:
      return {
        name: 'long control frame',
        bytes: encodeFrame({ opcode: rng.pick([8, 9, 10]), payload: rng.bytes(rng.int(126, 400)) }),
        expect: 1002,
      };
    case 9:
      return {
        name: 'fragmented control frame',
        bytes: encodeFrame({ opcode: 9, fin: false, payload: 'x' }),
        expect: 1002,
      };
    case 10:
      return {
        name: 'close with a 1-byte payload',
        bytes: encodeFrame({ opcode: 8, payload: Buffer.from([3]) }),
        expect: 1002,
      };
    case 11: {
      const frame = text(JSON.stringify({ action: 'ping', pad: rng.text(50) }));
      return {
        name: 'truncated frame then reset',
        bytes: frame.subarray(0, rng.int(1, frame.length - 1)),
        thenReset: true,
      };
    }
    case 12:
      return { name: 'random bytes', bytes: rng.bytes(rng.int(1, 64)) };
    default:
      return {
        name: 'new message inside a fragmented one',
        bytes: Buffer.concat([text('{"a":', { fin: false }), text('1}')]),
        expect: 1002,
      };
  }
}

/** API Gateway's message limit, as the gateway enforces it. */
const GATEWAY_MAX = 128 * 1024;

/** Checks what the server sent over a WebSocket: no route may have failed. */
function frameProblems(raw: RawWebSocket): string[] {
  const problems: string[] = [];
  for (const f of raw.frames()) {
    if (f.opcode !== 1) continue;
    const text = f.payload.toString('utf8');
    if (text.includes('Internal server error') || text.includes('"code":"internal"')) {
      problems.push(`server frame reports a failure: ${text.slice(0, 200)}`);
    }
  }
  return problems;
}

async function wsCase(rng: Rng, t: ChaosTarget): Promise<CaseOutcome> {
  const problems: string[] = [];
  const raw = await RawWebSocket.open(t.ws, t.token());
  const prefix = Array.from({ length: rng.int(0, 3) }, () => validFrames(rng)).flat();
  const end = terminal(rng);
  const all = Buffer.concat([...prefix, end.bytes]);
  if (rng.bool(0.2)) {
    // Dribbled: the first bytes in small pieces, so frames split at arbitrary boundaries.
    const dribble = Math.min(all.length, 2048);
    for (let at = 0; at < dribble;) {
      const n = rng.int(1, 64);
      raw.write(all.subarray(at, Math.min(at + n, dribble)));
      at += n;
      if (rng.bool(0.1)) await new Promise((r) => setTimeout(r, 1));
    }
    if (all.length > dribble) raw.write(all.subarray(dribble));
  } else {
    raw.write(all);
  }
  let kind = `ws: ${end.name}`;
  if (end.thenReset) {
    await raw.destroy(true);
  } else if (end.expect !== undefined) {
    const code = await raw.serverClose().catch((e: Error) => e.message);
    if (code !== end.expect)
      problems.push(`${end.name}: closed with ${String(code)}, not ${end.expect}`);
    await raw.destroy(rng.bool(0.5));
  } else {
    kind = `ws: ${end.name} then ${rng.pick(['reset', 'close'])}`;
    await new Promise((r) => setTimeout(r, rng.int(0, 20)));
    await raw.destroy(kind.endsWith('reset'));
  }
  problems.push(...frameProblems(raw));
  return { kind, statuses: [], problems };
}

/** The frames the server sent after its handshake answer (none before the answer). */
function framesAfterHandshake(received: Buffer) {
  const at = received.indexOf('\r\n\r\n');
  return at < 0 ? [] : parseServerFrames(received.subarray(at + 4));
}

/** Whether a server frame is the answer to a ping action. */
const isPong = (f: { payload: Buffer }) => f.payload.toString().includes('"pong"');

/** Whether the server refused the upgrade, or accepted it and answered the ping sent with it. */
function answeredPing(received: Buffer): boolean {
  const status = httpStatus(received);
  if (status === undefined) return false;
  return status !== 101 || framesAfterHandshake(received).some(isPong);
}

/** A pre-handshake script against the WebSocket port. */
function handshakeSteps(rng: Rng, t: ChaosTarget): { kind: string; steps: RawStep[] } {
  const valid = upgradeRequest(t.ws, `/?token=${encodeURIComponent(t.token())}`);
  const noToken = upgradeRequest(t.ws, fuzzPath(rng));
  const finish = (): RawStep => (rng.bool() ? { end: true } : { reset: true });
  switch (rng.int(0, 9)) {
    case 0:
      return { kind: 'garbage', steps: [{ write: rng.bytes(rng.int(1, 2000)) }, finish()] };
    case 1:
      return {
        kind: 'garbage then upgrade',
        steps: [{ write: rng.bytes(rng.int(1, 200)) }, { write: valid }],
      };
    case 2:
      return {
        kind: 'truncated upgrade',
        steps: [{ write: valid.slice(0, rng.int(1, valid.length - 1)) }, finish()],
      };
    case 3: {
      // Slow headers: the request arrives in a few pieces with pauses between them.
      const cuts = [
        0,
        ...Array.from({ length: rng.int(1, 4) }, () => rng.int(1, noToken.length - 1)).sort(
          (a, b) => a - b,
        ),
        noToken.length,
      ];
      const steps: RawStep[] = [];
      for (let i = 1; i < cuts.length; i++) {
        steps.push({ write: noToken.slice(cuts[i - 1], cuts[i]) }, { wait: rng.int(1, 15) });
      }
      return { kind: 'slow headers', steps };
    }
    case 4:
      return {
        kind: 'upgrade then reset mid-authorizer',
        steps: [{ write: valid }, { wait: rng.int(0, 15) }, { reset: true }],
      };
    case 5: {
      const bad = upgradeRequest(
        t.ws,
        fuzzPath(rng),
        rng.pick<Record<string, string>>([
          { 'Sec-WebSocket-Key': rng.text(10) },
          { 'Sec-WebSocket-Version': String(rng.int(0, 20)) },
          { Upgrade: rng.pick(['h2c', 'websocketx', '']) },
          { 'X-Huge': 'h'.repeat(rng.int(17_000, 40_000)) },
          { [rng.pick(PROTO_WORDS)]: rng.pick(BAD_PERCENT) },
          { 'Sec-WebSocket-Protocol': rng.pick([',,', 'a b', '']) },
        ]),
      );
      return { kind: 'malformed upgrade', steps: [{ write: bad }, finish()] };
    }
    case 6:
      return {
        kind: 'upgrade with frames in the same packet',
        steps: [
          {
            write: Buffer.concat([
              Buffer.from(valid),
              encodeFrame({ opcode: 1, payload: '{"action":"ping"}' }),
            ]),
          },
          { wait: rng.int(5, 30) },
          // Then stays until the answer (the pong goes through the authorizer, $connect and the
          // ping route, seconds on a loaded machine): a client that leaves first gets no pong,
          // rightly. Leaving early is what the mid-authorizer cases do.
          { until: answeredPing, maxMs: ANSWER_BOUND_MS },
          finish(),
        ],
      };
    case 7: {
      const method = rng.pick(['GET', 'POST', 'DELETE', 'PUT', 'PATCH']);
      const body = rng.bytes(rng.int(0, 100));
      const req = `${method} /local/@connections/${segment(rng)} HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\nConnection: close\r\n${rng.bool() ? 'Authorization: AWS4-HMAC-SHA256 Credential=x\r\n' : ''}\r\n`;
      return {
        kind: 'unsigned @connections',
        steps: [{ write: Buffer.concat([Buffer.from(req), body]) }],
      };
    }
    case 8: {
      const req = `POST /local/@connections/x HTTP/1.1\r\nHost: x\r\nAuthorization: AWS4-HMAC-SHA256 a\r\nContent-Length: ${rng.int(50, 5000)}\r\n\r\n`;
      return {
        kind: '@connections body cut short',
        steps: [{ write: req + 'x'.repeat(rng.int(0, 40)) }, { wait: rng.int(0, 10) }, finish()],
      };
    }
    default:
      return { kind: 'upgrade then FIN mid-authorizer', steps: [{ write: valid }, { end: true }] };
  }
}

async function signedManagementCase(rng: Rng, t: ChaosTarget): Promise<CaseOutcome> {
  const method = rng.pick(['POST', 'GET', 'DELETE']);
  const path = `/local/@connections/${rng.pick([segment(rng), encodeURIComponent('nope=')])}`;
  const body = method === 'POST' ? Buffer.from(rng.text(100)) : Buffer.alloc(0);
  const headers = await t.signManagement(method, path, body);
  const status = await plainRequest(t.ws, method, path, headers, body, t.agent);
  return { kind: 'signed @connections', statuses: [status], problems: [] };
}

/** One request over node:http (raw path, exact headers); resolves with the status. */
export function plainRequest(
  at: Endpoint,
  method: string,
  path: string,
  headers: Record<string, string>,
  body: Buffer | string,
  agent: Agent,
): Promise<number> {
  // An explicit length: Node's client sends a GET/DELETE/OPTIONS body without one otherwise,
  // and the server rightly reads those bytes as the next request.
  const all = { ...headers, 'content-length': String(Buffer.byteLength(body)) };
  return new Promise((resolve, reject) => {
    const options = { host: at.host, port: at.port, method, path, headers: all, agent };
    const r = httpRequest(options, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', reject);
    });
    r.on('error', reject);
    r.end(body);
  });
}

/** A socket-level case against the WebSocket port (before or after the handshake). */
export async function socketCase(seed: number, t: ChaosTarget): Promise<CaseOutcome> {
  const rng = new Rng(seed);
  const roll = rng.next();
  if (roll < 0.35) return wsCase(rng, t);
  if (roll < 0.4) return signedManagementCase(rng, t);
  const { kind, steps } = handshakeSteps(rng, t);
  const r = await rawExchange(t.ws, steps, 300);
  const problems: string[] = [];
  if (kind === 'upgrade with frames in the same packet') {
    if (r.status === 101 && !framesAfterHandshake(r.received).some(isPong)) {
      problems.push('a ping sent with the handshake got no pong');
    }
  }
  return { kind, statuses: r.status === undefined ? [] : [r.status], problems };
}

/** A random JSON body: objects, deep nesting, Object.prototype keys, or not JSON at all. */
function fuzzBody(rng: Rng): string {
  switch (rng.int(0, 6)) {
    case 0:
      return '';
    case 1:
      return rng.text(200);
    case 2:
      return JSON.stringify({ data: rng.text(50), [rng.pick(PROTO_WORDS)]: { a: 1 } });
    case 3:
      return `{"data":${'['.repeat(10_000)}${']'.repeat(10_000)}}`;
    case 4:
      return `{"taskType":"${rng.pick(['download', 'logic', '__proto__', 'constructor'])}","args":${'{"a":'.repeat(rng.int(1, 3000))}1${'}'.repeat(rng.int(0, 3000))}}`;
    case 5:
      return '{"__proto__":{"data":1},"data":{"constructor":{"prototype":1}}}';
    default:
      return JSON.stringify({
        data: { n: rng.int(0, 1e6), s: rng.text(30) },
        sendAt: rng.pick(['', 'soon', '2000-01-01T00:00:00Z']),
      });
  }
}

/** A fuzzed request to the HTTP API; resolves with its status (never a 5xx, the test asserts). */
export async function httpCase(seed: number, t: ChaosTarget): Promise<CaseOutcome> {
  const rng = new Rng(seed);
  if (rng.bool(0.15)) {
    // Socket-level abuse of the HTTP port: resets mid-body, huge headers, garbage.
    const head = `POST /users/u/messages HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n`;
    const steps = rng.pick<RawStep[]>([
      [
        { write: `${head}Content-Length: 1000\r\n\r\n{"data":` },
        { wait: rng.int(0, 10) },
        { reset: true },
      ],
      [{ write: `${head}Content-Length: 1000\r\n\r\n{"data":` }, { end: true }],
      [{ write: `${head}X-Big: ${'b'.repeat(rng.int(17_000, 70_000))}\r\n\r\n` }],
      [{ write: rng.bytes(rng.int(1, 500)) }, { end: true }],
      [{ write: `GET ${fuzzPath(rng)} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n` }],
      [{ write: `${head}Transfer-Encoding: chunked\r\n\r\nzz\r\n` }, { end: true }],
    ]);
    const r = await rawExchange(t.http, steps, 300);
    return {
      kind: 'http socket',
      statuses: r.status === undefined ? [] : [r.status],
      problems: [],
    };
  }
  const method = rng.pick(['GET', 'POST', 'DELETE', 'PUT', 'PATCH', 'OPTIONS', 'HEAD']);
  const path = rng.bool(0.3)
    ? rng.pick([
        '/tasks/%E0%A4%A',
        '/users/%/presence',
        '//',
        '/users/u/messages',
        '/broadcast',
        '/tasks',
        '/groups/%zz/messages',
      ])
    : fuzzPath(rng);
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (rng.bool(0.6)) headers.authorization = `Bearer ${t.adminToken}`;
  if (rng.bool(0.1)) headers['idempotency-key'] = rng.text(20).replace(/[^\x21-\x7e]/g, '_') || 'k';
  const body = method === 'GET' || method === 'HEAD' ? '' : fuzzBody(rng);
  const kind = `http ${method}`;
  const detail = `${method} ${path.slice(0, 80)} ${JSON.stringify(body.slice(0, 40))}`;
  try {
    const status = await plainRequest(t.http, method, path, headers, body, t.agent);
    return { kind, statuses: [status], problems: status >= 500 ? [`${status} for ${detail}`] : [] };
  } catch (e) {
    return {
      kind,
      statuses: [],
      problems: [`${detail}: ${e instanceof Error ? e.message : String(e)}`],
    };
  }
}
