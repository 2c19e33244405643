import { MIN_SECRET_LENGTH } from '../../src/auth/token';
import { readSecret } from '../composition/cloud/secrets';
import { authSecretSource, ConfigError } from './config';
import { once } from '../runtime/lazy';

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
 * cached for five minutes (so a rotated secret is picked up).
 */
export const authSecret = /* @__PURE__ */ once((): (() => Promise<string>) => {
  const source = authSecretSource(process.env);
  if (source.kind === 'value') {
    const value = checked(source.value, 'TASKWIRE_AUTH_SECRET');
    return () => Promise.resolve(value);
  }
  return async () => checked(await readSecret(source.arn), `Secrets Manager (${source.arn})`);
});
