import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import { Logger } from '@aws-lambda-powertools/logger';
import { SecretsManagerSecrets } from '../adapters/secrets';
import type { Dependencies } from '../handlers/dependencies';
import { createDependencies } from './create-dependencies';
import { ENV, readSettings } from './settings';

let cached: Dependencies | undefined;

/** The dependencies of a function running in AWS: built on first use, then kept for the container's life. */
export function awsDependencies(): Dependencies {
  if (cached) return cached;
  const env = process.env;
  const settings = readSettings(env);
  const secretIds = { apiToken: env[ENV.apiTokenSecret] ?? '', webhookSecret: env[ENV.webhookSecret] ?? '' };
  cached = createDependencies({
    settings,
    clients: { dynamo: new DynamoDBClient({}), s3: new S3Client({}), sqs: new SQSClient({}) },
    secrets: new SecretsManagerSecrets(new SecretsManagerClient({}), secretIds),
    log: new Logger({ serviceName: 'replicate-jobs' }),
  });
  return cached;
}
