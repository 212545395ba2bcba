import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { DEFAULTS } from '../contract/defaults';
import { ROUTES, STREAMING_FUNCTIONS } from '../lambdas/routes';
import { ApiWaf } from './api-waf';
import {
  API_TIMEOUT_SECONDS,
  type ApiFunctionName,
  STREAMING_TIMEOUT_SECONDS,
  submitTimeoutSeconds,
} from './jobs-functions';
import type { ReplicateJobsProps } from './replicate-jobs-props';

export interface JobsApiProps {
  readonly props: ReplicateJobsProps;
  /** The function serving each route of the route table. */
  readonly functions: Record<ApiFunctionName, lambda.IFunction>;
  /** The Lambda authorizer that hands API Gateway each keyed request's API key (x-api-key or a Bearer token). */
  readonly authorizer: lambda.IFunction;
}

/**
 * The REST API built from the route table (lambdas/routes.ts), its access logs, stage throttles, usage plan,
 * first API key and optional web ACL. Created in the `ReplicateJobs` scope so the API keeps its logical ID: a
 * replaced API would have a new URL, and a replaced key would lock every client out.
 */
export class JobsApi {
  readonly api: apigateway.RestApi;
  readonly usagePlan: apigateway.UsagePlan;
  readonly defaultApiKey: apigateway.IApiKey;
  /** The web ACL on the API stage, when the `waf` prop asks for one. */
  readonly waf?: ApiWaf;

  constructor(scope: Construct, { props, functions, authorizer }: JobsApiProps) {
    const retention = props.logRetention ?? logs.RetentionDays.ONE_MONTH;
    const accessLogs = new logs.LogGroup(scope, 'ApiAccessLogs', { retention, removalPolicy: RemovalPolicy.DESTROY });
    const throttles = {
      webhook: props.webhookThrottle ?? DEFAULTS.webhookThrottle,
      public: props.publicThrottle ?? DEFAULTS.publicThrottle,
    };
    // The usage plan throttles keyed methods only: each method without a key gets a stage throttle of its own,
    // so a flood of them is refused by API Gateway instead of taking the account's Lambda concurrency.
    const methodOptions: Record<string, apigateway.MethodDeploymentOptions> = {};
    for (const route of ROUTES.filter((r) => !r.apiKeyRequired)) {
      const { rateLimit, burstLimit } = throttles[route.function === 'webhook' ? 'webhook' : 'public'];
      methodOptions[`${route.path}/${route.method}`] = {
        throttlingRateLimit: rateLimit,
        throttlingBurstLimit: burstLimit,
      };
    }
    this.api = new apigateway.RestApi(scope, 'Api', {
      description: 'replicate-jobs: Replicate predictions as durable jobs',
      // The key comes from the authorizer, which takes it from x-api-key or `Authorization: Bearer` (what Replicate's
      // clients send): API Gateway still checks it against the usage plans, and counts and throttles it.
      apiKeySourceType: apigateway.ApiKeySourceType.AUTHORIZER,
      cloudWatchRole: false,
      deployOptions: {
        stageName: 'v1',
        tracingEnabled: true,
        metricsEnabled: true,
        accessLogDestination: new apigateway.LogGroupLogDestination(accessLogs),
        accessLogFormat: apigateway.AccessLogFormat.jsonWithStandardFields(),
        methodOptions,
      },
    });
    // Not cached: a cache is keyed by identity sources, and a request may carry its key in either of two headers.
    const apiKeyAuthorizer = new apigateway.RequestAuthorizer(scope, 'ApiKeyAuthorizer', {
      handler: authorizer,
      identitySources: [],
      resultsCacheTtl: Duration.seconds(0),
    });
    // A submit held by `Prefer: wait` past API Gateway's default 29 s needs a longer integration timeout too.
    const submitSeconds = submitTimeoutSeconds(props);
    // One integration per function, shared by its routes.
    const integrations = new Map<ApiFunctionName, apigateway.LambdaIntegration>();
    for (const route of ROUTES) {
      const resource = this.api.root.resourceForPath(route.path);
      if (!integrations.has(route.function)) {
        // A streaming function's responses flow to the client as they are written, for as long as its timeout.
        const options: apigateway.LambdaIntegrationOptions = STREAMING_FUNCTIONS.includes(route.function)
          ? {
              responseTransferMode: apigateway.ResponseTransferMode.STREAM,
              timeout: Duration.seconds(STREAMING_TIMEOUT_SECONDS),
            }
          : route.function === 'submit' && submitSeconds > API_TIMEOUT_SECONDS
            ? { timeout: Duration.seconds(submitSeconds) }
            : {};
        integrations.set(route.function, new apigateway.LambdaIntegration(functions[route.function], options));
      }
      resource.addMethod(route.method, integrations.get(route.function), {
        apiKeyRequired: route.apiKeyRequired,
        ...(route.apiKeyRequired ? { authorizer: apiKeyAuthorizer } : {}),
      });
    }

    this.waf = props.waf ? new ApiWaf(scope, 'Waf', { stage: this.api.deploymentStage, ...props.waf }) : undefined;
    this.usagePlan = this.api.addUsagePlan('UsagePlan', {
      throttle: props.throttle ?? DEFAULTS.throttle,
      quota: { limit: props.dailyQuota ?? DEFAULTS.dailyQuota, period: apigateway.Period.DAY },
      apiStages: [{ api: this.api, stage: this.api.deploymentStage }],
    });
    this.defaultApiKey = this.api.addApiKey('DefaultApiKey', {
      description: 'First replicate-jobs client; add more per owner',
    });
    this.usagePlan.addApiKey(this.defaultApiKey);
  }
}
