import { SecretValue, type RemovalPolicy } from 'aws-cdk-lib';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { acknowledge } from '../nag';

/** Properties of {@link OperatorSecret}. */
export interface OperatorSecretProps {
  /** What the secret holds and who sets it; shown in the console. */
  readonly description: string;
  /**
   * The shape the functions expect, with empty values (never real ones): it is visible in the
   * template, and it lets a function report "not configured yet" instead of "not JSON".
   */
  readonly placeholder: Readonly<Record<string, string>>;
  /** Why the secret is not rotated automatically (the nag SMG4 acknowledgement). */
  readonly rotationReason: string;
  readonly removalPolicy: RemovalPolicy;
}

/**
 * A Secrets Manager secret whose value comes from outside (WeCom's console, a download server's
 * owner): the stack creates it with an empty placeholder and an operator puts the real JSON with
 * `aws secretsmanager put-secret-value`. CloudFormation writes the value only when the template's
 * value changes, so a redeploy never overwrites what the operator put.
 */
export class OperatorSecret extends Construct {
  public readonly secret: secretsmanager.Secret;

  public constructor(scope: Construct, id: string, props: OperatorSecretProps) {
    super(scope, id);
    this.secret = new secretsmanager.Secret(this, 'Secret', {
      description: props.description,
      // Not a secret: the empty shape only (see placeholder).
      secretStringValue: SecretValue.unsafePlainText(JSON.stringify(props.placeholder)),
      removalPolicy: props.removalPolicy,
    });
    acknowledge(this.secret, 'AwsSolutions-SMG4', props.rotationReason);
  }
}
