import { readFileSync } from 'node:fs';
import path from 'node:path';
import { DiagnosticSeverity, Parser } from '@asyncapi/parser';
import { validate } from '@readme/openapi-parser';
import { HTTP_ROUTES, type HttpRouteAuth } from '../../lambdas/http/routes';
import { CLIENT_ACTIONS } from '../../src/ws/client-frames';
import { ROOT, specDocuments } from '../../scripts/specs/documents';
import { SERVER_FRAMES } from '../../scripts/specs/ws-schemas';
import { at, firstDifference } from './documented';

/*
 * docs/openapi.json and docs/asyncapi.json are generated (`npm run specs`) and committed. These
 * tests regenerate both in memory, compare them with the committed files, and run the real
 * validators on them (and on broken copies, which they must refuse).
 */

const [openapi, asyncapi] = specDocuments().map((d) => d.document) as [
  Record<string, unknown>,
  Record<string, unknown>,
];
/** What each kind of route auth requires of a caller in the document. */
const SECURITY: Record<HttpRouteAuth, object[]> = {
  public: [],
  adminToken: [{ adminToken: [] }],
  wecomSignature: [{ wecomSignature: [] }],
};
const json = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;
/** A generated document as the validator's type (it checks the shape itself). */
const asApiDocument = (doc: Record<string, unknown>) =>
  doc as unknown as Parameters<typeof validate>[0];

/** One parser for the file: making one loads its rule sets (about a second). */
const parser = new Parser();

/** The AsyncAPI parser's errors and warnings (hints and infos, such as "3.1 exists", pass). */
async function asyncApiProblems(document: unknown): Promise<string[]> {
  const { diagnostics } = await parser.parse(JSON.stringify(document));
  return diagnostics
    .filter((d) => d.severity <= DiagnosticSeverity.Warning)
    .map((d) => `${d.code} at /${d.path.join('/')}: ${d.message}`);
}

describe('committed specs', () => {
  it.each(specDocuments().map((d) => [d.file, d.document] as const))(
    '%s is what `npm run specs` generates',
    (file, generated) => {
      const committed: unknown = JSON.parse(readFileSync(path.join(ROOT, file), 'utf8'));
      const where = firstDifference(committed, json(generated));
      if (where !== undefined) {
        throw new Error(
          `${file} differs from the generated document at "${where}": run \`npm run specs\``,
        );
      }
    },
  );

  it('finds a changed value and a changed key order', () => {
    const changed = json(openapi);
    (changed.info as Record<string, unknown>).version = '9.9.9';
    expect(firstDifference(changed, json(openapi))).toBe('/info/version');
    const { openapi: version, ...rest } = json(openapi);
    expect(firstDifference({ ...rest, openapi: version }, json(openapi))).toBe('/info');
  });
});

describe('OpenAPI document', () => {
  it('passes the OpenAPI 3.1 validator', async () => {
    const result = await validate(asApiDocument(json(openapi)));
    expect(result).toMatchObject({ valid: true, warnings: [] });
  });

  it.each<[string, (doc: Record<string, unknown>) => void, RegExp]>([
    [
      'no info.version',
      (doc) => delete (doc.info as Record<string, unknown>).version,
      /required property 'version'/,
    ],
    [
      'a $ref to a schema that does not exist',
      (doc) => {
        const ok = at(doc, 'paths', '/healthz', 'get', 'responses', '200', 'content');
        (ok as Record<string, unknown>)['application/json'] = {
          schema: { $ref: '#/components/schemas/Missing' },
        };
      },
      /Missing \$ref pointer "#\/components\/schemas\/Missing"/,
    ],
    [
      'a path parameter that is not required',
      (doc) => {
        const params = at(doc, 'paths', '/tasks/{taskId}', 'get', 'parameters') as object[];
        Object.assign(params[0] ?? {}, { required: false });
      },
      /"required": false/,
    ],
  ])('is refused by the validator with %s', async (_what, breakIt, message) => {
    const broken = json(openapi);
    breakIt(broken);
    const result = await validate(asApiDocument(broken));
    expect(result.valid).toBe(false);
    expect(result.valid ? '' : result.errors.map((e) => e.message).join('\n')).toMatch(message);
  });

  it('has an operation for every route of the table, with its auth', () => {
    for (const route of HTTP_ROUTES) {
      const op = at(openapi, 'paths', route.path, route.method.toLowerCase()) as {
        security: object[];
      };
      const expected = SECURITY[route.auth];
      expect([route, op.security]).toEqual([route, expected]);
    }
  });
});

describe('AsyncAPI document', () => {
  it('passes the AsyncAPI 3 parser with no error or warning', async () => {
    expect(await asyncApiProblems(asyncapi)).toEqual([]);
  });

  it('is refused by the parser, naming each fault, without info.version and with a bad $ref', async () => {
    // One broken copy with two faults: each parse costs about a second.
    const broken = json(asyncapi);
    delete (broken.info as Record<string, unknown>).version;
    const op = at(broken, 'operations', 'receivePing') as { messages: object[] };
    op.messages = [{ $ref: '#/channels/connection/messages/missing' }];
    expect(await asyncApiProblems(broken)).toEqual(
      expect.arrayContaining([
        'asyncapi-document-resolved at /info: "info" property must have required property "version"',
        "invalid-ref at /operations/receivePing/messages/0/$ref: '#/channels/connection/messages/missing' does not exist",
      ]),
    );
  });

  it('receives every client action with its reply and sends every server frame', () => {
    const operations = at(asyncapi, 'operations') as Record<
      string,
      { action: string; messages: { $ref: string }[]; reply?: { messages: { $ref: string }[] } }
    >;
    const names = (refs: { $ref: string }[] = []) =>
      refs.map((r) => at(asyncapi, 'components', 'messages', r.$ref.split('/').pop() ?? ''));
    const received = Object.values(operations).filter((o) => o.action === 'receive');
    const sent = Object.values(operations).filter((o) => o.action === 'send');
    expect(
      received.flatMap((o) => names(o.messages).map((m) => (m as { name: string }).name)),
    ).toEqual(CLIENT_ACTIONS);
    expect(sent.flatMap((o) => names(o.messages).map((m) => (m as { name: string }).name))).toEqual(
      Object.keys(SERVER_FRAMES),
    );
    for (const op of received) {
      expect(names(op.reply?.messages).map((m) => (m as { name: string }).name)).toContain('error');
    }
  });
});
