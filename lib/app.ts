import { App, type AppProps, type Environment, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { buildStack, type TaskwireStack } from './taskwire-stack';

/** Options of {@link createApp}. */
export interface CreateAppOptions {
  /** Extra context (tests pass cdk.json's context here; the CLI passes it by itself). */
  readonly context?: AppProps['context'];
  /** Cloud assembly directory (default: the CLI's, or a temporary one). */
  readonly outdir?: string;
  /** Account and region (default: CDK_DEFAULT_ACCOUNT / CDK_DEFAULT_REGION when set). */
  readonly env?: Environment;
  /** Register the cdk-nag AwsSolutions plugin (default true; tests of the template may skip it). */
  readonly nag?: boolean;
  /** The stage to build (default: context `stage`, else `prod`). */
  readonly stage?: string;
}

/** The app and the stack of its stage. */
export interface TaskwireApp {
  readonly app: App;
  readonly stack: TaskwireStack;
}

/**
 * Builds the Taskwire CDK app: the stack of one stage (`Taskwire-<stage>`, from `-c stage=…`,
 * default `prod`) plus the cdk-nag AwsSolutions checks, which run as a validation plugin during
 * synth and fail it on any finding that is not acknowledged with a reason.
 */
export function createApp(options: CreateAppOptions = {}): TaskwireApp {
  const app = new App({
    ...(options.context ? { context: options.context } : {}),
    ...(options.outdir ? { outdir: options.outdir } : {}),
  });
  const env = options.env ?? defaultEnv();
  const stack = buildStack(app, {
    ...(env ? { env } : {}),
    ...(options.stage ? { stage: options.stage } : {}),
  });
  if (options.nag ?? true) {
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  }
  return { app, stack };
}

/**
 * The CLI's account and region when it knows them. Without either (offline synth, no profile) the
 * stack stays environment-agnostic and resolves them at deploy time.
 */
function defaultEnv(): Environment | undefined {
  const account = process.env.CDK_DEFAULT_ACCOUNT;
  const region = process.env.CDK_DEFAULT_REGION;
  if (!account && !region) return undefined;
  return { ...(account ? { account } : {}), ...(region ? { region } : {}) };
}
