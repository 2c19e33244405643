import { type RemovalPolicy, Stack } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { FunctionName } from '../../lambdas/catalog';
import { type HttpRoute, routeKeyOf } from '../../lambdas/http/routes';
import { acknowledge } from '../nag';
import type { ThrottleLimits } from '../stack-config';
import type { FunctionMap } from './catalog-functions';
import { httpRouteAuthReason } from './http-route-auth';

/** Properties of {@link TaskwireHttpApi}. */
export interface TaskwireHttpApiProps {
  /** The catalog functions the routes integrate. */
  readonly functions: FunctionMap;
  /** The routes, each with its auth (HTTP_ROUTES, the route table in lambdas/http/routes.ts). */
  readonly routes: readonly HttpRoute[];
  readonly throttle: ThrottleLimits;
  /** Retention behaviour of the access log group. */
  readonly removalPolicy: RemovalPolicy;
}

/** JSON access log line; the path is logged, the query string (WeCom's echostr) is not. */
const ACCESS_LOG_FORMAT = AccessLogFormat.custom(
  JSON.stringify({
    requestId: '$context.requestId',
    requestTime: '$context.requestTime',
    sourceIp: '$context.identity.sourceIp',
    httpMethod: '$context.httpMethod',
    routeKey: '$context.routeKey',
    path: '$context.path',
    status: '$context.status',
    protocol: '$context.protocol',
    responseLength: '$context.responseLength',
    integrationError: '$context.integrationErrorMessage',
    integrationLatency: '$context.integrationLatency',
  }),
);

/**
 * The HTTP API (payload format 2.0) with the catalog's routes on an auto-deployed `$default`
 * stage, throttled and access-logged. No CORS: callers are WeCom and operators' tools, not
 * browsers.
 */
export class TaskwireHttpApi extends Construct {
  public readonly api: apigwv2.HttpApi;
  public readonly stage: apigwv2.HttpStage;
  public readonly accessLogGroup: logs.LogGroup;
  /** Routes by route key (`GET /healthz`). */
  public readonly routes: ReadonlyMap<string, apigwv2.HttpRoute>;
  /** The base URL, without a trailing slash, so `{url}/wecom/callback` is well-formed. */
  public readonly url: string;

  public constructor(scope: Construct, id: string, props: TaskwireHttpApiProps) {
    super(scope, id);
    this.api = new apigwv2.HttpApi(this, 'Api', {
      // Named after the stack, so two stages in one account tell their APIs apart.
      apiName: `${Stack.of(this).stackName}-http`,
      description: 'Taskwire HTTP API: WeCom callback, push and admin routes',
      // The implicit default stage cannot take access-log settings; ours below can.
      createDefaultStage: false,
    });

    this.accessLogGroup = new logs.LogGroup(this, 'AccessLogs', {
      retention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: props.removalPolicy,
    });
    this.stage = new apigwv2.HttpStage(this, 'DefaultStage', {
      httpApi: this.api,
      stageName: '$default',
      autoDeploy: true,
      throttle: props.throttle,
      accessLogSettings: {
        destination: new apigwv2.LogGroupLogDestination(this.accessLogGroup),
        format: ACCESS_LOG_FORMAT,
      },
    });

    // One integration per function: all of a function's routes share it.
    const integrations = new Map<FunctionName, HttpLambdaIntegration>();
    const integrationFor = (name: FunctionName): HttpLambdaIntegration => {
      let integration = integrations.get(name);
      if (!integration) {
        integration = new HttpLambdaIntegration(
          `${name}Integration`,
          props.functions[name].function,
          {
            payloadFormatVersion: apigwv2.PayloadFormatVersion.VERSION_2_0,
          },
        );
        integrations.set(name, integration);
      }
      return integration;
    };

    const routes = new Map<string, apigwv2.HttpRoute>();
    for (const spec of props.routes) {
      const routeKey = routeKeyOf(spec);
      if (routes.has(routeKey)) throw new Error(`HTTP_ROUTES lists ${routeKey} twice`);
      const fn = props.functions[spec.fn];
      const [route] = this.api.addRoutes({
        path: spec.path,
        methods: [apigwv2.HttpMethod[spec.method]],
        integration: integrationFor(spec.fn),
      });
      if (!route) throw new Error(`HttpApi.addRoutes created no route for ${routeKey}`);
      acknowledge(route, 'AwsSolutions-APIG4', httpRouteAuthReason(spec, fn.spec));
      routes.set(routeKey, route);
    }
    this.routes = routes;

    // apiEndpoint is the $default stage's base URL: https://{apiId}.execute-api.{region}.{suffix}
    this.url = this.api.apiEndpoint;
  }
}
