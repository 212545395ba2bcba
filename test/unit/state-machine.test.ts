import fc from 'fast-check';
import { isTerminal, JOB_STATUSES, type Job, type JobStatus, STATUS_RANK } from '../../lambdas/core/job';
import type { Prediction } from '../../lambdas/core/prediction';
import { decide } from '../../lambdas/core/state-machine';

const REPLICATE_STATUSES = ['starting', 'processing', 'succeeded', 'failed', 'canceled', 'aborted'] as const;
const T0 = '2026-01-01T00:00:00.000Z';

type State = Pick<Job, 'status' | 'rank' | 'predictionId' | 'updatedAt' | 'startedAt' | 'completedAt' | 'error'>;
/** `predictionId: null` is a job whose prediction id submit has not recorded yet. */
const jobIn = (status: JobStatus, predictionId: string | null = 'p1'): State => ({
  status,
  rank: STATUS_RANK[status],
  predictionId: predictionId ?? undefined,
  updatedAt: T0,
  error: null,
});
const prediction = (status: string, id = 'p1', extra: Partial<Prediction> = {}): Prediction => ({
  id,
  status,
  ...extra,
});
const at = (seconds: number) => new Date(Date.parse(T0) + seconds * 1000);

/** What the repository's conditional write does with a transition: the reference model of a job record. */
function apply(job: State, event: Prediction, now: Date): State {
  const transition = decide(job, event, now);
  if (transition.kind === 'ignore') return job;
  const { patch } = transition;
  return {
    ...job,
    ...patch,
    startedAt: job.startedAt ?? patch.startedAt,
  };
}

describe('state machine: every job status × every prediction status', () => {
  const expected = (from: JobStatus, replicate: string): string => {
    if (isTerminal(from)) return 'ignore:terminal';
    const to: JobStatus = replicate === 'aborted' ? 'failed' : (replicate as JobStatus);
    if (STATUS_RANK[to] === STATUS_RANK[from]) return 'ignore:duplicate';
    if (STATUS_RANK[to] < STATUS_RANK[from]) return 'ignore:stale';
    return `${isTerminal(to) ? 'finish' : 'advance'}:${to}`;
  };
  const cases = JOB_STATUSES.flatMap((from) => REPLICATE_STATUSES.map((to) => [from, to, expected(from, to)] as const));
  it.each(cases)('%s + %s → %s', (from, to, outcome) => {
    const transition = decide(jobIn(from), prediction(to), at(1));
    const got =
      transition.kind === 'ignore' ? `ignore:${transition.reason}` : `${transition.kind}:${transition.patch.status}`;
    expect(got).toBe(outcome);
  });

  it('ignores statuses it does not know', () => {
    expect(decide(jobIn('processing'), prediction('exploded'), at(1))).toEqual({
      kind: 'ignore',
      reason: 'unknown_status',
    });
    expect(decide(jobIn('processing'), prediction('constructor'), at(1))).toEqual({
      kind: 'ignore',
      reason: 'unknown_status',
    });
  });

  it('never lets another prediction touch a job', () => {
    expect(decide(jobIn('processing', 'p1'), prediction('succeeded', 'p2'), at(1))).toEqual({
      kind: 'ignore',
      reason: 'prediction_mismatch',
    });
  });

  it('accepts the first event of a job whose prediction id is not recorded yet (webhook before submit returned)', () => {
    const transition = decide(jobIn('queued', null), prediction('succeeded', 'p9'), at(1));
    expect(transition).toMatchObject({ kind: 'finish', patch: { status: 'succeeded', predictionId: 'p9' } });
  });

  it('records Replicate error messages and codes', () => {
    expect(
      decide(jobIn('processing'), prediction('failed', 'p1', { error: 'CUDA out of memory' }), at(1)),
    ).toMatchObject({
      patch: { error: { code: 'prediction_failed', message: 'CUDA out of memory' } },
    });
    expect(decide(jobIn('processing'), prediction('canceled'), at(1))).toMatchObject({
      patch: { error: { code: 'prediction_canceled' } },
    });
    expect(decide(jobIn('starting'), prediction('succeeded'), at(1))).toMatchObject({ patch: { error: null } });
  });

  it('keeps updatedAt from going backwards when this clock is behind the last writer', () => {
    const job = { ...jobIn('starting'), updatedAt: '2030-01-01T00:00:00.000Z' };
    const transition = decide(job, prediction('processing'), at(1));
    expect(transition.kind !== 'ignore' && transition.patch.updatedAt).toBe('2030-01-01T00:00:00.000Z');
  });
});

describe('state machine: properties over random event sequences', () => {
  const nonTerminal = fc.constantFrom('starting', 'processing');
  const outcome = fc.constantFrom('succeeded', 'failed', 'canceled', 'aborted');
  /** A realistic stream: one prediction, one terminal outcome (maybe), each event possibly repeated, any order. */
  const stream = fc
    .tuple(fc.array(nonTerminal, { maxLength: 8 }), fc.option(outcome), fc.nat({ max: 5 }))
    .chain(([progress, final, duplicates]) => {
      const events = [...progress, ...(final ? Array(duplicates + 1).fill(final) : [])];
      return fc
        .shuffledSubarray(events, { minLength: events.length, maxLength: events.length })
        .map((order) => ({ order, final }));
    });
  const clockSteps = fc.array(fc.integer({ min: -5, max: 30 }), { minLength: 20, maxLength: 20 });

  it('never throws, terminal never changes, rank and updatedAt never go back, the terminal outcome wins', () => {
    fc.assert(
      fc.property(stream, clockSteps, ({ order, final }, steps) => {
        let job = jobIn('queued', null);
        let seconds = 0;
        order.forEach((status, i) => {
          seconds += steps[i % steps.length]; // clocks may step backwards between consumers
          const before = job;
          job = apply(job, prediction(status), at(seconds));
          expect(job.rank).toBeGreaterThanOrEqual(before.rank);
          expect(job.updatedAt >= before.updatedAt).toBe(true);
          if (isTerminal(before.status)) expect(job).toBe(before);
        });
        if (final) {
          expect(job.status).toBe(final === 'aborted' ? 'failed' : final);
        } else {
          const highest = Math.max(0, ...order.map((status) => STATUS_RANK[status as JobStatus]));
          expect(job.rank).toBe(highest);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('never throws on arbitrary, hostile event bodies', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...JOB_STATUSES),
        fc.record({
          id: fc.string(),
          status: fc.string(),
          started_at: fc.option(fc.string()),
          completed_at: fc.option(fc.string()),
          error: fc.anything(),
        }),
        (status, event) => {
          expect(() => decide(jobIn(status, null), event as Prediction, at(0))).not.toThrow();
        },
      ),
      { numRuns: 1000 },
    );
  });
});

describe('state machine: what a transition writes', () => {
  const patchOf = (job: State, event: Prediction) => {
    const transition = decide(job, event, at(60));
    if (transition.kind === 'ignore') throw new Error(`ignored: ${transition.reason}`);
    return transition.patch;
  };
  const NOW = at(60).toISOString();

  it('startedAt: the job’s own first, else Replicate’s (normalised), else now once the prediction runs', () => {
    const started = { ...jobIn('starting'), startedAt: '2026-01-01T00:00:01.000Z' };
    expect(patchOf(started, prediction('processing', 'p1', { started_at: '2026-01-01T00:00:05Z' })).startedAt).toBe(
      '2026-01-01T00:00:01.000Z',
    );
    expect(
      patchOf(jobIn('starting'), prediction('processing', 'p1', { started_at: '2026-01-01T00:00:05Z' })).startedAt,
    ).toBe('2026-01-01T00:00:05.000Z');
    expect(patchOf(jobIn('starting'), prediction('processing', 'p1', { started_at: 'soon' })).startedAt).toBe(NOW);
    expect(patchOf(jobIn('starting'), prediction('succeeded', 'p1', { started_at: null })).startedAt).toBe(NOW);
    // `starting` means the model is booting: nothing has started yet.
    expect(patchOf(jobIn('queued'), prediction('starting')).startedAt).toBeUndefined();
    expect(patchOf(jobIn('queued'), prediction('starting', 'p1', { started_at: '' })).startedAt).toBeUndefined();
  });

  it('completedAt: Replicate’s (normalised), else now', () => {
    expect(
      patchOf(jobIn('processing'), prediction('succeeded', 'p1', { completed_at: '2026-01-01T00:00:30+00:00' }))
        .completedAt,
    ).toBe('2026-01-01T00:00:30.000Z');
    expect(patchOf(jobIn('processing'), prediction('failed', 'p1', { completed_at: 'later' })).completedAt).toBe(NOW);
    expect(patchOf(jobIn('processing'), prediction('canceled')).completedAt).toBe(NOW);
  });

  it('keeps Replicate’s metrics of a finished prediction', () => {
    expect(
      patchOf(jobIn('processing'), prediction('succeeded', 'p1', { metrics: { predict_time: 2.5 } })).metrics,
    ).toEqual({ predict_time: 2.5 });
    expect(patchOf(jobIn('processing'), prediction('succeeded', 'p1', { metrics: null })).metrics).toBeUndefined();
  });

  it('says in words that a prediction was canceled', () => {
    expect(patchOf(jobIn('processing'), prediction('canceled')).error).toEqual({
      code: 'prediction_canceled',
      message: 'The prediction was canceled',
    });
  });
});
