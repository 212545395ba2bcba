import { budgetReached, hasBudgets } from '../../lambdas/core/budgets';
import { DEFAULT_CREDIT_RULES, refundsDailyCount } from '../../lambdas/core/daily-credits';
import type { Job } from '../../lambdas/core/job';
import { parseOwnerLimits } from '../../lambdas/core/owner-limits';
import { costNanoUsd, parsePrices, priceOf } from '../../lambdas/core/prices';
import { EMPTY_DAY, endedJobUsage, predictMillisOf } from '../../lambdas/core/usage';
import { daysOf, usageRangeOf, usageReport } from '../../lambdas/core/usage-report';
import { storedJob } from '../support/records';

const NOW = new Date('2026-03-15T12:00:00Z');
/** A job that ended (the status is terminal), as endedJobUsage takes it. */
const endedJob = (overrides: Partial<Job>) => job(overrides) as Job & { status: 'succeeded' };
const job = (overrides: Partial<Job>): Job =>
  storedJob({
    id: 'job_1',
    status: 'succeeded',
    rank: 3,
    createdAt: '2026-03-14T23:59:00.000Z',
    updatedAt: '2026-03-15T00:05:00.000Z',
    ...overrides,
  });

describe('prices', () => {
  it('prices per second of predict time or per output file, in whole nano-dollars', () => {
    expect(costNanoUsd({ perSecondUsd: 0.000225 }, { predictMillis: 1370, outputs: 4 })).toBe(308_250);
    expect(costNanoUsd({ perOutputUsd: 0.003 }, { predictMillis: 1370, outputs: 4 })).toBe(12_000_000);
  });
  it('finds a deployment by its name, else the model; unknown: undefined', () => {
    const prices = parsePrices('{"a/b":{"perOutputUsd":0.01},"acme/prod":{"perSecondUsd":0.001}}');
    expect(priceOf(prices, { model: '', deployment: 'acme/prod' })).toEqual({ perSecondUsd: 0.001 });
    expect(priceOf(prices, { model: 'a/b' })).toEqual({ perOutputUsd: 0.01 });
    expect(priceOf(prices, { model: 'x/y' })).toBeUndefined();
    expect(priceOf(prices, { model: 'constructor' })).toBeUndefined();
    expect(parsePrices(undefined)).toEqual({});
  });
  it('finds a model whatever its case, and a job that names only a version by the version (found by an attack)', () => {
    const version = 'ab'.repeat(32);
    const prices = parsePrices(`{"Acme/Painter":{"perSecondUsd":1},"${version.toUpperCase()}":{"perOutputUsd":2}}`);
    expect(priceOf(prices, { model: 'acme/PAINTER' })).toEqual({ perSecondUsd: 1 });
    expect(priceOf(prices, { model: '', version })).toEqual({ perOutputUsd: 2 });
    expect(priceOf(prices, { model: 'x/y', version: 'cd'.repeat(32) })).toBeUndefined();
  });
  it('refuses a price that is not one positive amount per owner/name', () => {
    expect(() => parsePrices('{"a/b":{"perSecondUsd":0}}')).toThrow();
    expect(() => parsePrices('{"a/b":{"perSecondUsd":1,"perOutputUsd":1}}')).toThrow();
    expect(() => parsePrices('{"nomodel":{"perSecondUsd":1}}')).toThrow();
    expect(() => parsePrices('{"a/b":{"perMinuteUsd":1}}')).toThrow();
  });
});

describe('the ledger entry of an ended job', () => {
  it('counts on the day it was submitted, with predict time in milliseconds and its cost', () => {
    const ended = endedJob({
      metrics: { predict_time: 2.3456 },
      outputs: [{ index: 0, key: 'k', contentType: 'image/png', size: 1 }],
    });
    expect(endedJobUsage(ended, { 'a/b': { perSecondUsd: 0.001 } })).toEqual({
      attempt: 'job_1@2026-03-14T23:59:00.000Z', // an Idempotency-Key retry of a failed submission is another attempt
      day: '2026-03-14',
      outcome: 'succeeded',
      predictMillis: 2346,
      costNanoUsd: 2_346_000,
    });
    expect(endedJobUsage(ended, {}).costNanoUsd).toBeUndefined();
  });
  it('reads no predict time from missing or malformed metrics', () => {
    expect(predictMillisOf(undefined)).toBe(0);
    expect(predictMillisOf({ predict_time: '3' })).toBe(0);
    expect(predictMillisOf({ predict_time: -1 })).toBe(0);
    expect(predictMillisOf({ predict_time: Number.NaN })).toBe(0);
  });
});

describe('the usage range', () => {
  it('defaults to the 30 days to today', () => {
    expect(usageRangeOf({}, NOW)).toEqual({ from: '2026-02-14', to: '2026-03-15' });
    expect(daysOf(usageRangeOf({}, NOW))).toHaveLength(30);
    expect(usageRangeOf({ to: '2026-01-31' }, NOW)).toEqual({ from: '2026-01-02', to: '2026-01-31' });
  });
  it('refuses a range of thousands of years at once, without listing its days (found by an attack)', () => {
    expect(() => usageRangeOf({ from: '1970-01-01', to: '9999-12-31' }, NOW)).toThrow(
      expect.objectContaining({ details: [{ path: 'from', message: 'the range is 2932897 days; at most 92' }] }),
    );
    expect(usageRangeOf({ to: '1970-01-10' }, NOW)).toEqual({ from: '1970-01-01', to: '1970-01-10' });
  });
  it('takes at most 92 days, both ends included', () => {
    expect(daysOf(usageRangeOf({ from: '2026-01-01', to: '2026-04-02' }, NOW))).toHaveLength(92);
    expect(() => usageRangeOf({ from: '2026-01-01', to: '2026-04-03' }, NOW)).toThrow(
      expect.objectContaining({
        code: 'validation_failed',
        details: [{ path: 'from', message: 'the range is 93 days; at most 92' }],
      }),
    );
  });
  it.each([
    [{ from: '2026-02-30' }, 'from'],
    [{ to: '2026-3-1' }, 'to'],
    [{ from: '2026-03-02', to: '2026-03-01' }, 'from'],
    [{ days: '3' }, '(query)'],
    [{ to: '0000-01-01' }, 'to'], // its default start would be in year -1 (a 500, found by an attack)
    [{ from: '1969-12-31', to: '1970-01-01' }, 'from'],
  ])('refuses %j (422 validation_failed on %s)', (query, path) => {
    expect(() => usageRangeOf(query, NOW)).toThrow(
      expect.objectContaining({ code: 'validation_failed', details: [expect.objectContaining({ path })] }),
    );
  });
});

describe('the usage report', () => {
  it('lists every day, zeros included, and adds the totals; cost is null only when nothing was priced', () => {
    const stored = new Map([
      [
        '2026-03-01',
        {
          ...EMPTY_DAY,
          submitted: 2,
          succeeded: 1,
          failed: 1,
          predictMillis: 1500,
          costNanoUsd: 1_500_000,
          pricedJobs: 2,
        },
      ],
      ['2026-03-03', { ...EMPTY_DAY, submitted: 1, canceled: 1, unpricedJobs: 1 }],
    ]);
    const report = usageReport('alice', { from: '2026-03-01', to: '2026-03-03' }, stored);
    expect(report.days.map((day) => [day.date, day.submitted, day.estimatedCostUsd])).toEqual([
      ['2026-03-01', 2, 0.0015],
      ['2026-03-02', 0, 0],
      ['2026-03-03', 1, null],
    ]);
    expect(report.totals).toEqual({
      submitted: 3,
      succeeded: 1,
      failed: 1,
      canceled: 1,
      predictSeconds: 1.5,
      estimatedCostUsd: 0.0015,
      unpricedJobs: 1,
    });
  });
});

describe('daily credits', () => {
  const failed = (code: string, more: Partial<Job> = {}) =>
    job({ status: 'failed', error: { code: code as never, message: 'x' }, ...more });
  it('by default: a failure before any output is given back; a cancel is not', () => {
    expect(refundsDailyCount(failed('prediction_failed'), DEFAULT_CREDIT_RULES)).toBe(true);
    expect(refundsDailyCount(failed('timeout'), DEFAULT_CREDIT_RULES)).toBe(true);
    expect(refundsDailyCount(job({ status: 'canceled' }), DEFAULT_CREDIT_RULES)).toBe(false);
    expect(refundsDailyCount(job({ status: 'succeeded' }), DEFAULT_CREDIT_RULES)).toBe(false);
  });
  it('not for a failure after output, nor one of ours while storing, nor a refused submission', () => {
    expect(refundsDailyCount(failed('prediction_failed', { output: 'partial' }), DEFAULT_CREDIT_RULES)).toBe(false);
    // A model that streamed its whole answer, then failed (found by an attack): its partial output's size stays.
    expect(refundsDailyCount(failed('timeout', { partialOutputSize: 120 }), DEFAULT_CREDIT_RULES)).toBe(false);
    expect(refundsDailyCount(failed('output_too_large'), DEFAULT_CREDIT_RULES)).toBe(false);
    expect(refundsDailyCount(failed('submit_failed'), DEFAULT_CREDIT_RULES)).toBe(false);
  });
  it('each rule is a setting', () => {
    const flipped = { failuresWithoutOutput: false, clientCancels: true };
    expect(refundsDailyCount(failed('prediction_failed'), flipped)).toBe(false);
    expect(refundsDailyCount(job({ status: 'canceled' }), flipped)).toBe(true);
  });
});

describe('budgets', () => {
  it('none set: nothing to check (and nothing read)', () => {
    expect(hasBudgets({})).toBe(false);
    expect(hasBudgets(parseOwnerLimits(undefined)('alice'))).toBe(false);
    expect(budgetReached({}, { ...EMPTY_DAY, predictMillis: 1e9 }, NOW)).toBeUndefined();
  });
  it('refuses once the day reached a budget, until the next UTC midnight', () => {
    const budgets = { maxPredictSecondsPerDay: 60, maxCostPerDayUsd: 0.5 };
    expect(budgetReached(budgets, undefined, NOW)).toBeUndefined();
    expect(budgetReached(budgets, { ...EMPTY_DAY, predictMillis: 59_999 }, NOW)).toBeUndefined();
    expect(budgetReached(budgets, { ...EMPTY_DAY, predictMillis: 60_000 }, NOW)).toEqual({
      limit: 'daily_predict_seconds',
      retryAfterSeconds: 43_200,
    });
    expect(budgetReached(budgets, { ...EMPTY_DAY, costNanoUsd: 500_000_000 }, NOW)?.limit).toBe('daily_cost');
  });
  it('are OWNER_LIMITS fields, per owner over the default', () => {
    const limitsOf = parseOwnerLimits(
      '{"default":{"maxInFlight":5,"maxPerDay":10,"maxCostPerDayUsd":20},"owners":{"bob":{"maxPredictSecondsPerDay":3600}}}',
    );
    expect(limitsOf('bob')).toMatchObject({ maxCostPerDayUsd: 20, maxPredictSecondsPerDay: 3600 });
    expect(limitsOf('alice').maxPredictSecondsPerDay).toBeUndefined();
    expect(() => parseOwnerLimits('{"default":{"maxInFlight":5,"maxPerDay":10,"maxCostPerDayUsd":0}}')).toThrow();
  });
});
