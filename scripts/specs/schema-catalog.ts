import { z } from 'zod';
import type { $ZodType, JSONSchema } from 'zod/v4/core';

/** A JSON Schema as zod writes it. */
export type JsonSchema = JSONSchema.BaseSchema;

/**
 * The JSON Schema dialects the documents use: OpenAPI 3.1's (2020-12) and the AsyncAPI 3.0
 * Schema Object's (a superset of draft-07).
 */
export type SchemaTarget = 'draft-2020-12' | 'draft-07';

/** What a catalog says about a schema besides its shape. */
interface SchemaMeta {
  /** The component name; a schema without one is inlined wherever it is used. */
  readonly id?: string;
  readonly description?: string;
}

/** A named entry of a catalog: the schema and its description. */
export interface NamedSchema {
  readonly schema: $ZodType;
  readonly description: string;
}

/**
 * A set of zod schemas published as named components, converted with zod's own JSON Schema
 * output (`z.toJSONSchema`). A named schema used inside another one becomes a `$ref` to its
 * component. Descriptions live in the catalog's own registry, so the schemas that validate the
 * traffic are read, never changed.
 *
 * @typeParam N the component names
 */
export class SchemaCatalog<N extends string> {
  private readonly registry = z.registry<SchemaMeta>();
  /** The schemas, by component name. */
  public readonly schemas: Readonly<Record<N, $ZodType>>;

  /**
   * @param named the components, by name
   * @param fields descriptions of schemas that are not components (fields), each inlined
   */
  public constructor(
    named: Readonly<Record<N, NamedSchema>>,
    fields: readonly (readonly [$ZodType, string])[] = [],
  ) {
    const schemas: Partial<Record<N, $ZodType>> = {};
    for (const [id, entry] of Object.entries(named) as [N, NamedSchema][]) {
      this.add(entry.schema, { id, description: entry.description });
      schemas[id] = entry.schema;
    }
    for (const [schema, description] of fields) this.add(schema, { description });
    this.schemas = schemas as Record<N, $ZodType>;
  }

  private add(schema: $ZodType, meta: SchemaMeta): void {
    // One schema object under two names (or a name and a field description) would silently
    // keep the last: refuse it, so each component says what it was given.
    if (this.registry.has(schema)) {
      throw new Error(`schema ${meta.id ?? meta.description ?? ''} is already in the catalog`);
    }
    this.registry.add(schema, meta);
  }

  /**
   * Every component as JSON Schema, keyed by name in sorted order, each referring to the others
   * at `${refBase}${name}`. Request and response schemas are both described as input: strict
   * objects are closed (`additionalProperties: false`), the others stay open.
   */
  public toJsonSchemas(target: SchemaTarget, refBase: string): Record<N, JsonSchema> {
    const { schemas } = z.toJSONSchema(this.registry, {
      target,
      io: 'input',
      metadata: this.registry,
      unrepresentable: 'throw',
      uri: (id) => `${refBase}${id}`,
    });
    const out: Record<string, JsonSchema> = {};
    for (const id of Object.keys(schemas).sort()) {
      const { $schema: _dialect, $id: _id, ...schema } = schemas[id] as JsonSchema;
      out[id] = schema;
    }
    return out as Record<N, JsonSchema>;
  }

  /** One schema that is not a component, as JSON Schema (named schemas inside it are inlined). */
  public static toJsonSchema(schema: $ZodType, target: SchemaTarget): JsonSchema {
    const { $schema: _dialect, ...out } = z.toJSONSchema(schema, {
      target,
      io: 'input',
      unrepresentable: 'throw',
    });
    return out;
  }
}

/** A `$ref` to a component. */
export const refTo = (refBase: string, name: string): { readonly $ref: string } => ({
  $ref: `${refBase}${name}`,
});
