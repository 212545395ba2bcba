import type { SQSRecord } from 'aws-lambda';
import { OutputFailure } from '../../lambdas/core/failures';
import { consumePredictions } from '../../lambdas/handlers/consume-predictions';
import type { Dependencies } from '../../lambdas/handlers/dependencies';
import { eventually, startTestStack, storedKeys, type TestStack } from '../support/local-stack';

/** What one delivery copied is not copied again by the next. */
describe('output copies across deliveries (local stack)', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack({ env: { DOWNLOAD_ATTEMPTS: '1', DOWNLOAD_RETRY_BASE_MS: '1' } });
  });
  afterAll(() => stack.stop());

  const simulator = () => stack.simulator!;
  /** Downloads per output file of a prediction, by file name. */
  const downloadsOf = (predictionId: string) =>
    Object.fromEntries([...simulator().downloads.entries()].filter(([path]) => path.includes(predictionId)).map(([path, count]) => [path.split('/').pop(), count]));

  describe('across deliveries of one event', () => {
    /** A job whose prediction completed without webhooks, and the SQS record of its `completed` event. */
    async function completedJob(simulate: Record<string, unknown>) {
      const job = await stack.submit({ model: 'a/b', input: { simulate: { webhooks: false, output: 'images', ...simulate } } });
      await eventually(() => simulator().predictions.get(job.predictionId!)!.status === 'succeeded');
      const record = {
        messageId: `msg-${job.id}`,
        receiptHandle: `receipt-${job.id}`,
        body: JSON.stringify({ source: 'webhook', receivedAt: new Date().toISOString(), body: JSON.stringify(simulator().predictions.get(job.predictionId!)) }),
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
            if (!url.endsWith('/out-0.png')) throw new OutputFailure('output_download_failed', 'Downloading an output answered 503', false);
            return stack.deps.outputs.open(url);
          },
        },
      };
      expect((await consumePredictions(firstFileOnly)({ Records: [record] })).batchItemFailures).toEqual([{ itemIdentifier: record.messageId }]);
    }

    it('a redelivery copies only the files not copied yet', async () => {
      const job = await completedJob({ count: 3, sizeBytes: 50_000 });
      await deliverCopyingOnlyTheFirstFile(job.record);
      expect((await stack.deps.jobs.get(job.id))!.status).not.toBe('succeeded');
      expect(await storedKeys(stack, `outputs/alice/${job.id}/`)).toEqual([`outputs/alice/${job.id}/0.png`]);

      expect((await consumePredictions(stack.deps)({ Records: [job.record] })).batchItemFailures).toEqual([]);
      const done = (await stack.deps.jobs.get(job.id))!;
      expect(done.status).toBe('succeeded');
      expect(done.outputs.map((output) => output.key)).toEqual([0, 1, 2].map((i) => `outputs/alice/${job.id}/${i}.png`));
      expect(downloadsOf(job.predictionId!)).toEqual({ 'out-0.png': 1, 'out-1.png': 1, 'out-2.png': 1 });
    });
  });
});
