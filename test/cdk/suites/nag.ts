import { App, Stack, Validations } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import type { GetTaskwire } from '../support/taskwire-template';

/** An acknowledgement recorded in the construct tree. */
interface Acknowledgement {
  readonly id: string;
  readonly reason: string;
  readonly path: string;
}

/** Every acknowledgement recorded under `root`. */
function acknowledgements(root: IConstruct): Acknowledgement[] {
  return root.node.findAll().flatMap((construct) =>
    construct.node.metadata
      .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((entry) =>
        Object.entries(entry.data as Record<string, string>).map(([id, reason]) => ({
          // CDK stores plain ids as annotation ids; cdk-nag strips the prefix the same way.
          id: id.replace(/^annotation::/i, ''),
          reason,
          path: construct.node.path,
        })),
      ),
  );
}

/**
 * Registers the cdk-nag tests. The app must have been built with the AwsSolutions plugin
 * (`nag: true`), as bin/taskwire.ts builds it.
 */
export function describeNag(get: GetTaskwire): void {
  describe('cdk-nag AwsSolutions checks', () => {
    it('synthesizes the Taskwire app with no unacknowledged finding', () => {
      // Prepare: the app was built with the plugin registered, as bin/ does.
      const { app } = get();
      // Act: force a fresh synth (and validation) even if a template was already read.
      const act = () => app.synth({ force: true });
      // Assess
      expect(act).not.toThrow();
    });

    it('acknowledges only the expected rules, each with a specific reason', () => {
      // Prepare
      const allowed = /^AwsSolutions-(IAM4|IAM5|SMG4|L1|APIG4|S1)(\[.+\])?$/;
      // Act: ours only; CDK records some of its own (e.g. CloudFormation-Validate::W3045).
      const found = acknowledgements(get().app).filter(({ id }) => id.startsWith('AwsSolutions-'));
      // Assess
      expect(found.length).toBeGreaterThan(0);
      for (const { id, reason, path } of found) {
        expect({ id, path, allowed: allowed.test(id) }).toEqual({ id, path, allowed: true });
        expect(reason.length).toBeGreaterThanOrEqual(40);
      }
    });

    it('acknowledges no wildcard but X-Ray, table indexes, artifacts and @connections', () => {
      // Prepare
      const wildcards = acknowledgements(get().app).filter(({ id }) =>
        id.startsWith('AwsSolutions-IAM5'),
      );
      // Act
      const unexpected = wildcards.filter(
        ({ id }) =>
          id !== 'AwsSolutions-IAM5[Resource::*]' &&
          !/\/index\/\*\]$/.test(id) &&
          !/^AwsSolutions-IAM5\[Resource::<Artifacts\w+\.Arn>\/\*\]$/.test(id) &&
          !/\/(POST|GET|DELETE)\/@connections\/\*\]$/.test(id),
      );
      // Assess
      expect(unexpected).toEqual([]);
    });

    it('fails synthesis on a non-compliant resource, so the check above can fail', () => {
      // Prepare
      const app = new App();
      const stack = new Stack(app, 'Throwaway');
      new s3.Bucket(stack, 'UnloggedBucket');
      Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
      // Act
      const act = () => app.synth();
      // Assess
      expect(act).toThrow(/AwsSolutions-S1/);
    });
  });
}
