import { ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { WEBHOOK_RECEIPT_PREFIX } from '../../contract/table';
import type { WebhookReceipts } from '../core/ports';
import { TOLERANCE_SECONDS } from '../core/webhook-signature';

/**
 * Recently seen webhook ids, in the jobs table under `webhook#<id>`. A receipt only needs to outlive the
 * signature's timestamp window (a replay after it fails verification anyway), so items expire (TTL) after it.
 */
export class DynamoWebhookReceipts implements WebhookReceipts {
  private readonly documents: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    private readonly tableName: string,
  ) {
    this.documents = DynamoDBDocumentClient.from(client);
  }

  async remember(webhookId: string, now: Date): Promise<boolean> {
    try {
      await this.documents.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { id: receiptKey(webhookId), expiresAt: Math.floor(now.getTime() / 1000) + 2 * TOLERANCE_SECONDS + 60 },
          ConditionExpression: 'attribute_not_exists(id)',
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  async forget(webhookId: string): Promise<void> {
    await this.documents.send(new DeleteCommand({ TableName: this.tableName, Key: { id: receiptKey(webhookId) } }));
  }
}

/** Webhook ids are short ASCII tokens; anything longer is cut so a hostile header cannot make an oversized key. */
const receiptKey = (webhookId: string) => `${WEBHOOK_RECEIPT_PREFIX}${webhookId.slice(0, 256)}`;
