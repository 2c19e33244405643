import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import { Construct } from 'constructs';
import { ROLES } from '../../src/auth/claims';
import { acknowledge } from '../nag';

/** Properties of {@link CognitoIssuer}. */
export interface CognitoIssuerProps {
  readonly removalPolicy: RemovalPolicy;
}

/** The claim Cognito puts a user's groups in; its groups named after roles grant those roles. */
export const COGNITO_GROUPS_CLAIM = 'cognito:groups';

/**
 * An example identity provider (context `cognito=true`): an Amazon Cognito user pool whose
 * groups `client`, `worker` and `admin` become Taskwire roles through `cognito:groups`, and an
 * app client without a secret (a browser or CLI signs in with SRP and sends the ID token, whose
 * `aud` is the client id). Users are created by an administrator (no self sign-up), sign in
 * with their email and need a TOTP second factor. Taskwire groups (`join`) are not carried:
 * add a `groups` claim with a pre-token-generation trigger if you need them.
 */
export class CognitoIssuer extends Construct {
  public readonly userPool: cognito.UserPool;
  public readonly client: cognito.UserPoolClient;
  /** TASKWIRE_OIDC for the functions: the pool as issuer, the client as audience (tokens). */
  public readonly settingsJson: string;

  public constructor(scope: Construct, id: string, props: CognitoIssuerProps) {
    super(scope, id);
    this.userPool = new cognito.UserPool(this, 'UserPool', {
      selfSignUpEnabled: false,
      signInAliases: { email: true },
      mfa: cognito.Mfa.REQUIRED,
      mfaSecondFactor: { otp: true, sms: false },
      passwordPolicy: {
        minLength: 12,
        requireLowercase: true,
        requireUppercase: true,
        requireDigits: true,
        requireSymbols: true,
      },
      accountRecovery: cognito.AccountRecovery.EMAIL_ONLY,
      deletionProtection: props.removalPolicy === RemovalPolicy.RETAIN,
      removalPolicy: props.removalPolicy,
    });
    acknowledge(
      this.userPool,
      'AwsSolutions-COG8',
      'An example pool for trying the OIDC path: the Plus feature plan (threat protection) is ' +
        'billed per monthly active user; a team adopting the pool decides on it with its own ' +
        'risk and budget, and Taskwire verifies the tokens the same either way.',
    );
    for (const role of ROLES) {
      new cognito.UserPoolGroup(this, `${role}Group`, {
        userPool: this.userPool,
        groupName: role,
        description: `Grants the Taskwire ${role} role`,
      });
    }
    this.client = this.userPool.addClient('Client', {
      generateSecret: false,
      authFlows: { userSrp: true },
      idTokenValidity: Duration.hours(1),
      preventUserExistenceErrors: true,
    });
    const issuer = this.userPool.userPoolProviderUrl;
    this.settingsJson = Stack.of(this).toJsonString({
      issuer,
      audience: this.client.userPoolClientId,
      jwksUrl: `${issuer}/.well-known/jwks.json`,
      rolesClaim: COGNITO_GROUPS_CLAIM,
      groupsClaim: 'groups',
      userClaim: 'sub',
    });
  }
}
