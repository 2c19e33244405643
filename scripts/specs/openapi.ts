import {
  HTTP_ROUTES,
  type HttpRoute,
  type HttpRouteAuth,
  routeKeyOf,
} from '../../lambdas/http/routes';
import {
  checkErrorResponses,
  ERROR_RESPONSES,
  type ErrorResponseDoc,
  errorResponsesOf,
} from './http-errors';
import {
  type ContentDoc,
  HTTP_OPERATIONS,
  type HttpRouteKey,
  type HttpTag,
  type OperationDoc,
} from './http-operations';
import { errorBodySchema, httpCatalog } from './http-schemas';
import { type JsonSchema, refTo, SchemaCatalog } from './schema-catalog';

/** A JSON object of the document. */
type Json = Record<string, unknown>;

const SCHEMAS = '#/components/schemas/';
const RESPONSES = '#/components/responses/';
const TARGET = 'draft-2020-12';

/** What the document says about itself (from package.json). */
export interface SpecInfo {
  readonly version: string;
  readonly license: string;
}

const TAGS: Readonly<Record<HttpTag, string>> = {
  health: 'Liveness.',
  push: 'Messages to users, groups and everyone, now or at a set time.',
  presence: 'Who is connected.',
  console: 'The console, the live page (static, public).',
  stats: 'Counts of connections and tasks.',
  tasks: 'Submitting tasks and reading their records.',
  wecom: 'The WeCom callback (signed and encrypted by WeCom).',
};

/** The security of each kind of route auth (lambdas/http/routes.ts). */
const SECURITY: Readonly<Record<HttpRouteAuth, Json[]>> = {
  public: [],
  adminToken: [{ adminToken: [] }],
  wecomSignature: [{ wecomSignature: [] }],
};

const SECURITY_SCHEMES = {
  adminToken: {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT',
    description:
      'A JWT whose `roles` include `admin`: HS256 signed with the deployment’s key, or RS256/ES256 of the trusted OpenID Connect issuer. Missing or unusable: 401; without the admin role: 403.',
  },
  wecomSignature: {
    type: 'apiKey',
    in: 'query',
    name: 'msg_signature',
    description:
      'WeCom’s signature: hex SHA-1 of the byte-wise sorted token, `timestamp`, `nonce` and ciphertext, with `timestamp` within 300 s. The body is AES-256-CBC encrypted with the EncodingAESKey.',
  },
} as const;

/** The path parameters of a template (`/tasks/{taskId}` → `taskId`). */
const templateParams = (path: string): string[] =>
  [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1] ?? '');

function contentOf(content: ContentDoc): Json {
  const out: Json = {};
  for (const [type, schema] of Object.entries(content)) {
    out[type] = {
      schema:
        typeof schema === 'string'
          ? refTo(SCHEMAS, schema)
          : { oneOf: schema.map((name) => refTo(SCHEMAS, name)) },
    };
  }
  return out;
}

function parametersOf(route: HttpRoute, doc: OperationDoc): Json[] {
  const params: Json[] = [];
  const declared = Object.keys(doc.pathParams ?? {});
  const inPath = templateParams(route.path);
  if (declared.join() !== inPath.join()) {
    throw new Error(
      `${routeKeyOf(route)}: path parameters ${inPath.join()} documented as ${declared.join()}`,
    );
  }
  for (const [name, p] of Object.entries(doc.pathParams ?? {})) {
    params.push({
      name,
      in: 'path',
      required: true,
      description: p.description,
      schema: refTo(SCHEMAS, p.schema),
    });
  }
  if (doc.query) {
    // The handler's query schema, one parameter per field, in the schema's order.
    const query = SchemaCatalog.toJsonSchema(doc.query.schema, TARGET);
    const fields = (query.properties ?? {}) as Record<string, JsonSchema>;
    const required = new Set(query.required ?? []);
    const described = Object.keys(doc.query.descriptions).sort().join();
    if (described !== Object.keys(fields).sort().join()) {
      throw new Error(
        `${routeKeyOf(route)}: query ${Object.keys(fields).join()} documented as ${described}`,
      );
    }
    for (const [name, schema] of Object.entries(fields)) {
      params.push({
        name,
        in: 'query',
        required: required.has(name),
        description: doc.query.descriptions[name],
        schema,
      });
    }
  }
  for (const h of doc.headers ?? []) {
    params.push({
      name: h.name,
      in: 'header',
      required: h.required,
      description: h.description,
      schema: refTo(SCHEMAS, h.schema),
    });
  }
  return params;
}

function operationOf(route: HttpRoute, doc: OperationDoc): Json {
  const parameters = parametersOf(route, doc);
  const responses: Json = {};
  for (const [status, r] of Object.entries(doc.responses)) {
    responses[status] = { description: r.description, content: contentOf(r.content) };
  }
  const errors = errorResponsesOf(route, {
    hasInput: parameters.length > 0 || doc.body !== undefined,
    hasBody: doc.body !== undefined,
    extra: doc.errors ?? [],
  });
  for (const name of errors)
    responses[String(ERROR_RESPONSES[name].status)] = refTo(RESPONSES, name);
  return {
    operationId: doc.operationId,
    tags: [doc.tag],
    summary: doc.summary,
    ...(doc.description ? { description: doc.description } : {}),
    security: SECURITY[route.auth],
    ...(parameters.length ? { parameters } : {}),
    ...(doc.body
      ? {
          requestBody: {
            description: doc.body.description,
            required: true,
            content: contentOf(doc.body.content),
          },
        }
      : {}),
    responses,
  };
}

function errorResponseOf(doc: ErrorResponseDoc): Json {
  const codes = doc.codes.map((c) => `\`${c}\``).join(', ');
  return {
    description: `${doc.description} Codes: ${codes}.`,
    content: {
      'application/json': {
        schema: SchemaCatalog.toJsonSchema(errorBodySchema(doc.codes), TARGET),
      },
    },
  };
}

/**
 * The OpenAPI 3.1 document of the HTTP API: a path per template of the route table, an
 * operation per route with the security of its auth, parameters, body and answers from the
 * zod schemas the handlers parse with (lambdas/http/api.ts, wecom-callback.ts) and the answer
 * schemas of http-schemas.ts.
 * @throws Error when the route table and the operation docs disagree
 */
export function buildOpenApi(info: SpecInfo): Json {
  checkErrorResponses();
  const paths: Record<string, Json> = {};
  for (const route of HTTP_ROUTES) {
    const key: HttpRouteKey = routeKeyOf(route);
    const path = (paths[route.path] ??= {});
    path[route.method.toLowerCase()] = operationOf(route, HTTP_OPERATIONS[key]);
  }
  const responses: Json = {};
  for (const name of Object.keys(ERROR_RESPONSES).sort() as (keyof typeof ERROR_RESPONSES)[]) {
    responses[name] = errorResponseOf(ERROR_RESPONSES[name]);
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Taskwire HTTP API',
      version: info.version,
      summary: 'Push to WebSocket clients, submit and read tasks, and take WeCom callbacks.',
      description:
        'Generated from the route table (lambdas/http/routes.ts) and the zod schemas that validate the traffic by `npm run specs`; do not edit. Every error answer is JSON `{"error":{"code","message"}}`. See docs/protocol.md.',
      license: { name: info.license, identifier: info.license },
    },
    servers: [
      {
        url: 'https://{apiId}.execute-api.{region}.amazonaws.com',
        description: 'The stack output `HttpApiUrl`.',
        variables: {
          apiId: { default: 'def456', description: 'The HTTP API’s id.' },
          region: { default: 'eu-west-1', description: 'The stack’s region.' },
        },
      },
      { url: 'http://127.0.0.1:3000', description: 'The local runtime (`npm start`).' },
    ],
    tags: (Object.keys(TAGS) as HttpTag[]).map((name) => ({ name, description: TAGS[name] })),
    paths,
    components: {
      schemas: httpCatalog().toJsonSchemas(TARGET, SCHEMAS),
      responses,
      securitySchemes: SECURITY_SCHEMES,
    },
  };
}
