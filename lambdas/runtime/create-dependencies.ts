/**
 * lambdas/runtime/: builds the functions' dependencies from the environment (settings.ts): in AWS each entry point
 * wires only its own ports (aws.ts, ports/); this file wires all of them at once, for the local stack's in-process
 * handlers and the tests. Imports core/, contract/, adapters/ and use-cases/ types.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { S3Client } from '@aws-sdk/client-s3';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { multipartUpload } from '../adapters/s3-multipart-upload';
import { presignGet } from '../adapters/s3-presigner';
import type { Log } from '../core/log';
import type { Metrics } from '../core/metrics';
import type { Secrets } from '../core/ports';
import { type Clock, systemClock } from '../core/time';
import type { Dependencies } from '../use-cases/dependencies';
import { admission, callbackOwners, jobRepository, ownerQuota, uploadRepository, usageLedger } from './ports/dynamo';
import { callbackEndpoint, outputSource } from './ports/http';
import { images } from './ports/images';
import { replicate } from './ports/replicate';
import { objectStore } from './ports/s3';
import { queues } from './ports/sqs';
import { allowlistFor, type RuntimeSettings } from './settings';

export interface AwsClients {
  dynamo: DynamoDBClient;
  s3: S3Client;
  sqs: SQSClient;
}

/**
 * Wires every port, over clients pointed at the local stack's emulators: the in-process handlers tests drive. The
 * deployed functions wire theirs in lambdas/functions/ from the same builders (ports/), each only the ones it uses.
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
  return {
    jobs: jobRepository(clients.dynamo, settings, options.log),
    quota: ownerQuota(clients.dynamo, settings),
    usage: usageLedger(clients.dynamo, settings),
    admission: admission(clients.dynamo, settings),
    callbackOwners: callbackOwners(clients.dynamo, settings),
    uploads: uploadRepository(clients.dynamo, settings),
    images: images(),
    ...queues(clients.sqs, settings),
    objects: objectStore(clients.s3, settings, { multipartUpload, presignGet }),
    outputs: outputSource(settings),
    callbackEndpoint: callbackEndpoint(settings),
    secrets,
    replicate: replicate(settings, secrets, options.fetch),
    allowlist: allowlistFor(settings),
    settings,
    clock: options.clock ?? systemClock,
    log: options.log,
    metrics: options.metrics,
  };
}
