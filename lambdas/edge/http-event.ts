import * as z from '../../src/validation/zod';
import { badRequest, tooLarge } from '../../src/errors/app-error';

/** The parts of an HTTP API (payload 2.0) event that Taskwire reads. */
export const httpEventSchema = z.object({
  routeKey: z.string(),
  rawPath: z.optional(z.string()),
  rawQueryString: z.optional(z.string()),
  headers: z.optional(z.record(z.string(), z.optional(z.string()))),
  queryStringParameters: z.nullish(z.record(z.string(), z.optional(z.string()))),
  pathParameters: z.nullish(z.record(z.string(), z.optional(z.string()))),
  body: z.nullish(z.string()),
  isBase64Encoded: z.optional(z.boolean()),
  // API Gateway's id of the request, logged with every line the request writes.
  requestContext: z.optional(z.object({ requestId: z.optional(z.string()) })),
});

/** A parsed HTTP API event. */
export type HttpEvent = z.infer<typeof httpEventSchema>;

/** A header, by case-insensitive name (HTTP API lower-cases them; local callers may not). */
export function header(event: HttpEvent, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [k, v] of Object.entries(event.headers ?? {})) {
    if (k.toLowerCase() === wanted) return v;
  }
  return undefined;
}

/** The raw body as text (decoding base64 when API Gateway encoded it). */
export function bodyText(event: HttpEvent): string {
  const body = event.body ?? '';
  return event.isBase64Encoded ? Buffer.from(body, 'base64').toString('utf8') : body;
}

/**
 * Reads a JSON body and validates it against a schema (mini or classic zod).
 * @throws AppError `too_large` past maxBytes, `bad_request` when not JSON or not the schema.
 */
export function jsonBody<S extends z.core.$ZodType>(
  event: HttpEvent,
  schema: S,
  maxBytes: number,
): z.output<S> {
  const text = bodyText(event);
  if (Buffer.byteLength(text, 'utf8') > maxBytes) throw tooLarge(`body over ${maxBytes} bytes`);
  if (text.trim() === '') throw badRequest('body is empty: send a JSON object');
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw badRequest('body is not valid JSON');
  }
  const parsed = z.safeParse(schema, raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.length ? `${issue.path.join('.')}: ` : '';
    throw badRequest(`${where}${issue?.message ?? 'invalid body'}`);
  }
  return parsed.data;
}

/** A path parameter validated against a schema (classic or mini zod). */
export function pathParam<S extends z.core.$ZodType>(
  event: HttpEvent,
  name: string,
  schema: S,
): z.output<S> {
  const parsed = z.safeParse(schema, event.pathParameters?.[name]);
  if (!parsed.success) {
    throw badRequest(`${name}: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
  }
  return parsed.data;
}
