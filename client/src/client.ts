import { backoffDelay, DEFAULT_BACKOFF } from './connection/backoff.js';
import { connectUrl, Link, type WebSocketConstructor } from './connection/socket.js';
import {
  TaskwireConnectionError,
  TaskwireDroppedError,
  TaskwireError,
  TaskwireServerError,
  TaskwireTimeoutError,
} from './errors.js';
import { Emitter, type Handler } from './events/emitter.js';
import { RecentIds } from './events/recent-ids.js';
import {
  type BaseFrame,
  type ClientFrame,
  type ErrorFrame,
  isPushed,
  parseFrame,
  type ServerFrameMap,
  streamsOf,
  type TaskAcceptedFrame,
  type TaskUpdateFrame,
} from './frames.js';
import { DEFAULTS, type TaskwireClientOptions } from './options.js';
import { Outbox, type OutboxEntry } from './outbox/outbox.js';
import { type StreamInfo, StreamTracker } from './streams/stream-tracker.js';
import { TaskChain } from './tasks/task-chain.js';

/**
 * The client's state: `connecting` (no connection yet, or waiting to reconnect), `resuming`
 * (connected, the server replaying what was missed), `open` (live) or `closed` (`close()`, or
 * `backoff.maxAttempts` used up).
 */
export type ClientState = 'connecting' | 'open' | 'resuming' | 'closed';

/** The `state` event. */
export interface StateEvent {
  readonly state: ClientState;
  readonly previous: ClientState;
  /** Why the client left `open` (or closed for good), when it was a connection failure. */
  readonly error?: TaskwireConnectionError;
}

/** The `dropped` event: a frame left the full outbox unsent. */
export interface DroppedEvent {
  readonly frame: ClientFrame;
  readonly reason: 'outbox_full' | 'closed';
  /** Frames dropped so far, this one included. */
  readonly dropped: number;
  readonly at: number;
}

/** The `retry` event: a connection attempt is scheduled after a failure or a drop. */
export interface RetryEvent {
  /** Consecutive failed attempts so far (0 after a drop of an open connection). */
  readonly attempt: number;
  readonly delayMs: number;
  /** Why: the refused upgrade (`error.unauthorized` for a 401) or the close. */
  readonly error: TaskwireConnectionError | undefined;
}

/**
 * Every event of the client: one per server frame type, plus `state`, `dropped`, `retry` and
 * `frame`.
 */
export interface ClientEvents extends ServerFrameMap {
  state: StateEvent;
  retry: RetryEvent;
  dropped: DroppedEvent;
  /** Every frame the client delivers, of any type (after ordering and dedupe). */
  frame: BaseFrame;
}

/** Options of one `submit`. */
export interface SubmitOptions {
  /** Reject with {@link TaskwireTimeoutError} when the chain has not ended by then (ms). */
  readonly timeoutMs?: number;
}

/** The outbox's state. */
export interface OutboxInfo {
  readonly size: number;
  readonly limit: number;
  readonly dropped: number;
}

interface PendingRequest {
  readonly requestId: string;
  readonly frame: ClientFrame;
  readonly text: string;
  readonly resolve: (frame: BaseFrame) => void;
  readonly reject: (error: Error) => void;
  link: Link | undefined;
}

const PING = JSON.stringify({ action: 'ping' });
/** How long a retired connection may wait for replies to requests sent on it, ms. */
const RETIRE_GRACE_MS = 2000;
/** Task updates remembered for a submit whose `task.accepted` is still on its way. */
const EARLY_UPDATES = 200;

const randomId = (): string => {
  const crypto = (globalThis as { crypto?: { randomUUID?: () => string } }).crypto;
  return (
    crypto?.randomUUID?.() ?? `${Date.now().toString(36)}${Math.random().toString(36).slice(2)}`
  );
};

/**
 * The Taskwire WebSocket client. It connects with a token from the provider (called on every
 * connect), registers, reconnects with exponential backoff and full jitter, resumes every stream
 * from the last contiguous (`stream`, `seq`) it holds, rolls over before the gateway's 2-hour cap
 * (make-before-break on `session.expiring`), sends a heartbeat inside the idle limit, delivers
 * pushed frames once each in seq order per stream, queues frames sent while offline in a
 * bounded outbox, and waits for a submitted task (and the tasks chained from it) to end.
 */
export class TaskwireClient {
  readonly #options: TaskwireClientOptions;
  readonly #events = new Emitter<ClientEvents>();
  readonly #tracker: StreamTracker;
  readonly #outboxQueue: Outbox<PendingRequest>;
  readonly #ids = new RecentIds();
  readonly #pending = new Map<string, PendingRequest>();
  readonly #joined = new Set<string>();
  readonly #recentUpdates: TaskUpdateFrame[] = [];
  readonly #WebSocket: WebSocketConstructor | undefined;
  readonly #now: () => number;
  #currentState: ClientState = 'connecting';
  #active: Link | undefined;
  #next: Link | undefined;
  readonly #retiring = new Set<Link>();
  readonly #retireTimers = new Set<ReturnType<typeof setTimeout>>();
  #linkSerial = 0;
  #attempt = 0;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  #heartbeat: ReturnType<typeof setInterval> | undefined;
  #started = false;
  #closing = false;
  #error: TaskwireConnectionError | undefined;

  public constructor(options: TaskwireClientOptions) {
    this.#options = options;
    this.#WebSocket =
      options.WebSocket ??
      (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket ??
      undefined;
    this.#now = options.now ?? Date.now;
    this.#tracker = new StreamTracker(
      options.reorderWindowMs ?? DEFAULTS.reorderWindowMs,
      (frame) => this.#deliver(frame),
      {
        online: () => this.#currentState === 'open' && this.#active?.isOpen === true,
        repair: () => this.#repair(),
      },
    );
    this.#outboxQueue = new Outbox<PendingRequest>(
      options.outboxLimit ?? DEFAULTS.outboxLimit,
      (entry) => this.#dropEntry(entry, 'outbox_full'),
    );
    for (const g of options.groups ?? []) this.#joined.add(g);
  }

  /** The state now. */
  public get state(): ClientState {
    return this.#currentState;
  }

  /** What the client holds of each stream: epoch, last contiguous seq, and `recovered`. */
  public get streams(): Readonly<Record<string, StreamInfo>> {
    return this.#tracker.snapshot();
  }

  /** The outbox: frames waiting for a connection, its limit and how many were dropped. */
  public get outbox(): OutboxInfo {
    const q = this.#outboxQueue;
    return { size: q.size, limit: q.limit, dropped: q.dropped };
  }

  /** The last connection failure (a refused upgrade, a close), if any. */
  public get lastError(): TaskwireConnectionError | undefined {
    return this.#error;
  }

  /** The groups registered on each new connection (the option's and those joined since). */
  public get groups(): readonly string[] {
    return [...this.#joined];
  }

  /** Adds an event handler; returns the function that removes it. */
  public on<K extends keyof ClientEvents>(type: K, handler: Handler<ClientEvents[K]>): () => void {
    return this.#events.on(type, handler);
  }

  /**
   * Starts connecting (once) and resolves when the client is open; rejects when it closes
   * first (`close()` or `backoff.maxAttempts` used up).
   */
  public connect(): Promise<void> {
    if (this.#currentState === 'closed') {
      return Promise.reject(this.#error ?? new TaskwireError('the client is closed'));
    }
    const opened = new Promise<void>((resolve, reject) => {
      if (this.#currentState === 'open') return resolve();
      const off = this.on('state', (e) => {
        if (e.state === 'open') {
          off();
          resolve();
        } else if (e.state === 'closed') {
          off();
          reject(e.error ?? new TaskwireError('the client was closed'));
        }
      });
    });
    if (!this.#started) {
      this.#started = true;
      void this.#openLink();
    }
    return opened;
  }

  /**
   * Sends a frame now when open, else queues it in the outbox (see `outboxLimit`).
   * Fire-and-forget: use `join`, `leave`, `submit` or `cancel` to wait for a reply.
   */
  public send(frame: ClientFrame): void {
    this.#transmit({ text: JSON.stringify(frame) });
  }

  /** Joins a group (kept across reconnects); resolves with `joined`. */
  public async join(group: string): Promise<ServerFrameMap['joined']> {
    const position = this.#tracker.position(`group:${group}`);
    const reply = await this.#request({
      action: 'join',
      group,
      ...(position ? { resume: position } : {}),
    });
    return reply as ServerFrameMap['joined'];
  }

  /** Leaves a group (no longer registered on new connections); resolves with `left`. */
  public async leave(group: string): Promise<ServerFrameMap['left']> {
    const reply = await this.#request({ action: 'leave', group });
    return reply as ServerFrameMap['left'];
  }

  /**
   * Sends any action and resolves with the frame that answers its `requestId` (one is added
   * when absent), e.g. a socket worker's `progress`, `result` or `fail` answered by `task.ack`;
   * rejects with {@link TaskwireServerError} on an error frame (`lease_lost`, `bad_request`, …).
   * Waits in the outbox while offline.
   */
  public request(frame: ClientFrame, timeoutMs?: number): Promise<BaseFrame> {
    return this.#request(frame, timeoutMs);
  }

  /**
   * Cancels a task; resolves with the server's reply (whatever frame answers the requestId),
   * rejects with {@link TaskwireServerError} on an error frame.
   */
  public cancel(taskId: string): Promise<BaseFrame> {
    return this.#request({ action: 'cancel', taskId });
  }

  /**
   * Submits a task and resolves when it has ended, with the terminal `task.update`
   * (`succeeded`, `failed` or `cancelled`: a failed task RESOLVES; check `status`). When the task
   * chains others (`download` → `logic`), it resolves once every task of the chain is terminal,
   * with the last one's update. Rejects with {@link TaskwireTimeoutError} after `timeoutMs`
   * (default `submitTimeoutMs`) and with {@link TaskwireServerError} when the submit is refused.
   */
  public submit(
    taskType: string,
    args: readonly string[] | Record<string, unknown>,
    options: SubmitOptions = {},
  ): Promise<TaskUpdateFrame> {
    const timeoutMs =
      options.timeoutMs ?? this.#options.submitTimeoutMs ?? DEFAULTS.submitTimeoutMs;
    const requestId = randomId();
    return new Promise<TaskUpdateFrame>((resolve, reject) => {
      let chain: TaskChain | undefined;
      let settled = false;
      const finish = (outcome: () => void) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        off();
        outcome();
      };
      const check = () => {
        const done = chain?.done;
        if (done) finish(() => resolve(done));
      };
      const off = this.on('task.update', (update) => {
        if (chain?.take(update)) check();
      });
      const timer = setTimeout(() => {
        this.#abandon(requestId);
        const what = chain
          ? `task ${taskType} ${chain.rootTaskId} (${chain.describe()})`
          : `task ${taskType} (not accepted yet)`;
        finish(() =>
          reject(
            new TaskwireTimeoutError(
              `${what} did not end within ${timeoutMs} ms`,
              chain?.rootTaskId,
              taskType,
              timeoutMs,
            ),
          ),
        );
      }, timeoutMs);
      this.#request({ action: 'submit', taskType, args, requestId }, Infinity).then(
        (reply) => {
          if (settled) return;
          const accepted = reply as TaskAcceptedFrame;
          chain = new TaskChain(accepted.taskId);
          // Updates that came before the reply (they should not, but frames may overtake).
          for (const update of this.#recentUpdates) chain.take(update);
          check();
        },
        (error: Error) => finish(() => reject(error)),
      );
    });
  }

  /** Stops everything: timers, sockets and pending requests (rejected); resolves when closed. */
  public close(): Promise<void> {
    return this.#shutdown(undefined);
  }

  async #shutdown(error: TaskwireConnectionError | undefined): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    if (this.#retryTimer !== undefined) clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    for (const timer of this.#retireTimers) clearTimeout(timer);
    this.#retireTimers.clear();
    this.#stopHeartbeat();
    this.#tracker.stop();
    const links = [this.#active, this.#next, ...this.#retiring].filter(
      (l): l is Link => l !== undefined,
    );
    this.#active = undefined;
    this.#next = undefined;
    this.#retiring.clear();
    await Promise.all(links.map((l) => l.close(1000, 'client closed')));
    for (const entry of this.#outboxQueue.drain()) this.#dropEntry(entry, 'closed');
    for (const request of [...this.#pending.values()]) {
      this.#pending.delete(request.requestId);
      request.reject(new TaskwireDroppedError('the client was closed before the reply came'));
    }
    this.#setState('closed', error);
    this.#events.clear();
  }

  // ---------------------------------------------------------------------------------------------
  // Requests and the outbox

  /** Sends a frame with a requestId; resolves with the first non-error frame that carries it. */
  #request(frame: ClientFrame, timeoutMs?: number): Promise<BaseFrame> {
    if (this.#closing) return Promise.reject(new TaskwireError('the client is closed'));
    const requestId = frame.requestId ?? randomId();
    const limit = timeoutMs ?? this.#options.requestTimeoutMs ?? DEFAULTS.requestTimeoutMs;
    return new Promise<BaseFrame>((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const done = () => {
        if (timer !== undefined) clearTimeout(timer);
      };
      const full = { ...frame, requestId };
      const request: PendingRequest = {
        requestId,
        frame: full,
        text: JSON.stringify(full),
        resolve: (f) => {
          done();
          resolve(f);
        },
        reject: (e) => {
          done();
          reject(e);
        },
        link: undefined,
      };
      if (Number.isFinite(limit)) {
        timer = setTimeout(() => {
          this.#abandon(requestId);
          reject(
            new TaskwireTimeoutError(
              `${frame.action} got no reply within ${limit} ms`,
              undefined,
              frame.action,
              limit,
            ),
          );
        }, limit);
      }
      this.#pending.set(requestId, request);
      this.#transmit({ text: request.text, tag: request });
    });
  }

  /** Forgets a request (timed out): no longer queued, its reply ignored. */
  #abandon(requestId: string): void {
    const request = this.#pending.get(requestId);
    this.#pending.delete(requestId);
    this.#outboxQueue.remove((tag) => tag?.requestId === requestId);
    if (request?.link?.retiring) this.#closeRetiredWhenIdle(request.link);
  }

  #transmit(entry: OutboxEntry<PendingRequest>, front = false): void {
    const link = this.#currentState === 'open' ? this.#active : undefined;
    if (link && link.send(entry.text)) {
      if (entry.tag) entry.tag.link = link;
      return;
    }
    this.#outboxQueue.push(entry, front);
  }

  #flush(): void {
    for (const entry of this.#outboxQueue.drain()) this.#transmit(entry);
  }

  #dropEntry(entry: OutboxEntry<PendingRequest>, reason: DroppedEvent['reason']): void {
    let frame: ClientFrame;
    try {
      frame = JSON.parse(entry.text) as ClientFrame;
    } catch {
      frame = { action: 'unknown' };
    }
    if (entry.tag && this.#pending.get(entry.tag.requestId) === entry.tag) {
      this.#pending.delete(entry.tag.requestId);
      entry.tag.reject(
        new TaskwireDroppedError(
          reason === 'closed'
            ? `${frame.action} was not sent: the client was closed`
            : `${frame.action} was dropped from the full outbox (limit ${this.#outboxQueue.limit})`,
        ),
      );
    }
    this.#events.emit('dropped', {
      frame,
      reason,
      dropped: this.#outboxQueue.dropped,
      at: this.#now(),
    });
  }

  /** Requests sent on a connection that closed before their reply go out again, in order. */
  #requeue(link: Link): void {
    const lost = [...this.#pending.values()].filter((r) => r.link === link);
    for (const request of lost.reverse()) {
      request.link = undefined;
      // Safe to repeat: a repeated submit requestId returns the same task; join/leave are idempotent.
      this.#transmit({ text: request.text, tag: request }, true);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Connections

  async #openLink(): Promise<void> {
    if (this.#closing) return;
    const link = new Link(++this.#linkSerial, {
      onOpen: (l) => this.#onOpen(l),
      onText: (l, text) => this.#onText(l, text),
      onClose: (l, error) => this.#onClose(l, error),
    });
    this.#next = link;
    if (!this.#active) this.#setState('connecting');
    let token: string;
    try {
      token = await this.#options.token();
    } catch (cause) {
      link.closed = true;
      this.#onClose(link, new TaskwireConnectionError('the token provider failed', { cause }));
      return;
    }
    if (this.#closing || this.#next !== link) return;
    if (!this.#WebSocket) {
      link.closed = true;
      this.#onClose(
        link,
        new TaskwireConnectionError('no WebSocket: pass options.WebSocket (e.g. `ws` in Node)'),
      );
      return;
    }
    link.open(this.#WebSocket, connectUrl(this.#options.url, token));
  }

  /** A gap did not fill in time: resume on the open connection (the replay fills it). */
  #repair(): boolean {
    const link = this.#active;
    if (!link || !link.isOpen || link.registering || this.#closing) return false;
    this.#register(link, true, false);
    return link.resuming;
  }

  #register(link: Link, withResume: boolean, hold = true): void {
    const clientType = this.#options.clientType ?? DEFAULTS.clientType;
    const groups = [...this.#joined];
    const receives = (stream: string) =>
      stream === 'all' ||
      stream.startsWith('user:') ||
      stream === `type:${clientType}` ||
      (stream.startsWith('group:') && this.#joined.has(stream.slice('group:'.length)));
    const resume = withResume ? this.#tracker.resumeMap(receives) : {};
    link.resuming = Object.keys(resume).length > 0;
    link.registerRequestId = randomId();
    link.registering = true;
    link.release();
    if (link.resuming && hold) {
      link.release = this.#tracker.hold();
      if (!this.#active) this.#setState('resuming');
    }
    link.send(
      JSON.stringify({
        action: 'register',
        clientType,
        ...(groups.length ? { groups } : {}),
        ...(link.resuming ? { resume } : {}),
        ...(this.#options.worker ? { worker: this.#options.worker } : {}),
        requestId: link.registerRequestId,
      }),
    );
  }

  #onOpen(link: Link): void {
    if (this.#closing) return;
    this.#register(link, true);
  }

  #onText(link: Link, text: string): void {
    if (this.#closing) return;
    const frame = parseFrame(text);
    if (!frame) return;
    if (link.registerRequestId && frame.requestId === link.registerRequestId) {
      this.#onRegisterReply(link, frame);
      return;
    }
    if (isPushed(frame)) {
      this.#tracker.accept(frame);
      return;
    }
    switch (frame.type) {
      case 'joined': {
        const group = frame.group;
        if (typeof group === 'string') this.#joined.add(group);
        this.#tracker.tips(streamsOf(frame));
        break;
      }
      case 'left': {
        const group = frame.group;
        if (typeof group === 'string') {
          this.#joined.delete(group);
          this.#tracker.forget(`group:${group}`);
        }
        break;
      }
      case 'resumed':
        this.#tracker.resumed(streamsOf(frame));
        break;
      case 'session.expiring':
        // Make-before-break: the next connection resumes, then this one closes.
        if (link === this.#active && !this.#next && this.#retryTimer === undefined) {
          void this.#openLink();
        }
        break;
    }
    this.#settle(frame);
    this.#emitFrame(frame);
  }

  #onRegisterReply(link: Link, frame: BaseFrame): void {
    if (frame.type === 'error' || frame.type === 'resumed' || !link.resuming) {
      link.registering = false;
    }
    if (frame.type === 'error') {
      this.#emitFrame(frame);
      link.release();
      const error = frame as ErrorFrame;
      const refusedResume = error.code === 'bad_request' || error.code === 'forbidden';
      if (link.resuming && refusedResume && !link.reregistered) {
        // The resume was refused (a group no longer allowed, an epoch unknown): start afresh.
        link.reregistered = true;
        this.#tracker.reset();
        this.#register(link, false);
        return;
      }
      // Anything else (`not_found`: the connection is going away): reconnect and resume.
      this.#error = new TaskwireConnectionError(
        `register was refused: ${error.code}: ${error.message}`,
      );
      void link.close(1000, 'register refused');
      return;
    }
    if (frame.type === 'registered') {
      this.#tracker.tips(streamsOf(frame));
      this.#emitFrame(frame);
      if (!link.resuming) this.#ready(link);
      return;
    }
    if (frame.type === 'resumed') {
      this.#tracker.resumed(streamsOf(frame));
      link.release();
      this.#emitFrame(frame);
      this.#ready(link);
      return;
    }
    this.#emitFrame(frame);
  }

  #ready(link: Link): void {
    if (link.ready || link.closed || this.#closing) return;
    link.ready = true;
    const old = this.#active;
    this.#active = link;
    if (this.#next === link) this.#next = undefined;
    this.#attempt = 0;
    if (old && old !== link) this.#retire(old);
    this.#setState('open');
    this.#flush();
    this.#startHeartbeat();
  }

  #retire(link: Link): void {
    link.retiring = true;
    this.#retiring.add(link);
    this.#closeRetiredWhenIdle(link);
    const timer = setTimeout(() => {
      this.#retireTimers.delete(timer);
      void this.#closeRetired(link);
    }, RETIRE_GRACE_MS);
    this.#retireTimers.add(timer);
  }

  #closeRetiredWhenIdle(link: Link): void {
    const waiting = [...this.#pending.values()].some((r) => r.link === link);
    if (!waiting) void this.#closeRetired(link);
  }

  async #closeRetired(link: Link): Promise<void> {
    if (!this.#retiring.has(link)) return;
    this.#retiring.delete(link);
    this.#requeue(link);
    await link.close(1000, 'make-before-break');
  }

  #onClose(link: Link, error: TaskwireConnectionError): void {
    link.release();
    if (this.#closing) return;
    if (this.#retiring.delete(link)) {
      this.#requeue(link);
      return;
    }
    if (link === this.#active) {
      this.#active = undefined;
      this.#error = error;
      this.#stopHeartbeat();
      this.#requeue(link);
      if (this.#next) {
        this.#setState(this.#next.resuming ? 'resuming' : 'connecting', error);
      } else {
        this.#setState('connecting', error);
        this.#scheduleRetry();
      }
      return;
    }
    if (link === this.#next) {
      this.#next = undefined;
      this.#error = error;
      this.#requeue(link);
      this.#attempt += 1;
      const max = this.#options.backoff?.maxAttempts ?? DEFAULT_BACKOFF.maxAttempts;
      if (this.#attempt >= max) {
        if (!this.#active) void this.#giveUp(error);
        return;
      }
      if (!this.#active) this.#setState('connecting', error);
      this.#scheduleRetry();
    }
  }

  async #giveUp(error: TaskwireConnectionError): Promise<void> {
    this.#error = new TaskwireConnectionError(
      `gave up after ${this.#attempt} failed attempts: ${error.message}`,
      error.details,
    );
    await this.#shutdown(this.#error);
  }

  #scheduleRetry(): void {
    if (this.#closing || this.#retryTimer !== undefined) return;
    const delay = backoffDelay(this.#attempt, this.#options.backoff, this.#options.random);
    this.#events.emit('retry', { attempt: this.#attempt, delayMs: delay, error: this.#error });
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      void this.#openLink();
    }, delay);
  }

  #startHeartbeat(): void {
    this.#stopHeartbeat();
    const every = this.#options.heartbeatMs ?? DEFAULTS.heartbeatMs;
    if (!(every > 0) || !Number.isFinite(every)) return;
    this.#heartbeat = setInterval(() => {
      this.#active?.send(PING);
    }, every);
  }

  #stopHeartbeat(): void {
    if (this.#heartbeat !== undefined) clearInterval(this.#heartbeat);
    this.#heartbeat = undefined;
  }

  // ---------------------------------------------------------------------------------------------
  // Delivery

  #settle(frame: BaseFrame): void {
    const requestId = frame.requestId;
    if (typeof requestId !== 'string') return;
    const request = this.#pending.get(requestId);
    if (!request) return;
    this.#pending.delete(requestId);
    if (frame.type === 'error') {
      const e = frame as ErrorFrame;
      request.reject(new TaskwireServerError(String(e.code), String(e.message), requestId));
    } else {
      request.resolve(frame);
    }
    if (request.link?.retiring) this.#closeRetiredWhenIdle(request.link);
  }

  /** A pushed frame in seq order: emitted unless its id was delivered already (another stream). */
  #deliver(frame: BaseFrame): void {
    if (typeof frame.id === 'string' && this.#ids.seenBefore(frame.id)) return;
    if (frame.type === 'task.update') {
      this.#recentUpdates.push(frame as TaskUpdateFrame);
      if (this.#recentUpdates.length > EARLY_UPDATES) this.#recentUpdates.shift();
    }
    this.#emitFrame(frame);
  }

  #emitFrame(frame: BaseFrame): void {
    this.#events.emit(frame.type as keyof ServerFrameMap, frame as never);
    this.#events.emit('frame', frame);
  }

  #setState(state: ClientState, error?: TaskwireConnectionError): void {
    const previous = this.#currentState;
    if (previous === state || previous === 'closed') return;
    this.#currentState = state;
    this.#events.emit('state', { state, previous, ...(error ? { error } : {}) });
  }
}
