import { OutputFailure, PoisonMessage, TransferInProgress } from '../../../lambdas/core/errors';
import { MAX_INLINE_OUTPUT_BYTES } from '../../../lambdas/core/limits';
import { METRIC } from '../../../lambdas/core/metrics';
import type { Prediction } from '../../../lambdas/core/prediction';
import { applyPredictionEvent } from '../../../lambdas/use-cases/apply-prediction-event';
import { discardCopiesIfEnded } from '../../../lambdas/use-cases/copy-outputs';
import { gradientPng } from '../../../local/simulator/fixtures';
import { type FakeDependencies, fakeDependencies, TEST_SETTINGS } from '../../support/fake-ports';
import { OWNER, predictionOf, runningJob, seedJob, webhookMessage } from './builders';

const PNG = 'https://replicate.delivery/abc/out-0.png';
const WAV = 'https://replicate.delivery/abc/out-1.wav';

/** Applies `prediction` as delivered by a webhook; `holder` is the queue message id. */
const apply = (deps: FakeDependencies, prediction: Prediction, holder = 'message-1') =>
  applyPredictionEvent(deps, webhookMessage(deps, prediction), holder);

describe('applyPredictionEvent', () => {
  it('advances the job and stamps when it started', async () => {
    const deps = fakeDependencies();
    const job = runningJob(deps, { status: 'starting' });
    await apply(deps, predictionOf(job, { status: 'processing', started_at: '2026-03-01T12:00:05.000Z' }));
    expect(await deps.jobs.get(job.id)).toMatchObject({
      status: 'processing',
      rank: 2,
      startedAt: '2026-03-01T12:00:05.000Z',
      updatedAt: deps.clock().toISOString(),
    });
    expect(deps.callbacks.sent).toEqual([]);
  });

  it('records the prediction id when the webhook beat submit to it', async () => {
    const deps = fakeDependencies();
    const job = seedJob(deps);
    await apply(deps, predictionOf(job, { id: 'pred_9', status: 'starting' }));
    expect(await deps.jobs.get(job.id)).toMatchObject({ status: 'starting', predictionId: 'pred_9' });
  });

  it('finds the job by its prediction id when the body names no job', async () => {
    const deps = fakeDependencies();
    const job = runningJob(deps, { status: 'starting' });
    await apply(deps, predictionOf(job, { webhook: null }));
    expect(await deps.jobs.get(job.id)).toMatchObject({ status: 'processing' });
  });

  it.each([
    ['stale (a late start)', 'processing', { status: 'starting' }],
    ['a duplicate', 'processing', { status: 'processing' }],
    ['after the end', 'failed', { status: 'succeeded', output: PNG }],
    ["another prediction's", 'processing', { id: 'pred_2', status: 'succeeded' }],
  ] as const)('ignores an event that is %s', async (_, status, event) => {
    const deps = fakeDependencies();
    const job = runningJob(deps, { status });
    await apply(deps, predictionOf(job, event));
    expect(await deps.jobs.get(job.id)).toEqual(job);
    expect(deps.outputs.opened).toEqual([]);
  });

  it('fails the job when its prediction failed, and ends it once: callback, slot, metrics', async () => {
    const deps = fakeDependencies();
    const job = runningJob(deps);
    await apply(deps, predictionOf(job, { status: 'failed', error: 'CUDA out of memory' }));
    expect(await deps.jobs.get(job.id)).toMatchObject({
      status: 'failed',
      error: { code: 'prediction_failed', message: 'CUDA out of memory' },
    });
    expect(deps.callbacks.messages()).toEqual([{ jobId: job.id }]);
    expect(deps.quota.of(OWNER).inFlight).toBe(0);
    expect(deps.metrics.total(METRIC.jobsFailed)).toBe(1);
  });

  it('copies every output file into the bucket, then writes succeeded', async () => {
    const deps = fakeDependencies();
    const job = runningJob(deps);
    deps.outputs.serve(PNG, 'png bytes', 'image/png').serve(WAV, 'wav', 'audio/wav');
    const advance = deps.jobs.advance.bind(deps.jobs);
    const inBucketAtWrite: string[][] = [];
    jest.spyOn(deps.jobs, 'advance').mockImplementation((...args) => {
      inBucketAtWrite.push(deps.objects.keys());
      return advance(...args);
    });

    await apply(deps, predictionOf(job, { status: 'succeeded', output: [PNG, WAV] }));

    const keys = [`outputs/${OWNER}/${job.id}/0.png`, `outputs/${OWNER}/${job.id}/1.wav`];
    expect(inBucketAtWrite).toEqual([keys]);
    expect(deps.objects.objects.get(keys[0])).toEqual({ bytes: Buffer.from('png bytes'), contentType: 'image/png' });
    expect(await deps.jobs.get(job.id)).toMatchObject({
      status: 'succeeded',
      output: [PNG, WAV],
      outputs: [
        { index: 0, key: keys[0], contentType: 'image/png', size: 9 },
        { index: 1, key: keys[1], contentType: 'audio/wav', size: 3 },
      ],
    });
    expect(deps.jobs.row(job.id)).toMatchObject({ lease: undefined, checkAt: undefined });
    expect(deps.callbacks.messages()).toEqual([{ jobId: job.id }]);
    expect(deps.quota.of(OWNER).inFlight).toBe(0);
  });

  it('makes each derivative of an image output beside it, tagged with the job’s retention; non-images get none', async () => {
    const outputLimits = { ...TEST_SETTINGS.outputLimits, maxTotalBytes: 100_000 };
    const deps = fakeDependencies({ settings: { ...TEST_SETTINGS, outputLimits } });
    const job = runningJob(deps, {
      derivatives: [{ format: 'webp', maxWidth: 8 }, { format: 'jpeg' }],
      retentionDays: 7,
    });
    deps.outputs.serve(PNG, gradientPng(32, 16), 'image/png').serve(WAV, 'wav', 'audio/wav');
    await apply(deps, predictionOf(job, { status: 'succeeded', output: [PNG, WAV] }));
    const stored = (await deps.jobs.get(job.id))!;
    expect(stored.status).toBe('succeeded');
    const webpKey = `outputs/${OWNER}/${job.id}/0.0.webp`;
    expect(stored.outputs[0].variants).toEqual([
      { format: 'webp', key: webpKey, contentType: 'image/webp', size: expect.any(Number), width: 8, height: 4 },
      {
        format: 'jpeg',
        key: `outputs/${OWNER}/${job.id}/0.1.jpg`,
        contentType: 'image/jpeg',
        size: expect.any(Number),
        width: 32,
        height: 16,
      },
    ]);
    expect(stored.outputs[1]).not.toHaveProperty('variants');
    expect(deps.objects.objects.get(webpKey)!.tags).toEqual({ 'retention-days': '7' });
    expect(deps.objects.objects.get(stored.outputs[0].key)!.tags).toEqual({ 'retention-days': '7' });
  });

  it('starts no derivative once half of the copy’s time is spent: they are listed out_of_time, the job succeeds', async () => {
    const deps = fakeDependencies({ settings: { ...TEST_SETTINGS, transferLeaseSeconds: -1 } });
    const job = runningJob(deps, { derivatives: [{ format: 'webp' }] });
    deps.outputs.serve(PNG, gradientPng(4, 4), 'image/png');
    await apply(deps, predictionOf(job, { status: 'succeeded', output: [PNG] }));
    const stored = (await deps.jobs.get(job.id))!;
    expect(stored.status).toBe('succeeded');
    expect(stored.outputs[0].variants).toEqual([
      { format: 'webp', error: { code: 'out_of_time', message: expect.any(String) } },
    ]);
  });

  it('succeeds without a lease when the output holds no file', async () => {
    const deps = fakeDependencies();
    const job = runningJob(deps);
    const lease = jest.spyOn(deps.jobs, 'acquireTransferLease');
    await apply(deps, predictionOf(job, { status: 'succeeded', output: 'a poem' }));
    expect(await deps.jobs.get(job.id)).toMatchObject({ status: 'succeeded', output: 'a poem', outputs: [] });
    expect(lease).not.toHaveBeenCalled();
  });

  it('stores an output too large for the job item in the bucket, by key', async () => {
    const deps = fakeDependencies();
    const job = runningJob(deps);
    const tokens = Array.from({ length: MAX_INLINE_OUTPUT_BYTES / 8 }, () => 'token ');
    await apply(deps, predictionOf(job, { status: 'succeeded', output: tokens }));
    const stored = await deps.jobs.get(job.id);
    expect(stored).toMatchObject({ status: 'succeeded', outputKey: `results/${OWNER}/${job.id}/output.json` });
    expect(stored?.output).toBeUndefined();
    expect(JSON.parse(await deps.objects.getText(stored!.outputKey!))).toEqual(tokens);
  });

  it('reads a body the webhook stored in the bucket', async () => {
    const deps = fakeDependencies();
    const job = runningJob(deps, { status: 'starting' });
    await deps.objects.putText('webhook-bodies/x.json', JSON.stringify(predictionOf(job)));
    await applyPredictionEvent(
      deps,
      { source: 'webhook', receivedAt: deps.clock().toISOString(), bodyKey: 'webhook-bodies/x.json' },
      'm',
    );
    expect(await deps.jobs.get(job.id)).toMatchObject({ status: 'processing' });
  });

  it('fails the job when an output cannot be copied for good, and removes the copies already made', async () => {
    const deps = fakeDependencies();
    const job = runningJob(deps);
    deps.outputs.serve(PNG, 'png bytes', 'image/png'); // WAV answers 404
    await apply(deps, predictionOf(job, { status: 'succeeded', output: [PNG, WAV] }));

    expect(await deps.jobs.get(job.id)).toMatchObject({
      status: 'failed',
      outputs: [],
      error: { code: 'output_download_failed' },
    });
    expect(deps.objects.keys()).toEqual([]);
    expect(deps.callbacks.messages()).toEqual([{ jobId: job.id }]);
    expect(deps.quota.of(OWNER).inFlight).toBe(0);
  });

  it.each([
    [
      'too many files',
      Array.from({ length: 6 }, (_, i) => `https://replicate.delivery/abc/${i}.png`),
      'too_many_outputs',
    ],
    ['files over the byte limit together', [PNG, WAV], 'outputs_total_too_large'],
  ])('fails a job whose output has %s', async (_, output, code) => {
    const deps = fakeDependencies();
    const job = runningJob(deps);
    deps.outputs.serve(PNG, Buffer.alloc(600), 'image/png').serve(WAV, Buffer.alloc(600), 'audio/wav');
    await apply(deps, predictionOf(job, { status: 'succeeded', output }));
    expect(await deps.jobs.get(job.id)).toMatchObject({ status: 'failed', error: { code } });
    expect(deps.objects.keys()).toEqual([]);
  });

  it('leaves the job running after a transient copy failure; the redelivery copies only the rest', async () => {
    const deps = fakeDependencies();
    const job = runningJob(deps);
    const flaky = new OutputFailure('output_download_failed', 'Downloading an output answered 503', false);
    deps.outputs.serve(PNG, 'png bytes', 'image/png').serve(WAV, flaky);
    const event = predictionOf(job, { status: 'succeeded', output: [PNG, WAV] });

    await expect(apply(deps, event)).rejects.toBe(flaky);
    expect(await deps.jobs.get(job.id)).toMatchObject({ status: 'processing' });
    expect(Object.keys(deps.jobs.row(job.id)!.copied!)).toEqual(['0']);

    deps.outputs.serve(WAV, 'wav', 'audio/wav');
    deps.outputs.opened.length = 0;
    await apply(deps, event);
    expect(deps.outputs.opened).toEqual([WAV]);
    expect((await deps.jobs.get(job.id))?.outputs.map((output) => output.index)).toEqual([0, 1]);
  });

  it('takes the lease of a success with files in its first write, without reading the job first', async () => {
    const deps = fakeDependencies();
    const job = runningJob(deps);
    deps.outputs.serve(PNG, 'png bytes', 'image/png');
    const read = jest.spyOn(deps.jobs, 'get');
    const lease = jest.spyOn(deps.jobs, 'acquireTransferLease');
    await apply(deps, predictionOf(job, { status: 'succeeded', output: [PNG] }));
    expect(await deps.jobs.get(job.id)).toMatchObject({ status: 'succeeded' });
    expect(read).toHaveBeenCalledTimes(1); // this test's own read, above
    expect(lease).toHaveBeenCalledTimes(1); // the first write, once
  });

  it("takes no lease for another prediction's success, and ignores it", async () => {
    const deps = fakeDependencies();
    const job = runningJob(deps);
    deps.outputs.serve(PNG, 'png bytes', 'image/png');
    await apply(deps, predictionOf(job, { id: 'pred_other', status: 'succeeded', output: [PNG] }));
    expect(await deps.jobs.get(job.id)).toMatchObject({ status: 'processing' });
    expect(deps.jobs.row(job.id)?.lease).toBeUndefined();
    expect(deps.outputs.opened).toEqual([]);
  });

  it('takes no lease for an event that is not a success, even with files in its output', async () => {
    const deps = fakeDependencies();
    const job = runningJob(deps, { status: 'starting' });
    deps.outputs.serve(PNG, 'png bytes', 'image/png');
    await apply(deps, predictionOf(job, { status: 'processing', output: [PNG] }), 'message-1');
    expect(await deps.jobs.get(job.id)).toMatchObject({ status: 'processing' });
    expect(deps.jobs.row(job.id)?.lease).toBeUndefined();
    // The success, another message, copies at once: it is not sent back to wait out a lease no one uses.
    deps.time.advance(1);
    await apply(deps, predictionOf(job, { status: 'succeeded', output: [PNG] }), 'message-2');
    expect(await deps.jobs.get(job.id)).toMatchObject({ status: 'succeeded' });
  });

  it('sends a duplicate back while another consumer holds the lease, and proceeds once it expired', async () => {
    const deps = fakeDependencies();
    const job = runningJob(deps);
    deps.outputs.serve(PNG, 'png bytes', 'image/png');
    const now = deps.clock();
    const until = new Date(now.getTime() + 120_000).toISOString();
    await deps.jobs.acquireTransferLease(job.id, 'pred_1', 'message-0', now.toISOString(), until);
    const event = predictionOf(job, { status: 'succeeded', output: [PNG] });

    const error = await apply(deps, event).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(TransferInProgress);
    expect(error).toMatchObject({ retryAfterSeconds: deps.settings.transferLeaseSeconds });
    expect(deps.outputs.opened).toEqual([]);
    expect(await deps.jobs.get(job.id)).toMatchObject({ status: 'processing' });

    deps.time.advance(121);
    await apply(deps, event);
    expect(await deps.jobs.get(job.id)).toMatchObject({ status: 'succeeded' });
  });

  it('re-decides, and ignores the event, when the job ended before the lease could be taken', async () => {
    const deps = fakeDependencies();
    const job = runningJob(deps);
    const acquire = deps.jobs.acquireTransferLease.bind(deps.jobs);
    jest.spyOn(deps.jobs, 'acquireTransferLease').mockImplementation(async (...args) => {
      const ending = { status: 'canceled', error: { code: 'prediction_canceled', message: 'Canceled' } } as const;
      await deps.jobs.finish(job.id, { ...ending, updatedAt: deps.clock().toISOString() });
      return acquire(...args);
    });
    deps.outputs.serve(PNG, 'png bytes', 'image/png');
    await apply(deps, predictionOf(job, { status: 'succeeded', output: [PNG] }));
    expect(await deps.jobs.get(job.id)).toMatchObject({ status: 'canceled' });
    expect(deps.outputs.opened).toEqual([]);
  });

  it('ignores the event when the job ended while its outputs were being copied', async () => {
    const deps = fakeDependencies();
    const job = runningJob(deps);
    const open = deps.outputs.open.bind(deps.outputs);
    jest.spyOn(deps.outputs, 'open').mockImplementation(async (url) => {
      const ending = { status: 'canceled', error: { code: 'prediction_canceled', message: 'Canceled' } } as const;
      await deps.jobs.finish(job.id, { ...ending, updatedAt: deps.clock().toISOString() });
      return open(url);
    });
    deps.outputs.serve(PNG, 'png bytes', 'image/png');
    await apply(deps, predictionOf(job, { status: 'succeeded', output: [PNG] }));
    expect(await deps.jobs.get(job.id)).toMatchObject({ status: 'canceled' });
  });

  // Fails today: the copies made before the job ended stay in the bucket, where no job points to them and no
  // lifecycle rule expires them (README: a failed job "leaves nothing in the bucket").
  it('removes the copies it made when the job ended while they were being made', async () => {
    const deps = fakeDependencies();
    const job = runningJob(deps);
    const upload = deps.objects.upload.bind(deps.objects);
    jest.spyOn(deps.objects, 'upload').mockImplementation(async (...args) => {
      const answer = await upload(...args);
      const timedOut = { status: 'failed', error: { code: 'timeout', message: 'Too slow' } } as const;
      await deps.jobs.finish(job.id, { ...timedOut, updatedAt: deps.clock().toISOString() });
      return answer;
    });
    deps.outputs.serve(PNG, 'png bytes', 'image/png');
    await apply(deps, predictionOf(job, { status: 'succeeded', output: [PNG] }));
    expect(await deps.jobs.get(job.id)).toMatchObject({ status: 'failed', error: { code: 'timeout' } });
    expect(deps.objects.keys()).toEqual([]);
  });

  it('removes the copies when the job ended before a copy of several could be recorded', async () => {
    const deps = fakeDependencies();
    deps.settings = { ...deps.settings, transferConcurrency: 1 };
    const job = runningJob(deps);
    const upload = deps.objects.upload.bind(deps.objects);
    jest.spyOn(deps.objects, 'upload').mockImplementation(async (...args) => {
      const answer = await upload(...args);
      const canceled = { status: 'canceled', error: { code: 'prediction_canceled', message: 'Canceled' } } as const;
      await deps.jobs.finish(job.id, { ...canceled, updatedAt: deps.clock().toISOString() });
      return answer;
    });
    deps.outputs.serve(PNG, 'png bytes', 'image/png');
    deps.outputs.serve(WAV, 'wav bytes', 'audio/wav');
    await expect(apply(deps, predictionOf(job, { status: 'succeeded', output: [PNG, WAV] }))).rejects.toBeInstanceOf(
      TransferInProgress,
    );
    expect(deps.objects.keys()).toEqual([]);
    // Its redelivery is ignored (the job ended) and leaves the bucket as empty.
    await apply(deps, predictionOf(job, { status: 'succeeded', output: [PNG, WAV] }));
    expect(await deps.jobs.get(job.id)).toMatchObject({ status: 'canceled' });
    expect(deps.objects.keys()).toEqual([]);
  });

  it.each([
    ['succeeded (another consumer stored the same keys)', 'succeeded', 1],
    ['still running (the copy goes on)', 'processing', 1],
    ['canceled', 'canceled', 0],
  ] as const)('keeps the copies of a job that %s, removes them otherwise', async (_name, status, left) => {
    const deps = fakeDependencies();
    const job = runningJob(deps, { status });
    await deps.objects.upload('outputs/o/j/0.png', Buffer.from('png'), 'image/png');
    await discardCopiesIfEnded(deps, job.id, ['outputs/o/j/0.png']);
    expect(deps.objects.keys()).toHaveLength(left);
  });

  it.each([
    ['for no job of ours', (deps: FakeDependencies) => webhookMessage(deps, { id: 'pred_x', status: 'starting' })],
    [
      'not a prediction',
      (deps: FakeDependencies) => ({ ...webhookMessage(deps, { id: 'p', status: 'x' }), body: '{}' }),
    ],
  ])('throws PoisonMessage for a message %s', async (_, messageOf) => {
    const deps = fakeDependencies();
    seedJob(deps, { predictionId: 'pred_1' });
    await expect(applyPredictionEvent(deps, messageOf(deps), 'm')).rejects.toBeInstanceOf(PoisonMessage);
  });
});
