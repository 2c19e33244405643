import { signToken, type TokenRequest } from '../../src/auth/token';
import type { Log } from '../../src/ports/log';
import {
  type LocalRuntime,
  startLocalRuntime,
  type LocalRuntimeOptions,
} from '../../local/runtime';

/** The secret every test runtime signs with. */
export const TEST_SECRET = 'test-secret-0123456789-0123456789-abcdef';

/** Starts a local runtime on free ports with the test secret. */
export function startTestRuntime(
  options: Partial<LocalRuntimeOptions> = {},
): Promise<LocalRuntime> {
  return startLocalRuntime({ authSecret: TEST_SECRET, ...options });
}

/** A token signed with the test secret. */
export const tokenFor = (request: TokenRequest, now?: Date) => signToken(request, TEST_SECRET, now);

/** A log that keeps only its error lines, each with its attributes, in `errors`. */
export const errorRecordingLog = (errors: string[]): Log => ({
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: (message, ...attributes) => errors.push(`${message} ${JSON.stringify(attributes)}`),
});
