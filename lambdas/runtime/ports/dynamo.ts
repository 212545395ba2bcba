/**
 * lambdas/runtime/ports/: builds each port over its AWS SDK client, one module per client, so that an entry point
 * in functions/ that imports one module loads that client only. Imports adapters/ and core/.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoAdmission } from '../../adapters/dynamo-admission';
import { DynamoCallbackOwners } from '../../adapters/dynamo-callback-owners';
import { DynamoJobRepository } from '../../adapters/dynamo-job-repository';
import { DynamoOwnerQuota } from '../../adapters/dynamo-owner-quota';
import { withLoggedTransitions } from '../../adapters/logged-job-repository';
import { paceOf } from '../../core/admission';
import type { AwsContainer } from '../aws';

/** The ports kept in the jobs table, over one DynamoDB client per container. */
let client: DynamoDBClient | undefined;
const dynamo = (container: AwsContainer) => (client ??= container.traced(new DynamoDBClient({})));

export const jobRepository = (container: AwsContainer) =>
  withLoggedTransitions(
    new DynamoJobRepository(dynamo(container), container.settings.tableName, container.settings.indexShards),
    container.log,
  );

export const ownerQuota = (container: AwsContainer) =>
  new DynamoOwnerQuota(dynamo(container), container.settings.tableName, container.settings.limitsOf);

export const admission = (container: AwsContainer) =>
  new DynamoAdmission(
    dynamo(container),
    container.settings.tableName,
    paceOf(container.settings.replicateCreatesPerMinute),
  );

export const callbackOwners = (container: AwsContainer) =>
  new DynamoCallbackOwners(dynamo(container), container.settings.tableName);
