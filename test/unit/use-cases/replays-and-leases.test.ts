import { OutputFailure, TransferInProgress } from '../../../lambdas/core/errors';
import { METRIC } from '../../../lambdas/core/metrics';
import type { Prediction } from '../../../lambdas/core/prediction';
import { applyPredictionEvent } from '../../../lambdas/use-cases/apply-prediction-event';
import { type FakeDependencies, fakeDependencies } from '../../support/fake-ports';
import { OWNER, predictionOf, runningJob, seedJob, webhookMessage } from './builders';

const apply = (deps: FakeDependencies, prediction: Prediction, holder = 'message-1') =>
  applyPredictionEvent(deps, webhookMessage(deps, prediction), holder);

const A0 = 'https://replicate.delivery/p1/out-0.png';
const A1 = 'https://replicate.delivery/p1/out-1.png';
const B0 = 'https://replicate.delivery/p2/out-0.png';
const B1 = 'https://replicate.delivery/p2/out-1.png';

describe('replays and the success lease', () => {
  it('a replayed succeeded (new message id) after the job succeeded: no copy, one callback, one release', async () => {
    const deps = fakeDependencies();
    deps.quota.of(OWNER).inFlight = 2; // another job holds a slot too: a second release would show
    const job = runningJob(deps);
    deps.quota.of(OWNER).inFlight = 2;
    deps.outputs.serve(A0, 'png', 'image/png');
    const event = predictionOf(job, { status: 'succeeded', output: [A0] });
    await apply(deps, event, 'm-1');
    deps.outputs.opened.length = 0;
    for (let i = 0; i < 20; i++) await apply(deps, event, `replay-${i}`);
    expect(deps.outputs.opened).toEqual([]);
    expect(deps.callbacks.messages()).toEqual([{ jobId: job.id }]);
    expect(deps.quota.of(OWNER).inFlight).toBe(1);
    expect(deps.metrics.total(METRIC.jobsSucceeded)).toBe(1);
  });

  it('a replay while the original copies waits (TransferInProgress) and is then ignored', async () => {
    const deps = fakeDependencies();
    const job = runningJob(deps);
    deps.outputs.serve(A0, 'png', 'image/png');
    const event = predictionOf(job, { status: 'succeeded', output: [A0] });
    let replay: Promise<unknown> | undefined;
    const open = deps.outputs.open.bind(deps.outputs);
    jest.spyOn(deps.outputs, 'open').mockImplementationOnce(async (url) => {
      replay = apply(deps, event, 'replay-1').catch((error: unknown) => error);
      await replay;
      return open(url);
    });
    await apply(deps, event, 'm-1');
    expect(await replay).toBeInstanceOf(TransferInProgress);
    await apply(deps, event, 'replay-1'); // its redelivery
    expect(deps.callbacks.messages()).toEqual([{ jobId: job.id }]);
    expect(deps.quota.of(OWNER).inFlight).toBe(0);
  });

  it('an old processing event replayed after succeeded is ignored', async () => {
    const deps = fakeDependencies();
    const job = runningJob(deps);
    await apply(deps, predictionOf(job, { status: 'succeeded', output: 'text' }));
    const after = await deps.jobs.get(job.id);
    await apply(deps, predictionOf(job, { status: 'processing' }), 'replay');
    await apply(deps, predictionOf(job, { status: 'starting' }), 'replay-2');
    expect(await deps.jobs.get(job.id)).toEqual(after);
  });

  it('a message whose jobId is malformed never reaches the table: the job is found by prediction id', async () => {
    const deps = fakeDependencies();
    const job = runningJob(deps);
    deps.outputs.serve(A0, 'png', 'image/png');
    const lease = jest.spyOn(deps.jobs, 'acquireTransferLease');
    const event = predictionOf(job, { status: 'succeeded', output: [A0] });
    const message = { ...webhookMessage(deps, event), jobId: `${job.id}' OR 1=1` };
    await applyPredictionEvent(deps, message, 'm');
    expect(lease.mock.calls.map(([id]) => id)).toEqual([job.id]); // taken after the lookup, never by the bad id
    expect(await deps.jobs.get(job.id)).toMatchObject({ status: 'succeeded' });
  });

  // Found by an attack review: a job with no prediction id yet (waiting for admission, here the retry of an
  // abandoned submission under the same Idempotency-Key, whose first prediction did exist) took the lease for
  // pred_1's success without being bound to pred_1; one file was copied and recorded, the next failed transiently.
  // The admitter then created pred_2, and pred_2's consumer took the lease over with pred_1's recorded copy: the job
  // "succeeded" with pred_1's file 0 next to pred_2's file 1. The lease now binds the job to its prediction.
  it("a succeeded job's outputs are all its own prediction's, never a copy made for another", async () => {
    const deps = fakeDependencies();
    deps.quota.of(OWNER).inFlight = 1;
    const job = seedJob(deps, {
      status: 'queued',
      waitingSince: deps.clock().toISOString(),
      webhookUrl: `https://api.test/webhooks/replicate?job=placeholder`,
    });
    deps.time.advance(1);
    // pred_1: file 0 copies, file 1 answers 503 (transient): the message is retried later.
    deps.outputs
      .serve(A0, 'bytes of pred_1 file 0', 'image/png')
      .serve(A1, new OutputFailure('output_download_failed', 'answered 503', false));
    const first = predictionOf(job, { id: 'pred_1', status: 'succeeded', output: [A0, A1] });
    await expect(apply(deps, first, 'm-pred1')).rejects.toBeInstanceOf(OutputFailure);

    // The admitter takes the (still waiting) job out of the line and creates pred_2 for it, as startPrediction does.
    if (await deps.jobs.claimWaiting(job.id, deps.clock().toISOString()))
      await deps.jobs.recordPrediction(job.id, 'pred_2');

    // pred_1's redelivery (its file 1 answers now), after the lease expired; then pred_2's success.
    deps.time.advance(deps.settings.transferLeaseSeconds + 1);
    deps.outputs.serve(A1, 'bytes of pred_1 file 1', 'image/png');
    await apply(deps, first, 'm-pred1');
    deps.outputs.serve(B0, 'bytes of pred_2 file 0', 'image/png').serve(B1, 'bytes of pred_2 file 1', 'image/png');
    await apply(deps, predictionOf(job, { id: 'pred_2', status: 'succeeded', output: [B0, B1] }), 'm-pred2');

    // Whichever prediction the job ends with, every file it points to is that prediction's.
    const done = await deps.jobs.get(job.id);
    expect(done).toMatchObject({ status: 'succeeded' });
    const stored = done!.outputs.map((output) => deps.objects.objects.get(output.key)?.bytes.toString());
    expect(stored).toEqual([`bytes of ${done!.predictionId} file 0`, `bytes of ${done!.predictionId} file 1`]);
    expect(deps.callbacks.messages()).toEqual([]); // no callbackUrl on this job
    expect(deps.quota.of(OWNER).inFlight).toBe(0);
  });

  it('crash after taking the lease, before any copy: the same message resumes at once, a replay waits for expiry; one callback, one release', async () => {
    const deps = fakeDependencies();
    const job = runningJob(deps);
    deps.outputs.serve(A0, 'png', 'image/png');
    const event = predictionOf(job, { status: 'succeeded', output: [A0] });
    const crash = new Error('process died');
    jest.spyOn(deps.outputs, 'open').mockRejectedValueOnce(crash);
    await expect(apply(deps, event, 'm-1')).rejects.toBe(crash);
    expect(deps.jobs.row(job.id)?.lease?.holder).toBe('m-1');
    await expect(apply(deps, event, 'replay-1')).rejects.toBeInstanceOf(TransferInProgress);
    await apply(deps, event, 'm-1'); // its own redelivery takes its lease back
    await apply(deps, event, 'replay-1');
    expect(await deps.jobs.get(job.id)).toMatchObject({ status: 'succeeded' });
    expect(deps.callbacks.messages()).toEqual([{ jobId: job.id }]);
    expect(deps.quota.of(OWNER).inFlight).toBe(0);
  });
});
