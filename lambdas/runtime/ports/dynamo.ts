/**
 * lambdas/runtime/ports/: builds the ports over each AWS SDK client, one module per client, so that an entry point
 * in functions/ that imports one module loads that client only; create-dependencies.ts builds every port from the
 * same modules. Imports adapters/ and core/.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoAdmission } from '../../adapters/dynamo-admission';
import { DynamoCallbackOwners } from '../../adapters/dynamo-callback-owners';
import { DynamoJobRepository } from '../../adapters/dynamo-job-repository';
import { DynamoOwnerQuota } from '../../adapters/dynamo-owner-quota';
import { DynamoUploadRepository } from '../../adapters/dynamo-upload-repository';
import { DynamoUsageLedger } from '../../adapters/dynamo-usage-ledger';
import { withLoggedTransitions } from '../../adapters/logged-job-repository';
import { paceOf } from '../../core/admission';
import type { Log } from '../../core/log';
import type { AwsContainer } from '../aws';
import type { RuntimeSettings } from '../settings';

/** The jobs, each status change logged. */
export const jobRepository = (client: DynamoDBClient, settings: RuntimeSettings, log: Log) =>
  withLoggedTransitions(new DynamoJobRepository(client, settings.tableName, settings.indexShards), log);

export const ownerQuota = (client: DynamoDBClient, settings: RuntimeSettings) =>
  new DynamoOwnerQuota(client, settings.tableName, settings.limitsOf);

export const admission = (client: DynamoDBClient, settings: RuntimeSettings) =>
  new DynamoAdmission(client, settings.tableName, paceOf(settings.replicateCreatesPerMinute));

export const callbackOwners = (client: DynamoDBClient, settings: RuntimeSettings) =>
  new DynamoCallbackOwners(client, settings.tableName);

/** Uploads and the jobs that use them. */
export const uploadRepository = (client: DynamoDBClient, settings: RuntimeSettings) =>
  new DynamoUploadRepository(client, settings.tableName);

/**
 * A function's own traced client for the table, which every table port it wires shares. (Separate builders, not one
 * that makes them all: esbuild leaves out of a bundle the adapters its entry never builds.)
 */
export const tableClientOf = (container: AwsContainer) => container.traced(new DynamoDBClient({}));

/** The usage ledger's day items. */
export const usageLedger = (client: DynamoDBClient, settings: RuntimeSettings) =>
  new DynamoUsageLedger(client, settings.tableName);
