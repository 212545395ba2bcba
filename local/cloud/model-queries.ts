import type { IamProxyOptions } from '../iam/iam-proxy';
import type { TableSchema } from '../iam/index-writes';
import type { AppModel, FunctionModel } from './app-model';
import type { CloudAssembly } from './synthesize';

/** Questions the local runtime asks of the template's model, each answered as AWS would. */

/** What Lambda checks when it creates an SQS event source mapping (CloudFormation's deploy would fail). */
export function checkEventSources(model: AppModel) {
  for (const mapping of model.eventSources) {
    const queue = model.queues.find((q) => q.logicalId === mapping.queueLogicalId)!;
    const fn = model.functions.find((f) => f.logicalId === mapping.functionLogicalId)!;
    if (queue.visibilityTimeoutSeconds < fn.timeoutSeconds) {
      throw new Error(
        `Invalid request provided: Queue visibility timeout: ${queue.visibilityTimeoutSeconds} seconds is less than Function timeout: ${fn.timeoutSeconds} seconds (${mapping.functionLogicalId})`,
      );
    }
  }
}

/** The environment variable through which functions find a secret: it tells which value the secret holds. */
export function environmentVariableReferencing(model: AppModel, logicalId: string): string | undefined {
  for (const fn of model.functions) {
    for (const [name, value] of Object.entries(fn.environment))
      if ((value as { Ref?: string })?.Ref === logicalId) return name;
  }
  return undefined;
}

/** Execution environments a function may have at once: its event source's maximum concurrency, else 10. */
export function concurrencyOf(model: AppModel, fn: FunctionModel): number {
  return model.eventSources.find((mapping) => mapping.functionLogicalId === fn.logicalId)?.maxConcurrency ?? 10;
}

/** Each table's partition keys (the table's and its indexes'), which `dynamodb:LeadingKeys` is about. */
export function tableKeysOf(model: AppModel): IamProxyOptions['context']['tables'] {
  const hashOf = (keySchema: Array<{ AttributeName: string; KeyType: string }>) =>
    keySchema.find((key) => key.KeyType === 'HASH')!.AttributeName;
  // Local table names are their logical ids (local-resources.ts).
  return Object.fromEntries(
    model.tables.map(({ logicalId, properties }) => [
      logicalId,
      {
        partitionKey: hashOf(properties.KeySchema),
        indexes: Object.fromEntries(
          (properties.GlobalSecondaryIndexes ?? []).map((index: any) => [index.IndexName, hashOf(index.KeySchema)]),
        ),
      },
    ]),
  );
}

/** Each table's key schema and global secondary indexes (keys and projection), by local table name. */
export function tableSchemasOf(model: AppModel): Record<string, TableSchema> {
  type KeySchema = Array<{ AttributeName: string; KeyType: string }>;
  const keyOf = (keySchema: KeySchema, type: 'HASH' | 'RANGE') =>
    keySchema.find((key) => key.KeyType === type)?.AttributeName;
  return Object.fromEntries(
    model.tables.map(({ logicalId, properties }) => [
      logicalId,
      {
        partitionKey: keyOf(properties.KeySchema, 'HASH')!,
        ...(keyOf(properties.KeySchema, 'RANGE') ? { sortKey: keyOf(properties.KeySchema, 'RANGE') } : {}),
        indexes: (properties.GlobalSecondaryIndexes ?? []).map((index: any) => ({
          name: index.IndexName,
          partitionKey: keyOf(index.KeySchema, 'HASH')!,
          ...(keyOf(index.KeySchema, 'RANGE') ? { sortKey: keyOf(index.KeySchema, 'RANGE') } : {}),
          projection: index.Projection?.ProjectionType ?? 'ALL',
          ...(index.Projection?.NonKeyAttributes ? { nonKeyAttributes: index.Projection.NonKeyAttributes } : {}),
        })),
      },
    ]),
  );
}

export function stageNameOf(assembly: CloudAssembly): string {
  const stage = Object.values(assembly.template.Resources).find(
    (resource) => resource.Type === 'AWS::ApiGateway::Stage',
  );
  return stage?.Properties?.StageName ?? 'prod';
}
