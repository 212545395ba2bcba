import { Logger } from '@aws-lambda-powertools/logger';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import { ENV } from '../../contract/environment';
import { PowertoolsMetrics } from '../adapters/powertools-metrics';
import { SecretsManagerSecrets } from '../adapters/secrets';
import type { Dependencies } from '../use-cases/dependencies';
import { createDependencies } from './create-dependencies';
import { readSettings } from './settings';

const SERVICE = 'replicate-jobs';
let cached: { deps: Dependencies; metrics: PowertoolsMetrics } | undefined;

/** The dependencies of a function running in AWS: built on first use, then kept for the container's life. */
export function awsDependencies(): Dependencies {
  return build().deps;
}

function build() {
  if (cached) return cached;
  const env = process.env;
  const settings = readSettings(env);
  const secretIds = {
    apiToken: env[ENV.apiTokenSecret] ?? '',
    webhookSecret: env[ENV.webhookSecret] ?? '',
    callbackKey: env[ENV.callbackKeySecret],
  };
  // X-Ray: each AWS SDK call becomes a subsegment of the function's trace.
  const tracer = new Tracer({ serviceName: SERVICE });
  const traced = <T>(client: T): T => tracer.captureAWSv3Client(client);
  const metrics = new PowertoolsMetrics();
  const deps = createDependencies({
    settings,
    clients: { dynamo: traced(new DynamoDBClient({})), s3: traced(new S3Client({})), sqs: traced(new SQSClient({})) },
    secrets: new SecretsManagerSecrets(traced(new SecretsManagerClient({})), secretIds),
    log: new Logger({ serviceName: SERVICE }),
    metrics,
  });
  cached = { deps, metrics };
  return cached;
}

/** Wraps a Lambda handler so the metrics it emitted are flushed (as EMF log lines) when it returns or throws. */
export function withMetricsFlush<E, R, C = unknown>(
  handler: (event: E, context: C) => Promise<R>,
): (event: E, context: C) => Promise<R> {
  return async (event, context) => {
    try {
      return await handler(event, context);
    } finally {
      cached?.metrics.flush();
    }
  };
}
