import { MemoryMetrics } from '../../lambdas/adapters/powertools-metrics';
import { recordJobEnd } from '../../lambdas/core/metrics';

const T0 = '2026-01-01T00:00:00.000Z';
const ended = (status: string, extra: Partial<Parameters<typeof recordJobEnd>[1]> = {}) => ({
  status,
  error: null,
  createdAt: T0,
  completedAt: '2026-01-01T00:00:02.500Z',
  outputs: [],
  ...extra,
});

/** What the dashboard and alarms count when a job ends (the local stack's in-memory tally records it). */
describe('metrics of an ended job', () => {
  function record(job: Parameters<typeof recordJobEnd>[1]) {
    const metrics = new MemoryMetrics();
    recordJobEnd(metrics, job);
    return Object.fromEntries(metrics.totals);
  }

  it('a success: counted, with its output bytes and its duration', () => {
    expect(record(ended('succeeded', { outputs: [{ size: 100 }, { size: 23 }] }))).toEqual({
      JobsSucceeded: 1,
      OutputBytes: 123,
      JobDuration: 2500,
    });
  });

  it('a failure: counted, and counted again by its error code (unknown when it has none)', () => {
    expect(record(ended('failed', { error: { code: 'timeout' } }))).toEqual({
      JobsFailed: 1,
      'JobsFailed{code=timeout}': 1,
      JobDuration: 2500,
    });
    expect(record(ended('failed'))).toEqual({ JobsFailed: 1, 'JobsFailed{code=unknown}': 1, JobDuration: 2500 });
  });

  it('a cancellation: counted', () => {
    expect(record(ended('canceled'))).toEqual({ JobsCanceled: 1, JobDuration: 2500 });
  });

  it('no duration when the end time is missing, unreadable or before the start (clocks disagree)', () => {
    expect(record(ended('canceled', { completedAt: undefined }))).toEqual({ JobsCanceled: 1 });
    expect(record(ended('canceled', { completedAt: 'soon' }))).toEqual({ JobsCanceled: 1 });
    expect(record(ended('canceled', { completedAt: '2025-12-31T23:59:59.000Z' }))).toEqual({ JobsCanceled: 1 });
    expect(record(ended('canceled', { completedAt: T0 }))).toEqual({ JobsCanceled: 1, JobDuration: 0 });
  });

  it('nothing but the duration for a status that has not ended', () => {
    expect(record(ended('processing'))).toEqual({ JobDuration: 2500 });
  });
});
