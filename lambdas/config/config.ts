import { ENV } from './env';

/** Thrown at start when a setting is missing or malformed; the message names the setting. */
export class ConfigError extends Error {
  public constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** Reads one required setting. */
export function requireEnv(env: NodeJS.ProcessEnv, name: string): string {
  const value = env[name];
  if (value === undefined || value.trim() === '') {
    throw new ConfigError(`missing setting ${name}: the stack sets it; locally, npm start does`);
  }
  return value;
}

/** Where the signing secret for tokens comes from. */
export type AuthSecretSource =
  | { readonly kind: 'value'; readonly value: string }
  | { readonly kind: 'secretsManager'; readonly arn: string };

/** Reads the auth secret source: a Secrets Manager ARN in the cloud, a value locally. */
export function authSecretSource(env: NodeJS.ProcessEnv): AuthSecretSource {
  const arn = env[ENV.authSecretArn];
  if (arn) return { kind: 'secretsManager', arn };
  const value = env[ENV.authSecret];
  if (value) return { kind: 'value', value };
  throw new ConfigError(
    `missing setting ${ENV.authSecretArn} (cloud) or ${ENV.authSecret} (local)`,
  );
}

const isHttpUrl = (value: string): boolean => {
  try {
    return /^https?:$/.test(new URL(value).protocol);
  } catch {
    return false;
  }
};

/** Reads the API Gateway Management API endpoint (https://{api}.execute-api.{region}…/{stage}). */
export function managementEndpoint(env: NodeJS.ProcessEnv): string {
  const value = requireEnv(env, ENV.managementEndpoint);
  if (!isHttpUrl(value)) {
    throw new ConfigError(`setting ${ENV.managementEndpoint} is not a URL: ${value}`);
  }
  return value;
}
