import { predictionJobSpec } from '../../../lambdas/core/replicate-prediction';
import { retryJob } from '../../../lambdas/use-cases/retry-job';
import { cancelPrediction, createPrediction } from '../../../lambdas/use-cases/write-predictions';
import { type FakeDependencies, fakeDependencies } from '../../support/fake-ports';
import { OWNER, seedJob } from './builders';

const BASE = 'https://api.test';
const SPEC = predictionJobSpec(
  { version: 'c'.repeat(64), input: { prompt: 'x' }, webhook: 'https://app.test/h' },
  {
    kind: 'version',
  },
);

/** The /v1 use cases over the jobs' own, with fake ports. */
describe('predictions (the /v1 use cases)', () => {
  let deps: FakeDependencies;
  beforeEach(() => {
    deps = fakeDependencies();
  });

  it('answers a held create whose job still runs when the wait is over as starting, not processing', async () => {
    const get = deps.jobs.get.bind(deps.jobs);
    // The job is processing when the wait reads it (its prediction started and is running).
    deps.jobs.get = async (id) => {
      const job = await get(id);
      return job && { ...job, status: 'processing', rank: 2 };
    };
    const arrivedAt = deps.clock().getTime() - 5_000; // its 5 s are over once it is submitted
    const prediction = await createPrediction(deps, {
      owner: OWNER,
      spec: SPEC,
      apiBaseUrl: BASE,
      waitSeconds: 5,
      arrivedAt,
    });
    expect(prediction.status).toBe('starting');
  });

  it('cancels a running prediction at Replicate, and answers one that ended as it is, without calling Replicate', async () => {
    const running = seedJob(deps, { status: 'processing', predictionId: 'pred_run' });
    deps.replicate.predictions.set('pred_run', { id: 'pred_run', status: 'processing' });
    expect((await cancelPrediction(deps, OWNER, running.id, BASE)).status).toBe('canceled');
    expect(deps.replicate.callsOf('cancelPrediction')).toEqual(['pred_run']);

    const ended = seedJob(deps, { status: 'succeeded', predictionId: 'pred_done' });
    expect((await cancelPrediction(deps, OWNER, ended.id, BASE)).status).toBe('succeeded');
    expect(deps.replicate.callsOf('cancelPrediction')).toEqual(['pred_run']);
  });

  it('retries a /v1 job into one whose webhook still gets the prediction object', async () => {
    const failed = seedJob(deps, {
      ...SPEC,
      status: 'failed',
      error: { code: 'prediction_failed', message: 'boom' },
    });
    const retried = await retryJob(deps, { owner: OWNER, jobId: failed.id, apiBaseUrl: BASE });
    expect(retried.retryOf).toBe(failed.id);
    expect((await deps.jobs.get(retried.id))?.callbackShape).toBe('prediction');
  });
});
