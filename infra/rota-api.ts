import { Duration, Names } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import {
  HttpIamAuthorizer,
  HttpLambdaAuthorizer,
  HttpLambdaResponseType,
} from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import { NagSuppressions } from 'cdk-nag';
import { Construct } from 'constructs';
import type { ApiFunctionSpec } from './function-specs';
import type { TaskServiceAuthMode } from './task-service-props';

export interface RotaApiProps {
  readonly authMode: TaskServiceAuthMode;
  /** The token authorizer's function (`token` mode). */
  readonly tokenAuthorizer?: lambda.IFunction;
  /**
   * How long API Gateway caches the token authorizer's answer. Zero sends every request
   * to the authorizer, a request without a header included, so Rota answers it.
   */
  readonly authorizerCacheTtl: Duration;
  readonly corsAllowOrigins?: readonly string[];
  readonly rateLimit: number;
  readonly burstLimit: number;
  /** Where the stage writes its access log (owned by the caller: it outlives API changes). */
  readonly accessLogGroup: logs.ILogGroup;
}

/**
 * The HTTP API: one stage with throttling and an access log, CORS for SigV4 callers, and
 * each system's routes behind the authorizer of the auth mode. Public GET routes
 * (documents, probes) are the only ones without it.
 */
export class RotaApi extends Construct {
  readonly api: apigw.HttpApi;
  readonly stage: apigw.HttpStage;
  private readonly authorizer: apigw.IHttpRouteAuthorizer;

  constructor(scope: Construct, id: string, props: RotaApiProps) {
    super(scope, id);
    // `Default`, and the name derived from the parent: the API keeps the logical ID and
    // name it had before this construct existed.
    this.api = new apigw.HttpApi(this, 'Default', {
      apiName: Names.uniqueResourceName(scope, { maxLength: 128, separator: '-' }),
      description: 'Rota task service',
      // The default stage that HttpApi creates takes no throttling or access log.
      createDefaultStage: false,
      corsPreflight: corsFor(props.corsAllowOrigins),
    });
    this.stage = this.api.addStage('DefaultStage', {
      stageName: '$default',
      autoDeploy: true,
      throttle: { rateLimit: props.rateLimit, burstLimit: props.burstLimit },
      accessLogSettings: {
        destination: new apigw.LogGroupLogDestination(props.accessLogGroup),
        format: AccessLogFormat.custom(JSON.stringify(ACCESS_LOG_FIELDS)),
      },
    });
    this.authorizer = routeAuthorizer(props);
  }

  /** Base URL of the API, ending in `/`. */
  get url(): string {
    return this.stage.url;
  }

  /** The function's routes: every method under its base path, its authorized GET paths, and its public GET paths. */
  addFunctionRoutes(spec: ApiFunctionSpec, fn: lambda.IFunction, integrationId: string): void {
    const integration = new HttpLambdaIntegration(integrationId, fn);
    const { authorizer } = this;
    if (spec.basePath) {
      for (const path of [spec.basePath, `${spec.basePath}/{proxy+}`]) {
        this.api.addRoutes({ path, methods: [apigw.HttpMethod.ANY], integration, authorizer });
      }
    }
    for (const path of spec.authorizedGetPaths ?? []) {
      this.api.addRoutes({ path, methods: [apigw.HttpMethod.GET], integration, authorizer });
    }
    for (const path of spec.publicGetPaths ?? []) this.addPublicGet(path, integration);
  }

  private addPublicGet(path: string, integration: HttpLambdaIntegration): void {
    const routes = this.api.addRoutes({
      path,
      methods: [apigw.HttpMethod.GET],
      integration,
      authorizer: new apigw.HttpNoneAuthorizer(),
    });
    NagSuppressions.addResourceSuppressions(
      routes.map((route) => route.node.defaultChild as apigw.CfnRoute),
      [
        {
          id: 'AwsSolutions-APIG4',
          reason: `GET ${path} is public on purpose: health probes and API clients read it before they hold credentials. It returns a static document, and its function's role has no table or queue access.`,
        },
      ],
    );
  }
}

function routeAuthorizer(props: RotaApiProps): apigw.IHttpRouteAuthorizer {
  if (props.authMode === 'token') {
    if (!props.tokenAuthorizer)
      throw new Error('TaskService: token mode needs the token authorizer function');
    return new HttpLambdaAuthorizer('TokenAuthorizer', props.tokenAuthorizer, {
      authorizerName: 'rota-token',
      responseTypes: [HttpLambdaResponseType.SIMPLE],
      identitySource: tokenIdentitySource(props.authorizerCacheTtl),
      resultsCacheTtl: props.authorizerCacheTtl,
    });
  }
  return props.authMode === 'iam' ? new HttpIamAuthorizer() : new apigw.HttpNoneAuthorizer();
}

/**
 * The authorizer's identity source. An HTTP API has no gateway responses to restyle, and
 * it answers a request that lacks an identity source itself, with a bare
 * `401 {"message":"Unauthorized"}`, before the authorizer runs. Without a cache none is
 * needed, so every request reaches the authorizer and the function answers InfluxDB's
 * `{code, message}`, as local mode does. A cache is keyed on the identity source, so a
 * cache brings the header back as one, and API Gateway's own answer with it
 * (docs/decisions/0011-gateway-answers.md).
 */
function tokenIdentitySource(cacheTtl: Duration): string[] {
  return cacheTtl.toSeconds({ integral: false }) === 0 ? [] : ['$request.header.Authorization'];
}

function corsFor(allowOrigins: readonly string[] | undefined): apigw.CorsPreflightOptions {
  return {
    allowOrigins: [...(allowOrigins ?? ['*'])],
    allowMethods: [
      apigw.CorsHttpMethod.GET,
      apigw.CorsHttpMethod.POST,
      apigw.CorsHttpMethod.PATCH,
      apigw.CorsHttpMethod.PUT,
      apigw.CorsHttpMethod.DELETE,
    ],
    // What SigV4 signing and conditional updates send.
    allowHeaders: [
      'authorization',
      'content-type',
      'if-match',
      'x-amz-date',
      'x-amz-security-token',
      'x-amz-content-sha256',
    ],
    exposeHeaders: ['etag', 'x-platform-error-code'],
    maxAge: Duration.hours(1),
  };
}

const ACCESS_LOG_FIELDS = {
  requestId: '$context.requestId',
  requestTime: '$context.requestTime',
  ip: '$context.identity.sourceIp',
  caller: '$context.identity.userArn',
  method: '$context.httpMethod',
  path: '$context.path',
  routeKey: '$context.routeKey',
  status: '$context.status',
  protocol: '$context.protocol',
  responseLength: '$context.responseLength',
  responseLatency: '$context.responseLatency',
  integrationLatency: '$context.integrationLatency',
  integrationError: '$context.integrationErrorMessage',
  authorizerError: '$context.authorizer.error',
};
