import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import { MIN_SECRET_LENGTH } from '../../src/auth/token';
import { authSecretSource, ConfigError } from './config';
import { once } from '../runtime/lazy';

/** How long a fetched secret is reused before Secrets Manager is asked again. */
const SECRET_MAX_AGE_SECONDS = 300;

function checked(secret: string | undefined, where: string): string {
  if (!secret || secret.length < MIN_SECRET_LENGTH) {
    throw new ConfigError(
      `the auth secret from ${where} must be at least ${MIN_SECRET_LENGTH} characters`,
    );
  }
  return secret;
}

/**
 * Returns a getter for the token signing secret: the local value, or the Secrets Manager secret
 * cached for five minutes by Powertools Parameters (so a rotated secret is picked up).
 */
export const authSecret = /* @__PURE__ */ once((): (() => Promise<string>) => {
  const source = authSecretSource(process.env);
  if (source.kind === 'value') {
    const value = checked(source.value, 'TASKWIRE_AUTH_SECRET');
    return () => Promise.resolve(value);
  }
  return async () =>
    checked(
      await getSecret<string>(source.arn, { maxAge: SECRET_MAX_AGE_SECONDS }),
      `Secrets Manager (${source.arn})`,
    );
});
