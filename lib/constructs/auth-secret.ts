import type { RemovalPolicy } from 'aws-cdk-lib';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { acknowledge } from '../nag';

/** Properties of {@link AuthSecret}. */
export interface AuthSecretProps {
  readonly removalPolicy: RemovalPolicy;
}

/** Length of the generated HS256 signing key (well above the 32 the token code requires). */
export const AUTH_SECRET_LENGTH = 64;

/**
 * The HS256 key that signs and verifies Taskwire tokens. Secrets Manager generates it at deploy
 * time, so it is never in the template, the bundle or the repository; functions with the
 * `authSecret` need read it by ARN (AUTH_SECRET_ARN) and cache it for five minutes.
 */
export class AuthSecret extends Construct {
  /** The secret holding the signing key as a plain string. */
  public readonly secret: secretsmanager.Secret;

  public constructor(scope: Construct, id: string, props: AuthSecretProps) {
    super(scope, id);
    this.secret = new secretsmanager.Secret(this, 'Secret', {
      description: 'Taskwire HS256 token signing key',
      generateSecretString: {
        passwordLength: AUTH_SECRET_LENGTH,
        // Letters and digits only: the key is pasted into env files and shell commands locally.
        excludePunctuation: true,
        includeSpace: false,
      },
      removalPolicy: props.removalPolicy,
    });
    acknowledge(
      this.secret,
      'AwsSolutions-SMG4',
      'HS256 signing key shared by the authorizer and the token issuers: rotating it invalidates ' +
        'every outstanding token, so it is a planned operator action (put-secret-value; functions ' +
        'pick the new key up within their 5-minute cache), not an unattended schedule.',
    );
  }
}
