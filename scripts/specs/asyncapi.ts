import {
  CLIENT_ACTIONS,
  type ClientAction,
  MAX_CLIENT_FRAME_BYTES,
} from '../../src/ws/client-frames';
import type { SpecInfo } from './openapi';
import { refTo } from './schema-catalog';
import {
  frameComponentName,
  REPLIES,
  SERVER_FRAMES,
  type ServerFrameType,
  wsCatalog,
} from './ws-schemas';

/** A JSON object of the document. */
type Json = Record<string, unknown>;

const SCHEMAS = '#/components/schemas/';
const CHANNEL = 'connection';
const channelRef = { $ref: `#/channels/${CHANNEL}` };
const messageRef = (name: string) => ({ $ref: `#/channels/${CHANNEL}/messages/${name}` });

/** The message key of a frame (`task.update` → `taskUpdate`). */
const messageKey = (name: string): string =>
  name.replace(/\.(\w)/g, (_m, c: string) => c.toUpperCase());

/** When the server sends each frame. */
const SENT: Readonly<Record<ServerFrameType, string>> = {
  registered:
    'Reply to `register`: all groups the connection is in, sorted, and the tip of every stream it receives. With `resume`, sent first, then the replayed frames, then `resumed`.',
  joined: 'Reply to `join`, with the group stream’s tip (then, with `resume`, as for register).',
  resumed:
    'After a resume’s replayed frames: per stream, `recovered` (false when the epoch changed or frames the client lacks are gone), the epoch and the tip.',
  'session.expiring':
    'About 5 minutes (a tenth of a shorter cap) before the gateway closes the connection at its 2-hour cap: open a new connection, resume on it, then close this one.',
  left: 'Reply to `leave` (also when the connection was not a member).',
  pong: 'Reply to `ping`: `ts` is the server time in epoch milliseconds.',
  'task.accepted': 'Reply to `submit`, sent before the task’s first `task.update`.',
  'task.cancelled':
    'Reply to `cancel`: the task’s status after the call; `changed` false when it had already ended (then nothing changed).',
  'task.update':
    'To the task’s audience (the requester’s connections and every `http` observer) on every change; carries the task’s full current state.',
  'task.assign':
    'To a socket worker only (in no stream): a task offered to it, with its lease in seconds; answer with `progress`, `result` or `fail`.',
  'task.cancel':
    'To the socket worker holding a task (in no stream): the task was cancelled; stop it (a later answer gets `lease_lost`).',
  'task.ack': 'Reply to `progress`, `result` and `fail`: the answer was taken.',
  message:
    'An HTTP push or a scheduled message. Data that would make the frame exceed 128 KB travels as a link (`dataUrl`, valid one hour).',
  error:
    'Reply to a refused frame (`requestId` echoed when it could be read); the connection stays open.',
};

/** What each client action does. */
const ACTIONS: Readonly<Record<ClientAction, string>> = {
  register:
    'Sets the client type and adds groups (privileged client types need the worker or admin role).',
  join: 'Joins a group the token allows.',
  leave: 'Leaves a group.',
  ping: 'Keeps the connection alive; works before `register`.',
  submit: 'Submits a task for the connection’s user (client or admin role).',
  cancel:
    'Cancels a task that has not ended (its requester, or the admin role); its audience gets the `cancelled` `task.update`.',
  progress:
    'A socket worker reports progress on a task it holds and renews its lease (`lease_lost` when it no longer holds it).',
  result:
    'A socket worker ends a task it holds `succeeded`, optionally chaining `next` (`lease_lost` when it no longer holds it).',
  fail: 'A socket worker ends a task it holds `failed`, or with `retryable` has it offered again.',
};

const SECURITY_SCHEMES = {
  token: {
    type: 'httpApiKey',
    in: 'query',
    name: 'token',
    description:
      'A JWT on the connect URL (`?token=`): HS256 signed with the deployment’s key, or RS256/ES256 of the trusted OpenID Connect issuer. A missing, invalid or expired token refuses the upgrade (HTTP 401); no connection is recorded.',
  },
} as const;
const security = [{ $ref: '#/components/securitySchemes/token' }];

/**
 * The AsyncAPI 3.0 document of the WebSocket API, written from the server's side: one channel
 * (the connection), a `receive` operation per client action with its reply, and a `send`
 * operation per server frame, each message's payload the zod schema of the frame.
 */
export function buildAsyncApi(info: SpecInfo): Json {
  const channelMessages: Json = {};
  const messages: Json = {};
  const operations: Json = {};
  const addMessage = (name: string, title: string, summary: string) => {
    const key = messageKey(name);
    channelMessages[key] = { $ref: `#/components/messages/${key}` };
    messages[key] = {
      name,
      title,
      summary,
      payload: refTo(SCHEMAS, frameComponentName(name)),
    };
  };
  for (const action of CLIENT_ACTIONS) {
    addMessage(action, `${action} (client → server)`, ACTIONS[action]);
    operations[`receive${frameComponentName(action).replace(/Frame$/, '')}`] = {
      action: 'receive',
      channel: channelRef,
      summary: ACTIONS[action],
      messages: [messageRef(messageKey(action))],
      reply: {
        channel: channelRef,
        messages: [messageRef(messageKey(REPLIES[action])), messageRef(messageKey('error'))],
      },
    };
  }
  for (const type of Object.keys(SERVER_FRAMES) as ServerFrameType[]) {
    addMessage(type, `${type} (server → client)`, SENT[type]);
    operations[`send${frameComponentName(type).replace(/Frame$/, '')}`] = {
      action: 'send',
      channel: channelRef,
      summary: SENT[type],
      messages: [messageRef(messageKey(type))],
    };
  }
  return {
    asyncapi: '3.0.0',
    info: {
      title: 'Taskwire WebSocket API',
      version: info.version,
      description:
        'The frames of a Taskwire WebSocket connection, described from the server’s side: it receives client actions (JSON objects whose `action` selects the route) and sends frames (JSON objects with `type`, `id` and `at`). Generated from the zod schemas that validate the frames by `npm run specs`; do not edit. See docs/protocol.md.',
      license: { name: info.license },
    },
    defaultContentType: 'application/json',
    servers: {
      cloud: {
        host: '{apiId}.execute-api.{region}.amazonaws.com',
        pathname: '/{stage}',
        protocol: 'wss',
        description: 'The stack output `WebSocketUrl`.',
        variables: {
          apiId: { default: 'abc123', description: 'The WebSocket API’s id.' },
          region: { default: 'eu-west-1', description: 'The stack’s region.' },
          stage: { default: 'prod', description: 'The API stage.' },
        },
        security,
      },
      local: {
        host: '127.0.0.1:3001',
        protocol: 'ws',
        description: 'The local gateway (`npm start`, env `TASKWIRE_WS_PORT`).',
        security,
      },
    },
    channels: {
      [CHANNEL]: {
        address: '/',
        title: 'The connection',
        description: `Every frame travels on the one connection: \`wss://…/{stage}?token=<JWT>\` in the cloud, \`ws://127.0.0.1:3001/?token=<JWT>\` locally. Client frames over ${MAX_CLIENT_FRAME_BYTES} bytes are refused with \`too_large\` and the connection stays open.`,
        messages: channelMessages,
        bindings: {
          ws: {
            bindingVersion: '0.1.0',
            method: 'GET',
            query: {
              type: 'object',
              properties: { token: { type: 'string', description: 'The JWT.' } },
              required: ['token'],
            },
          },
        },
      },
    },
    operations,
    components: {
      schemas: wsCatalog().toJsonSchemas('draft-07', SCHEMAS),
      messages,
      securitySchemes: SECURITY_SCHEMES,
    },
  };
}
