import type { SQSRecord } from 'aws-lambda';
import * as z from '../../src/validation/zod';

/**
 * Reads an SQS record's JSON body against a schema (mini or classic zod).
 * @throws a ZodError when the body is not JSON or not the schema: such a message can never
 *   succeed, so its failure sends it to the DLQ for a person.
 */
export function readRecord<S extends z.core.$ZodType>(record: SQSRecord, schema: S): z.output<S> {
  let raw: unknown;
  try {
    raw = JSON.parse(record.body);
  } catch {
    raw = undefined;
  }
  return z.parse(schema, raw);
}

/** Like {@link readRecord}, but answers undefined instead of throwing. */
export function tryReadRecord<S extends z.core.$ZodType>(
  record: SQSRecord,
  schema: S,
): z.output<S> | undefined {
  try {
    return readRecord(record, schema);
  } catch {
    return undefined;
  }
}
