import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { USAGE_PREFIX } from '../../contract/table';
import type { UsageLedger } from '../core/ports';
import { type DayUsage, EMPTY_DAY, type EndedJobUsage } from '../core/usage';
import { conditionalUpdate } from './conditional-update';

/**
 * The usage ledger in the jobs table: one item per owner and UTC day, `usage#<owner>#<day>`, whose counters only
 * ever grow by `ADD` (one small write per accepted job, one per ended job; nothing read first). Integers only:
 * predict time in milliseconds, cost in nano-dollars.
 *
 * Once per job: `recordEnded` runs only after the job's own conditional terminal write succeeded (jobEnded), so
 * repeated webhooks and polls never reach it twice. Each write also names its job's attempt (`lastEnded`,
 * `lastSubmitted`: the id and creation time, so an Idempotency-Key retry of a failed submission counts again) and is
 * conditional on the item not naming it already: the SDK's own retry of a write whose answer was lost
 * (it was applied) is refused instead of counted twice. Not a transaction (the local DynamoDB, dynalite 4, has
 * none): a process that dies between the job's terminal write and this one leaves the job out of the ledger,
 * as it would lose the job's callback (README, the crash table).
 *
 * A range of days is one BatchGetItem of up to 92 known keys, strongly consistent, with no index: an index
 * keyed by owner and day would double every one of these writes to serve a read made far less often.
 */
const MAX_READ_ROUNDS = 5;

export class DynamoUsageLedger implements UsageLedger {
  private readonly documents: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    private readonly tableName: string,
  ) {
    this.documents = DynamoDBDocumentClient.from(client);
  }

  async recordSubmitted(owner: string, attempt: string, day: string): Promise<void> {
    await conditionalUpdate(this.documents, this.tableName, {
      Key: { id: usageKey(owner, day) },
      UpdateExpression: 'ADD submitted :one SET lastSubmitted = :attempt',
      ConditionExpression: 'attribute_not_exists(lastSubmitted) OR lastSubmitted <> :attempt',
      ExpressionAttributeValues: { ':one': 1, ':attempt': attempt },
    });
  }

  async recordEnded(owner: string, usage: EndedJobUsage): Promise<void> {
    const priced = usage.costNanoUsd !== undefined;
    await conditionalUpdate(this.documents, this.tableName, {
      Key: { id: usageKey(owner, usage.day) },
      UpdateExpression: `ADD #outcome :one, predictMillis :millis, ${priced ? 'pricedJobs :one, costNanoUsd :cost' : 'unpricedJobs :one'} SET lastEnded = :attempt`,
      ConditionExpression: 'attribute_not_exists(lastEnded) OR lastEnded <> :attempt',
      ExpressionAttributeNames: { '#outcome': usage.outcome },
      ExpressionAttributeValues: {
        ':one': 1,
        ':millis': usage.predictMillis,
        ':attempt': usage.attempt,
        ...(priced ? { ':cost': usage.costNanoUsd } : {}),
      },
    });
  }

  async read(owner: string, days: readonly string[]): Promise<Map<string, DayUsage>> {
    const found = new Map<string, DayUsage>();
    let keys: Array<Record<string, unknown>> = days.map((day) => ({ id: usageKey(owner, day) }));
    // DynamoDB may leave keys unprocessed under load: ask again for those, a few times.
    for (let round = 0; round < MAX_READ_ROUNDS && keys.length > 0; round++) {
      const result = await this.documents.send(
        new BatchGetCommand({ RequestItems: { [this.tableName]: { Keys: keys, ConsistentRead: true } } }),
      );
      for (const item of result.Responses?.[this.tableName] ?? []) {
        const id = item.id as string;
        found.set(id.slice(-10), dayUsageOf(item));
      }
      keys = result.UnprocessedKeys?.[this.tableName]?.Keys ?? [];
    }
    if (keys.length > 0) throw new Error(`${keys.length} usage days stayed unprocessed`);
    return found;
  }
}

export const usageKey = (owner: string, day: string) => `${USAGE_PREFIX}${owner}#${day}`;

function dayUsageOf(item: Record<string, unknown>): DayUsage {
  const day = { ...EMPTY_DAY };
  for (const key of Object.keys(EMPTY_DAY) as Array<keyof DayUsage>) day[key] = Number(item[key] ?? 0);
  return day;
}
