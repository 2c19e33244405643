import { secretsManagerReader } from '../../../src/adapters/secrets-manager/secret-reader';
import { requireEnv } from '../../config/config';
import { once } from '../../runtime/lazy';

/** How long a read secret is reused before Secrets Manager is asked again (a rotation shows). */
export const SECRET_MAX_AGE_SECONDS = 300;

/**
 * The function's Secrets Manager reader (the auth secret, the WeCom keys, the download
 * credentials), each secret cached five minutes. The SDK honours a service endpoint from
 * `AWS_ENDPOINT_URL_SECRETS_MANAGER` or `AWS_ENDPOINT_URL`; so does this.
 */
export const secretReader = /* @__PURE__ */ once(() => {
  const endpoint =
    process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER ?? process.env.AWS_ENDPOINT_URL ?? undefined;
  return secretsManagerReader({
    region: requireEnv(process.env, 'AWS_REGION'),
    ...(endpoint ? { endpoint } : {}),
    maxAgeSeconds: SECRET_MAX_AGE_SECONDS,
  });
});

/** Reads a secret's text by ARN (cached; see {@link secretReader}). */
export const readSecret = (arn: string): Promise<string> => secretReader()(arn);
