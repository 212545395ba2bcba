import { applyPredictionEvent } from '../../../lambdas/use-cases/apply-prediction-event';
import { endJob } from '../../../lambdas/use-cases/end-job';
import { fakeDependencies } from '../../support/fake-ports';
import { OWNER, predictionOf, runningJob, webhookMessage } from './builders';

describe('daily credits (a failure before any output gives its daily count back)', () => {
  it('gives the count back to the day the job was submitted, never to the day it ended (found by an attack)', async () => {
    const deps = fakeDependencies();
    deps.time.now = new Date('2026-03-01T23:59:00.000Z');
    const job = runningJob(deps); // submitted on 03-01, counted then
    // Past midnight the counter holds 03-02's jobs: one accepted today.
    Object.assign(deps.quota.of(OWNER), { day: '2026-03-02', accepted: 1 });
    deps.time.now = new Date('2026-03-02T00:02:00.000Z');
    const timeout = { code: 'timeout', message: 'The job timed out' } as const;
    expect((await endJob(deps, job, { status: 'failed', error: timeout })).applied).toBe(true);
    expect(deps.quota.of(OWNER)).toMatchObject({ day: '2026-03-02', accepted: 1, inFlight: 0 });
  });

  it('gives it back on the same day', async () => {
    const deps = fakeDependencies();
    const job = runningJob(deps);
    Object.assign(deps.quota.of(OWNER), { day: '2026-03-01', accepted: 1 });
    await applyPredictionEvent(deps, webhookMessage(deps, predictionOf(job, { status: 'failed', error: 'boom' })), 'm');
    expect(deps.quota.of(OWNER)).toMatchObject({ accepted: 0, inFlight: 0 });
  });

  it('not for a model that streamed output before failing: the terminal write keeps the partial output size', async () => {
    const deps = fakeDependencies();
    const job = runningJob(deps);
    Object.assign(deps.quota.of(OWNER), { day: '2026-03-01', accepted: 1 });
    await applyPredictionEvent(deps, webhookMessage(deps, predictionOf(job, { output: ['the', ' answer'] })), 'm1');
    await applyPredictionEvent(deps, webhookMessage(deps, predictionOf(job, { status: 'failed', error: 'x' })), 'm2');
    expect(deps.quota.of(OWNER)).toMatchObject({ accepted: 1, inFlight: 0 });
  });
});
