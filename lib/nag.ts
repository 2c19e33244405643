import { Stack, Validations } from 'aws-cdk-lib';
import type { IManagedPolicy } from 'aws-cdk-lib/aws-iam';
// cdk-nag does not re-export this helper, but IAM4/IAM5 finding ids are built with it; using the
// same function means an acknowledgement matches its finding byte for byte.
import { flattenCfnReference } from 'cdk-nag/lib/utils/flatten-cfn-reference';
import type { IConstruct } from 'constructs';

/**
 * Helpers for acknowledging cdk-nag (v3) findings through CDK's `Validations` API. They exist so
 * every acknowledgement is narrow (one rule, or one finding of a granular rule, on one construct
 * subtree) and carries a reason; there is deliberately no stack-wide helper.
 */

/** An AwsSolutions rule id, optionally with one finding: `AwsSolutions-IAM5[Resource::*]`. */
export type AwsSolutionsRuleId = `AwsSolutions-${string}`;

/** Shorter reasons are almost always "not needed"-style hand-waving; make the author say why. */
const MIN_REASON_LENGTH = 40;

/** Acknowledges one AwsSolutions rule (or finding) on `scope` and everything below it. */
export function acknowledge(scope: IConstruct, id: AwsSolutionsRuleId, reason: string): void {
  if (reason.trim().length < MIN_REASON_LENGTH) {
    throw new Error(`nag acknowledgement ${id} on ${scope.node.path} needs a specific reason`);
  }
  Validations.of(scope).acknowledge({ id, reason });
}

/**
 * Acknowledges IAM5 for exactly these wildcard resources (ARNs that may contain tokens), so a
 * different wildcard added to the same policy later is still reported.
 */
export function acknowledgeWildcardResources(
  scope: IConstruct,
  resources: readonly string[],
  reason: string,
): void {
  const stack = Stack.of(scope);
  for (const resource of resources) {
    acknowledge(
      scope,
      `AwsSolutions-IAM5[Resource::${flattenCfnReference(stack.resolve(resource))}]`,
      reason,
    );
  }
}

/** Acknowledges IAM4 for exactly this AWS managed policy. */
export function acknowledgeManagedPolicy(
  scope: IConstruct,
  policy: IManagedPolicy,
  reason: string,
): void {
  const arn = flattenCfnReference(Stack.of(scope).resolve(policy.managedPolicyArn));
  acknowledge(scope, `AwsSolutions-IAM4[Policy::${arn}]`, reason);
}
