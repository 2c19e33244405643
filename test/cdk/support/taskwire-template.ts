import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { createApp, type TaskwireApp } from '../../../lib/app';

/**
 * Shared set-up of the CDK tests: synthesize the real app (real catalog, real handler bundles)
 * once per test file and hand out its template plus lookup helpers, so assertions refer to
 * constructs rather than hard-coded logical ids.
 */

/** The repository root. */
export const PROJECT_ROOT = path.resolve(__dirname, '../../..');

/** A fixed environment, so assertions do not depend on the machine's AWS profile. */
export const TEST_ENV = { account: '123456789012', region: 'eu-central-1' } as const;

/** cdk.json's context (feature flags): the CLI passes it to the app, so the tests do too. */
export function cdkJsonContext(): Record<string, unknown> {
  const cdkJson: unknown = JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'cdk.json'), 'utf8'));
  if (typeof cdkJson !== 'object' || cdkJson === null || !('context' in cdkJson)) return {};
  const context: unknown = cdkJson.context;
  return typeof context === 'object' && context !== null ? { ...context } : {};
}

/** The synthesized app and its template. */
export interface SynthesizedTaskwire extends TaskwireApp {
  readonly template: Template;
}

/** Options of {@link synthTaskwire}. */
export interface SynthOptions {
  /** Context on top of cdk.json's, e.g. `{ stage: 'beta' }`. */
  readonly context?: Record<string, unknown>;
  /** Run the cdk-nag plugin during synth (default false: nag has its own test file). */
  readonly nag?: boolean;
}

/**
 * Builds the Taskwire app (bundling every catalog function with esbuild, the slow part). The
 * template is synthesized on first use, so a test can run `app.synth()` itself first.
 */
export function synthTaskwire(options: SynthOptions = {}): SynthesizedTaskwire {
  const built = createApp({
    context: { ...cdkJsonContext(), ...options.context },
    env: TEST_ENV,
    nag: options.nag ?? false,
  });
  let template: Template | undefined;
  return {
    ...built,
    get template(): Template {
      template ??= Template.fromStack(built.stack);
      return template;
    },
  };
}

/** How a suite reaches the app its test file built in beforeAll. */
export type GetTaskwire = () => SynthesizedTaskwire;

/** A resource as it appears in the template. */
export interface TemplateResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
  readonly DependsOn?: string | string[];
  readonly DeletionPolicy?: string;
  readonly UpdateReplacePolicy?: string;
  readonly Metadata?: Record<string, unknown>;
}

/** All resources of one type, by logical id. */
export function resourcesOfType(
  template: Template,
  type: string,
): Record<string, TemplateResource> {
  // findResources is typed with `any` values; the template's shape is known, so narrow it once.
  return template.findResources(type) as unknown as Record<string, TemplateResource>;
}

/** The one resource of a logical id (fails the test when it is missing). */
export function resourceById(template: Template, logicalId: string): TemplateResource {
  const json: { Resources?: Record<string, TemplateResource> } = template.toJSON();
  const resource = json.Resources?.[logicalId];
  if (!resource) throw new Error(`no resource ${logicalId} in the template`);
  return resource;
}

/** The logical id of an L2 construct's (or an L1's) CloudFormation resource. */
export function logicalIdOf(construct: IConstruct): string {
  const resource = construct.node.defaultChild ?? construct;
  const resolved: unknown = Stack.of(construct).resolve(
    (resource as unknown as { logicalId: string }).logicalId,
  );
  if (typeof resolved !== 'string') throw new Error(`${construct.node.path} has no logical id`);
  return resolved;
}

/** How a token (ARN, name, URL) of the stack appears in the template. */
export function resolved(construct: IConstruct, value: unknown): unknown {
  // As plain JSON, like the template: resolve() may hand back objects of other prototypes,
  // which jest's toMatchObject treats as different types.
  return JSON.parse(JSON.stringify(Stack.of(construct).resolve(value))) as unknown;
}

/** An IAM policy statement as the template renders it. */
export interface PolicyStatementJson {
  readonly Effect: string;
  readonly Action: string | string[];
  readonly Resource: unknown;
}

/** The statements of an inline policy resource (the role's DefaultPolicy). */
export function statementsOf(policy: TemplateResource): PolicyStatementJson[] {
  const document = policy.Properties?.PolicyDocument as
    { Statement?: PolicyStatementJson[] } | undefined;
  return document?.Statement ?? [];
}

/** The actions of a statement as a list. */
export function actionsOf(statement: PolicyStatementJson): string[] {
  return Array.isArray(statement.Action) ? statement.Action : [statement.Action];
}

/** The resources of a statement as a list. */
export function resourcesOf(statement: PolicyStatementJson): unknown[] {
  return Array.isArray(statement.Resource)
    ? (statement.Resource as unknown[])
    : [statement.Resource];
}
