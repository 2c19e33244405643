import { ArnFormat, Aws, Stack, type RemovalPolicy } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { WebSocketLambdaAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { WebSocketLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct, type IDependable } from 'constructs';
import type { FunctionName } from '../../lambdas/catalog';
import { acknowledge, acknowledgeWildcardResources } from '../nag';
import type { ThrottleLimits } from '../stack-config';
import type { FunctionMap } from './catalog-functions';
import type { ConnectionsManagement } from './needs';
import type { TaskwireFunction } from './taskwire-function';

/** Properties of {@link TaskwireWebSocketApi}. */
export interface TaskwireWebSocketApiProps {
  /** The catalog functions the routes integrate. */
  readonly functions: FunctionMap;
  /** Route key → function (WS_ROUTES in lambdas/catalog.ts); must include `$connect`. */
  readonly routes: Readonly<Record<string, FunctionName>>;
  /** The function that authorizes `$connect` (WS_AUTHORIZER). */
  readonly authorizer: FunctionName;
  readonly stageName: string;
  readonly throttle: ThrottleLimits;
  /** Retention behaviour of the access log group. */
  readonly removalPolicy: RemovalPolicy;
  /**
   * What must exist before the stage can log (the account's API Gateway CloudWatch role);
   * omitted when that setting is managed outside this stack.
   */
  readonly loggingPrerequisite?: IDependable;
}

/** Route keys API Gateway sends by itself; every other key is a client message. */
const CONNECT = '$connect';
const DISCONNECT = '$disconnect';

/** Where the authorizer reads the token: browsers cannot set headers on a WebSocket upgrade. */
export const TOKEN_IDENTITY_SOURCE = 'route.request.querystring.token';

/** HTTP verbs of the @connections management API: post a frame, get info, disconnect. */
const MANAGEMENT_METHODS = ['POST', 'GET', 'DELETE'] as const;

/**
 * JSON access log line. It includes the authorizer's outcome (a refused upgrade never reaches a
 * function log) and never includes the query string, where the token travels.
 */
const ACCESS_LOG_FORMAT = AccessLogFormat.custom(
  JSON.stringify({
    requestId: '$context.requestId',
    requestTime: '$context.requestTime',
    eventType: '$context.eventType',
    routeKey: '$context.routeKey',
    connectionId: '$context.connectionId',
    status: '$context.status',
    sourceIp: '$context.identity.sourceIp',
    authorizeStatus: '$context.authorize.status',
    authorizerError: '$context.authorizer.error',
    integrationStatus: '$context.integration.status',
    integrationError: '$context.integration.error',
    integrationLatency: '$context.integration.latency',
    error: '$context.error.message',
  }),
);

/**
 * The WebSocket API: catalog routes with route selection on `action`, the REQUEST authorizer on
 * `$connect` only (API Gateway authorizes once per connection), replies for message routes, and
 * one throttled, access-logged, auto-deployed stage.
 */
export class TaskwireWebSocketApi extends Construct implements ConnectionsManagement {
  public readonly api: apigwv2.WebSocketApi;
  public readonly stage: apigwv2.WebSocketStage;
  public readonly accessLogGroup: logs.LogGroup;
  /** Routes by route key. */
  public readonly routes: ReadonlyMap<string, apigwv2.WebSocketRoute>;
  /** `wss://{apiId}.execute-api.{region}.{urlSuffix}/{stage}`: what clients connect to. */
  public readonly url: string;
  public readonly managementEndpoint: string;
  private readonly stageName: string;

  public constructor(scope: Construct, id: string, props: TaskwireWebSocketApiProps) {
    super(scope, id);
    if (!(CONNECT in props.routes)) {
      throw new Error(`WS_ROUTES has no ${CONNECT} route, so the authorizer has nowhere to go`);
    }
    this.stageName = props.stageName;

    this.api = new apigwv2.WebSocketApi(this, 'Api', {
      // Named after the stack, so two stages in one account tell their APIs apart.
      apiName: `${Stack.of(this).stackName}-ws`,
      description: 'Taskwire WebSocket API: clients connect with ?token=, frames route on action',
      routeSelectionExpression: '$request.body.action',
    });

    const authorizer = new WebSocketLambdaAuthorizer(
      'ConnectAuthorizer',
      props.functions[props.authorizer].function,
      { identitySource: [TOKEN_IDENTITY_SOURCE] },
    );

    // One integration per function, shared by all of its routes: fewer integrations, and a
    // route added to the catalog for an existing function only adds a route and a permission.
    const integrations = new Map<FunctionName, WebSocketLambdaIntegration>();
    const integrationFor = (name: FunctionName): WebSocketLambdaIntegration => {
      let integration = integrations.get(name);
      if (!integration) {
        integration = new WebSocketLambdaIntegration(
          `${name}Integration`,
          props.functions[name].function,
        );
        integrations.set(name, integration);
      }
      return integration;
    };

    const routes = new Map<string, apigwv2.WebSocketRoute>();
    for (const [routeKey, fnName] of Object.entries(props.routes)) {
      const isConnect = routeKey === CONNECT;
      const isMessage = !isConnect && routeKey !== DISCONNECT;
      const route = this.api.addRoute(routeKey, {
        integration: integrationFor(fnName),
        ...(isConnect ? { authorizer } : {}),
        // A message route's return value is sent back to the client as the reply frame.
        ...(isMessage ? { returnResponse: true } : {}),
      });
      if (!isConnect) {
        acknowledge(
          route,
          'AwsSolutions-APIG4',
          isMessage
            ? `${routeKey} frames arrive on a connection whose ?token= the REQUEST authorizer ` +
                'verified at $connect (API Gateway accepts WebSocket authorizers on $connect ' +
                'only); the function checks roles and groups against the connection record.'
            : `${routeKey} is sent by API Gateway itself when a connection authorized at ` +
                '$connect closes; no client request reaches it.',
        );
      }
      routes.set(routeKey, route);
    }
    this.routes = routes;

    this.accessLogGroup = new logs.LogGroup(this, 'AccessLogs', {
      retention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: props.removalPolicy,
    });
    this.stage = new apigwv2.WebSocketStage(this, 'Stage', {
      webSocketApi: this.api,
      stageName: props.stageName,
      autoDeploy: true,
      throttle: props.throttle,
      accessLogSettings: {
        destination: new apigwv2.LogGroupLogDestination(this.accessLogGroup),
        format: ACCESS_LOG_FORMAT,
      },
    });
    if (props.loggingPrerequisite) this.stage.node.addDependency(props.loggingPrerequisite);

    this.url = this.stage.url;
    this.managementEndpoint = this.stage.callbackUrl;
  }

  /**
   * Allows `execute-api:ManageConnections` on `{apiId}/{stage}/{POST|GET|DELETE}/@connections/*`
   * of this API and stage only (CDK's grantManageConnections would allow every stage and verb).
   */
  public grantManageConnections(fn: TaskwireFunction): void {
    const stack = Stack.of(this);
    const resources = MANAGEMENT_METHODS.map((method) =>
      stack.formatArn({
        // A partition reference even where CDK would write a literal
        // (@aws-cdk/core:enablePartitionLiterals): the grant, and the nag acknowledgement
        // flattened from it, read the same whether or not the stack's region is known at synth.
        partition: Aws.PARTITION,
        service: 'execute-api',
        resource: this.api.apiId,
        resourceName: `${this.stageName}/${method}/@connections/*`,
        arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
      }),
    );
    fn.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['execute-api:ManageConnections'], resources }),
    );
    acknowledgeWildcardResources(
      fn,
      resources,
      'Connection ids are created at runtime, so @connections/* is inherent to pushing; the ' +
        'ARN is pinned to this API id, this stage and one HTTP verb.',
    );
  }
}
