import { RemovalPolicy } from 'aws-cdk-lib';
import type { Node } from 'constructs';

/**
 * Deploy-time settings of the Taskwire stack, read from CDK context (`cdk.json` or
 * `cdk synth -c key=value`). Every setting has a production default, so a bare `cdk deploy`
 * gives the production shape and a developer opts out explicitly.
 */

/** Context keys the stack reads. */
export const CONTEXT_KEYS = {
  /** WebSocket stage name (default `prod`); it is part of the wss:// URL and the grants. */
  stage: 'stage',
  /** `true` for a throwaway developer stack: stateful resources are destroyed with it. */
  dev: 'dev',
  /** POWERTOOLS_LOG_LEVEL of every function (default `INFO`). */
  logLevel: 'logLevel',
  /**
   * `false` when the account's API Gateway CloudWatch role is managed elsewhere (another stack
   * or a platform team); by default this stack sets it, because WebSocket access logging
   * cannot be enabled without it.
   */
  manageApiGatewayAccount: 'manageApiGatewayAccount',
  wsRateLimit: 'wsRateLimit',
  wsBurstLimit: 'wsBurstLimit',
  httpRateLimit: 'httpRateLimit',
  httpBurstLimit: 'httpBurstLimit',
} as const;

/** Log levels Powertools Logger accepts. */
export const LOG_LEVELS = [
  'TRACE',
  'DEBUG',
  'INFO',
  'WARN',
  'ERROR',
  'CRITICAL',
  'SILENT',
] as const;

/** A Powertools log level. */
export type PowertoolsLogLevel = (typeof LOG_LEVELS)[number];

/** Steady-state and burst request limits of an API stage's default route settings. */
export interface ThrottleLimits {
  /** Requests per second, averaged. */
  readonly rateLimit: number;
  /** Requests allowed in a short burst above the rate. */
  readonly burstLimit: number;
}

/** The resolved settings of one stack. */
export interface StackConfig {
  readonly stageName: string;
  readonly dev: boolean;
  readonly logLevel: PowertoolsLogLevel;
  /** RETAIN in production so a stack deletion never loses connections, logs or the key. */
  readonly removalPolicy: RemovalPolicy;
  readonly manageApiGatewayAccount: boolean;
  readonly webSocketThrottle: ThrottleLimits;
  readonly httpThrottle: ThrottleLimits;
}

/**
 * Per-route defaults. They sit well below the account limits (10,000 rps shared by every API in
 * the region) so one noisy client or a retry storm cannot starve the account's other APIs; raise
 * them per stack through context when load tests say so.
 */
const DEFAULT_WS_THROTTLE: ThrottleLimits = { rateLimit: 500, burstLimit: 1000 };
const DEFAULT_HTTP_THROTTLE: ThrottleLimits = { rateLimit: 100, burstLimit: 200 };

/** API Gateway stage names: letters, digits, hyphens and underscores, 1 to 128 of them. */
const STAGE_NAME = /^[A-Za-z0-9_-]{1,128}$/;

/** Reads and validates the stack's settings; a bad value fails synth with the key's name. */
export function readStackConfig(node: Node): StackConfig {
  const stageName = readString(node, CONTEXT_KEYS.stage, 'prod');
  if (!STAGE_NAME.test(stageName)) {
    throw new Error(
      `context ${CONTEXT_KEYS.stage}="${stageName}" is not a valid stage name (letters, digits, - and _)`,
    );
  }
  const logLevel = readString(node, CONTEXT_KEYS.logLevel, 'INFO').toUpperCase();
  if (!isLogLevel(logLevel)) {
    throw new Error(
      `context ${CONTEXT_KEYS.logLevel}="${logLevel}" is not one of ${LOG_LEVELS.join(', ')}`,
    );
  }
  const dev = readBoolean(node, CONTEXT_KEYS.dev, false);
  return {
    stageName,
    dev,
    logLevel,
    removalPolicy: dev ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
    manageApiGatewayAccount: readBoolean(node, CONTEXT_KEYS.manageApiGatewayAccount, true),
    webSocketThrottle: {
      rateLimit: readPositive(node, CONTEXT_KEYS.wsRateLimit, DEFAULT_WS_THROTTLE.rateLimit),
      burstLimit: readPositive(node, CONTEXT_KEYS.wsBurstLimit, DEFAULT_WS_THROTTLE.burstLimit),
    },
    httpThrottle: {
      rateLimit: readPositive(node, CONTEXT_KEYS.httpRateLimit, DEFAULT_HTTP_THROTTLE.rateLimit),
      burstLimit: readPositive(node, CONTEXT_KEYS.httpBurstLimit, DEFAULT_HTTP_THROTTLE.burstLimit),
    },
  };
}

function isLogLevel(value: string): value is PowertoolsLogLevel {
  return (LOG_LEVELS as readonly string[]).includes(value);
}

function readContext(node: Node, key: string): unknown {
  // tryGetContext is typed `any`; narrowing it to unknown keeps the parsing below honest.
  const value: unknown = node.tryGetContext(key);
  return value;
}

function readString(node: Node, key: string, fallback: string): string {
  const value = readContext(node, key);
  if (value === undefined || value === null || value === '') return fallback;
  if (typeof value !== 'string') throw new Error(`context ${key} must be a string`);
  return value;
}

// `-c dev=true` arrives as the string "true", cdk.json gives a real boolean: accept both.
function readBoolean(node: Node, key: string, fallback: boolean): boolean {
  const value = readContext(node, key);
  if (value === undefined || value === null || value === '') return fallback;
  if (value === true || value === 'true') return true;
  if (value === false || value === 'false') return false;
  throw new Error(`context ${key} must be true or false`);
}

function readPositive(node: Node, key: string, fallback: number): number {
  const value = readContext(node, key);
  if (value === undefined || value === null || value === '') return fallback;
  const parsed = typeof value === 'number' ? value : Number(value);
  if (!Number.isFinite(parsed) || parsed <= 0) {
    throw new Error(`context ${key} must be a positive number`);
  }
  return parsed;
}
