import { RemovalPolicy } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { acknowledgeManagedPolicy } from '../nag';

/**
 * The account's (regional) API Gateway CloudWatch Logs role. WebSocket stages, unlike HTTP API
 * stages, refuse access logging until the account setting names such a role ("CloudWatch Logs
 * role ARN must be set in account settings"), so the WebSocket stage depends on this.
 *
 * It is an account-wide singleton: both resources are retained on stack deletion (other APIs in
 * the account may rely on the setting), and a second stack in the same account/region should
 * deploy with `-c manageApiGatewayAccount=false`.
 */
export class ApiGatewayAccount extends Construct {
  /** The role API Gateway assumes to write logs. */
  public readonly role: iam.Role;
  /** The account setting resource; stages that log depend on it. */
  public readonly account: apigateway.CfnAccount;

  public constructor(scope: Construct, id: string) {
    super(scope, id);
    const policy = iam.ManagedPolicy.fromAwsManagedPolicyName(
      'service-role/AmazonAPIGatewayPushToCloudWatchLogs',
    );
    this.role = new iam.Role(this, 'CloudWatchRole', {
      assumedBy: new iam.ServicePrincipal('apigateway.amazonaws.com'),
      description: 'Lets API Gateway write execution and access logs of this account to CloudWatch',
      managedPolicies: [policy],
    });
    this.role.applyRemovalPolicy(RemovalPolicy.RETAIN);
    this.account = new apigateway.CfnAccount(this, 'Account', {
      cloudWatchRoleArn: this.role.roleArn,
    });
    this.account.applyRemovalPolicy(RemovalPolicy.RETAIN);

    acknowledgeManagedPolicy(
      this,
      policy,
      'The API Gateway account logging role serves every API in the account and region, whose ' +
        'log group names API Gateway chooses; the AWS managed AmazonAPIGatewayPushToCloudWatchLogs ' +
        'policy is the documented policy for exactly this role and AWS keeps it current.',
    );
  }
}
