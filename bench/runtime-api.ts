import { randomUUID } from 'node:crypto';
import type { LocalRuntime } from '../local/runtime';
import type { Audience } from '../src/connections/audience';
import type { ServerFrame } from '../src/push/frames';
import { messageTo } from '../src/push/notify';

/** Filler in bench message data, so a post carries a realistic notification (~340 bytes). */
export const FILLER_CHARS = 200;

export const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** One request to the runtime's HTTP API with a bearer token; the JSON answer as an object. */
export async function api(
  rt: LocalRuntime,
  method: string,
  path: string,
  token: string,
  body?: unknown,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${rt.httpUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const parsed: unknown = await res.json();
  return { status: res.status, body: isRecord(parsed) ? parsed : {} };
}

/** The message data of one bench push: a marker to count it by, and filler. */
export const messageData = (marker: string) => ({ marker, filler: 'x'.repeat(FILLER_CHARS) });

/** The frame the API builds for that data to an audience (same fields, same order, same size). */
export const messageFrame = (audience: Audience, marker: string): ServerFrame => ({
  data: messageData(marker),
  to: messageTo(audience),
  type: 'message',
  id: randomUUID(),
  at: new Date().toISOString(),
});
