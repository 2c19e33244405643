import type { Clock } from '../../src/ports/clock';
import { systemClock } from '../../src/ports/clock';
import type { Log } from '../../src/ports/log';
import { isAppError } from '../../src/errors/app-error';
import { cancelTask } from '../../src/tasks/cancel';
import { idempotencyKey, submitTask, type SubmitPorts, taskTypesOf } from '../../src/tasks/submit';
import { isTerminal, TASK_TTL_SECONDS, type Task } from '../../src/tasks/task';
import { dedupedTaskId } from '../../src/tasks/task-id';
import { userIdSchema } from '../../src/names/names';
import { type CallbackKeys, verifyUrl } from '../../src/wecom/callback';
import { chatText } from '../../src/wecom/chat-replies';
import { type CommandOptions, helpText, parseCommand } from '../../src/wecom/commands';
import { assertSignature } from '../../src/wecom/crypto';
import { MAX_BODY_BYTES, parseEnvelope } from '../../src/wecom/envelope';
import { WecomError } from '../../src/wecom/errors';
import type { CallbackReply } from '../../src/wecom/reply';
import { mayCancelTask, mayViewTask } from '../../src/wecom/task-access';
import { chainedTaskId } from '../../src/wecom/bot/delivery';
import { type BotInbound, parseBotMessage } from '../../src/wecom/bot/message';
import {
  finalStatus,
  handOffText,
  isFinal,
  noticeCard,
  NO_SUCH_STREAM,
  readCardKey,
  renderView,
  taskCard,
  type TaskView,
  truncate,
} from '../../src/wecom/bot/render';
import { type BotReplyPayload, botReply, EMPTY_BOT_REPLY } from '../../src/wecom/bot/reply';
import type { BotRecord, BotStore } from '../../src/wecom/bot/store';
import { oneShotStreamId, streamIdFor, taskOfStreamId } from '../../src/wecom/bot/stream-id';
import { type HttpResult, text } from '../edge/http';
import { bodyText, type HttpEvent } from '../edge/http-event';
import { lazyHandler } from '../runtime/lazy';
import { logger } from '../runtime/logger';
import type { RouteHandlers } from './routes';
import { commandRefusal, wecomRouteDispatcher } from './wecom-answer';
import { checkFreshness, querySchema, readQuery, urlCheckSchema } from './wecom-callback';
import { botKeysSource, readStreamTiming, type StreamTiming } from './wecom-bot-config';
import { submitPorts, taskConfig } from '../composition/cloud/submit';
import { commandOptionsOf } from '../config/task-config';
import { botStore } from '../composition/cloud/wecom-bot';

/** Task types whose run chains a next step, and that step's type (download → logic). */
export const BOT_CHAINS: Readonly<Record<string, string>> = { download: 'logic' };

/** Ports of the intelligent bot's callback. */
export interface WecomBotPorts {
  readonly keys: () => Promise<CallbackKeys>;
  readonly submit: SubmitPorts;
  readonly commands: Omit<CommandOptions, 'types'>;
  readonly store: BotStore;
  readonly timing: StreamTiming;
  readonly log: Log;
  readonly clock?: Clock;
}

const asHttp = (reply: CallbackReply): HttpResult => ({
  statusCode: 200,
  headers: { 'content-type': reply.contentType },
  body: reply.body,
});

/**
 * `GET /wecom/bot` (URL check) and `POST /wecom/bot` (the intelligent bot's JSON callback):
 * signature first, then decryption for the empty receive id, then the message. Commands answer
 * a stream tied to their task; refreshes answer the task's state; card clicks run Cancel/Retry.
 */
export function createWecomBotHandler(ports: WecomBotPorts) {
  const clock = ports.clock ?? systemClock;
  const types = taskTypesOf(ports.submit);
  const commands: CommandOptions = { ...ports.commands, types };
  const { tasks } = ports.submit;

  const stream = (
    id: string,
    finish: boolean,
    content: string,
    card?: ReturnType<typeof taskCard>,
  ): BotReplyPayload =>
    card
      ? {
          msgtype: 'stream_with_template_card',
          stream: { id, finish, content },
          template_card: card,
        }
      : { msgtype: 'stream', stream: { id, finish, content } };
  const oneShot = (content: string) => stream(oneShotStreamId(), true, truncate(content, '-'));

  /** The task and its chained step, read in one round (the step's id follows from the task's). */
  async function readView(taskId: string): Promise<TaskView | undefined> {
    const [root, predicted] = await Promise.all([
      tasks.get(taskId),
      tasks.get(dedupedTaskId('chain', `${taskId}:logic`)),
    ]);
    if (!root) return undefined;
    let next = predicted?.parentTaskId === root.taskId ? predicted : undefined;
    const named = chainedTaskId(root);
    if (!next && named) next = await tasks.get(named);
    return next ? { root, next } : { root };
  }

  const chains = (task: Task) => BOT_CHAINS[task.taskType] !== undefined;

  function recordOf(taskId: string, m: BotInbound, now: Date, handedOff = false): BotRecord {
    return {
      taskId,
      aiBotId: m.aiBotId,
      userId: m.fromUserId,
      chatType: m.chatType,
      ...(m.chatId ? { chatId: m.chatId } : {}),
      ...(m.responseUrl ? { responseUrl: m.responseUrl } : {}),
      createdAt: now.toISOString(),
      windowEndsAt: new Date(now.getTime() + (handedOff ? 0 : ports.timing.windowMs)).toISOString(),
      ...(handedOff ? { handedOffAt: now.toISOString() } : {}),
      expiresAt: Math.floor(now.getTime() / 1000) + TASK_TTL_SECONDS,
    };
  }

  const requesterOf = (m: BotInbound) => {
    const userId = userIdSchema.safeParse(m.fromUserId);
    return {
      ...(userId.success ? { userId: userId.data } : {}),
      wecom: { userId: m.fromUserId, ...(m.chatId ? { chatId: m.chatId } : {}) },
    };
  };

  async function onTaskCommand(
    m: BotInbound,
    keys: CallbackKeys,
    taskType: string,
    args: Record<string, unknown>,
    log: Log,
  ): Promise<BotReplyPayload> {
    const dedupeKey = idempotencyKey('bot', m.aiBotId, m.msgId);
    const now = clock.now();
    // Before the task exists, so whichever worker ends it finds where to answer.
    await ports.store.create(recordOf(dedupedTaskId('wecom', dedupeKey), m, now));
    const submitted = await submitTask(
      { ...ports.submit, log },
      { taskType, args, source: 'wecom', dedupeKey, requester: requesterOf(m) },
    ).catch((e: unknown) => {
      const refusal = commandRefusal(e);
      if (refusal === undefined) throw e;
      return refusal;
    });
    if (typeof submitted === 'string') return oneShot(submitted);
    const { task } = submitted;
    const view: TaskView = { root: task };
    const content = `${chatText.accepted(task, types)}\n\n${renderView(view, types, chains(task))}`;
    return stream(
      streamIdFor(keys.token, m.aiBotId, task.taskId),
      false,
      truncate(content, task.taskId),
      taskCard(task, task.status, { nonce: 'accepted' }),
    );
  }

  async function onText(
    m: BotInbound & { kind: 'text' },
    keys: CallbackKeys,
    log: Log,
  ): Promise<BotReplyPayload> {
    const command = parseCommand(m.text, commands);
    switch (command.kind) {
      case 'task':
        return onTaskCommand(m, keys, command.taskType, command.args, log);
      case 'status': {
        const task = await tasks.get(command.taskId);
        const asker = { userId: m.fromUserId, ...(m.chatId ? { chatId: m.chatId } : {}) };
        if (!task || !mayViewTask(task, asker))
          return oneShot(chatText.unknownTask(command.taskId));
        const view = (await readView(task.taskId)) ?? { root: task };
        return oneShot(renderView(view, types, chains(task)));
      }
      case 'cancel': {
        try {
          const { task, changed } = await cancelTask({ ...ports.submit, log }, command.taskId, {
            mayCancel: (t) => mayCancelTask(t, { userId: m.fromUserId }),
            refusal: chatText.notYourTask(command.taskId),
          });
          return oneShot(changed ? chatText.cancelled(task) : chatText.alreadyEnded(task));
        } catch (e) {
          if (isAppError(e) && e.code === 'not_found')
            return oneShot(chatText.unknownTask(command.taskId));
          if (isAppError(e) && e.code === 'forbidden') return oneShot(e.message);
          throw e;
        }
      }
      case 'error':
        return oneShot(command.message);
      case 'help':
        return oneShot(
          command.reason === 'unknown' && command.word
            ? chatText.unknownWord(command.word, helpText(commands))
            : helpText(commands),
        );
    }
  }

  async function onRefresh(
    m: BotInbound & { kind: 'stream' },
    keys: CallbackKeys,
  ): Promise<BotReplyPayload> {
    const taskId = taskOfStreamId(keys.token, m.aiBotId, m.streamId);
    const view = taskId === undefined ? undefined : await readView(taskId);
    if (!view) return stream(m.streamId, true, NO_SUCH_STREAM);
    return answerView(m.streamId, view);
  }

  async function answerView(
    streamId: string,
    view: TaskView,
    retried = false,
  ): Promise<BotReplyPayload> {
    const { root } = view;
    const chained = chains(root);
    const now = clock.now();
    if (isFinal(view, chained)) {
      // The stream shows the result: nobody posts it again (a no-op if it was handed off).
      await ports.store.claimDelivery(root.taskId, 'stream', now.toISOString());
      const status = finalStatus(view);
      const content = renderView(view, types, chained);
      const retry = status === 'failed' || status === 'cancelled';
      return stream(
        streamId,
        true,
        content,
        retry ? taskCard(root, status, { nonce: 'final' }) : undefined,
      );
    }
    const windowEnd = Date.parse(root.createdAt) + ports.timing.windowMs;
    if (now.getTime() < windowEnd - ports.timing.marginMs) {
      return stream(streamId, false, renderView(view, types, chained));
    }
    const handed = await ports.store.handOff(root.taskId, now.toISOString());
    if (!handed && !retried) {
      // Delivered meanwhile: the task ended between the read and the hand-off.
      const again = await readView(root.taskId);
      if (again && isFinal(again, chained)) return answerView(streamId, again, true);
    }
    const content = truncate(
      renderView(view, types, chained) + handOffText(root.taskId),
      root.taskId,
    );
    return stream(streamId, true, content, taskCard(root, 'running', { nonce: 'handoff' }));
  }

  async function onCardEvent(
    m: BotInbound & { kind: 'card_event' },
    log: Log,
  ): Promise<BotReplyPayload> {
    const update = (card: ReturnType<typeof taskCard>): BotReplyPayload => ({
      response_type: 'update_template_card',
      template_card: card,
    });
    const cardId = m.cardTaskId ?? `tw-${m.msgId}`;
    const parsed = readCardKey(m.eventKey);
    if (!parsed)
      return update(noticeCard('未知按钮 unknown button', m.eventKey.slice(0, 100), cardId));
    const view = await readView(parsed.taskId);
    const asker = { userId: m.fromUserId };
    if (!view) return update(noticeCard('找不到任务 no such task', parsed.taskId, cardId));
    if (!mayCancelTask(view.root, asker)) {
      const verb = parsed.action === 'cancel' ? 'cancel' : 'retry';
      return update(
        noticeCard(
          '无权操作 not allowed',
          `only the person who asked for ${parsed.taskId} may ${verb} it`,
          cardId,
        ),
      );
    }
    if (parsed.action === 'cancel') {
      const target =
        !isTerminal(view.root.status) || !view.next || isTerminal(view.next.status)
          ? view.root
          : view.next;
      try {
        const { task, changed } = await cancelTask({ ...ports.submit, log }, target.taskId, {
          mayCancel: (t) => mayCancelTask(t, asker),
          refusal: chatText.notYourTask(target.taskId),
        });
        return update(
          taskCard(view.root, task.status, {
            desc: changed ? chatText.cancelled(task) : chatText.alreadyEnded(task),
            nonce: `c${m.msgId}`,
          }),
        );
      } catch (e) {
        if (isAppError(e) && (e.code === 'forbidden' || e.code === 'not_found')) {
          return update(noticeCard('无法取消 cannot cancel', e.message, cardId));
        }
        throw e;
      }
    }
    const status = isFinal(view, chains(view.root)) ? finalStatus(view) : view.root.status;
    if (status !== 'failed' && status !== 'cancelled') {
      return update(
        noticeCard('无需重试 nothing to retry', `${parsed.taskId} is ${status}`, cardId),
      );
    }
    const dedupeKey = idempotencyKey('bot-retry', m.aiBotId, m.msgId);
    const now = clock.now();
    // No stream for a retry: its result goes to the click's response_url (or the webhook).
    await ports.store.create(recordOf(dedupedTaskId('wecom', dedupeKey), m, now, true));
    const submitted = await submitTask(
      { ...ports.submit, log },
      {
        taskType: view.root.taskType,
        args: view.root.args,
        source: 'wecom',
        dedupeKey,
        requester: view.root.requester,
      },
    ).catch((e: unknown) => {
      const refusal = commandRefusal(e);
      if (refusal === undefined) throw e;
      return refusal;
    });
    if (typeof submitted === 'string')
      return update(noticeCard('无法重试 cannot retry', submitted, cardId));
    return update(
      taskCard(submitted.task, submitted.task.status, {
        desc: `重试 retry of ${parsed.taskId} → ${submitted.task.taskId}`,
        nonce: `r${m.msgId}`,
      }),
    );
  }

  async function onPost(event: HttpEvent, log: Log): Promise<HttpResult> {
    const query = readQuery(event, querySchema);
    const now = clock.now();
    checkFreshness(query.timestamp, now);
    const body = bodyText(event);
    if (Buffer.byteLength(body, 'utf8') > MAX_BODY_BYTES) {
      throw new WecomError('too_large', `body over ${MAX_BODY_BYTES} bytes`);
    }
    const envelope = parseEnvelope(body);
    if (envelope.format !== 'json')
      throw new WecomError('bad_format', 'the bot callback is JSON {"encrypt"}');
    const keys = await ports.keys();
    assertSignature(
      keys.token,
      query.timestamp,
      query.nonce,
      envelope.encrypt,
      query.msg_signature,
    );
    const { message } = keys.cipher.decrypt(envelope.encrypt);
    const m = parseBotMessage(message);
    let payload: BotReplyPayload | undefined;
    switch (m.kind) {
      case 'text':
        payload = await onText(m, keys, log);
        break;
      case 'stream':
        payload = await onRefresh(m, keys);
        break;
      case 'card_event':
        payload = await onCardEvent(m, log);
        break;
      case 'enter_chat':
        payload = { msgtype: 'text', text: { content: helpText(commands) } };
        break;
      case 'other':
        payload = m.msgType.startsWith('event:') ? undefined : oneShot(helpText(commands));
        break;
    }
    return asHttp(payload ? botReply(keys, payload, clock.now()) : EMPTY_BOT_REPLY);
  }

  async function onGet(event: HttpEvent): Promise<HttpResult> {
    const query = readQuery(event, urlCheckSchema);
    checkFreshness(query.timestamp, clock.now());
    const keys = await ports.keys();
    return text(
      200,
      verifyUrl(keys, {
        msgSignature: query.msg_signature,
        timestamp: query.timestamp,
        nonce: query.nonce,
        echostr: query.echostr,
      }),
    );
  }

  const routes: RouteHandlers<'wecomBot', typeof onPost> = {
    'GET /wecom/bot': onGet,
    'POST /wecom/bot': onPost,
  };

  return wecomRouteDispatcher(routes, ports.log);
}

/** Lambda entry point. */
export const handler = lazyHandler(() => {
  return createWecomBotHandler({
    keys: botKeysSource(process.env),
    submit: submitPorts(),
    commands: commandOptionsOf(taskConfig()),
    store: botStore(),
    timing: readStreamTiming(process.env),
    log: logger,
  });
});
