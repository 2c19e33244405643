import {
  PermanentTaskError,
  type ResolvedServer,
  TaskCancelledError,
  type TaskRunContext,
} from './task-type';

/** Redirects followed at most; every hop must stay on the server's own origin. */
export const MAX_REDIRECTS = 3;
/** Progress reports per download at most (one per tenth of the declared length). */
const PROGRESS_STEPS = 10;
const REDIRECT_STATUSES: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);
/** 4xx answers that mean "later" rather than "never": the queue retries them like a 5xx. */
const RETRYABLE_CLIENT_STATUSES: ReadonlySet<number> = new Set([408, 429]);

/** What a download fetched. */
export interface Fetched {
  readonly body: Uint8Array;
  readonly contentType?: string;
  /** The URL that answered (after redirects), never with credentials in it. */
  readonly url: string;
}

/** A server answer that a retry may fix (5xx, 408, 429). */
class RetryableHttpError extends Error {
  public constructor(message: string) {
    super(message);
    this.name = 'RetryableHttpError';
  }
}

/** Userinfo in a URL would be logged, returned and refused by fetch; credentials go in a header. */
function withoutUserinfo(url: URL): URL {
  const clean = new URL(url);
  clean.username = '';
  clean.password = '';
  return clean;
}

/**
 * The dataset's URL: `baseUrl` + `path` with `{dsNumber}` percent-encoded.
 * @throws PermanentTaskError for a baseUrl that is no URL (configuration, not chance).
 */
export function datasetUrl(server: ResolvedServer, dsNumber: string): URL {
  const base = server.baseUrl.replace(/\/+$/, '');
  const path = server.path.startsWith('/') ? server.path : `/${server.path}`;
  try {
    return withoutUserinfo(
      new URL(base + path.split('{dsNumber}').join(encodeURIComponent(dsNumber))),
    );
  } catch (e) {
    throw new PermanentTaskError(`server "${server.name}": baseUrl is not a URL`, { cause: e });
  }
}

// URL.parse arrives in Node 22; Node 20 is supported, so the try/catch form.
function parseUrl(text: string, base: URL): URL | undefined {
  try {
    return new URL(text, base);
  } catch {
    return undefined;
  }
}

/** "fetch failed" alone says nothing; undici puts the reason (ECONNREFUSED, …) in the cause. */
const describe = (e: unknown): string =>
  e instanceof Error
    ? `${e.message}${e.cause instanceof Error ? `: ${e.cause.message}` : ''}`
    : String(e);

const discard = async (response: Response): Promise<void> => {
  await response.body?.cancel().catch(() => undefined);
};

function basicAuth(server: ResolvedServer): Record<string, string> {
  if (!server.credentials) return {};
  const { username, password } = server.credentials;
  return { authorization: `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}` };
}

/** GETs `start`, following same-origin redirects by hand so credentials never leave the origin. */
async function open(
  start: URL,
  server: ResolvedServer,
  ctx: TaskRunContext,
  signal: AbortSignal,
): Promise<{ response: Response; url: URL }> {
  const origin = new URL(server.baseUrl).origin;
  let url = start;
  for (let hop = 0; ; hop += 1) {
    const response = await ctx.fetch(url, {
      redirect: 'manual',
      signal,
      // identity: the byte cap and the progress count then measure exactly what we store.
      headers: {
        accept: '*/*',
        'accept-encoding': 'identity',
        ...(url.origin === origin ? basicAuth(server) : {}),
      },
    });
    if (!REDIRECT_STATUSES.has(response.status)) return { response, url };
    await discard(response);
    if (hop === MAX_REDIRECTS) throw new PermanentTaskError(`more than ${MAX_REDIRECTS} redirects`);
    const location = response.headers.get('location');
    const next = location === null ? undefined : parseUrl(location, url);
    if (!next) throw new PermanentTaskError(`HTTP ${response.status} without a usable Location`);
    if (next.origin !== origin) {
      throw new PermanentTaskError(`redirect off the allow-list: ${next.origin} is not ${origin}`);
    }
    url = withoutUserinfo(next);
  }
}

function checkStatus(response: Response, url: URL): void {
  if (response.ok) return;
  const what = `${url.origin}${url.pathname} answered HTTP ${response.status}`;
  if (response.status >= 500 || RETRYABLE_CLIENT_STATUSES.has(response.status)) {
    throw new RetryableHttpError(what);
  }
  throw new PermanentTaskError(what);
}

function declaredLength(response: Response): number | undefined {
  const header = response.headers.get('content-length');
  return header !== null && /^\d{1,15}$/.test(header) ? Number(header) : undefined;
}

/** Reads the body, stopping as soon as it passes the cap rather than after buffering it all. */
async function readCapped(
  response: Response,
  maxBytes: number,
  ctx: TaskRunContext,
): Promise<Uint8Array> {
  const declared = declaredLength(response);
  if (declared !== undefined && declared > maxBytes) {
    await discard(response);
    throw new PermanentTaskError(`${declared} bytes declared, over the ${maxBytes} byte cap`);
  }
  const chunks: Uint8Array[] = [];
  let received = 0;
  let nextStep = 1;
  const reader = response.body?.getReader();
  for (;;) {
    const chunk = reader ? await reader.read() : { done: true as const };
    if (chunk.done) break;
    received += chunk.value.byteLength;
    if (received > maxBytes) {
      await reader?.cancel().catch(() => undefined);
      throw new PermanentTaskError(`over the ${maxBytes} byte cap`);
    }
    chunks.push(chunk.value);
    if (declared) {
      const fraction = Math.min(1, received / declared);
      if (fraction * PROGRESS_STEPS >= nextStep) {
        nextStep = Math.floor(fraction * PROGRESS_STEPS) + 1;
        // Progress is advisory: a failed report must not fail the download. But a report
        // refused because the task was cancelled stops the reading (the fetch is aborted too).
        await ctx.progress(fraction, `${received} of ${declared} bytes`).catch((e: unknown) => {
          if (e instanceof TaskCancelledError) throw e;
          ctx.log.warn('progress report failed', { error: String(e) });
        });
      }
    }
  }
  const body = new Uint8Array(received);
  let offset = 0;
  for (const c of chunks) {
    body.set(c, offset);
    offset += c.byteLength;
  }
  return body;
}

/**
 * Fetches a dataset from an allow-listed server within its timeout and size cap.
 * @throws PermanentTaskError for a 4xx, an off-origin redirect or a body over the cap;
 *   a plain Error (retryable) for a 5xx, a timeout or a network failure.
 */
export async function fetchDataset(
  server: ResolvedServer,
  dsNumber: string,
  ctx: TaskRunContext,
): Promise<Fetched> {
  const start = datasetUrl(server, dsNumber);
  const timeout = AbortSignal.timeout(server.timeoutMs);
  // One signal for the whole exchange: redirects and the body count against the same timeout.
  const signal = AbortSignal.any([ctx.signal, timeout]);
  try {
    const { response, url } = await open(start, server, ctx, signal);
    if (!response.ok) await discard(response);
    checkStatus(response, url);
    const body = await readCapped(response, server.maxBytes, ctx);
    const contentType = response.headers.get('content-type')?.slice(0, 128);
    return { body, url: url.href, ...(contentType ? { contentType } : {}) };
  } catch (e) {
    if (
      e instanceof PermanentTaskError ||
      e instanceof RetryableHttpError ||
      e instanceof TaskCancelledError
    ) {
      throw e;
    }
    if (timeout.aborted) throw new Error(`timed out after ${server.timeoutMs} ms`, { cause: e });
    if (ctx.signal.aborted) throw new Error('aborted: the worker is stopping', { cause: e });
    throw new Error(`fetching ${start.origin}${start.pathname} failed: ${describe(e)}`, {
      cause: e,
    });
  }
}
