import type { SQSEvent } from 'aws-lambda';
import { DEADLINE_GRACE_MS } from '../../lambdas/core/limits';
import { processRecords, processRecordsWithin } from '../../lambdas/sqs/batch';
import { sqsRecord } from '../support/sqs-record';

/** The batch mechanics alone (Powertools' BatchProcessor), with records whose handling the test decides. */
const batch = (...ids: string[]): SQSEvent => ({ Records: ids.map((id) => sqsRecord(id, id)) });
const failedIds = (response: { batchItemFailures: Array<{ itemIdentifier: string }> }) =>
  response.batchItemFailures.map((failure) => failure.itemIdentifier).sort();

describe('processRecords', () => {
  it('reports failed exactly the records that answered false or threw, so only they are retried', async () => {
    const response = await processRecords(batch('done', 'not-done', 'threw'), async (each) => {
      if (each.body === 'threw') throw new Error('boom');
      return each.body === 'done';
    });
    expect(failedIds(response)).toEqual(['not-done', 'threw']);
  });

  it('reports a batch whose every record failed instead of throwing (their own retry delays stand)', async () => {
    const response = await processRecords(batch('a', 'b'), async () => false);
    expect(failedIds(response)).toEqual(['a', 'b']);
  });

  it('answers an empty batch with no failures', async () => {
    await expect(processRecords(batch(), async () => true)).resolves.toEqual({ batchItemFailures: [] });
  });

  it('reports only its record when a handler rejects with something that is not an Error', async () => {
    const response = await processRecords(batch('a', 'b'), async (each) => {
      if (each.body === 'a') throw undefined;
      return true;
    });
    expect(failedIds(response)).toEqual(['a']);
  });

  it('answers each batch a response of its own', async () => {
    const first = await processRecords(batch('a'), async () => true);
    first.batchItemFailures.push({ itemIdentifier: 'leaked' });
    await expect(processRecords(batch('b'), async () => true)).resolves.toEqual({ batchItemFailures: [] });
  });
});

describe('processRecordsWithin', () => {
  it('aborts the signal at the deadline, so records in flight end through their own failure path', async () => {
    let reason: unknown;
    const response = await processRecordsWithin(batch('fast', 'waits'), 50, (signal) => async (each) => {
      if (each.body === 'fast') return true;
      await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
      reason = signal.reason;
      return false;
    });
    expect(failedIds(response)).toEqual(['waits']);
    expect(String(reason)).toContain("the batch's deadline (50 ms) passed");
  });

  it('gives up on a record still running DEADLINE_GRACE_MS after the deadline, without waiting for it', async () => {
    const started = Date.now();
    const response = await processRecordsWithin(batch('fast', 'stuck'), 50, () => async (each) => {
      if (each.body === 'fast') return true;
      return new Promise<boolean>(() => {}); // ignores the signal, never settles
    });
    const elapsed = Date.now() - started;
    expect(failedIds(response)).toEqual(['stuck']);
    expect(elapsed).toBeGreaterThanOrEqual(50 + DEADLINE_GRACE_MS - 20);
    expect(elapsed).toBeLessThan(50 + DEADLINE_GRACE_MS + 2_000);
  }, 15_000);

  it('answers as soon as every record is done, well before the deadline', async () => {
    const started = Date.now();
    const response = await processRecordsWithin(batch('a', 'b'), 10_000, () => async () => true);
    expect(failedIds(response)).toEqual([]);
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});
