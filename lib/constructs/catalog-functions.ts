import type { RemovalPolicy } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import type { FunctionName, FunctionSpec, WorkerSpec } from '../../lambdas/catalog';
import type { PowertoolsLogLevel } from '../stack-config';
import { applyNeeds, type NeedResources } from './needs';
import { TaskwireFunction } from './taskwire-function';

/** Properties of {@link CatalogFunctions}. */
export interface CatalogFunctionsProps {
  /** The function catalog (FUNCTIONS in lambdas/catalog.ts). */
  readonly functions: Readonly<Record<FunctionName, FunctionSpec>>;
  /** One worker per task type (TASK_WORKERS in lambdas/catalog.ts). */
  readonly workers: Readonly<Record<string, WorkerSpec>>;
  readonly projectRoot: string;
  readonly logLevel: PowertoolsLogLevel;
  readonly removalPolicy: RemovalPolicy;
}

/** Every catalog function, by its catalog name. */
export type FunctionMap = Readonly<Record<FunctionName, TaskwireFunction>>;

/**
 * One {@link TaskwireFunction} per catalog entry (`Functions/<name>`) and per task worker
 * (`Functions/<taskType>Worker`). Grants come later, through {@link CatalogFunctions.grantNeeds},
 * because the `push` need refers to the WebSocket API and the API integrates these functions.
 */
export class CatalogFunctions extends Construct {
  /** The catalog functions by name. */
  public readonly byName: FunctionMap;
  /** The task workers by task type. */
  public readonly workers: ReadonlyMap<string, TaskwireFunction>;

  public constructor(scope: Construct, id: string, props: CatalogFunctionsProps) {
    super(scope, id);
    const build = (name: string, spec: FunctionSpec) =>
      new TaskwireFunction(this, name, {
        spec,
        projectRoot: props.projectRoot,
        logLevel: props.logLevel,
        removalPolicy: props.removalPolicy,
      });
    // Every key of the catalog record is visited, so the record is total.
    this.byName = Object.fromEntries(
      catalogEntries(props.functions).map(([name, spec]) => [name, build(name, spec)]),
    ) as Record<FunctionName, TaskwireFunction>;
    this.workers = new Map(
      Object.entries(props.workers).map(([taskType, spec]) => [
        taskType,
        build(workerId(taskType), spec),
      ]),
    );
  }

  /** Every function, catalog entries and workers alike. */
  public all(): TaskwireFunction[] {
    return [...Object.values<TaskwireFunction>(this.byName), ...this.workers.values()];
  }

  /** The worker of a task type (fails synth for a type without one). */
  public worker(taskType: string): TaskwireFunction {
    const fn = this.workers.get(taskType);
    if (!fn) throw new Error(`no worker for task type "${taskType}"`);
    return fn;
  }

  /** Grants each function the needs its catalog entry lists, and nothing else. */
  public grantNeeds(resources: NeedResources): void {
    for (const fn of this.all()) applyNeeds(fn, fn.spec.needs, resources);
  }
}

/** The catalog's entries with their key type kept (Object.entries widens keys to string). */
export function catalogEntries(
  functions: Readonly<Record<FunctionName, FunctionSpec>>,
): [FunctionName, FunctionSpec][] {
  return Object.entries(functions) as [FunctionName, FunctionSpec][];
}

/** The construct id of a task type's worker (`downloadWorker`). */
export function workerId(taskType: string): string {
  return `${taskType}Worker`;
}
