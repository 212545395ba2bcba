import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import dynalite from 'dynalite';
import { spawn } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { JOBS_TABLE_SCHEMA } from '../lambdas/adapters/dynamo-job-repository';
import type { AwsClients } from '../lambdas/runtime/create-dependencies';

/**
 * Emulators of the AWS services the stack uses: dynalite (DynamoDB, in-process) and fauxqs (SQS and S3 on one
 * endpoint). They speak the real wire protocols, so the real SDK clients and adapters run against them.
 */
export interface Emulators {
  clients: AwsClients;
  resources: {
    tableName: string;
    bucketName: string;
    queueUrl: string;
    deadLetterQueueUrl: string;
    callbackQueueUrl: string;
    callbackDeadLetterQueueUrl: string;
  };
  /** The S3/SQS endpoint, for presigned URLs and tools. */
  awsEndpoint: string;
  stop(): Promise<void>;
}

const REGION = 'us-east-1';
const CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };
/** Receives before a message goes to the DLQ: the same default the CDK construct uses. */
export const MAX_RECEIVE_COUNT = 5;

export async function startEmulators(options: { visibilityTimeoutSeconds?: number; maxReceiveCount?: number } = {}): Promise<Emulators> {
  const dynamo = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve) => dynamo.listen(0, '127.0.0.1', () => resolve()));
  const dynamoEndpoint = `http://127.0.0.1:${(dynamo.address() as AddressInfo).port}`;
  const fauxqs = await startFauxqsProcess();
  const awsEndpoint = `http://127.0.0.1:${fauxqs.port}`;

  const common = { region: REGION, credentials: CREDENTIALS };
  const clients: AwsClients = {
    dynamo: new DynamoDBClient({ ...common, endpoint: dynamoEndpoint }),
    sqs: new SQSClient({ ...common, endpoint: awsEndpoint }),
    s3: new S3Client({ ...common, endpoint: awsEndpoint, forcePathStyle: true }),
  };
  const resources = await createResources(clients, options.visibilityTimeoutSeconds ?? 30, options.maxReceiveCount ?? MAX_RECEIVE_COUNT);
  return {
    clients,
    resources,
    awsEndpoint,
    async stop() {
      for (const client of Object.values(clients)) client.destroy();
      await fauxqs.stop();
      await new Promise<void>((resolve) => dynamo.close(() => resolve()));
    },
  };
}

/** The same table, indexes, bucket and queues the CDK construct declares. */
async function createResources(
  clients: AwsClients,
  visibilityTimeoutSeconds: number,
  maxReceiveCount: number,
): Promise<Emulators['resources']> {
  const tableName = 'replicate-jobs';
  const bucketName = 'replicate-jobs-outputs';
  const s = JOBS_TABLE_SCHEMA;
  const gsi = (name: string, partitionKey: string, sortKey?: string, projection: 'ALL' | 'KEYS_ONLY' | string[] = 'ALL') => ({
    IndexName: name,
    KeySchema: [
      { AttributeName: partitionKey, KeyType: 'HASH' as const },
      ...(sortKey ? [{ AttributeName: sortKey, KeyType: 'RANGE' as const }] : []),
    ],
    Projection: Array.isArray(projection) ? { ProjectionType: 'INCLUDE' as const, NonKeyAttributes: projection } : { ProjectionType: projection },
  });
  await clients.dynamo.send(
    new CreateTableCommand({
      TableName: tableName,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: ['id', 'predictionId', 'owner', 'createdAt', 'activeShard', 'updatedAt'].map((name) => ({
        AttributeName: name,
        AttributeType: 'S' as const,
      })),
      KeySchema: [{ AttributeName: s.partitionKey, KeyType: 'HASH' }],
      GlobalSecondaryIndexes: [
        gsi(s.byPrediction.indexName, s.byPrediction.partitionKey, undefined, 'KEYS_ONLY'),
        gsi(s.byOwner.indexName, s.byOwner.partitionKey, s.byOwner.sortKey),
        gsi(s.active.indexName, s.active.partitionKey, s.active.sortKey, [...s.active.projected]),
      ],
    }),
  );
  await clients.s3.send(new CreateBucketCommand({ Bucket: bucketName }));
  const events = await createQueueWithDlq(clients, 'replicate-jobs-events', visibilityTimeoutSeconds, maxReceiveCount);
  const callbacks = await createQueueWithDlq(clients, 'replicate-jobs-callbacks', visibilityTimeoutSeconds, CALLBACK_MAX_RECEIVE_COUNT);
  return {
    tableName,
    bucketName,
    queueUrl: events.queueUrl,
    deadLetterQueueUrl: events.deadLetterQueueUrl,
    callbackQueueUrl: callbacks.queueUrl,
    callbackDeadLetterQueueUrl: callbacks.deadLetterQueueUrl,
  };
}

/** Attempts at a client callback before it rests in its DLQ: with doubling backoff, about a day. */
export const CALLBACK_MAX_RECEIVE_COUNT = 8;

async function createQueueWithDlq(clients: AwsClients, name: string, visibilityTimeoutSeconds: number, maxReceiveCount: number) {
  const dlq = await clients.sqs.send(new CreateQueueCommand({ QueueName: `${name}-dlq` }));
  const dlqArn = (
    await clients.sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlq.QueueUrl, AttributeNames: ['QueueArn'] }))
  ).Attributes!.QueueArn!;
  const queue = await clients.sqs.send(
    new CreateQueueCommand({
      QueueName: name,
      Attributes: {
        VisibilityTimeout: String(visibilityTimeoutSeconds),
        RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount }),
      },
    }),
  );
  return { queueUrl: queue.QueueUrl!, deadLetterQueueUrl: dlq.QueueUrl! };
}

/** Starts fauxqs in a child process (see fauxqs-process.mjs) and answers once it listens. */
async function startFauxqsProcess(): Promise<{ port: number; stop(): Promise<void> }> {
  const child = spawn(process.execPath, [join(__dirname, 'fauxqs-process.mjs')], {
    stdio: ['pipe', 'pipe', 'inherit'],
    env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const port = await new Promise<number>((resolve, reject) => {
    let buffered = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const line = buffered.split('\n')[0];
      if (buffered.includes('\n')) resolve(JSON.parse(line).port);
    });
    child.once('exit', (code) => reject(new Error(`fauxqs exited early (code ${code})`)));
  });
  return {
    port,
    async stop() {
      child.stdin!.end();
      const timer = setTimeout(() => child.kill('SIGKILL'), 2000);
      await exited;
      clearTimeout(timer);
    },
  };
}
