import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { processRecords, processRecordsWithin } from '../../lambdas/sqs/batch';

const record = (messageId: string): SQSRecord => ({ messageId, body: '{}' }) as SQSRecord;
const batch = (...ids: string[]): SQSEvent => ({ Records: ids.map(record) });

describe('processRecords (Powertools BatchProcessor)', () => {
  it('answers an empty batch with no failures', async () => {
    await expect(processRecords(batch(), async () => true)).resolves.toEqual({ batchItemFailures: [] });
  });

  it('reports every record of a batch that failed whole, without throwing', async () => {
    await expect(processRecords(batch('a', 'b', 'c'), async () => false)).resolves.toEqual({
      batchItemFailures: [{ itemIdentifier: 'a' }, { itemIdentifier: 'b' }, { itemIdentifier: 'c' }],
    });
  });

  it('reports a record whose handler throws an Error', async () => {
    const result = await processRecords(batch('a', 'b'), async (r) => {
      if (r.messageId === 'a') throw new Error('boom');
      return true;
    });
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: 'a' }] });
  });

  it('reports only its record when a handler rejects with something that is not an Error', async () => {
    const result = await processRecords(batch('a', 'b'), async (r) => {
      if (r.messageId === 'a') throw undefined;
      return true;
    });
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: 'a' }] });
  });

  it('answers each batch a response of its own', async () => {
    const first = await processRecords(batch('a'), async () => true);
    first.batchItemFailures.push({ itemIdentifier: 'leaked' });
    await expect(processRecords(batch('b'), async () => true)).resolves.toEqual({ batchItemFailures: [] });
  });

  it('gives up a record still running after the deadline and its grace', async () => {
    const result = await processRecordsWithin(batch('slow', 'fast'), 50, () => async (r) => {
      if (r.messageId === 'fast') return true;
      await new Promise((resolve) => setTimeout(resolve, 5_000));
      return true;
    });
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: 'slow' }] });
  }, 10_000);
});
