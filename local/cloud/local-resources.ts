import { randomBytes } from 'node:crypto';
import { CreateTableCommand } from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { CreateQueueCommand } from '@aws-sdk/client-sqs';
import type { AwsClients } from '../../lambdas/runtime/create-dependencies';
import type { AppModel } from './app-model';
import { type Environment, resolveIntrinsics } from './intrinsics';
import type { CloudAssembly } from './synthesize';

/**
 * Creates what CloudFormation would create, in the emulators, from the template's own properties: the table
 * with its key schema and indexes, the buckets, the queues with their visibility timeouts and redrive
 * policies, the secrets. Then answers `Ref`/`Fn::GetAtt` for every logical id, as CloudFormation does.
 */
export interface LocalResources {
  /** Resolves a raw template value (a function's environment, a policy document). */
  resolve(value: unknown): any;
  queueUrl(logicalId: string): string;
  queueArn(logicalId: string): string;
  functionName(logicalId: string): string;
  roleArn(logicalId: string): string;
}

export async function createLocalResources(options: {
  assembly: CloudAssembly;
  model: AppModel;
  clients: AwsClients;
  env: Environment;
  /**
   * Where queue URLs point, as in AWS, where a queue's URL is the SQS endpoint's: the SDK sends a queue's
   * requests to the host of its URL, so locally that must be the IAM proxy, never the emulator behind it.
   */
  sqsEndpoint: string;
  /** Values given at "deploy" for the template's parameters (the rest take their defaults). */
  parameters: Record<string, string>;
  /** Stores a secret's value in the local Secrets Manager. */
  putSecret(arn: string, value: string): void;
  /** What a secret holds, when `npm start` was given it (otherwise generated, or the template's placeholder). */
  secretValue(logicalId: string): string | undefined;
}): Promise<LocalResources> {
  const { model, clients, env } = options;
  const resources = options.assembly.template.Resources;
  const templateParameters: Record<string, { Default?: string }> = (options.assembly.template as any).Parameters ?? {};
  const arn = (service: string, resource: string) => `arn:aws:${service}:${env.region}:${env.accountId}:${resource}`;
  const names = {
    table: (id: string) => id,
    bucket: (id: string) => id.toLowerCase(),
    queue: (id: string) => id,
    fn: (id: string) => id,
    secret: (id: string) => arn('secretsmanager', `secret:${id}-local`),
  };

  const physical = (logicalId: string, attribute?: string): string => {
    if (logicalId in templateParameters)
      return options.parameters[logicalId] ?? templateParameters[logicalId].Default ?? '';
    const type = resources[logicalId]?.Type;
    if (!type) throw new Error(`The template references ${logicalId}, which it does not declare`);
    switch (`${type}${attribute ? `.${attribute}` : ''}`) {
      case 'AWS::DynamoDB::Table':
        return names.table(logicalId);
      case 'AWS::DynamoDB::Table.Arn':
        return arn('dynamodb', `table/${names.table(logicalId)}`);
      case 'AWS::S3::Bucket':
        return names.bucket(logicalId);
      case 'AWS::S3::Bucket.Arn':
        return `arn:aws:s3:::${names.bucket(logicalId)}`;
      case 'AWS::SQS::Queue':
      case 'AWS::SQS::Queue.QueueUrl':
        return `${options.sqsEndpoint}/${env.accountId}/${names.queue(logicalId)}`;
      case 'AWS::SQS::Queue.Arn':
        return arn('sqs', names.queue(logicalId));
      case 'AWS::SQS::Queue.QueueName':
        return names.queue(logicalId);
      case 'AWS::SecretsManager::Secret':
        return names.secret(logicalId);
      case 'AWS::Lambda::Function':
        return names.fn(logicalId);
      case 'AWS::Lambda::Function.Arn':
        return arn('lambda', `function:${names.fn(logicalId)}`);
      case 'AWS::IAM::Role':
        return logicalId;
      case 'AWS::IAM::Role.Arn':
        return `arn:aws:iam::${env.accountId}:role/${logicalId}`;
      case 'AWS::SNS::Topic':
        return arn('sns', logicalId);
      default:
        // Resources the local runtime does not emulate (log groups, the API's ids): a stable made-up value.
        return attribute === 'Arn' ? arn(type.split('::')[1].toLowerCase(), logicalId) : logicalId;
    }
  };
  const resolve = (value: unknown) => resolveIntrinsics(value, physical, env);

  for (const { logicalId, properties: p } of model.tables) {
    await clients.dynamo.send(
      new CreateTableCommand({
        TableName: names.table(logicalId),
        AttributeDefinitions: p.AttributeDefinitions,
        KeySchema: p.KeySchema,
        BillingMode: p.BillingMode ?? 'PROVISIONED',
        ...(p.BillingMode === 'PAY_PER_REQUEST' ? {} : { ProvisionedThroughput: p.ProvisionedThroughput }),
        GlobalSecondaryIndexes: p.GlobalSecondaryIndexes?.map((index: any) => ({
          IndexName: index.IndexName,
          KeySchema: index.KeySchema,
          Projection: index.Projection,
        })),
      }),
    );
  }
  for (const logicalId of model.buckets)
    await clients.s3.send(new CreateBucketCommand({ Bucket: names.bucket(logicalId) }));
  // Dead-letter queues first: a redrive policy names its target's ARN.
  const queues = [...model.queues].sort((a, b) => Number(Boolean(a.redrive)) - Number(Boolean(b.redrive)));
  for (const queue of queues) {
    await clients.sqs.send(
      new CreateQueueCommand({
        QueueName: names.queue(queue.logicalId),
        Attributes: {
          VisibilityTimeout: String(queue.visibilityTimeoutSeconds),
          ...(queue.retentionSeconds ? { MessageRetentionPeriod: String(queue.retentionSeconds) } : {}),
          ...(queue.redrive
            ? {
                RedrivePolicy: JSON.stringify({
                  deadLetterTargetArn: physical(queue.redrive.deadLetterQueueLogicalId, 'Arn'),
                  maxReceiveCount: queue.redrive.maxReceiveCount,
                }),
              }
            : {}),
        },
      }),
    );
  }
  for (const secret of model.secrets) {
    // CloudFormation generates a GenerateSecretString secret at deploy; the others hold their template
    // placeholder until `npm run secrets`, which locally is the value npm start was given.
    const value =
      options.secretValue(secret.logicalId) ??
      (secret.generated ? randomBytes(36).toString('base64url') : (secret.placeholder ?? ''));
    options.putSecret(names.secret(secret.logicalId), value);
  }

  return {
    resolve,
    queueUrl: (id) => physical(id, 'QueueUrl'),
    queueArn: (id) => physical(id, 'Arn'),
    functionName: names.fn,
    roleArn: (id) => physical(id, 'Arn'),
  };
}
