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
import { withLoggedTransitions } from '../../adapters/logged-job-repository';
import { paceOf } from '../../core/admission';
import type { Log } from '../../core/log';
import type { AwsContainer } from '../aws';
import type { RuntimeSettings } from '../settings';

/** The ports kept in the jobs table, over one client: each function wires the ones it uses. */
export function tablePorts(client: DynamoDBClient, settings: RuntimeSettings, log: Log) {
  const { tableName } = settings;
  return {
    jobs: withLoggedTransitions(new DynamoJobRepository(client, tableName, settings.indexShards), log),
    quota: new DynamoOwnerQuota(client, tableName, settings.limitsOf),
    admission: new DynamoAdmission(client, tableName, paceOf(settings.replicateCreatesPerMinute)),
    callbackOwners: new DynamoCallbackOwners(client, tableName),
  };
}

/** The same, over a traced client of the function's own. */
export const tablePortsOf = (container: AwsContainer) =>
  tablePorts(container.traced(new DynamoDBClient({})), container.settings, container.log);
