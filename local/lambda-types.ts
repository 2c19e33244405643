import type { Context } from 'aws-lambda';

/**
 * A handler as the local runtime invokes it: the event in, the result out. The runtime adds a
 * Lambda context per invocation (local/lambda-context.ts), as Lambda does.
 */
export type LocalHandler = (event: unknown, context?: Context) => Promise<unknown>;

/** Fake AWS account values used in the event shapes the local runtime builds. */
export const LOCAL_ACCOUNT = '000000000000';
export const LOCAL_REGION = 'us-east-1';
export const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' } as const;

/** API Gateway's request time format: 19/Jan/2023:21:13:26 +0000. */
export function requestTime(d: Date): string {
  const months = [
    'Jan',
    'Feb',
    'Mar',
    'Apr',
    'May',
    'Jun',
    'Jul',
    'Aug',
    'Sep',
    'Oct',
    'Nov',
    'Dec',
  ];
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${pad(d.getUTCDate())}/${months[d.getUTCMonth()]}/${d.getUTCFullYear()}:${pad(
    d.getUTCHours(),
  )}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} +0000`;
}
