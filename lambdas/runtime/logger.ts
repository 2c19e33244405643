import { Logger } from '@aws-lambda-powertools/logger';
import type { Context } from 'aws-lambda';
import type { Log } from '../../src/ports/log';

/**
 * The one Powertools Logger of a function. Structured JSON with the service name. It is never
 * given per-request keys itself: each invocation logs through its own child (see
 * {@link invocationLog}), so concurrent local invocations never mix their keys.
 */
export const logger = new Logger({
  serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'taskwire',
});

/** Keys that say which request a log line belongs to; undefined ones are left out. */
export type LogKeys = Readonly<Record<string, string | number | undefined>>;

/** Functions of this process that have had their first invocation (for `cold_start`). */
const warmFunctions = new Map<string, string>();

/**
 * True for every line of the first invocation of a function in this process. Powertools counts
 * cold starts per Logger instance, and every child is a new instance, so the count is kept here.
 */
function isColdStart(context: Context): boolean {
  const first = warmFunctions.get(context.functionName);
  if (first === undefined) warmFunctions.set(context.functionName, context.awsRequestId);
  return (first ?? context.awsRequestId) === context.awsRequestId;
}

/**
 * The log of one invocation (or of one record of a batch): a child of the function's
 * Powertools Logger with the Lambda context added (`addContext`) and the request's keys
 * appended (`appendKeys`), `awsRequestId` among them. Handlers pass it down as their ports'
 * `log`, so the domain's lines carry the keys too.
 *
 * A child per invocation rather than `appendKeys`/`resetKeys` on the shared logger: in Lambda
 * one environment runs one invocation at a time, so either would do, but the local runtime
 * runs every handler in one process at once, and keys on a shared logger would leak from one
 * request into another's lines. Nothing needs resetting: the child is dropped with the request.
 *
 * A log that is not a Powertools Logger (tests' recording logs) is returned as it is.
 */
export function invocationLog(base: Log, context: Context | undefined, keys: LogKeys): Log {
  if (!(base instanceof Logger)) return base;
  const child = base.createChild();
  if (context) {
    // A Logger answers cold_start: true on its own first addContext, and a child is a new
    // Logger: past the function's first invocation, a first call uses that answer up.
    if (!isColdStart(context)) child.addContext(context);
    child.addContext(context);
  }
  const all: LogKeys = { awsRequestId: context?.awsRequestId, ...keys };
  const present: Record<string, string | number> = {};
  for (const [key, value] of Object.entries(all)) if (value !== undefined) present[key] = value;
  child.appendKeys(present);
  return child;
}

/** What a log line says about a fault: name, message and stack (never sent to a caller). */
export function faultDetails(e: unknown): Record<string, unknown> | string {
  return e instanceof Error ? { name: e.name, message: e.message, stack: e.stack } : String(e);
}
