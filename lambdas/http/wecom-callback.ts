import * as z from '../../src/validation/zod';
import type { Clock } from '../../src/ports/clock';
import { systemClock } from '../../src/ports/clock';
import type { Log } from '../../src/ports/log';
import { submitTask, type SubmitPorts, taskTypesOf } from '../../src/tasks/submit';
import { userIdSchema } from '../../src/names/names';
import { isAppError } from '../../src/errors/app-error';
import { cancelTask } from '../../src/tasks/cancel';
import { type CallbackKeys, openCallback, verifyUrl } from '../../src/wecom/callback';
import { chatText } from '../../src/wecom/chat-replies';
import { type CommandOptions, helpText, parseCommand } from '../../src/wecom/commands';
import { MAX_BODY_BYTES } from '../../src/wecom/envelope';
import { WecomError } from '../../src/wecom/errors';
import { parseMessage, type WecomInbound } from '../../src/wecom/message';
import { type CallbackReply, SUCCESS_REPLY, textReply } from '../../src/wecom/reply';
import { mayCancelTask, mayViewTask } from '../../src/wecom/task-access';
import { type HttpResult, text } from '../edge/http';
import { bodyText, type HttpEvent } from '../edge/http-event';
import { lazyHandler } from '../runtime/lazy';
import { logger } from '../runtime/logger';
import type { RouteHandlers } from './routes';
import { commandRefusal, wecomRouteDispatcher } from './wecom-answer';
import { submitPorts, taskConfig } from '../composition/cloud/submit';
import { commandOptionsOf } from '../config/task-config';
import { wecomKeysSource } from '../config/wecom-config';

/** WeCom's callbacks are refused when their timestamp is further than this from our clock. */
export const MAX_CLOCK_SKEW_SECONDS = 300;

/** Ports of the WeCom callback. */
export interface WecomCallbackPorts {
  readonly keys: () => Promise<CallbackKeys>;
  readonly submit: SubmitPorts;
  /** How to read commands; the task types are the submit ports' (one registry for both). */
  readonly commands: Omit<CommandOptions, 'types'>;
  readonly log: Log;
  readonly clock?: Clock;
}

const required = (name: string) =>
  z
    .string({ error: `missing query parameter ${name}` })
    .check(z.minLength(1, `empty query parameter ${name}`));

export const querySchema = z.object({
  msg_signature: required('msg_signature'),
  timestamp: required('timestamp').check(z.regex(/^\d{1,12}$/, 'timestamp must be Unix seconds')),
  nonce: required('nonce').check(z.maxLength(64, 'nonce too long')),
});
export const urlCheckSchema = z.extend(querySchema, { echostr: required('echostr') });

/**
 * Reads the query string exactly once-decoded. API Gateway's queryStringParameters would do,
 * but the raw string is read here so that a `+` in echostr stays a `+` (WeCom sends base64).
 */
export function readQuery<S extends z.core.$ZodType>(event: HttpEvent, schema: S): z.output<S> {
  const raw: Record<string, string> = {};
  for (const part of (event.rawQueryString ?? '').split('&')) {
    if (!part) continue;
    const eq = part.indexOf('=');
    const key = eq < 0 ? part : part.slice(0, eq);
    const value = eq < 0 ? '' : part.slice(eq + 1);
    try {
      raw[decodeURIComponent(key)] = decodeURIComponent(value);
    } catch {
      throw new WecomError('bad_field', `query parameter ${key} is not URL-encoded correctly`);
    }
  }
  if (Object.keys(raw).length === 0 && event.queryStringParameters) {
    for (const [k, v] of Object.entries(event.queryStringParameters))
      if (v !== undefined) raw[k] = v;
  }
  const parsed = z.safeParse(schema, raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new WecomError('missing_field', issue?.message ?? 'bad query');
  }
  return parsed.data;
}

export function checkFreshness(timestamp: string, now: Date): void {
  const skew = Math.abs(Math.floor(now.getTime() / 1000) - Number(timestamp));
  if (skew > MAX_CLOCK_SKEW_SECONDS) {
    throw new WecomError(
      'bad_field',
      `timestamp is ${skew} s away from now (max ${MAX_CLOCK_SKEW_SECONDS})`,
    );
  }
}

const asHttp = (reply: CallbackReply): HttpResult => ({
  statusCode: 200,
  headers: { 'content-type': reply.contentType },
  body: reply.body,
});

/**
 * `GET /wecom/callback` (URL check) and `POST /wecom/callback` (messages). Signature first,
 * then decryption, then the command; a bad request of any kind is a 4xx and queues nothing.
 */
export function createWecomCallbackHandler(ports: WecomCallbackPorts) {
  const clock = ports.clock ?? systemClock;
  const types = taskTypesOf(ports.submit);
  const commands: CommandOptions = { ...ports.commands, types };

  async function answerText(inbound: WecomInbound, log: Log): Promise<string | undefined> {
    const command = parseCommand(inbound.text ?? '', commands);
    switch (command.kind) {
      case 'task': {
        const userId = userIdSchema.safeParse(inbound.fromUserId);
        const submitted = await submitTask(
          { ...ports.submit, log },
          {
            taskType: command.taskType,
            args: command.args,
            source: 'wecom',
            dedupeKey: inbound.dedupeKey,
            requester: {
              ...(userId.success ? { userId: userId.data } : {}),
              wecom: {
                userId: inbound.fromUserId,
                ...(inbound.chatId ? { chatId: inbound.chatId } : {}),
                ...(inbound.webhookUrl ? { webhookUrl: inbound.webhookUrl } : {}),
              },
            },
          },
        ).catch((e: unknown) => {
          // Arguments the command parser let through but the task type refuses: the person
          // gets the reason in the chat (the WeCom answer mapper, wecom-answer.ts).
          const refusal = commandRefusal(e);
          if (refusal === undefined) throw e;
          return refusal;
        });
        return typeof submitted === 'string' ? submitted : chatText.accepted(submitted.task, types);
      }
      case 'status': {
        const task = await ports.submit.tasks.get(command.taskId);
        const asker = {
          userId: inbound.fromUserId,
          ...(inbound.chatId ? { chatId: inbound.chatId } : {}),
        };
        // Someone else's task reads exactly like an unknown one: existence is not revealed.
        return task && mayViewTask(task, asker)
          ? chatText.status(task)
          : chatText.unknownTask(command.taskId);
      }
      case 'cancel': {
        const asker = { userId: inbound.fromUserId };
        try {
          const { task, changed } = await cancelTask({ ...ports.submit, log }, command.taskId, {
            mayCancel: (t) => mayCancelTask(t, asker),
            refusal: chatText.notYourTask(command.taskId),
          });
          return changed ? chatText.cancelled(task) : chatText.alreadyEnded(task);
        } catch (e) {
          if (isAppError(e) && e.code === 'not_found') return chatText.unknownTask(command.taskId);
          if (isAppError(e) && e.code === 'forbidden') return e.message;
          throw e;
        }
      }
      case 'error':
        return command.message;
      case 'help':
        return command.reason === 'unknown' && command.word
          ? chatText.unknownWord(command.word, helpText(commands))
          : helpText(commands);
    }
  }

  async function onPost(event: HttpEvent, log: Log): Promise<HttpResult> {
    const query = readQuery(event, querySchema);
    checkFreshness(query.timestamp, clock.now());
    const body = bodyText(event);
    if (Buffer.byteLength(body, 'utf8') > MAX_BODY_BYTES) {
      throw new WecomError('too_large', `body over ${MAX_BODY_BYTES} bytes`);
    }
    const keys = await ports.keys();
    const opened = openCallback(
      keys,
      { msgSignature: query.msg_signature, timestamp: query.timestamp, nonce: query.nonce },
      body,
    );
    const inbound = parseMessage(opened.message);
    if (inbound.kind !== 'text') return asHttp(SUCCESS_REPLY);
    const content = await answerText(inbound, log);
    if (content === undefined) return asHttp(SUCCESS_REPLY);
    return asHttp(
      textReply({
        cipher: keys.cipher,
        token: keys.token,
        format: opened.envelope.format,
        toUser: inbound.fromUserId,
        fromUser: inbound.toUserName ?? keys.cipher.receiveId,
        content,
        now: clock.now(),
      }),
    );
  }

  async function onGet(event: HttpEvent): Promise<HttpResult> {
    const query = readQuery(event, urlCheckSchema);
    checkFreshness(query.timestamp, clock.now());
    const keys = await ports.keys();
    const plain = verifyUrl(keys, {
      msgSignature: query.msg_signature,
      timestamp: query.timestamp,
      nonce: query.nonce,
      echostr: query.echostr,
    });
    return text(200, plain);
  }

  // One handler per route the table gives this function (lambdas/http/routes.ts).
  const routes: RouteHandlers<'wecomCallback', typeof onPost> = {
    'GET /wecom/callback': onGet,
    'POST /wecom/callback': onPost,
  };

  return wecomRouteDispatcher(routes, ports.log);
}

/** Lambda entry point. */
export const handler = lazyHandler(() => {
  return createWecomCallbackHandler({
    keys: wecomKeysSource(process.env),
    submit: submitPorts(),
    commands: commandOptionsOf(taskConfig()),
    log: logger,
  });
});
