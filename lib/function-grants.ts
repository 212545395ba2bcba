import { Names } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { BUCKET_PREFIXES, type BucketPrefix } from '../contract/bucket';
import { JOBS_TABLE_SCHEMA, WEBHOOK_RECEIPT_PREFIX } from '../contract/table';

export interface GrantedResources {
  table: dynamodb.Table;
  bucket: s3.Bucket;
  queue: sqs.Queue;
  callbackQueue: sqs.Queue;
  callbackDeadLetterQueue: sqs.Queue;
  apiTokenSecret: secretsmanager.Secret;
  webhookSecret: secretsmanager.Secret;
  callbackSigningKey: secretsmanager.Secret;
}

type Functions = Record<'submit' | 'status' | 'webhook' | 'consumer' | 'reconciler' | 'callbacks', lambda.IFunction>;

/**
 * Least privilege, measured: each function gets exactly the actions on exactly the resources its handlers
 * call, nothing CDK's broad `grant*` helpers add on top. `test/integration/least-privilege.test.ts` runs every
 * path through the deployed bundles and fails on a granted action no path uses; removing any grant here makes
 * that path fail with AccessDenied (the same test shows it per function).
 */
export function grantFunctions(functions: Functions, r: GrantedResources): void {
  const allow = (fn: lambda.IFunction, actions: string[], resources: string[], conditions?: Record<string, unknown>) =>
    fn.addToRolePolicy(new iam.PolicyStatement({ actions, resources, conditions }));
  const table = r.table.tableArn;
  const index = (name: string) => `${table}/index/${name}`;
  const objects = (prefix: BucketPrefix) => r.bucket.arnForObjects(`${prefix}/*`);
  const s = JOBS_TABLE_SCHEMA;

  // submit (also cancel): the job, the owner's quota counter, its repair from the unfinished index; the token.
  allow(functions.submit, ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'], [table]);
  allow(functions.submit, ['dynamodb:Query'], [index(s.unfinished.indexName)]);
  allow(functions.submit, ['secretsmanager:GetSecretValue'], [r.apiTokenSecret.secretArn]);
  allow(functions.submit, ['sqs:SendMessage'], [r.callbackQueue.queueArn]); // a canceled job's callback

  // status (also list, callback secret): reads only; presigned output URLs are checked against these grants.
  allow(functions.status, ['dynamodb:GetItem'], [table]);
  allow(functions.status, ['dynamodb:Query'], [index(s.byOwner.indexName)]);
  allow(functions.status, ['s3:GetObject'], [objects(BUCKET_PREFIXES.outputs), objects(BUCKET_PREFIXES.results)]);
  allow(functions.status, ['secretsmanager:GetSecretValue'], [r.callbackSigningKey.secretArn]);

  // webhook: only its own receipts (items whose key starts with `webhook#`), the queue, large bodies.
  allow(functions.webhook, ['dynamodb:PutItem', 'dynamodb:DeleteItem'], [table], {
    'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`${WEBHOOK_RECEIPT_PREFIX}*`] },
  });
  allow(functions.webhook, ['sqs:SendMessage'], [r.queue.queueArn]);
  allow(functions.webhook, ['s3:PutObject'], [objects(BUCKET_PREFIXES.webhookBodies)]);
  allow(functions.webhook, ['secretsmanager:GetSecretValue'], [r.webhookSecret.secretArn]);

  // consumer: its event source (and a duplicate put back until the copier's lease ends), the job (and a
  // prediction's job when the webhook names none), outputs in S3 (and removing those of a job that fails).
  allow(functions.consumer, ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:ChangeMessageVisibility'], [r.queue.queueArn]);
  allow(functions.consumer, ['dynamodb:GetItem', 'dynamodb:UpdateItem'], [table]);
  allow(functions.consumer, ['dynamodb:Query'], [index(s.byPrediction.indexName)]);
  allow(functions.consumer, ['s3:PutObject'], [objects(BUCKET_PREFIXES.outputs), objects(BUCKET_PREFIXES.results)]);
  allow(functions.consumer, ['s3:DeleteObject'], [objects(BUCKET_PREFIXES.outputs)]); // a failed job's copies (DeleteObjects)
  allow(functions.consumer, ['s3:GetObject'], [objects(BUCKET_PREFIXES.webhookBodies)]);
  allow(functions.consumer, ['sqs:SendMessage'], [r.callbackQueue.queueArn]);

  // reconciler: the unfinished index, the jobs it ends or polls, Replicate's token, the queue it feeds.
  allow(functions.reconciler, ['dynamodb:Query'], [index(s.unfinished.indexName)]);
  allow(functions.reconciler, ['dynamodb:GetItem', 'dynamodb:UpdateItem'], [table]);
  allow(functions.reconciler, ['secretsmanager:GetSecretValue'], [r.apiTokenSecret.secretArn]);
  allow(functions.reconciler, ['sqs:SendMessage'], [r.queue.queueArn, r.callbackQueue.queueArn]);
  allow(functions.reconciler, ['s3:PutObject'], [objects(BUCKET_PREFIXES.webhookBodies)]);

  // callbacks: its event source (backoff by changing a message's visibility; a callback that must wait is
  // sent again, delayed; one out of attempts goes to the DLQ), the job and its delivery log, the owner's
  // `callbacks#` item (leases, failures), the signing key, and the outputs its payload links to (presigned)
  // or includes (results).
  allow(functions.callbacks, ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:ChangeMessageVisibility'], [r.callbackQueue.queueArn]);
  allow(functions.callbacks, ['sqs:SendMessage'], [r.callbackQueue.queueArn, r.callbackDeadLetterQueue.queueArn]);
  allow(functions.callbacks, ['dynamodb:GetItem', 'dynamodb:UpdateItem'], [table]);
  allow(functions.callbacks, ['secretsmanager:GetSecretValue'], [r.callbackSigningKey.secretArn]);
  allow(functions.callbacks, ['s3:GetObject'], [objects(BUCKET_PREFIXES.outputs), objects(BUCKET_PREFIXES.results)]);
}

/**
 * An SQS event source without CDK's automatic `grantConsumeMessages` (which adds GetQueueUrl and
 * ChangeMessageVisibility that Lambda's poller never calls): the grants are given in `grantFunctions`.
 */
export function sqsEventSource(fn: lambda.Function, queue: sqs.IQueue, options: Omit<lambda.EventSourceMappingOptions, 'eventSourceArn'>) {
  // The id SqsEventSource gives it, so a deployed stack keeps its mapping.
  return fn.addEventSourceMapping(`SqsEventSource:${Names.nodeUniqueId(queue.node)}`, { ...options, eventSourceArn: queue.queueArn });
}
