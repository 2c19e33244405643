import { z } from 'zod';
import type { $ZodType } from 'zod/v4/core';
import { ERROR_RESPONSES, type ErrorResponseName } from '../../scripts/specs/http-errors';
import {
  errorBodySchema,
  HTTP_SCHEMAS,
  type HttpSchemaName,
} from '../../scripts/specs/http-schemas';
import { SERVER_FRAMES, type ServerFrameType } from '../../scripts/specs/ws-schemas';
import type { HttpResult } from '../../lambdas/edge/http';

/*
 * Reads the generated documents the way a client would, to hold the real answers and frames to
 * them. The documents leave answer objects open (a client should accept new fields); these
 * checks close them at the top, so a field the server sends but the document omits fails.
 */

/** A JSON value of a document, read by path. */
export function at(value: unknown, ...keys: string[]): unknown {
  let here = value;
  for (const key of keys) {
    if (typeof here !== 'object' || here === null || !Object.hasOwn(here, key)) {
      throw new Error(`the document has nothing at /${keys.join('/')} (missing ${key})`);
    }
    here = (here as Record<string, unknown>)[key];
  }
  return here;
}

/** The schema with its top-level objects closed (extra fields refused). */
export function closed(schema: $ZodType): $ZodType {
  if (schema instanceof z.ZodObject) return schema.strict();
  if (schema instanceof z.ZodUnion) {
    const options = (schema.options as readonly $ZodType[]).map(closed);
    return z.union(options as [$ZodType, $ZodType, ...$ZodType[]]);
  }
  return schema;
}

const lastSegment = (ref: unknown): string => String(ref).split('/').pop() ?? '';

/** The component schemas a media type's `schema` names (a `$ref`, or a `oneOf` of them). */
function namedIn(schema: unknown): HttpSchemaName[] {
  const s = schema as { $ref?: string; oneOf?: { $ref: string }[] };
  const refs = s.$ref !== undefined ? [s.$ref] : (s.oneOf ?? []).map((o) => o.$ref);
  return refs.map((r) => lastSegment(r) as HttpSchemaName);
}

/** Parses a value with a schema, failing with every issue and the value. */
function mustParse(schema: $ZodType, value: unknown, what: string): void {
  const parsed = z.safeParse(schema, value);
  if (!parsed.success) {
    throw new Error(
      `${what} does not match the document: ${JSON.stringify(parsed.error.issues)}\n${JSON.stringify(value).slice(0, 2000)}`,
    );
  }
}

/**
 * Fails unless the OpenAPI document lists the answer's status for the route, with its media
 * type, and the body matches the schema it gives (closed at the top).
 */
export function expectDocumentedAnswer(
  openapi: unknown,
  routeKey: string,
  result: HttpResult,
): void {
  const [method = '', path = ''] = routeKey.split(' ');
  const responses = at(openapi, 'paths', path, method.toLowerCase(), 'responses') as Record<
    string,
    unknown
  >;
  const response = responses[String(result.statusCode)] as
    { $ref?: string; content?: Record<string, { schema: unknown }> } | undefined;
  const what = `${routeKey} ${result.statusCode}`;
  if (!response) {
    throw new Error(`${what}: the document lists only ${Object.keys(responses).join(', ')}`);
  }
  const mediaType = (result.headers['content-type'] ?? '').split(';')[0] ?? '';
  if (response.$ref !== undefined) {
    const doc = ERROR_RESPONSES[lastSegment(response.$ref) as ErrorResponseName];
    expect(mediaType).toBe('application/json');
    mustParse(closed(errorBodySchema(doc.codes)), JSON.parse(result.body), what);
    return;
  }
  const content = response.content?.[mediaType];
  if (!content) {
    throw new Error(`${what}: ${mediaType} is not among ${Object.keys(response.content ?? {})}`);
  }
  const schemas = namedIn(content.schema).map((name) => closed(HTTP_SCHEMAS[name].schema));
  const [first, second, ...rest] = schemas;
  if (!first) throw new Error(`${what}: no schema`);
  const schema = second ? z.union([first, second, ...rest]) : first;
  const body = mediaType === 'application/json' ? JSON.parse(result.body) : result.body;
  mustParse(schema, body, what);
}

/**
 * Fails unless the AsyncAPI document has a `send` operation for the frame's type and the frame
 * matches that frame's schema (closed at the top).
 */
export function expectDocumentedFrame(asyncapi: unknown, frame: unknown): void {
  const type = String((frame as { type?: unknown }).type);
  const messages = at(asyncapi, 'components', 'messages') as Record<string, { name: string }>;
  const key = Object.keys(messages).find((k) => messages[k]?.name === type);
  const operations = Object.values(at(asyncapi, 'operations') as object) as {
    action: string;
    messages: { $ref: string }[];
  }[];
  const sent = operations.some(
    (op) => op.action === 'send' && op.messages.some((m) => lastSegment(m.$ref) === key),
  );
  if (key === undefined || !sent || !Object.hasOwn(SERVER_FRAMES, type)) {
    throw new Error(`the document has no send operation for frame type ${type}`);
  }
  mustParse(closed(SERVER_FRAMES[type as ServerFrameType]), frame, `frame ${type}`);
}

/**
 * The first place where two JSON values differ, key order included, as a JSON pointer (`''`
 * for the root), or undefined when they are the same.
 */
export function firstDifference(a: unknown, b: unknown, pointer = ''): string | undefined {
  if (
    typeof a !== typeof b ||
    Array.isArray(a) !== Array.isArray(b) ||
    (a === null) !== (b === null)
  ) {
    return pointer;
  }
  if (typeof a !== 'object' || a === null) return Object.is(a, b) ? undefined : pointer;
  const ka = Object.keys(a);
  const kb = Object.keys(b as object);
  for (let i = 0; i < Math.max(ka.length, kb.length); i++) {
    const key = ka[i] ?? kb[i] ?? '';
    if (ka[i] !== kb[i]) return `${pointer}/${key}`;
    const d = firstDifference(
      (a as Record<string, unknown>)[key],
      (b as Record<string, unknown>)[key],
      `${pointer}/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`,
    );
    if (d !== undefined) return d;
  }
  return undefined;
}
