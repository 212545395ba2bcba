import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, Duration } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import {
  outputKey,
  RETENTION_DAYS_CHOICES,
  resultKey,
  retentionTagsOf,
  uploadKey,
  WEBHOOK_BODY_RETENTION_DAYS,
  webhookBodyKey,
} from '../../contract/bucket';
import { ENV } from '../../contract/environment';
import { WASM_VIPS_RUNTIME_FILES } from '../../lambdas/adapters/wasm-vips-images';
import { ROUTES } from '../../lambdas/routes';
import { readSettings } from '../../lambdas/runtime/settings';
import { propsFromContext } from '../../lib/context-props';
import type { ReplicateJobsProps } from '../../lib/replicate-jobs';
import { ReplicateJobsStack } from '../../lib/replicate-jobs-stack';

/** Skipping bundling keeps these tests fast; one test below bundles for real. */
function synth(props?: ReplicateJobsProps, bundle = false): Template {
  const app = new App({ context: bundle ? {} : { 'aws:cdk:bundling-stacks': [] } });
  return Template.fromStack(new ReplicateJobsStack(app, 'Test', { jobs: props }));
}

describe('ReplicateJobs template', () => {
  const template = synth();

  it('has the nine functions on Node.js 24, arm64, traced, with JSON logs and retention', () => {
    const functions = template.findResources('AWS::Lambda::Function');
    expect(Object.keys(functions)).toHaveLength(9);
    for (const fn of Object.values(functions)) {
      expect(fn.Properties).toMatchObject({
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        TracingConfig: { Mode: 'Active' },
        LoggingConfig: { LogFormat: 'JSON' },
      });
    }
    template.resourcePropertiesCountIs('AWS::Logs::LogGroup', { RetentionInDays: 30 }, 10);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Handler: 'index.handler',
      Timeout: 300,
      MemorySize: 2048, // the consumer: copies and image derivatives (bench/README.md)
    });
    for (const name of ['Submit', 'Status', 'Webhook']) {
      const [fn] = Object.entries(functions).filter(([id]) => id.startsWith(`ReplicateJobs${name}Function`));
      expect(fn[1].Properties).toMatchObject({ Handler: 'index.handler', Timeout: 29 });
    }
  });

  it('exposes every route of the shared table, with x-api-key exactly where the table says', () => {
    const resources = template.toJSON().Resources;
    // A resource's whole path, from its parts up to the API's root (a parent that is no resource here).
    const pathOf = (id: string): string => {
      const resource = resources[id];
      if (resource?.Type !== 'AWS::ApiGateway::Resource') return '';
      return `${pathOf(resource.Properties.ParentId.Ref ?? '')}/${resource.Properties.PathPart}`;
    };
    for (const route of ROUTES) {
      const methods = template.findResources('AWS::ApiGateway::Method', {
        Properties: { HttpMethod: route.method, ApiKeyRequired: route.apiKeyRequired },
      });
      const matching = Object.values(methods).filter(
        (method) => pathOf(method.Properties.ResourceId.Ref) === route.path,
      );
      expect(matching).toHaveLength(1);
    }
    template.resourceCountIs('AWS::ApiGateway::Method', ROUTES.length);
    // The key comes from the authorizer (x-api-key or `Authorization: Bearer`), on every keyed method and only there.
    template.hasResourceProperties('AWS::ApiGateway::RestApi', { ApiKeySourceType: 'AUTHORIZER' });
    const methods = Object.values(template.findResources('AWS::ApiGateway::Method'));
    for (const { Properties: method } of methods) {
      expect(method.AuthorizationType).toBe(method.ApiKeyRequired ? 'CUSTOM' : 'NONE');
    }
    const [authorizer] = Object.values(template.findResources('AWS::ApiGateway::Authorizer'));
    expect(authorizer.Properties).toMatchObject({ Type: 'REQUEST', AuthorizerResultTtlInSeconds: 0 });
    expect(JSON.stringify(authorizer.Properties.AuthorizerUri)).toContain('ReplicateJobsAuthorizerFunction');
  });

  it("streams the events function's responses (InvokeWithResponseStream) for as long as its timeout, and only its", () => {
    const streamed = Object.values(
      template.findResources('AWS::ApiGateway::Method', {
        Properties: { Integration: { ResponseTransferMode: 'STREAM' } },
      }),
    );
    expect(streamed).toHaveLength(1);
    const [{ Properties: method }] = streamed;
    expect(method).toMatchObject({ HttpMethod: 'GET', ApiKeyRequired: true });
    expect(method.Integration.TimeoutInMillis).toBe(330_000);
    const uri = JSON.stringify(method.Integration.Uri);
    expect(uri).toContain('/response-streaming-invocations');
    expect(uri).toContain('ReplicateJobsEventsFunction');
    const [events] = Object.entries(template.findResources('AWS::Lambda::Function')).filter(([id]) =>
      id.startsWith('ReplicateJobsEventsFunction'),
    );
    // The longest stream, and closing it; at most 100 open at once (each holds an environment), by default.
    expect(events[1].Properties).toMatchObject({ Timeout: 330, MemorySize: 192, ReservedConcurrentExecutions: 100 });
  });

  it('throttles and caps each API key with a usage plan, and logs API access', () => {
    template.hasResourceProperties('AWS::ApiGateway::UsagePlan', {
      Throttle: { RateLimit: 20, BurstLimit: 40 },
      Quota: { Limit: 100000, Period: 'DAY' },
    });
    template.resourceCountIs('AWS::ApiGateway::UsagePlanKey', 1);
    template.hasResourceProperties('AWS::ApiGateway::Stage', {
      TracingEnabled: true,
      AccessLogSetting: { DestinationArn: Match.anyValue(), Format: Match.stringLikeRegexp('requestId') },
    });
  });

  it('throttles each method without an API key at the stage, since the usage plan covers keyed methods only', () => {
    const [stage] = Object.values(template.findResources('AWS::ApiGateway::Stage'));
    const throttled = stage.Properties.MethodSettings.filter(
      (setting: any) => setting.ThrottlingRateLimit !== undefined,
    );
    const unauthenticated = ROUTES.filter((route) => !route.apiKeyRequired);
    expect(throttled).toHaveLength(unauthenticated.length);
    const expected = (path: string, method: string, rate: number, burst: number) =>
      expect(throttled).toContainEqual(
        expect.objectContaining({
          ResourcePath: path,
          HttpMethod: method,
          ThrottlingRateLimit: rate,
          ThrottlingBurstLimit: burst,
        }),
      );
    expected('/~1webhooks~1replicate', 'POST', 100, 200);
    expected('/~1health', 'GET', 10, 20);
    expected('/~1openapi.json', 'GET', 10, 20);

    const custom = synth({
      webhookThrottle: { rateLimit: 5, burstLimit: 7 },
      publicThrottle: { rateLimit: 1, burstLimit: 2 },
    });
    custom.hasResourceProperties('AWS::ApiGateway::Stage', {
      MethodSettings: Match.arrayWith([
        Match.objectLike({
          ResourcePath: '/~1webhooks~1replicate',
          HttpMethod: 'POST',
          ThrottlingRateLimit: 5,
          ThrottlingBurstLimit: 7,
        }),
        Match.objectLike({
          ResourcePath: '/~1health',
          HttpMethod: 'GET',
          ThrottlingRateLimit: 1,
          ThrottlingBurstLimit: 2,
        }),
      ]),
    });
    expect(() => synth({ webhookThrottle: { rateLimit: 0, burstLimit: 10 } })).toThrow(
      /webhookThrottle must have a rateLimit above 0/,
    );
    expect(() => synth({ publicThrottle: { rateLimit: 1, burstLimit: 0.5 } })).toThrow(
      /publicThrottle must have .* whole burstLimit of at least 1/,
    );
  });

  it("reserves the consumer's concurrency (its maximum concurrency by default), so floods elsewhere cannot starve it", () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Handler: 'index.handler',
      Timeout: 300,
      ReservedConcurrentExecutions: 10,
    });
    const reserved = Object.values(template.findResources('AWS::Lambda::Function')).filter(
      (fn) => fn.Properties.ReservedConcurrentExecutions !== undefined,
    );
    // The consumer's and the event streams' only: every reservation comes out of the account's pool.
    expect(reserved).toHaveLength(2);
    synth({ consumerMaxConcurrency: 4 }).hasResourceProperties('AWS::Lambda::Function', {
      Timeout: 300,
      ReservedConcurrentExecutions: 4,
    });
    synth({ consumerReservedConcurrency: 25 }).hasResourceProperties('AWS::Lambda::Function', {
      Timeout: 300,
      ReservedConcurrentExecutions: 25,
    });
    synth({ consumerReservedConcurrency: false }).hasResourceProperties('AWS::Lambda::Function', {
      Timeout: 300,
      ReservedConcurrentExecutions: Match.absent(),
    });
    expect(() => synth({ consumerMaxConcurrency: 10, consumerReservedConcurrency: 5 })).toThrow(
      /must be at least consumerMaxConcurrency/,
    );
    const fromContext = (value: string) =>
      propsFromContext(new App({ context: { consumerReservedConcurrency: value } }).node).consumerReservedConcurrency;
    expect([fromContext('false'), fromContext('12')]).toEqual([false, 12]);
    synth({ eventStreamConcurrency: 7 }).hasResourceProperties('AWS::Lambda::Function', {
      Timeout: 330,
      ReservedConcurrentExecutions: 7,
    });
    synth({ eventStreamConcurrency: false }).hasResourceProperties('AWS::Lambda::Function', {
      Timeout: 330,
      ReservedConcurrentExecutions: Match.absent(),
    });
    const streamsFromContext = (value: string) =>
      propsFromContext(new App({ context: { eventStreamConcurrency: value } }).node).eventStreamConcurrency;
    expect([streamsFromContext('false'), streamsFromContext('12')]).toEqual([false, 12]);
  });

  it('holds a Prefer: wait create up to maxPreferWaitSeconds: the submit function and its integration outlast it', () => {
    const submitOf = (t: Template) =>
      Object.entries(t.findResources('AWS::Lambda::Function')).find(([id]) =>
        id.startsWith('ReplicateJobsSubmitFunction'),
      )!;
    const integrationTimeouts = (t: Template, functionId: string) =>
      Object.values(t.findResources('AWS::ApiGateway::Method'))
        .filter((method) => JSON.stringify(method.Properties.Integration.Uri).includes(functionId))
        .map((method) => method.Properties.Integration.TimeoutInMillis);
    // By default 25 s: under API Gateway's default 29 s, which nothing changes.
    const [defaultId, byDefault] = submitOf(template);
    expect(byDefault.Properties.Timeout).toBe(29);
    expect(new Set(integrationTimeouts(template, defaultId))).toEqual(new Set([undefined]));
    expect(byDefault.Properties.Environment.Variables.MAX_PREFER_WAIT_SECONDS).toBe('25');
    // Replicate's longest, 60 s: the function and every route it serves get 64 s (the submit itself has 4).
    const longest = synth({ maxPreferWaitSeconds: 60 });
    const [id, submit] = submitOf(longest);
    expect(submit.Properties.Timeout).toBe(64);
    expect(new Set(integrationTimeouts(longest, id))).toEqual(new Set([64_000]));
    expect(submit.Properties.Environment.Variables.MAX_PREFER_WAIT_SECONDS).toBe('60');
    expect(propsFromContext(new App({ context: { maxPreferWaitSeconds: '60' } }).node).maxPreferWaitSeconds).toBe(60);
    // A shorter wait never shortens the API's own 29 s.
    const shortest = synth({ maxPreferWaitSeconds: 1 });
    const [shortId, short] = submitOf(shortest);
    expect(short.Properties.Timeout).toBe(29);
    expect(new Set(integrationTimeouts(shortest, shortId))).toEqual(new Set([undefined]));
  });

  it('puts no WAF in front of the API unless asked; asked, a REGIONAL web ACL with a per-IP rate rule on the stage', () => {
    template.resourceCountIs('AWS::WAFv2::WebACL', 0);
    const withWaf = synth({ waf: { rateLimitPer5Minutes: 500 } });
    withWaf.hasResourceProperties('AWS::WAFv2::WebACL', {
      Scope: 'REGIONAL',
      DefaultAction: { Allow: {} },
      Rules: [
        Match.objectLike({
          Action: { Block: {} },
          Statement: { RateBasedStatement: { Limit: 500, AggregateKeyType: 'IP', EvaluationWindowSec: 300 } },
        }),
      ],
    });
    const [stageId] = Object.keys(withWaf.findResources('AWS::ApiGateway::Stage'));
    const [association] = Object.values(withWaf.findResources('AWS::WAFv2::WebACLAssociation'));
    // The stage by reference: CloudFormation associates only once the stage exists.
    expect(JSON.stringify(association.Properties.ResourceArn)).toContain(`"/stages/",{"Ref":"${stageId}"}`);
    expect(() => synth({ waf: { rateLimitPer5Minutes: 9 } })).toThrow(/from 10 to/);
  });

  it('has a queue with a DLQ and a visibility timeout six times the consumer timeout', () => {
    template.hasResourceProperties('AWS::SQS::Queue', {
      VisibilityTimeout: 1800,
      RedrivePolicy: { deadLetterTargetArn: Match.anyValue(), maxReceiveCount: 5 },
      SqsManagedSseEnabled: true,
    });
    template.hasResourceProperties('AWS::SQS::Queue', { MessageRetentionPeriod: 14 * 24 * 3600 });
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  it('delivers client callbacks from their own queue, with a DLQ after 8 attempts', () => {
    template.hasResourceProperties('AWS::SQS::Queue', {
      RedrivePolicy: { deadLetterTargetArn: Match.anyValue(), maxReceiveCount: 8 },
    });
    template.resourcePropertiesCountIs(
      'AWS::Lambda::EventSourceMapping',
      { FunctionResponseTypes: ['ReportBatchItemFailures'] },
      2,
    );
  });

  it('feeds the consumer with partial batch failures and a maximum concurrency', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: 10 },
      BatchSize: 10,
    });
  });

  it('keeps outputs in a private, encrypted, TLS-only bucket with access logs', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      },
      LoggingConfiguration: { DestinationBucketName: Match.anyValue(), LogFilePrefix: 'outputs/' },
    });
    const policies = template.findResources('AWS::S3::BucketPolicy');
    expect(Object.keys(policies).length).toBeGreaterThanOrEqual(2);
    for (const policy of Object.values(policies)) {
      expect(JSON.stringify(policy)).toContain('aws:SecureTransport');
    }
  });

  it('has an on-demand jobs table with point-in-time recovery and the indexes the access paths need', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      GlobalSecondaryIndexes: Match.arrayWith([
        Match.objectLike({
          IndexName: 'byPrediction',
          KeySchema: [{ AttributeName: 'predictionId', KeyType: 'HASH' }],
        }),
        // An owner's jobs over its counter shards (`<owner>#<k>`), keys only: a job write does not rewrite it.
        Match.objectLike({
          IndexName: 'byOwnerShard',
          KeySchema: [
            { AttributeName: 'ownerShard', KeyType: 'HASH' },
            { AttributeName: 'createdAt', KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'KEYS_ONLY' },
        }),
        Match.objectLike({
          IndexName: 'unfinishedByOwner',
          KeySchema: [{ AttributeName: 'activeOwner', KeyType: 'HASH' }],
          Projection: { ProjectionType: 'KEYS_ONLY' },
        }),
        Match.objectLike({
          IndexName: 'unfinished',
          KeySchema: [
            { AttributeName: 'activeShard', KeyType: 'HASH' },
            { AttributeName: 'checkAt', KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: ['owner'] },
        }),
      ]),
    });
  });

  it('creates the Replicate secrets without a value, generates the callback key at deploy, and gives functions only ARNs', () => {
    const secrets = Object.values(template.findResources('AWS::SecretsManager::Secret'));
    expect(secrets.map((s) => s.Properties.SecretString).filter(Boolean)).toEqual(['UNSET', 'UNSET']);
    expect(secrets.filter((s) => s.Properties.GenerateSecretString)).toHaveLength(1);
    for (const fn of Object.values(template.findResources('AWS::Lambda::Function'))) {
      const variables = fn.Properties.Environment.Variables;
      expect(Object.keys(variables)).not.toContain('REPLICATE_API_TOKEN');
      expect(variables.REPLICATE_API_TOKEN_SECRET_ARN.Ref).toMatch(/ReplicateApiToken/);
    }
  });

  it('grants without wildcards on actions', () => {
    for (const policy of Object.values(template.findResources('AWS::IAM::Policy'))) {
      for (const statement of policy.Properties.PolicyDocument.Statement) {
        const actions = [statement.Action].flat();
        expect(actions).not.toContain('*');
        expect(actions.filter((action: string) => /^[a-z0-9]+:\*$/.test(action))).toEqual([]);
      }
    }
  });

  it('has a dashboard covering the API, every function, the queue, the DLQ and the table', () => {
    const dashboards = template.findResources('AWS::CloudWatch::Dashboard');
    expect(Object.keys(dashboards)).toHaveLength(1);
    const body = JSON.stringify(Object.values(dashboards)[0].Properties.DashboardBody);
    for (const needle of [
      'AWS/ApiGateway',
      'AWS/Lambda',
      'ApproximateAgeOfOldestMessage',
      'ApproximateNumberOfMessagesVisible',
      'AWS/DynamoDB',
    ]) {
      expect(body).toContain(needle);
    }
    for (const fn of Object.keys(template.findResources('AWS::Lambda::Function'))) expect(body).toContain(fn);
  });

  it('runs the reconciler on a schedule', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 minute)',
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('ReconcilerFunction'), 'Arn'] } })],
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Handler: 'index.handler',
      Environment: { Variables: Match.objectLike({ JOB_TIMEOUT_SECONDS: '600', RECONCILE_AFTER_SECONDS: '120' }) },
    });
  });

  it('wakes the admitter from its own queue, paces it by the account rate, and keeps the waiting line in a sparse index', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: Match.stringLikeRegexp('AdmitterFunction') },
      EventSourceArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('AdmissionQueue'), 'Arn'] },
      ScalingConfig: { MaximumConcurrency: 2 },
    });
    template.hasResourceProperties('AWS::SQS::Queue', {
      VisibilityTimeout: 120,
      RedrivePolicy: Match.objectLike({ maxReceiveCount: 3 }),
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Timeout: 90,
      Environment: { Variables: Match.objectLike({ REPLICATE_CREATES_PER_MINUTE: '600', INDEX_SHARDS: '32' }) },
    });
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      GlobalSecondaryIndexes: Match.arrayWith([
        Match.objectLike({
          IndexName: 'waiting',
          KeySchema: [
            { AttributeName: 'waitShard', KeyType: 'HASH' },
            { AttributeName: 'waitingSince', KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: ['owner'] },
        }),
      ]),
    });
    synth({ replicateCreatesPerMinute: 3000, indexShards: 64 }).hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ REPLICATE_CREATES_PER_MINUTE: '3000', INDEX_SHARDS: '64' }) },
    });
    expect(() => synth({ indexShards: 101 })).toThrow(/indexShards must be an integer from 1 to 100, got 101/);
    expect(() => synth({ replicateCreatesPerMinute: 0 })).toThrow(
      /replicateCreatesPerMinute must be a positive integer/,
    );
  });

  it('alarms to an SNS topic on DLQ, backlog, function errors and throttles, API 5xx, webhook rejections and timeouts', () => {
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm'));
    const described = (text: string) => alarms.filter((alarm) => alarm.Properties.AlarmDescription.includes(text));
    expect(described('dead-letter queue')).toHaveLength(1);
    expect(described('waiting too long')).toHaveLength(1);
    expect(described('failed 5 or more times')).toHaveLength(9);
    expect(described('was throttled')).toHaveLength(9);
    expect(described('wait too long for capacity')).toHaveLength(1);
    expect(described('client callback could not be delivered')).toHaveLength(1);
    expect(described('API requests answered 5xx')).toHaveLength(1);
    expect(described('signature verification')).toHaveLength(1);
    expect(described('timing out')).toHaveLength(1);
    expect(described('signing secret is unset or malformed')).toHaveLength(1);
    const topic = Object.keys(template.findResources('AWS::SNS::Topic'))[0];
    for (const alarm of alarms) {
      expect(alarm.Properties.AlarmActions).toEqual([{ Ref: topic }]);
      expect(alarm.Properties.AlarmDescription).toMatch(/Runbook: /);
    }
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'WebhookRejected',
      Namespace: 'ReplicateJobs',
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'JobsTimedOut',
      Namespace: 'ReplicateJobs',
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'WebhookSecretInvalid',
      Namespace: 'ReplicateJobs',
      Threshold: 1,
    });
  });

  it('shows the job metrics on the dashboard, failures by code', () => {
    const body = JSON.stringify(
      Object.values(template.findResources('AWS::CloudWatch::Dashboard'))[0].Properties.DashboardBody,
    );
    for (const name of [
      'JobsSubmitted',
      'JobsSucceeded',
      'JobsFailed',
      'JobDuration',
      'OutputBytes',
      'WebhookRejected',
      'Reconciled',
      'JobsTimedOut',
    ]) {
      expect(body).toContain(name);
    }
    expect(body).toContain('output_too_large');
  });

  it('outputs the API URL, bucket, table and secret names', () => {
    const outputs = Object.keys(template.toJSON().Outputs);
    for (const name of [
      'ApiUrl',
      'WebhookUrl',
      'OutputBucketName',
      'JobsTableName',
      'ApiTokenSecretName',
      'WebhookSecretName',
      'DefaultApiKeyId',
    ]) {
      expect(outputs.some((output) => output.includes(name))).toBe(true);
    }
  });

  type Rule = {
    Id?: string;
    Prefix?: string;
    ExpirationInDays?: number;
    TagFilters?: Array<{ Key: string; Value: string }>;
  };
  const expiringRules = (t: Template): Rule[] => {
    const [bucket] = Object.entries(t.findResources('AWS::S3::Bucket')).filter(([id]) =>
      id.startsWith('ReplicateJobsOutputBucket'),
    );
    return bucket[1].Properties.LifecycleConfiguration.Rules.filter(
      (rule: Rule) => rule.ExpirationInDays !== undefined,
    );
  };

  it('expires webhook bodies and uploads by prefix, and outputs only by a job’s own tag unless outputRetention is set', () => {
    const expiring = expiringRules(template);
    const byPrefix = expiring.filter((rule) => rule.Prefix !== undefined);
    expect(byPrefix).toEqual([
      expect.objectContaining({ ExpirationInDays: WEBHOOK_BODY_RETENTION_DAYS, Prefix: 'webhook-bodies/' }),
      expect.objectContaining({ ExpirationInDays: 7, Prefix: 'uploads/' }),
    ]);
    expect(webhookBodyKey('2026-03-01T12:00:00.000Z', 'msg/1').startsWith('webhook-bodies/')).toBe(true);
    expect(uploadKey('alice', 'upl_1').startsWith('uploads/')).toBe(true);
    for (const key of [outputKey('alice', 'job_1', 0, 'png'), resultKey('alice', 'job_1')]) {
      expect(byPrefix.some((rule) => key.startsWith(rule.Prefix!))).toBe(false);
    }
    // One rule per value a job may choose, on the tag its objects are written with.
    const byTag = expiring.filter((rule) => rule.TagFilters);
    expect(byTag.map((rule) => [rule.TagFilters, rule.ExpirationInDays])).toEqual(
      RETENTION_DAYS_CHOICES.map((days) => [[{ Key: 'retention-days', Value: String(days) }], days]),
    );
    expect(retentionTagsOf(7)).toEqual({ 'retention-days': '7' });

    const kept30 = expiringRules(synth({ outputRetention: Duration.days(30), uploadRetention: Duration.days(2) }));
    expect(kept30.filter((rule) => rule.Prefix !== undefined)).toEqual([
      expect.objectContaining({ Prefix: 'webhook-bodies/' }),
      expect.objectContaining({ ExpirationInDays: 2, Prefix: 'uploads/' }),
      expect.objectContaining({ ExpirationInDays: 30, Prefix: 'outputs/' }),
      expect.objectContaining({ ExpirationInDays: 30, Prefix: 'results/' }),
    ]);
    expect(() => synth({ outputRetention: Duration.hours(36) })).toThrow(
      /outputRetention must be a whole number of days/,
    );
  });

  it("sets only variables the runtime reads, and the runtime finds the construct's resources in them", () => {
    const known: string[] = Object.values(ENV);
    const functions = Object.values(template.findResources('AWS::Lambda::Function')).filter(
      (fn) => fn.Properties.Environment?.Variables?.[ENV.tableName],
    );
    expect(functions.length).toBeGreaterThanOrEqual(6);
    const [table] = Object.keys(template.findResources('AWS::DynamoDB::Table'));
    for (const fn of functions) {
      const variables: Record<string, unknown> = fn.Properties.Environment.Variables;
      const ours = Object.keys(variables).filter((name) => !/^(AWS_|POWERTOOLS_|NODE_OPTIONS$)/.test(name));
      expect(ours.filter((name) => !known.includes(name))).toEqual([]);
      // What the function reads, each token as a URL holding its CloudFormation JSON: the construct's resources.
      const TOKEN = 'https://token.invalid/';
      const cfn = (text: string) => JSON.parse(decodeURIComponent(text.slice(TOKEN.length)));
      const settings = readSettings(
        Object.fromEntries(
          Object.entries(variables).map(([name, value]) => [
            name,
            typeof value === 'string' ? value : `${TOKEN}${encodeURIComponent(JSON.stringify(value))}`,
          ]),
        ),
      );
      expect(cfn(settings.tableName)).toEqual({ Ref: table });
      expect(cfn(settings.bucketName)).toEqual({ Ref: expect.stringMatching(/^ReplicateJobsOutputBucket/) });
      expect(cfn(settings.queueUrl)).toEqual({ Ref: expect.stringMatching(/^ReplicateJobsEventQueue/) });
      expect(cfn(settings.replicateBaseUrl)).toEqual({ Ref: expect.stringMatching(/ReplicateApiBaseUrl/) });
    }
  });

  it('applies props: output hosts, consumer timeout and concurrency, presign lifetime', () => {
    const custom = synth({
      outputHosts: ['files.example.com'],
      consumerTimeout: Duration.minutes(2),
      consumerMaxConcurrency: 3,
      presignedUrlExpiry: Duration.minutes(5),
    });
    custom.hasResourceProperties('AWS::SQS::Queue', { VisibilityTimeout: 720 });
    custom.hasResourceProperties('AWS::Lambda::EventSourceMapping', { ScalingConfig: { MaximumConcurrency: 3 } });
    custom.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          OUTPUT_HOSTS: 'files.example.com',
          PRESIGNED_URL_SECONDS: '300',
          TRANSFER_LEASE_SECONDS: '120',
        }),
      },
    });
  });

  it('passes owner limits to the functions, and refuses invalid ones at synth', () => {
    const custom = synth({
      ownerLimits: { default: { maxInFlight: 5, maxPerDay: 100 }, owners: { k1: { maxInFlight: 1 } } },
    });
    custom.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          OWNER_LIMITS: JSON.stringify({
            default: { maxInFlight: 5, maxPerDay: 100 },
            owners: { k1: { maxInFlight: 1 } },
          }),
        }),
      },
    });
    expect(() => synth({ ownerLimits: { default: { maxInFlight: 0, maxPerDay: 1 } } })).toThrow();
  });

  it('passes prices and the daily credit rules to the functions (defaults: no prices, failures refunded, cancels not)', () => {
    const byDefault = template.findResources('AWS::Lambda::Function');
    for (const fn of Object.values(byDefault).filter((fn) => fn.Properties.Environment?.Variables?.[ENV.tableName])) {
      const variables = fn.Properties.Environment.Variables;
      expect(variables).not.toHaveProperty('PRICES');
      expect(variables).toMatchObject({ REFUND_FAILURES_WITHOUT_OUTPUT: 'true', REFUND_CLIENT_CANCELS: 'false' });
    }
    const custom = synth({
      prices: { 'a/b': { perSecondUsd: 0.000225 }, 'c/d': { perOutputUsd: 0.003 } },
      dailyCredits: { failuresWithoutOutput: false, clientCancels: true },
      ownerLimits: { default: { maxInFlight: 5, maxPerDay: 100, maxPredictSecondsPerDay: 3600, maxCostPerDayUsd: 20 } },
    });
    custom.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          PRICES: JSON.stringify({ 'a/b': { perSecondUsd: 0.000225 }, 'c/d': { perOutputUsd: 0.003 } }),
          REFUND_FAILURES_WITHOUT_OUTPUT: 'false',
          REFUND_CLIENT_CANCELS: 'true',
          OWNER_LIMITS: JSON.stringify({
            default: { maxInFlight: 5, maxPerDay: 100, maxPredictSecondsPerDay: 3600, maxCostPerDayUsd: 20 },
            owners: {},
          }),
        }),
      },
    });
    const fromContext = propsFromContext(
      new App({
        context: { prices: '{"a/b":{"perOutputUsd":0.01}}', refundClientCancels: 'true' },
      }).node,
    );
    expect(fromContext).toMatchObject({
      prices: { 'a/b': { perOutputUsd: 0.01 } },
      dailyCredits: { clientCancels: true },
    });
  });

  it('the usage ledger needs no new grant: job-ending functions update items, status reads them (no writes), no new index', () => {
    const dynamoActions = (prefix: string) =>
      Object.entries(template.findResources('AWS::IAM::Policy'))
        .filter(([id]) => id.startsWith(prefix))
        .flatMap(([, policy]) =>
          policy.Properties.PolicyDocument.Statement.flatMap((s: { Action: string | string[] }) => [s.Action].flat()),
        )
        .filter((action: string) => action.startsWith('dynamodb:'))
        .sort();
    expect(dynamoActions('ReplicateJobsConsumerFunction')).toEqual([
      'dynamodb:GetItem',
      'dynamodb:Query',
      'dynamodb:UpdateItem',
    ]);
    expect(dynamoActions('ReplicateJobsStatusFunction')).toEqual([
      'dynamodb:BatchGetItem',
      'dynamodb:GetItem',
      'dynamodb:Query',
    ]);
    const [table] = Object.values(template.findResources('AWS::DynamoDB::Table'));
    expect(table.Properties.GlobalSecondaryIndexes).toHaveLength(5);
  });

  it('passes the reconciler batch size to the functions, and refuses one that is not a positive integer at synth', () => {
    synth({ reconcileBatchSize: 250 }).hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ RECONCILE_BATCH_SIZE: '250' }) },
    });
    for (const bad of [0, -1, 2.5])
      expect(() => synth({ reconcileBatchSize: bad })).toThrow(/reconcileBatchSize must be a positive integer/);
  });

  it('passes output limits per job to the functions, and refuses at synth a file limit the job item cannot hold', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({ MAX_OUTPUT_FILES: '100', MAX_OUTPUT_TOTAL_BYTES: String(5 * 1024 ** 3) }),
      },
    });
    synth({ maxOutputFiles: 250, maxOutputTotalBytes: 1000 }).hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ MAX_OUTPUT_FILES: '250', MAX_OUTPUT_TOTAL_BYTES: '1000' }) },
    });
    for (const maxOutputFiles of [0, 2.5, 251])
      expect(() => synth({ maxOutputFiles })).toThrow(/maxOutputFiles .* must be a whole number from 1 to 250/);
  });

  it('gives the webhook function no access to the table: it verifies and queues, nothing more', () => {
    const policies = Object.entries(template.findResources('AWS::IAM::Policy')).filter(([id]) =>
      id.startsWith('ReplicateJobsWebhookFunction'),
    );
    expect(policies).toHaveLength(1);
    const actions = policies[0][1].Properties.PolicyDocument.Statement.flatMap((s: { Action: string | string[] }) =>
      [s.Action].flat(),
    );
    expect(actions.filter((action: string) => action.startsWith('dynamodb:'))).toEqual([]);
    expect(actions).toEqual(expect.arrayContaining(['sqs:SendMessage', 'secretsmanager:GetSecretValue']));
  });

  it('uses wildcard resources only for X-Ray', () => {
    for (const policy of Object.values(template.findResources('AWS::IAM::Policy'))) {
      for (const statement of policy.Properties.PolicyDocument.Statement) {
        if (statement.Resource === '*')
          expect([statement.Action].flat().every((action: string) => action.startsWith('xray:'))).toBe(true);
      }
    }
  });

  it('refuses at synth a queue visibility timeout shorter than the consumer timeout (AWS refuses it at deploy)', () => {
    expect(() =>
      synth({ consumerTimeout: Duration.seconds(300), eventQueueVisibilityTimeout: Duration.seconds(60) }),
    ).toThrow(/must be at least consumerTimeout/);
    synth({
      consumerTimeout: Duration.seconds(30),
      eventQueueVisibilityTimeout: Duration.seconds(30),
    }).hasResourceProperties('AWS::SQS::Queue', { VisibilityTimeout: 30 });
  });

  it('keeps every network guard on by default; only the localNetwork prop turns them off, visibly', () => {
    for (const fn of Object.values(template.findResources('AWS::Lambda::Function'))) {
      expect(fn.Properties.Environment.Variables).not.toHaveProperty('ALLOW_PLAIN_HTTP');
      expect(fn.Properties.Environment.Variables).not.toHaveProperty('ALLOW_PRIVATE_ADDRESSES');
    }
    const local = synth({ localNetwork: { allowPlainHttp: true, allowPrivateAddresses: true } });
    local.allResourcesProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ ALLOW_PLAIN_HTTP: 'true', ALLOW_PRIVATE_ADDRESSES: 'true' }) },
    });
  });

  it('takes the Replicate API base URL as a deploy-time parameter, defaulting to Replicate', () => {
    template.hasParameter('ReplicateApiBaseUrl', { Type: 'String', Default: 'https://api.replicate.com/v1' });
    template.allResourcesProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ REPLICATE_API_BASE_URL: { Ref: 'ReplicateApiBaseUrl' } }) },
    });
  });

  it('bundles each function with esbuild, offline, holding the AWS SDK clients it calls and no others', () => {
    const app = new App({ context: { 'aws:cdk:enable-asset-metadata': true } });
    const stack = new ReplicateJobsStack(app, 'Test', {});
    const bundled = Template.fromStack(stack);
    const functions = bundled.findResources('AWS::Lambda::Function');
    const code = Object.values(functions).map((fn) => fn.Properties.Code.S3Key);
    expect(code.every((key) => typeof key === 'string' && key.endsWith('.zip'))).toBe(true);
    expect(new Set(code).size).toBe(9); // one entry point, one bundle, per function
    // What each bundle holds, by package, from the esbuild metafile written beside it.
    const outdir = app.synth().directory;
    const packagesOf = (name: string) => {
      const [, fn] = Object.entries(functions).find(([id]) => id.startsWith(`ReplicateJobs${name}Function`))!;
      const assetDir = join(outdir, fn.Metadata['aws:asset:path']);
      const meta = JSON.parse(readFileSync(join(assetDir, 'index.meta.json'), 'utf8'));
      const outputs = Object.values(
        meta.outputs as Record<string, { entryPoint?: string; inputs: Record<string, { bytesInOutput: number }> }>,
      );
      const output = outputs.find((each) => each.entryPoint)!;
      return new Set(
        Object.entries(output.inputs)
          .filter(([, input]) => input.bytesInOutput > 0)
          .map(([file]) => /node_modules\/((@[^/]+\/)?[^/]+)/.exec(file)?.[1])
          .filter((pkg): pkg is string => pkg !== undefined),
      );
    };
    const sdk = (packages: Set<string>) =>
      [...packages].filter((pkg) => /^@aws-sdk\/(client-|lib-|s3-request)/.test(pkg) || pkg === 'replicate').sort();
    // The SDK is bundled (none left to the runtime), and each function holds only what its ports call.
    expect(sdk(packagesOf('Status'))).toEqual([
      '@aws-sdk/client-dynamodb',
      '@aws-sdk/client-s3',
      '@aws-sdk/client-secrets-manager',
      '@aws-sdk/lib-dynamodb',
      '@aws-sdk/s3-request-presigner',
    ]);
    expect(sdk(packagesOf('Authorizer'))).toEqual([]); // it calls nothing
    expect(sdk(packagesOf('Events'))).toEqual([
      '@aws-sdk/client-dynamodb',
      '@aws-sdk/client-s3',
      '@aws-sdk/lib-dynamodb',
      '@aws-sdk/s3-request-presigner',
    ]);
    expect(sdk(packagesOf('Webhook'))).toEqual([
      '@aws-sdk/client-s3',
      '@aws-sdk/client-secrets-manager',
      '@aws-sdk/client-sqs',
    ]);
    expect(sdk(packagesOf('Consumer'))).toEqual([
      '@aws-sdk/client-dynamodb',
      '@aws-sdk/client-s3',
      '@aws-sdk/client-sqs',
      '@aws-sdk/lib-dynamodb',
      '@aws-sdk/lib-storage',
    ]);
    expect(sdk(packagesOf('Submit'))).toEqual([
      '@aws-sdk/client-dynamodb',
      '@aws-sdk/client-s3',
      '@aws-sdk/client-secrets-manager',
      '@aws-sdk/client-sqs',
      '@aws-sdk/lib-dynamodb',
      '@aws-sdk/s3-request-presigner',
      'replicate',
    ]);
    expect(sdk(packagesOf('Reconciler'))).toEqual([
      '@aws-sdk/client-dynamodb',
      '@aws-sdk/client-s3',
      '@aws-sdk/client-secrets-manager',
      '@aws-sdk/client-sqs',
      '@aws-sdk/lib-dynamodb',
      'replicate',
    ]);
    expect(sdk(packagesOf('Callback'))).toEqual([
      '@aws-sdk/client-dynamodb',
      '@aws-sdk/client-s3',
      '@aws-sdk/client-secrets-manager',
      '@aws-sdk/client-sqs',
      '@aws-sdk/lib-dynamodb',
      '@aws-sdk/s3-request-presigner',
    ]);
    expect(sdk(packagesOf('Admitter'))).toEqual([
      '@aws-sdk/client-dynamodb',
      '@aws-sdk/client-s3',
      '@aws-sdk/client-secrets-manager',
      '@aws-sdk/client-sqs',
      '@aws-sdk/lib-dynamodb',
      '@aws-sdk/s3-request-presigner', // the input's uploads, presigned for Replicate
      'replicate',
    ]);
    // libvips in WebAssembly: not bundled (it loads its .wasm files from beside itself), shipped in the consumer's
    // asset, and in no other function's.
    expect(packagesOf('Consumer').has('wasm-vips')).toBe(false);
    const assetOf = (name: string) => {
      const [, fn] = Object.entries(functions).find(([id]) => id.startsWith(`ReplicateJobs${name}Function`))!;
      return join(outdir, fn.Metadata['aws:asset:path']);
    };
    for (const file of WASM_VIPS_RUNTIME_FILES) {
      expect(existsSync(join(assetOf('Consumer'), 'node_modules', 'wasm-vips', file))).toBe(true);
    }
    expect(existsSync(join(assetOf('Status'), 'node_modules'))).toBe(false);
  });
});
