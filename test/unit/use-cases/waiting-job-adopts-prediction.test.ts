import type { JobSpec } from '../../../lambdas/core/job';
import { admitWaitingJobs } from '../../../lambdas/use-cases/admit-waiting-jobs';
import { applyPredictionEvent } from '../../../lambdas/use-cases/apply-prediction-event';
import { reconcile } from '../../../lambdas/use-cases/reconcile';
import { submitJob } from '../../../lambdas/use-cases/submit-job';
import { type FakeDependencies, fakeDependencies, TEST_SETTINGS } from '../../support/fake-ports';
import { OWNER, predictionOf, webhookMessage } from './builders';

const SPEC: JobSpec = { model: 'acme/painter', input: {}, webhookEvents: ['start', 'completed'] };

async function waitingJob(deps: FakeDependencies) {
  deps.admission.capacity = 0;
  const { id } = await submitJob(deps, { owner: OWNER, spec: SPEC, apiBaseUrl: 'https://api.test' });
  deps.admission.capacity = Infinity;
  return (await deps.jobs.get(id))!;
}

// A signed event of a prediction that names a job still waiting for admission (the first prediction of an
// Idempotency-Key retried after `submit_failed`, whose create had answered 503 but created it): the job adopts
// the prediction (fine: same request) but keeps its place in the waiting line.
describe('an event naming a job that waits for admission', () => {
  it('a job that adopted a prediction leaves the waiting line, and the reconciler polls it', async () => {
    const deps = fakeDependencies();
    const job = await waitingJob(deps);
    expect(job.waitingSince).toBeDefined();
    await applyPredictionEvent(
      deps,
      webhookMessage(deps, predictionOf(job, { id: 'pred_1', status: 'processing' })),
      'm',
    );
    expect(await deps.jobs.get(job.id)).toMatchObject({ status: 'processing', predictionId: 'pred_1' });

    // Its completed webhook is lost; Replicate knows it succeeded.
    deps.replicate.predictions.set(
      'pred_1',
      predictionOf({ ...job, predictionId: 'pred_1' }, { status: 'succeeded', output: 'done' }),
    );
    deps.time.advance(TEST_SETTINGS.reconcileAfterSeconds + 1);
    const report = await reconcile(deps);

    expect({ report, waiting: await deps.jobs.listWaiting() }).toMatchObject({
      report: { polled: 1, advanced: 1 }, // the lost webhook is found by polling
      waiting: [], // not waiting any more
    });
  });

  it('the admitter does not spin for its whole budget on a job it can never claim', async () => {
    const deps = fakeDependencies();
    const job = await waitingJob(deps);
    await applyPredictionEvent(
      deps,
      webhookMessage(deps, predictionOf(job, { id: 'pred_1', status: 'processing' })),
      'm',
    );
    const claim = jest.spyOn(deps.jobs, 'claimWaiting');
    deps.admissionKicks.sent.length = 0;
    const report = await admitWaitingJobs(deps, {
      holder: 'a',
      budgetMs: 60_000,
      sleep: async (ms) => {
        deps.time.advance(ms / 1000);
      },
    });
    expect(deps.replicate.callsOf('createPrediction')).toEqual([]);
    expect(claim.mock.calls.length).toBeLessThanOrEqual(1);
    expect(report.remaining).toBe(0);
    expect(deps.admission.current.backlogSince).toBeUndefined();
    expect(deps.admissionKicks.sent).toEqual([]);
  });
});
