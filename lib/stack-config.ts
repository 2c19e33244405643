import { RemovalPolicy } from 'aws-cdk-lib';
import type { Node } from 'constructs';
import type { PlacementSettings } from '../src/tasks/socket/placement';
import { type OidcSettings, OidcSettingsError, parseOidcSettings } from '../src/auth/oidc-settings';
import {
  DEFAULT_HISTORY_SECONDS,
  DEFAULT_HISTORY_SIZE,
  HISTORY_SECONDS_RANGE,
  HISTORY_SIZE_RANGE,
} from '../src/streams/schema';
import { readContext, readInteger } from './context-values';
import { PLACEMENT_CONTEXT_KEYS, readPlacementContext } from './placement-context';
import {
  readWecomBotContext,
  WECOM_BOT_CONTEXT_KEYS,
  type WecomBotContext,
} from './wecom-bot-context';

/**
 * Deploy-time settings of the Taskwire stack, read from CDK context (`cdk.json` or
 * `cdk synth -c key=value`). Every setting has a production default, so a bare `cdk deploy`
 * gives the production shape and a developer opts out explicitly.
 */

/** Context keys the stack reads. */
export const CONTEXT_KEYS = {
  /**
   * The deployment stage (default `prod`): it names the stack `Taskwire-<stage>`, so stages live
   * side by side in one account, and the WebSocket stage (part of the wss:// URL and the grants).
   */
  stage: 'stage',
  /**
   * `true` keeps tables, buckets, queues, log groups and secrets when the stack is deleted.
   * Default: `true` for the `prod` stage, `false` (destroyed with the stack) for any other.
   */
  retain: 'retain',
  /**
   * Deprecated (use `stage` and `retain`): `true` is `retain=false` and, without a `stage`, the
   * stage `dev`; `false` is `retain=true`. Still honoured, with a synth warning.
   */
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
  /**
   * JSON `{issuer, audience, jwksUrl?, rolesClaim?, groupsClaim?, userClaim?}`: an OpenID Connect
   * issuer whose RS256/ES256 tokens are accepted beside the HS256 ones (docs/protocol.md).
   */
  oidc: 'oidc',
  /**
   * `true` adds an example Amazon Cognito user pool as the OIDC issuer (its groups `client`,
   * `worker`, `admin` become roles). Not together with `oidc`.
   */
  cognito: 'cognito',
  /** An email address: the stack creates an SNS topic subscribing it and alarms notify it. */
  alarmEmail: 'alarmEmail',
  /** An existing SNS topic ARN every alarm notifies (instead of `alarmEmail`). */
  alarmTopicArn: 'alarmTopicArn',
  /**
   * Seconds a stream log keeps its frames for resuming clients (whole seconds, 60 to 2592000,
   * i.e. a minute to 30 days; default a day). Sets TASKWIRE_HISTORY_SECONDS.
   */
  historySeconds: 'historySeconds',
  /**
   * Most frames a stream log keeps (whole number, 1 to 10000; default 1000): a resume replays at
   * most this many, within the 29 s a WebSocket route may take. Sets TASKWIRE_HISTORY_SIZE.
   */
  historySize: 'historySize',
  /** Socket workers: `placement`, `placementTimeoutSeconds`, `leaseSeconds` (placement-context.ts). */
  ...PLACEMENT_CONTEXT_KEYS,
  /** The intelligent bot: its stream window and margin, response_url hosts (wecom-bot-context.ts). */
  ...WECOM_BOT_CONTEXT_KEYS,
} as const;

/** The stage of a bare `cdk deploy`: the production shape, so opting out is explicit. */
export const DEFAULT_STAGE = 'prod';
/** The stage whose stateful resources are retained unless `retain=false`. */
export const PRODUCTION_STAGE = 'prod';
/** The stack of a stage: `Taskwire-prod`, `Taskwire-dev`, … */
export const stackNameOf = (stage: string): string => `Taskwire-${stage}`;

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

/** The retention of every stream log: what a resuming client can still get. */
export interface StreamHistory {
  /** Seconds a frame is kept (its TTL). */
  readonly seconds: number;
  /** Most frames a stream keeps. */
  readonly size: number;
}

/** Allowed ranges of the stream history context (inclusive). */
export { HISTORY_SECONDS_RANGE, HISTORY_SIZE_RANGE };

/** Where alarms notify: nobody, a topic this stack creates for an email, or an existing topic. */
export type AlarmNotifications =
  | { readonly kind: 'none' }
  | { readonly kind: 'email'; readonly email: string }
  | { readonly kind: 'topic'; readonly topicArn: string };

/** The resolved settings of one stack. */
export interface StackConfig {
  /** The deployment stage; also the WebSocket API stage. */
  readonly stageName: string;
  /** `Taskwire-<stage>`. */
  readonly stackName: string;
  /** True when the stack's data is destroyed with it (every stage but prod, by default). */
  readonly dev: boolean;
  readonly logLevel: PowertoolsLogLevel;
  /** RETAIN for prod so a stack deletion never loses connections, logs or the key. */
  readonly removalPolicy: RemovalPolicy;
  readonly manageApiGatewayAccount: boolean;
  readonly webSocketThrottle: ThrottleLimits;
  readonly httpThrottle: ThrottleLimits;
  /** The OIDC issuer trusted beside the HS256 secret, if any (`cognito` sets its own). */
  readonly oidc: OidcSettings | undefined;
  /** Whether to add the example Cognito user pool as the issuer. */
  readonly cognito: boolean;
  readonly alarms: AlarmNotifications;
  /** Stream log retention (context `historySeconds` / `historySize`). */
  readonly history: StreamHistory;
  /** Socket-worker placement and leases (context `placement`, …). */
  readonly placement: PlacementSettings;
  /** The intelligent bot's stream timing and response_url hosts (context `wecomStream…`, …). */
  readonly wecomBot: WecomBotContext;
  /** Warnings for the stack to show (deprecated context in use). */
  readonly deprecations: readonly string[];
}

/**
 * Per-route defaults. They sit well below the account limits (10,000 rps shared by every API in
 * the region) so one noisy client or a retry storm cannot starve the account's other APIs; raise
 * them per stack through context when load tests say so.
 */
const DEFAULT_WS_THROTTLE: ThrottleLimits = { rateLimit: 500, burstLimit: 1000 };
const DEFAULT_HTTP_THROTTLE: ThrottleLimits = { rateLimit: 100, burstLimit: 200 };

/**
 * Stage names: they end up in a CloudFormation stack name (letters, digits, hyphens) and an API
 * Gateway stage name; 32 characters keep the physical names CloudFormation derives readable.
 */
const STAGE_NAME = /^[A-Za-z0-9][A-Za-z0-9-]{0,31}$/;
const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;
const SNS_TOPIC_ARN = /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$/;

/** Options of {@link readStackConfig}. */
export interface ReadStackConfigOptions {
  /** The stage, instead of context `stage` (a test or an app building several stages). */
  readonly stage?: string;
}

/** Reads and validates the stack's settings; a bad value fails synth with the key's name. */
export function readStackConfig(node: Node, options: ReadStackConfigOptions = {}): StackConfig {
  const deprecations: string[] = [];
  const devFlag = readOptionalBoolean(node, CONTEXT_KEYS.dev);
  const stageName =
    options.stage ?? readString(node, CONTEXT_KEYS.stage, devFlag ? 'dev' : DEFAULT_STAGE);
  if (!STAGE_NAME.test(stageName)) {
    throw new Error(
      `context ${CONTEXT_KEYS.stage}="${stageName}" is not a valid stage name ` +
        '(1-32 letters, digits and -, starting with a letter or digit)',
    );
  }
  const retainFlag = readOptionalBoolean(node, CONTEXT_KEYS.retain);
  if (devFlag !== undefined) {
    if (retainFlag !== undefined && retainFlag === devFlag) {
      throw new Error(
        `context ${CONTEXT_KEYS.dev}=${String(devFlag)} contradicts ` +
          `${CONTEXT_KEYS.retain}=${String(retainFlag)}; drop ${CONTEXT_KEYS.dev} (deprecated)`,
      );
    }
    deprecations.push(
      `context ${CONTEXT_KEYS.dev} is deprecated: use -c ${CONTEXT_KEYS.stage}=<name> ` +
        `(every stage but ${PRODUCTION_STAGE} is destroyed with its stack) and ` +
        `-c ${CONTEXT_KEYS.retain}=true|false to override`,
    );
  }
  const retain = retainFlag ?? (devFlag === undefined ? stageName === PRODUCTION_STAGE : !devFlag);
  const logLevel = readString(node, CONTEXT_KEYS.logLevel, 'INFO').toUpperCase();
  if (!isLogLevel(logLevel)) {
    throw new Error(
      `context ${CONTEXT_KEYS.logLevel}="${logLevel}" is not one of ${LOG_LEVELS.join(', ')}`,
    );
  }
  const cognito = readBoolean(node, CONTEXT_KEYS.cognito, false);
  const oidc = readOidc(node);
  if (cognito && oidc) {
    throw new Error(
      `context ${CONTEXT_KEYS.cognito}=true and ${CONTEXT_KEYS.oidc} both name an issuer; keep one`,
    );
  }
  return {
    stageName,
    stackName: stackNameOf(stageName),
    dev: !retain,
    logLevel,
    removalPolicy: retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    manageApiGatewayAccount: readBoolean(node, CONTEXT_KEYS.manageApiGatewayAccount, true),
    webSocketThrottle: {
      rateLimit: readPositive(node, CONTEXT_KEYS.wsRateLimit, DEFAULT_WS_THROTTLE.rateLimit),
      burstLimit: readPositive(node, CONTEXT_KEYS.wsBurstLimit, DEFAULT_WS_THROTTLE.burstLimit),
    },
    httpThrottle: {
      rateLimit: readPositive(node, CONTEXT_KEYS.httpRateLimit, DEFAULT_HTTP_THROTTLE.rateLimit),
      burstLimit: readPositive(node, CONTEXT_KEYS.httpBurstLimit, DEFAULT_HTTP_THROTTLE.burstLimit),
    },
    oidc,
    cognito,
    alarms: readAlarms(node),
    history: {
      seconds: readInteger(
        node,
        CONTEXT_KEYS.historySeconds,
        DEFAULT_HISTORY_SECONDS,
        HISTORY_SECONDS_RANGE,
      ),
      size: readInteger(node, CONTEXT_KEYS.historySize, DEFAULT_HISTORY_SIZE, HISTORY_SIZE_RANGE),
    },
    placement: readPlacementContext(node),
    wecomBot: readWecomBotContext(node),
    deprecations,
  };
}

function readOidc(node: Node): OidcSettings | undefined {
  const value = readContext(node, CONTEXT_KEYS.oidc);
  if (value === undefined || value === null || value === '') return undefined;
  try {
    // The functions parse the same JSON with the same function at cold start.
    return parseOidcSettings(value, `context ${CONTEXT_KEYS.oidc}`);
  } catch (e) {
    if (e instanceof OidcSettingsError) throw new Error(e.message, { cause: e });
    throw e;
  }
}

function readAlarms(node: Node): AlarmNotifications {
  const email = readString(node, CONTEXT_KEYS.alarmEmail, '');
  const topicArn = readString(node, CONTEXT_KEYS.alarmTopicArn, '');
  if (email && topicArn) {
    throw new Error(
      `context ${CONTEXT_KEYS.alarmEmail} and ${CONTEXT_KEYS.alarmTopicArn} are alternatives; set one`,
    );
  }
  if (email) {
    if (!EMAIL.test(email)) {
      throw new Error(`context ${CONTEXT_KEYS.alarmEmail}="${email}" is not an email address`);
    }
    return { kind: 'email', email };
  }
  if (topicArn) {
    if (!SNS_TOPIC_ARN.test(topicArn)) {
      throw new Error(
        `context ${CONTEXT_KEYS.alarmTopicArn}="${topicArn}" is not an SNS topic ARN`,
      );
    }
    return { kind: 'topic', topicArn };
  }
  return { kind: 'none' };
}

function isLogLevel(value: string): value is PowertoolsLogLevel {
  return (LOG_LEVELS as readonly string[]).includes(value);
}

function readString(node: Node, key: string, fallback: string): string {
  const value = readContext(node, key);
  if (value === undefined || value === null || value === '') return fallback;
  if (typeof value !== 'string') throw new Error(`context ${key} must be a string`);
  return value;
}

// `-c retain=true` arrives as the string "true", cdk.json gives a real boolean: accept both.
function readOptionalBoolean(node: Node, key: string): boolean | undefined {
  const value = readContext(node, key);
  if (value === undefined || value === null || value === '') return undefined;
  if (value === true || value === 'true') return true;
  if (value === false || value === 'false') return false;
  throw new Error(`context ${key} must be true or false`);
}

function readBoolean(node: Node, key: string, fallback: boolean): boolean {
  return readOptionalBoolean(node, key) ?? fallback;
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
