import { ReplicateFailure } from '../../../lambdas/core/errors';
import type { JobSpec } from '../../../lambdas/core/job';
import type { CreatePredictionRequest } from '../../../lambdas/core/ports';
import { admitWaitingJobs } from '../../../lambdas/use-cases/admit-waiting-jobs';
import { cancelJob } from '../../../lambdas/use-cases/cancel-job';
import { submitJob } from '../../../lambdas/use-cases/submit-job';
import { FakeAdmission, type FakeDependencies, fakeDependencies } from '../../support/fake-ports';
import { OTHER_OWNER, OWNER } from './builders';

const SPEC: JobSpec = {
  model: 'acme/painter',
  input: {},
  webhookEvents: ['completed'],
  callbackUrl: 'https://c.example',
};

/** Jobs submitted while Replicate's rate is spent: they wait. One second of the fake clock apart per owner batch. */
async function waitingJobs(deps: FakeDependencies, owner: string, count: number): Promise<string[]> {
  const capacity = deps.admission.capacity;
  deps.admission.capacity = 0;
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    ids.push((await submitJob(deps, { owner, spec: SPEC, apiBaseUrl: 'https://api.test' })).id);
    deps.time.advance(0.001);
  }
  deps.admission.capacity = capacity;
  return ids;
}

/** Every slot handed out says it started long ago: what a take that came back late from a slow table looks like. */
class LateTokens extends FakeAdmission {
  override async tryTake(now: Date) {
    const token = await super.tryTake(now);
    return token.granted ? { granted: true as const, slotAt: 0 } : token;
  }
}

/** The admitter with a sleep that moves the fake clock instead of waiting. */
function admit(deps: FakeDependencies, holder = 'admitter-1', budgetMs = 2_000) {
  return admitWaitingJobs(deps, {
    holder,
    budgetMs,
    sleep: async (ms) => {
      deps.time.advance(ms / 1000);
    },
  });
}

/** The jobs whose predictions were created, in the order they were created. */
const createdOrder = (deps: FakeDependencies) =>
  (deps.replicate.callsOf('createPrediction') as CreatePredictionRequest[]).map(
    (request) => new URL(request.webhook).searchParams.get('job')!,
  );

describe('admitWaitingJobs (the admitter)', () => {
  it('serves owners in turn: a burst of 30 from one owner delays another owner’s single job by one turn', async () => {
    const deps = fakeDependencies();
    deps.admission.capacity = 1;
    const burst = await waitingJobs(deps, OWNER, 30);
    const [single] = await waitingJobs(deps, OTHER_OWNER, 1);

    const report = await admit(deps);

    expect(report).toMatchObject({ ran: true, admitted: 31, remaining: 0 });
    const order = createdOrder(deps);
    expect(order.indexOf(single)).toBe(1);
    // Within an owner, oldest first.
    expect(order.filter((id) => id !== single)).toEqual(burst);
    // One create per window: 31 windows of the fake clock at least.
    expect(deps.admission.taken.size).toBe(31);
    expect([...deps.admission.taken.values()].every((taken) => taken === 1)).toBe(true);
    for (const id of order) expect(await deps.jobs.get(id)).toMatchObject({ predictionId: expect.any(String) });
    expect(await deps.jobs.listWaiting()).toEqual([]);
    expect(deps.admission.current.backlogSince).toBeUndefined();
    expect(deps.admission.holder).toBeUndefined();
  });

  it('puts a throttled job back in its place and creates nothing until Retry-After has passed', async () => {
    const deps = fakeDependencies();
    deps.admission.capacity = 1; // one create at a time: the order is the line's
    const ids = await waitingJobs(deps, OWNER, 3);
    deps.replicate.next('createPrediction', new ReplicateFailure('rate_limited', 'Slow down', 429, undefined, 5));
    const throttledAt = deps.clock().getTime();

    const report = await admit(deps);

    expect(report).toMatchObject({ admitted: 3, throttled: 1, remaining: 0 });
    const calls = createdOrder(deps);
    expect(calls[0]).toBe(ids[0]);
    expect(calls.slice(1)).toEqual(ids); // the throttled job first again, then the others
    expect(deps.clock().getTime() - throttledAt).toBeGreaterThanOrEqual(5_000);
  });

  it('skips a job canceled while it waited, and fails one that waited past its timeout', async () => {
    const deps = fakeDependencies();
    const [canceled, late] = await waitingJobs(deps, OWNER, 2);
    await cancelJob(deps, OWNER, canceled);
    deps.time.advance(deps.settings.jobTimeoutSeconds + 1);

    const report = await admit(deps);

    expect(report).toMatchObject({ admitted: 0, timedOut: 1 });
    expect(deps.replicate.callsOf('createPrediction')).toEqual([]);
    expect(await deps.jobs.get(late)).toMatchObject({ status: 'failed', error: { code: 'timeout' } });
    expect(deps.quota.of(OWNER)).toMatchObject({ inFlight: 0 });
  });

  it('fails a job Replicate refuses and tells its client by callback (no submit answer is waiting for it)', async () => {
    const deps = fakeDependencies();
    const [id] = await waitingJobs(deps, OWNER, 1);
    deps.replicate.next('createPrediction', new ReplicateFailure('rejected', 'prompt is required', 422));

    await admit(deps);

    expect(await deps.jobs.get(id)).toMatchObject({ status: 'failed', error: { code: 'submit_failed' } });
    expect(deps.callbacks.messages()).toEqual([{ jobId: id }]);
  });

  it('does nothing while another admitter holds the lease', async () => {
    const deps = fakeDependencies();
    await waitingJobs(deps, OWNER, 2);
    await deps.admission.lease('other', deps.clock(), new Date(deps.clock().getTime() + 60_000));

    deps.admissionKicks.sent.length = 0;
    expect(await admit(deps)).toMatchObject({ ran: false, admitted: 0 });
    expect(deps.replicate.callsOf('createPrediction')).toEqual([]);
    // The running one may be about to stop without this kick's job: it is passed on, later (found by an attack).
    expect(deps.admissionKicks.sent).toEqual([{ message: { reason: 'continue' }, delaySeconds: 5 }]);
  });

  it('hands over to a fresh admitter when its time is up with jobs still waiting', async () => {
    const deps = fakeDependencies();
    deps.admission.capacity = 0; // nothing can be created in this run
    await waitingJobs(deps, OWNER, 2);
    deps.admissionKicks.sent.length = 0;
    const send = deps.admissionKicks.send.bind(deps.admissionKicks);
    const leaseAtKick: unknown[] = [];
    deps.admissionKicks.send = async (message, delay) => {
      leaseAtKick.push(deps.admission.holder);
      return send(message, delay);
    };

    const report = await admit(deps, 'admitter-1', 50);

    expect(report).toMatchObject({ ran: true, admitted: 0, remaining: 2 });
    expect(deps.admissionKicks.messages()).toEqual([{ reason: 'continue' }]);
    // Released before the kick: the admitter it wakes would otherwise find the lease held and pass it on.
    expect(leaseAtKick).toEqual([undefined]);
  });

  it('keeps the pace between its own creates even when a slot comes back late (a slow table)', async () => {
    const deps = fakeDependencies({ admission: new LateTokens(10) }); // 10 a second: 100 ms apart
    await waitingJobs(deps, OWNER, 5);
    const sentAt: number[] = [];
    const create = deps.replicate.createPrediction.bind(deps.replicate);
    deps.replicate.createPrediction = (request) => {
      sentAt.push(deps.clock().getTime());
      return create(request);
    };

    await admit(deps);

    expect(sentAt).toHaveLength(5);
    const gaps = sentAt.slice(1).map((at, i) => at - sentAt[i]);
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(100);
  });

  it('sees a job that queued on a stale "backlog" after the line emptied, before it stops', async () => {
    const deps = fakeDependencies();
    await waitingJobs(deps, OWNER, 1);
    // A submit that read "backlog" from its cache queues a job while the admitter waits out the caches.
    let late: string | undefined;
    const sleep = async (ms: number) => {
      deps.time.advance(ms / 1000);
      if (!late && deps.admission.current.backlogSince === undefined) {
        deps.admission.current.backlogSince = 'stale';
        late = (await waitingJobs(deps, OTHER_OWNER, 1))[0];
        delete deps.admission.current.backlogSince;
      }
    };

    const report = await admitWaitingJobs(deps, { holder: 'a', budgetMs: 2_000, sleep });

    expect(report.admitted).toBe(2);
    expect(createdOrder(deps)).toContain(late);
  });
});
