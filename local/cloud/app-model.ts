/**
 * local/cloud/: synthesizes the app and reads its template into a model (functions, routes, queues, schedules),
 * then creates those resources in the emulators, with the AWS SDK. Of the app it imports only the runtime's client
 * types (lambdas/runtime).
 */
import { join } from 'node:path';
import type { CloudAssembly } from './synthesize';

/**
 * What the local runtime needs from the synthesized template, read from the resources CloudFormation would
 * create: nothing here comes from the TypeScript sources. Values that hold references stay raw, to be
 * resolved against the local resources (see intrinsics.ts).
 */
export interface AppModel {
  functions: FunctionModel[];
  routes: RouteModel[];
  /** The REST API's `ApiKeySourceType`: the key is the x-api-key header, or what the route's authorizer answers. */
  apiKeySource: 'HEADER' | 'AUTHORIZER';
  usagePlan?: { rateLimit?: number; burstLimit?: number; quotaLimit?: number; quotaPeriod?: 'DAY' | 'WEEK' | 'MONTH' };
  eventSources: EventSourceModel[];
  schedules: ScheduleModel[];
  queues: QueueModel[];
  tables: Array<{ logicalId: string; properties: any }>;
  buckets: string[];
  secrets: Array<{ logicalId: string; generated: boolean; placeholder?: string }>;
}

export interface FunctionModel {
  logicalId: string;
  codeDir: string;
  handler: string;
  runtime: string;
  architectures: string[];
  /** Raw template values: resolve before use. */
  environment: Record<string, unknown>;
  timeoutSeconds: number;
  memoryMb: number;
  reservedConcurrency?: number;
  /** The template's LoggingConfig, which Lambda hands the runtime as AWS_LAMBDA_LOG_FORMAT / _LOG_LEVEL. */
  logFormat?: string;
  logLevel?: string;
  roleLogicalId: string;
  /** Inline and attached policies of the function's role (raw documents). */
  policies: Array<{ name: string; document: unknown }>;
}

export interface RouteModel {
  method: string;
  /** API Gateway resource path, `{name}` for a path parameter. */
  path: string;
  functionLogicalId: string;
  apiKeyRequired: boolean;
  /** Its integration streams the function's response (ResponseTransferMode STREAM: InvokeWithResponseStream). */
  streaming?: boolean;
  /** The Lambda (REQUEST) authorizer that runs before it (`AuthorizationType: CUSTOM`), by its function. */
  authorizerFunctionLogicalId?: string;
  /** The stage's throttle of this method (its `MethodSettings`), shared by every caller. */
  throttle?: { rateLimit: number; burstLimit: number };
}

export interface EventSourceModel {
  functionLogicalId: string;
  queueLogicalId: string;
  batchSize: number;
  maxBatchingWindowSeconds: number;
  reportBatchItemFailures: boolean;
  maxConcurrency?: number;
}

export interface ScheduleModel {
  functionLogicalId: string;
  rateSeconds: number;
  enabled: boolean;
}

export interface QueueModel {
  logicalId: string;
  visibilityTimeoutSeconds: number;
  retentionSeconds?: number;
  redrive?: { deadLetterQueueLogicalId: string; maxReceiveCount: number };
}

type Resources = CloudAssembly['template']['Resources'];

export function readAppModel(assembly: CloudAssembly): AppModel {
  const resources = assembly.template.Resources;
  const ofType = (type: string) => Object.entries(resources).filter(([, resource]) => resource.Type === type);
  return {
    functions: ofType('AWS::Lambda::Function').map(([logicalId, resource]) =>
      readFunction(assembly, resources, logicalId, resource),
    ),
    routes: readRoutes(resources),
    // Where API Gateway takes a request's API key from: the x-api-key header, or the authorizer's answer.
    apiKeySource:
      ofType('AWS::ApiGateway::RestApi')[0]?.[1].Properties?.ApiKeySourceType === 'AUTHORIZER'
        ? 'AUTHORIZER'
        : 'HEADER',
    usagePlan: ofType('AWS::ApiGateway::UsagePlan').map(([, { Properties: p }]) => ({
      rateLimit: p.Throttle?.RateLimit,
      burstLimit: p.Throttle?.BurstLimit,
      quotaLimit: p.Quota?.Limit,
      quotaPeriod: p.Quota?.Period,
    }))[0],
    eventSources: ofType('AWS::Lambda::EventSourceMapping').map(([, { Properties: p }]) => ({
      functionLogicalId: refOf(p.FunctionName),
      queueLogicalId: getAttOf(p.EventSourceArn),
      batchSize: p.BatchSize ?? 10,
      maxBatchingWindowSeconds: p.MaximumBatchingWindowInSeconds ?? 0,
      reportBatchItemFailures: (p.FunctionResponseTypes ?? []).includes('ReportBatchItemFailures'),
      maxConcurrency: p.ScalingConfig?.MaximumConcurrency,
    })),
    schedules: ofType('AWS::Events::Rule').flatMap(([, { Properties: p }]) =>
      (p.Targets ?? []).map((target: any) => ({
        functionLogicalId: getAttOf(target.Arn),
        rateSeconds: rateSeconds(p.ScheduleExpression),
        enabled: (p.State ?? 'ENABLED') === 'ENABLED',
      })),
    ),
    queues: ofType('AWS::SQS::Queue').map(([logicalId, { Properties: p = {} }]) => ({
      logicalId,
      visibilityTimeoutSeconds: p.VisibilityTimeout ?? 30,
      retentionSeconds: p.MessageRetentionPeriod,
      redrive: p.RedrivePolicy
        ? {
            deadLetterQueueLogicalId: getAttOf(p.RedrivePolicy.deadLetterTargetArn),
            maxReceiveCount: p.RedrivePolicy.maxReceiveCount,
          }
        : undefined,
    })),
    tables: ofType('AWS::DynamoDB::Table').map(([logicalId, resource]) => ({
      logicalId,
      properties: resource.Properties,
    })),
    buckets: ofType('AWS::S3::Bucket').map(([logicalId]) => logicalId),
    secrets: ofType('AWS::SecretsManager::Secret').map(([logicalId, { Properties: p }]) => ({
      logicalId,
      generated: p.GenerateSecretString !== undefined,
      placeholder: p.SecretString,
    })),
  };
}

function readFunction(
  assembly: CloudAssembly,
  resources: Resources,
  logicalId: string,
  resource: Resources[string],
): FunctionModel {
  const p = resource.Properties;
  const assetPath = resource.Metadata?.['aws:asset:path'];
  if (!assetPath) throw new Error(`${logicalId} has no bundled asset (aws:asset:path)`);
  const roleLogicalId = getAttOf(p.Role);
  const inline = (resources[roleLogicalId].Properties?.Policies ?? []).map((policy: any) => ({
    name: policy.PolicyName,
    document: policy.PolicyDocument,
  }));
  const attached = Object.entries(resources)
    .filter(
      ([, r]) =>
        r.Type === 'AWS::IAM::Policy' &&
        (r.Properties.Roles ?? []).some((role: unknown) => refOf(role) === roleLogicalId),
    )
    .map(([policyId, r]) => ({ name: policyId, document: r.Properties.PolicyDocument }));
  return {
    logicalId,
    // An assembly synthesized without bundling runs the bundles of one of the same sources (synthesize.ts).
    codeDir: assembly.codeDirs?.[logicalId] ?? join(assembly.dir, assetPath),
    handler: p.Handler,
    runtime: p.Runtime,
    architectures: p.Architectures ?? ['x86_64'],
    environment: p.Environment?.Variables ?? {},
    timeoutSeconds: p.Timeout ?? 3,
    memoryMb: p.MemorySize ?? 128,
    reservedConcurrency: p.ReservedConcurrentExecutions,
    logFormat: p.LoggingConfig?.LogFormat,
    logLevel: p.LoggingConfig?.ApplicationLogLevel,
    roleLogicalId,
    // Managed policies (AWSLambdaBasicExecutionRole: CloudWatch Logs) grant nothing the emulators serve.
    policies: [...inline, ...attached],
  };
}

/**
 * Each method's full path, from its resource's chain of PathParts up to the API's root, and its throttle from
 * the stage's method settings (its own, else the stage-wide `/*` `*` one). Exported for tests that read the
 * routes of a template synthesized without bundles.
 */
export function readRoutes(resources: Resources): RouteModel[] {
  const pathOf = (resourceRef: unknown): string => {
    if (typeof resourceRef === 'object' && resourceRef && 'Fn::GetAtt' in resourceRef) return ''; // RootResourceId
    const resource = resources[refOf(resourceRef)];
    return `${pathOf(resource.Properties.ParentId)}/${resource.Properties.PathPart}`;
  };
  return Object.values(resources)
    .filter((resource) => resource.Type === 'AWS::ApiGateway::Method' && resource.Properties.HttpMethod !== 'OPTIONS')
    .map(({ Properties: p }) => {
      const path = pathOf(p.ResourceId) || '/';
      return {
        method: p.HttpMethod,
        path,
        functionLogicalId: findGetAtt(p.Integration?.Uri),
        apiKeyRequired: p.ApiKeyRequired === true,
        streaming: p.Integration?.ResponseTransferMode === 'STREAM',
        ...(p.AuthorizationType === 'CUSTOM'
          ? { authorizerFunctionLogicalId: findGetAtt(resources[refOf(p.AuthorizerId)].Properties.AuthorizerUri) }
          : {}),
        throttle: stageThrottle(resources, path, p.HttpMethod),
      };
    });
}

/**
 * A stage method setting names its method by `ResourcePath` (`/` then the path with every `/` escaped as
 * `~1`: `/~1webhooks~1replicate`; `/*` for every path) and `HttpMethod` (`*` for every method). A limit the setting
 * leaves out is
 * not enforced here (in AWS the account's applies).
 */
function stageThrottle(resources: Resources, path: string, method: string): RouteModel['throttle'] {
  const settings: any[] = Object.values(resources)
    .filter((resource) => resource.Type === 'AWS::ApiGateway::Stage')
    .flatMap((stage) => stage.Properties?.MethodSettings ?? []);
  const escaped = `/${path.replaceAll('/', '~1')}`;
  const throttles = (s: any) => s.ThrottlingRateLimit !== undefined || s.ThrottlingBurstLimit !== undefined;
  const setting =
    settings.find((s) => s.ResourcePath === escaped && s.HttpMethod === method && throttles(s)) ??
    settings.find((s) => s.ResourcePath === '/*' && s.HttpMethod === '*' && throttles(s));
  return setting
    ? { rateLimit: setting.ThrottlingRateLimit ?? Infinity, burstLimit: setting.ThrottlingBurstLimit ?? Infinity }
    : undefined;
}

const refOf = (value: any): string => {
  if (!value?.Ref) throw new Error(`Expected a Ref, got ${JSON.stringify(value)}`);
  return value.Ref;
};
const getAttOf = (value: any): string => {
  if (!value?.['Fn::GetAtt']) throw new Error(`Expected Fn::GetAtt, got ${JSON.stringify(value)}`);
  return value['Fn::GetAtt'][0];
};
/** The logical id of the first Fn::GetAtt inside a value (an integration URI names its function that way). */
function findGetAtt(value: unknown): string {
  const found = JSON.stringify(value ?? null).match(/"Fn::GetAtt":\["([^"]+)"/);
  if (!found) throw new Error(`No function reference in ${JSON.stringify(value)}`);
  return found[1];
}

/** `rate(1 minute)`, `rate(5 minutes)`, `rate(2 hours)`, `rate(1 day)` → seconds. */
export function rateSeconds(expression: string): number {
  const match = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/.exec(expression);
  if (!match) throw new Error(`The local stack runs rate() schedules only, not ${expression}`);
  const unit = { minute: 60, hour: 3600, day: 86400 }[match[2].replace(/s$/, '') as 'minute' | 'hour' | 'day'];
  return Number(match[1]) * unit;
}
