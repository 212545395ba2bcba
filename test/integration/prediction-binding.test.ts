import { OutputFailure } from '../../lambdas/core/errors';
import type { OutputSource } from '../../lambdas/core/ports';
import { consumePredictions } from '../../lambdas/sqs/consume-predictions';
import { admitWaitingJobs } from '../../lambdas/use-cases/admit-waiting-jobs';
import { reconcile } from '../../lambdas/use-cases/reconcile';
import { eventually, startTestStack, type TestStack } from '../support/local-stack';
import { predictionRecord, storedJob } from '../support/records';
import { sqsRecord } from '../support/sqs-record';

/**
 * A job with no prediction id yet (waiting for admission, its earlier create's answer lost) is bound to the first
 * prediction whose event it takes, on the real table adapter: the success lease records the prediction and takes
 * the job out of the waiting line (so the admitter creates no second one and no copy of another prediction's is
 * ever reused), and any step of a prediction does the same (so the reconciler polls it). Both failed before.
 */
describe('a success lease taken on a waiting job', () => {
  let stack: TestStack;
  let offsetMs = 0;
  beforeAll(async () => {
    stack = await startTestStack({ reconcileIntervalSeconds: 0 });
    stack.deps.clock = () => new Date(Date.now() + offsetMs);
  });
  afterAll(() => stack.stop());

  it("a succeeded job's files are its own prediction's", async () => {
    const now = new Date().toISOString();
    // The job, waiting for capacity: no prediction yet. Its input asks the simulator for two 2000-byte files.
    const job = storedJob({
      input: { simulate: { output: 'images', count: 2, sizeBytes: 2000, webhooks: false } },
      waitingSince: now,
    });
    job.webhookUrl = `${stack.url}/webhooks/replicate?job=${job.id}`;
    await stack.deps.jobs.create(job);

    // pred_1 names the job (e.g. the first attempt of an Idempotency-Key retried after submit_failed): 2 files of 1000.
    const { id: pred1 } = await stack.deps.replicate.createPrediction({
      model: 'a/b',
      input: { simulate: { output: 'images', count: 2, sizeBytes: 1000, webhooks: false } },
      webhook: job.webhookUrl,
      webhookEvents: ['completed'],
    });
    await eventually(() => stack.simulator!.predictions.get(pred1)!.status === 'succeeded');
    const outputs1 = stack.simulator!.predictions.get(pred1)!.output as string[];

    // Its consumer copies file 0; file 1 fails transiently: the message will be retried.
    const flaky: OutputSource = {
      open: (url) =>
        url === outputs1[1]
          ? Promise.reject(new OutputFailure('output_download_failed', 'answered 503', false))
          : stack.deps.outputs.open(url),
    };
    const first = await consumePredictions({ ...stack.deps, outputs: flaky })({
      Records: [predictionRecord(stack, pred1, 'm-pred1')],
    });
    expect(first.batchItemFailures).toHaveLength(1);
    expect(await stack.deps.jobs.get(job.id)).toMatchObject({ status: 'queued' });

    // The admitter takes the job out of the line and creates pred_2 (its own input: 2000-byte files).
    await admitWaitingJobs(stack.deps, { holder: 'admitter', budgetMs: 1_000 });
    const recorded = (await stack.deps.jobs.get(job.id))!.predictionId;
    const pred2 = recorded && recorded !== pred1 ? recorded : undefined;
    if (pred2) await eventually(() => stack.simulator!.predictions.get(pred2)!.status === 'succeeded', 20_000);

    // pred_1's redelivery (its files answer now), after the lease expired; then pred_2's success, if it exists.
    offsetMs = (stack.deps.settings.transferLeaseSeconds + 1) * 1000;
    await consumePredictions(stack.deps)({ Records: [predictionRecord(stack, pred1, 'm-pred1')] });
    if (pred2) await consumePredictions(stack.deps)({ Records: [predictionRecord(stack, pred2, 'm-pred2')] });

    // Every file of the job is its own prediction's: 1000 bytes each for pred_1, 2000 for pred_2.
    const done = await stack.deps.jobs.get(job.id);
    expect(done).toMatchObject({ status: 'succeeded' });
    const size = done!.predictionId === pred1 ? 1000 : 2000;
    expect(done!.outputs.map((output) => output.size)).toEqual([size, size]);
  }, 60_000);

  // An event that names a job waiting for admission (no prediction yet) is applied: the job adopts the prediction.
  // It used to keep waitingSince/waitShard, and the reconciler skips waiting jobs, so a lost `completed` webhook was
  // never found by polling (the job ended `timeout` although its prediction succeeded).
  it('a waiting job that adopted a prediction leaves the line and is polled like any running job', async () => {
    offsetMs = 0;
    const job = storedJob({ waitingSince: new Date().toISOString() });
    job.webhookUrl = `${stack.url}/webhooks/replicate?job=${job.id}`;
    await stack.deps.jobs.create(job);
    const { id: pred1 } = await stack.deps.replicate.createPrediction({
      model: 'a/b',
      input: { simulate: { output: 'text', webhooks: false } },
      webhook: job.webhookUrl,
      webhookEvents: ['start', 'completed'],
    });
    // Its `start` webhook arrives (delivered here as the webhook would queue it); the `completed` one is lost.
    const started = { ...stack.simulator!.predictions.get(pred1)!, status: 'processing', output: null };
    const record = sqsRecord(
      'm-start',
      JSON.stringify({ source: 'webhook', receivedAt: new Date().toISOString(), body: JSON.stringify(started) }),
    );
    expect((await consumePredictions(stack.deps)({ Records: [record] })).batchItemFailures).toEqual([]);
    expect(await stack.deps.jobs.get(job.id)).toMatchObject({ status: 'processing', predictionId: pred1 });
    await eventually(() => stack.simulator!.predictions.get(pred1)!.status === 'succeeded');

    offsetMs = (stack.deps.settings.reconcileAfterSeconds + 1) * 1000;
    const report = await reconcile(stack.deps);
    offsetMs = 0;
    expect({
      report,
      stillWaiting: (await stack.deps.jobs.listWaiting()).some((waiting) => waiting.id === job.id),
    }).toMatchObject({ report: { polled: 1, advanced: 1 }, stillWaiting: false });
  }, 60_000);

  // MEASUREMENT: what a replayed signed `succeeded` (with files) of a finished job costs now. Before fbfd2e9..HEAD
  // each replay was one refused conditional PutItem of a small receipt item in the webhook, and nothing queued.
});
