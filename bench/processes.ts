import { type ChildProcess, fork } from 'node:child_process';
import { join } from 'node:path';
import { fmt, median, round } from './harness';

/**
 * Bench child processes (issue 10: honest baselines): the bare PostToConnection loop and the
 * WebSocket clients each run in a process of their own, started here with tsx and driven over
 * IPC, so neither competes with the measured runtime for its event loop.
 */

/** A message to or from a bench child: an `op` and its fields. */
export type Reply = Record<string, unknown> & { op: string };

const isReply = (v: unknown): v is Reply =>
  typeof v === 'object' && v !== null && typeof (v as { op?: unknown }).op === 'string';

/** Epoch milliseconds with sub-millisecond precision, comparable across processes. */
export const epochMs = (): number => performance.timeOrigin + performance.now();

/** A forked bench child and a way to wait for its next reply of an op. */
export class Child {
  private readonly waiting: {
    op: string;
    match: (r: Reply) => boolean;
    resolve: (r: Reply) => void;
    reject: (e: Error) => void;
  }[] = [];
  private failure: Error | undefined;
  /** What the child said when it was ready (e.g. an endpoint). */
  public readyReply: Reply = { op: 'ready' };

  private constructor(private readonly child: ChildProcess) {
    child.on('message', (m: unknown) => {
      if (!isReply(m)) return;
      if (m.op === 'error') return this.fail(new Error(`bench child: ${String(m.message)}`));
      const i = this.waiting.findIndex((w) => w.op === m.op && w.match(m));
      if (i >= 0) this.waiting.splice(i, 1)[0]?.resolve(m);
    });
    child.on('exit', (code) => this.fail(new Error(`bench child exited (${String(code)})`)));
  }

  /**
   * Forks bench/children/<script> with tsx (and any extra `execArgv`, e.g. `--expose-gc`) and
   * waits for its `ready`.
   */
  public static async start(
    script: string,
    options: { execArgv?: readonly string[]; env?: Readonly<Record<string, string>> } = {},
  ): Promise<Child> {
    const child = new Child(
      fork(join(__dirname, 'children', script), [], {
        execArgv: [...(options.execArgv ?? []), '--import', 'tsx'],
        env: { ...process.env, ...options.env },
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      }),
    );
    child.readyReply = await child.next('ready');
    return child;
  }

  private fail(e: Error): void {
    this.failure ??= e;
    for (const w of this.waiting.splice(0)) w.reject(e);
  }

  /** The next reply of `op` (that `match` accepts), or a rejection after `timeoutMs`. */
  public next(
    op: string,
    match: (r: Reply) => boolean = () => true,
    timeoutMs = 120_000,
  ): Promise<Reply> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const i = this.waiting.indexOf(entry);
        if (i >= 0) this.waiting.splice(i, 1);
        reject(new Error(`bench child: no ${op} within ${timeoutMs} ms`));
      }, timeoutMs);
      const entry = {
        op,
        match,
        resolve: (r: Reply) => {
          clearTimeout(timer);
          resolve(r);
        },
        reject: (e: Error) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      this.waiting.push(entry);
    });
  }

  public send(message: Record<string, unknown>): void {
    this.child.send(message);
  }

  /** Sends a command and waits for its reply `op`. */
  public request(command: Reply, op: string, timeoutMs = 300_000): Promise<Reply> {
    const reply = this.next(op, () => true, timeoutMs);
    this.send(command);
    return reply;
  }

  public async stop(): Promise<void> {
    if (this.child.exitCode !== null || !this.child.connected) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.send({ op: 'close' });
    const timer = setTimeout(() => this.child.kill(), 10_000);
    await exited;
    clearTimeout(timer);
  }
}

/** The baseline in its own process: a 200-only server and the bare SDK loop. */
export class BareLoopProcess {
  private constructor(private readonly child: Child) {}

  public static async start(): Promise<BareLoopProcess> {
    return new BareLoopProcess(await Child.start('bare-loop.ts'));
  }

  /** Posts `bytes` to `n` ids at `concurrency`; deliveries per second. */
  public async run(n: number, bytes: number, concurrency: number): Promise<number> {
    const reply = this.child.next('ran');
    this.child.send({ op: 'run', n, bytes, concurrency });
    const r = await reply;
    if (r.delivered !== n) throw new Error(`baseline delivered ${String(r.delivered)} of ${n}`);
    return (n / Number(r.ms)) * 1000;
  }

  public stop(): Promise<void> {
    return this.child.stop();
  }
}

/**
 * dynalite in a process of its own (bench/children/dynalite.ts), as DynamoDB is a service of its
 * own in the cloud: the runtime under test then spends its event loop on the gateway and the
 * engine, not on the emulator's LevelDB work.
 */
export class DynamoProcess {
  private constructor(
    private readonly child: Child,
    /** The emulator's endpoint, for `startLocalRuntime({ dynamoEndpoint })`. */
    public readonly endpoint: string,
  ) {}

  public static async start(): Promise<DynamoProcess> {
    const child = await Child.start('dynalite.ts');
    return new DynamoProcess(child, String(child.readyReply.endpoint));
  }

  public stop(): Promise<void> {
    return this.child.stop();
  }
}

/** The WebSocket clients in their own process, counting frames per marker. */
export class ClientsProcess {
  private count = 0;

  private constructor(private readonly child: Child) {}

  public static async start(): Promise<ClientsProcess> {
    return new ClientsProcess(await Child.start('ws-clients.ts'));
  }

  /** Clients open so far. */
  public get size(): number {
    return this.count;
  }

  /** Opens one client per token, `parallel` upgrades at a time; the milliseconds it took. */
  public async open(url: string, tokens: readonly string[], parallel: number): Promise<number> {
    const reply = this.child.next('opened', () => true, 600_000);
    this.child.send({ op: 'open', url, tokens, parallel });
    const r = await reply;
    this.count = Number(r.count);
    return Number(r.ms);
  }

  /**
   * Expects `count` clients to get the marker: resolves once the child counts it; `done()`
   * is the epoch time the last of them had its first copy (undefined after `timeoutMs`).
   */
  public async expect(
    marker: string,
    count: number,
  ): Promise<{ done: (timeoutMs: number) => Promise<number | undefined> }> {
    const ack = this.child.next('expecting', (r) => r.marker === marker);
    const done = this.child.next('done', (r) => r.marker === marker, 600_000);
    // Swallowed here; a caller that waits sees the timeout instead.
    done.catch(() => undefined);
    this.child.send({ op: 'expect', marker, count });
    await ack;
    return {
      done: (timeoutMs) =>
        Promise.race([
          done.then((r) => Number(r.at)),
          new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), timeoutMs)),
        ]),
    };
  }

  /** Clients without the marker and with more than one copy; the last frame's size. */
  public async check(
    marker: string,
  ): Promise<{ missing: number; duplicated: number; frameBytes: number }> {
    const reply = this.child.next('checked', (r) => r.marker === marker);
    this.child.send({ op: 'check', marker });
    const r = await reply;
    return {
      missing: Number(r.missing),
      duplicated: Number(r.duplicated),
      frameBytes: Number(r.frameBytes),
    };
  }

  public stop(): Promise<void> {
    return this.child.stop();
  }
}

/** min / median / max of a sample (the goal is judged on the median). */
export const spread = (values: readonly number[]) => ({
  min: Math.min(...values),
  median: median(values),
  max: Math.max(...values),
});

/** min/median/max rounded for results.json. */
export const roundSpread = (values: readonly number[], decimals = 0) => {
  const s = spread(values);
  return {
    min: round(s.min, decimals),
    median: round(s.median, decimals),
    max: round(s.max, decimals),
  };
};

/** min / median / max for a table cell. */
export const spreadText = (values: readonly number[]): string => {
  const s = spread(values);
  return `${fmt(s.min)} / ${fmt(s.median)} / ${fmt(s.max)}`;
};
