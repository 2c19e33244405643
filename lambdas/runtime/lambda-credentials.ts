import { fromEnv } from '@aws-sdk/credential-provider-env';

/**
 * Stands in for `@aws-sdk/credential-provider-node` in Lambda bundles (an esbuild alias set by
 * the stack). Lambda always hands a function its role's credentials in environment variables,
 * so the default chain's SSO, INI, process, web-identity and IMDS providers (and the STS/SSO
 * clients they pull in, about 115 KB minified) can never be used there.
 */
export const defaultProvider = (init?: Parameters<typeof fromEnv>[0]) => fromEnv(init);
