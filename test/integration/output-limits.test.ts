import type { SQSRecord } from 'aws-lambda';
import { OutputFailure } from '../../lambdas/core/errors';
import { consumePredictions } from '../../lambdas/sqs/consume-predictions';
import type { Dependencies } from '../../lambdas/use-cases/dependencies';
import { eventually, startTestStack, storedKeys, type TestStack } from '../support/local-stack';

const MAX_FILES = 3;
const MAX_TOTAL_BYTES = 240_000; // 3 files of 80 000 bytes

/**
 * Caps per job: files and total bytes. A job over either fails with a stable code and leaves nothing in the
 * bucket; what one delivery copied counts for (and is not copied again by) the next.
 */
describe('output limits per job (local stack)', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack({
      env: {
        MAX_OUTPUT_FILES: String(MAX_FILES),
        MAX_OUTPUT_TOTAL_BYTES: String(MAX_TOTAL_BYTES),
        DOWNLOAD_ATTEMPTS: '1',
        DOWNLOAD_RETRY_BASE_MS: '1',
      },
    });
  });
  afterAll(() => stack.stop());

  const simulator = () => stack.simulator!;
  /** Downloads per output file of a prediction, by file name. */
  const downloadsOf = (predictionId: string) =>
    Object.fromEntries(
      [...simulator().downloads.entries()]
        .filter(([path]) => path.includes(predictionId))
        .map(([path, count]) => [path.split('/').pop(), count]),
    );

  it('fails a prediction with more files than the limit with too_many_outputs, downloading nothing', async () => {
    const job = await stack.submit({ model: 'a/b', input: { simulate: { output: 'images', count: MAX_FILES + 1 } } });
    const done = await stack.waitFor(job.id);
    expect(done).toMatchObject({ status: 'failed', error: { code: 'too_many_outputs' }, outputs: [] });
    expect(done.error!.message).toContain(`at most ${MAX_FILES}`);
    expect(downloadsOf(job.predictionId!)).toEqual({});
    expect(await storedKeys(stack, `outputs/alice/${job.id}/`)).toEqual([]);
  });

  it('copies a job exactly at both limits', async () => {
    const job = await stack.submit({
      model: 'a/b',
      input: { simulate: { output: 'images', count: MAX_FILES, sizeBytes: MAX_TOTAL_BYTES / MAX_FILES } },
    });
    const done = await stack.waitFor(job.id);
    expect(done.status).toBe('succeeded');
    expect(done.outputs.reduce((sum, output) => sum + output.size, 0)).toBe(MAX_TOTAL_BYTES);
  });

  it('fails files larger together than the limit with outputs_total_too_large, storing nothing', async () => {
    const job = await stack.submit({
      model: 'a/b',
      input: { simulate: { output: 'images', count: MAX_FILES, sizeBytes: 100_000 } },
    });
    const done = await stack.waitFor(job.id);
    expect(done).toMatchObject({ status: 'failed', error: { code: 'outputs_total_too_large' }, outputs: [] });
    expect(await storedKeys(stack, `outputs/alice/${job.id}/`)).toEqual([]);
  });

  it('a job failing on a later file (a host off the list) deletes the files it already copied', async () => {
    const job = await stack.submit({
      model: 'a/b',
      input: { simulate: { files: ['out-0.png', 'https://elsewhere.invalid/out-1.png'] } },
    });
    const done = await stack.waitFor(job.id);
    expect(done).toMatchObject({ status: 'failed', error: { code: 'output_host_not_allowed' }, outputs: [] });
    expect(downloadsOf(job.predictionId!)).toEqual({ 'out-0.png': 1 }); // it was copied…
    expect(await storedKeys(stack, `outputs/alice/${job.id}/`)).toEqual([]); // …and removed
  });

  describe('across deliveries of one event', () => {
    /** A job whose prediction completed without webhooks, and the SQS record of its `completed` event. */
    async function completedJob(simulate: Record<string, unknown>) {
      const job = await stack.submit({
        model: 'a/b',
        input: { simulate: { webhooks: false, output: 'images', ...simulate } },
      });
      await eventually(() => simulator().predictions.get(job.predictionId!)!.status === 'succeeded');
      const record = {
        messageId: `msg-${job.id}`,
        receiptHandle: `receipt-${job.id}`,
        body: JSON.stringify({
          source: 'webhook',
          receivedAt: new Date().toISOString(),
          body: JSON.stringify(simulator().predictions.get(job.predictionId!)),
        }),
        attributes: { ApproximateReceiveCount: '1' },
        messageAttributes: {},
        md5OfBody: '',
        eventSource: 'aws:sqs',
        eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:q',
        awsRegion: 'us-east-1',
      } as unknown as SQSRecord;
      return { ...job, record };
    }

    /** The first delivery copies only the first file: the others fail with a transient error. */
    async function deliverCopyingOnlyTheFirstFile(record: SQSRecord) {
      const firstFileOnly: Dependencies = {
        ...stack.deps,
        outputs: {
          open: async (url) => {
            if (!url.endsWith('/out-0.png'))
              throw new OutputFailure('output_download_failed', 'Downloading an output answered 503', false);
            return stack.deps.outputs.open(url);
          },
        },
      };
      expect((await consumePredictions(firstFileOnly)({ Records: [record] })).batchItemFailures).toEqual([
        { itemIdentifier: record.messageId },
      ]);
    }

    it('a redelivery copies only the files not copied yet', async () => {
      const job = await completedJob({ count: MAX_FILES, sizeBytes: 50_000 });
      await deliverCopyingOnlyTheFirstFile(job.record);
      expect((await stack.deps.jobs.get(job.id))!.status).not.toBe('succeeded');
      expect(await storedKeys(stack, `outputs/alice/${job.id}/`)).toEqual([`outputs/alice/${job.id}/0.png`]);

      expect((await consumePredictions(stack.deps)({ Records: [job.record] })).batchItemFailures).toEqual([]);
      const done = (await stack.deps.jobs.get(job.id))!;
      expect(done.status).toBe('succeeded');
      expect(done.outputs.map((output) => output.key)).toEqual(
        [0, 1, 2].map((i) => `outputs/alice/${job.id}/${i}.png`),
      );
      expect(downloadsOf(job.predictionId!)).toEqual({ 'out-0.png': 1, 'out-1.png': 1, 'out-2.png': 1 });
    });

    it('the total counts the bytes of files copied by an earlier delivery, and the failure removes them too', async () => {
      // 3 × 100 000 bytes: over the limit together, but the two the redelivery downloads alone are not.
      const job = await completedJob({ count: MAX_FILES, sizeBytes: 100_000 });
      await deliverCopyingOnlyTheFirstFile(job.record);
      expect(await storedKeys(stack, `outputs/alice/${job.id}/`)).toEqual([`outputs/alice/${job.id}/0.png`]);

      expect((await consumePredictions(stack.deps)({ Records: [job.record] })).batchItemFailures).toEqual([]);
      expect(await stack.deps.jobs.get(job.id)).toMatchObject({
        status: 'failed',
        error: { code: 'outputs_total_too_large' },
        outputs: [],
      });
      expect(downloadsOf(job.predictionId!)['out-0.png']).toBe(1);
      expect(await storedKeys(stack, `outputs/alice/${job.id}/`)).toEqual([]);
    });
  });
});
