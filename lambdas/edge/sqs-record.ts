import type { SQSRecord } from 'aws-lambda';
import type { z } from 'zod';

/**
 * Reads an SQS record's JSON body against a schema.
 * @throws a ZodError when the body is not JSON or not the schema: such a message can never
 *   succeed, so its failure sends it to the DLQ for a person.
 */
export function readRecord<T>(record: SQSRecord, schema: z.ZodType<T>): T {
  let raw: unknown;
  try {
    raw = JSON.parse(record.body);
  } catch {
    raw = undefined;
  }
  return schema.parse(raw);
}

/** Like {@link readRecord}, but answers undefined instead of throwing. */
export function tryReadRecord<T>(record: SQSRecord, schema: z.ZodType<T>): T | undefined {
  try {
    return readRecord(record, schema);
  } catch {
    return undefined;
  }
}
