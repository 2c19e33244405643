import { Stack, Validations } from 'aws-cdk-lib';
import type { IManagedPolicy } from 'aws-cdk-lib/aws-iam';
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

/**
 * Flattens a resolved CloudFormation value the way cdk-nag writes it into IAM4/IAM5 finding ids
 * (`{"Fn::GetAtt":["Bucket","Arn"]}` → `<Bucket.Arn>`, joins concatenated, `${x}` → `<x>`).
 * cdk-nag does not export its own helper and its internals are no API, so this mirrors it; the
 * nag test's clean synth fails if the two ever drift, because an acknowledgement would then miss
 * its finding.
 */
export function flattenCfnReference(value: unknown): string {
  if (value === undefined) return '';
  if (typeof value === 'string') return value.replace(/\$\{/g, '<').replace(/\}/g, '>');
  if (typeof value === 'object' && value !== null) {
    const node = value as Record<string, unknown>;
    const join = node['Fn::Join'];
    if (Array.isArray(join) && typeof join[0] === 'string' && Array.isArray(join[1])) {
      return (join[1] as unknown[]).map(flattenCfnReference).join(join[0]);
    }
    if (node['Fn::Sub']) return flattenCfnReference(node['Fn::Sub']);
    const getAtt = node['Fn::GetAtt'];
    if (Array.isArray(getAtt)) {
      return `<${flattenCfnReference(getAtt[0])}.${flattenCfnReference(getAtt[1])}>`;
    }
    if (node['Fn::ImportValue']) return flattenCfnReference(node['Fn::ImportValue']);
    if (node.Ref) return `<${flattenCfnReference(node.Ref)}>`;
  }
  return JSON.stringify(value);
}

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
