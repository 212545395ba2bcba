/**
 * lambdas/runtime/: builds the functions' dependencies from the environment (settings.ts): in AWS each entry point
 * wires only its own ports (aws.ts, ports/); this file wires all of them at once, for the local stack's in-process
 * handlers and the tests. Imports core/, contract/, adapters/ and use-cases/ types.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { S3Client } from '@aws-sdk/client-s3';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoAdmission } from '../adapters/dynamo-admission';
import { DynamoCallbackOwners } from '../adapters/dynamo-callback-owners';
import { DynamoJobRepository } from '../adapters/dynamo-job-repository';
import { DynamoOwnerQuota } from '../adapters/dynamo-owner-quota';
import { HttpCallbackEndpoint } from '../adapters/http-callback-endpoint';
import { HttpOutputSource } from '../adapters/http-output-source';
import { withLoggedTransitions } from '../adapters/logged-job-repository';
import { ReplicateHttpGateway } from '../adapters/replicate-gateway';
import { multipartUpload } from '../adapters/s3-multipart-upload';
import { S3ObjectStore } from '../adapters/s3-object-store';
import { presignGet } from '../adapters/s3-presigner';
import { SqsQueue } from '../adapters/sqs-queue';
import { paceOf } from '../core/admission';
import type { Log } from '../core/log';
import type { Metrics } from '../core/metrics';
import type { Secrets } from '../core/ports';
import { type Clock, systemClock } from '../core/time';
import type { Dependencies } from '../use-cases/dependencies';
import { allowlistFor, CALLBACK_TIMEOUTS, type RuntimeSettings } from './settings';

export interface AwsClients {
  dynamo: DynamoDBClient;
  s3: S3Client;
  sqs: SQSClient;
}

/**
 * Wires every adapter, over clients pointed at the local stack's emulators: the in-process handlers tests drive
 * (the deployed functions wire theirs in lambdas/functions/). Same adapters either way.
 */
export function createDependencies(options: {
  settings: RuntimeSettings;
  clients: AwsClients;
  secrets: Secrets;
  log: Log;
  metrics: Metrics;
  clock?: Clock;
  fetch?: typeof fetch;
}): Dependencies {
  const { settings, clients, secrets } = options;
  const allowlist = allowlistFor(settings);
  const blockPrivateAddresses = !settings.network.allowPrivateAddresses;
  return {
    jobs: withLoggedTransitions(
      new DynamoJobRepository(clients.dynamo, settings.tableName, settings.indexShards),
      options.log,
    ),
    admission: new DynamoAdmission(clients.dynamo, settings.tableName, paceOf(settings.replicateCreatesPerMinute)),
    admissionKicks: new SqsQueue(clients.sqs, settings.admissionQueueUrl),
    quota: new DynamoOwnerQuota(clients.dynamo, settings.tableName, settings.limitsOf),
    objects: new S3ObjectStore(clients.s3, settings.bucketName, { multipartUpload, presignGet }),
    queue: new SqsQueue(clients.sqs, settings.queueUrl),
    callbacks: new SqsQueue(clients.sqs, settings.callbackQueueUrl),
    callbackDeadLetters: new SqsQueue(clients.sqs, settings.callbackDeadLetterQueueUrl),
    callbackEndpoint: new HttpCallbackEndpoint({ blockPrivateAddresses, ...CALLBACK_TIMEOUTS }),
    callbackOwners: new DynamoCallbackOwners(clients.dynamo, settings.tableName),
    secrets,
    replicate: new ReplicateHttpGateway({
      token: () => secrets.replicateApiToken(),
      baseUrl: settings.replicateBaseUrl,
      fetch: options.fetch,
    }),
    outputs: new HttpOutputSource({
      allowlist,
      blockPrivateAddresses,
      maxBytes: settings.maxOutputBytes,
      timeoutMs: settings.downloadTimeoutMs,
    }),
    allowlist,
    settings,
    clock: options.clock ?? systemClock,
    log: options.log,
    metrics: options.metrics,
  };
}
