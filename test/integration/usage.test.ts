import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { startTestStack, type TestStack } from '../support/local-stack';

const CLI = join(__dirname, '..', '..', 'cli', 'replicate-jobs.cjs');

/**
 * Usage and credits on the local stack (the deployed bundles, the simulator): the per-day ledger behind GET /usage,
 * the budgets submit checks, and the daily credit rules in both settings.
 */
const KEYS = 'alice=key-alice,bob=key-bob,carol=key-carol,dave=key-dave,erin=key-erin';
const today = () => new Date().toISOString().slice(0, 10);

/** GET /usage until `done` holds: the ledger is written just after the job's terminal write, not with it. */
async function usageWhen(stack: TestStack, key: string, done: (usage: any) => boolean, query = '') {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const response = await stack.request(`/usage${query}`, { key });
    expect(response.status).toBe(200);
    if (done(response.json)) return response.json;
    if (Date.now() > deadline) throw new Error(`usage never matched: ${JSON.stringify(response.json.totals)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('usage, budgets and credits (default credit rules)', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack({
      apiKeys: KEYS,
      env: {
        PRICES: JSON.stringify({ 'a/priced': { perSecondUsd: 0.001 }, 'a/per-output': { perOutputUsd: 0.01 } }),
        OWNER_LIMITS: JSON.stringify({
          default: { maxInFlight: 50, maxPerDay: 10_000 },
          owners: {
            bob: { maxPredictSecondsPerDay: 3 },
            dave: { maxCostPerDayUsd: 0.015 },
            carol: { maxPerDay: 2 },
            erin: { maxPerDay: 1 },
          },
        }),
      },
    });
  });
  afterAll(() => stack?.stop());

  it('a day with succeeded, failed and canceled jobs: counts, predict seconds and estimated cost; repeated webhooks count once', async () => {
    const priced = await stack.submit({ model: 'a/priced', input: { simulate: { predictTime: 2.5 } } });
    const perOutput = await stack.submit({
      model: 'a/per-output',
      input: { simulate: { output: 'images', count: 2, predictTime: 1 } },
    });
    const failed = await stack.submit({ model: 'a/priced', input: { simulate: { fail: 'boom', predictTime: 0.5 } } });
    const slow = await stack.submit({ model: 'a/unpriced', input: { simulate: { stepMs: 60_000 } } });
    for (const job of [priced, perOutput, failed]) await stack.waitFor(job.id);
    expect((await stack.request(`/jobs/${slow.id}/cancel`, { method: 'POST' })).status).toBe(200);

    const usage = await usageWhen(stack, 'key-alice', (u) => u.totals.canceled === 1 && u.totals.succeeded === 2);
    // The default range: the 30 days to today, every one listed (zeros where nothing ran).
    expect(usage.owner).toBe('alice');
    expect(usage.to).toBe(today());
    expect(usage.days).toHaveLength(30);
    expect(usage.days.at(-1).date).toBe(today());
    expect(usage.days[0]).toEqual({
      date: usage.from,
      submitted: 0,
      succeeded: 0,
      failed: 0,
      canceled: 0,
      predictSeconds: 0,
      estimatedCostUsd: 0,
      unpricedJobs: 0,
    });
    const expected = {
      submitted: 4,
      succeeded: 2,
      failed: 1,
      canceled: 1,
      predictSeconds: 4,
      estimatedCostUsd: 0.0025 + 0.02 + 0.0005,
      unpricedJobs: 1, // the canceled job's model has no price: left out of the estimate, and said so
    };
    expect(usage.days.at(-1)).toEqual({ date: today(), ...expected });
    expect(usage.totals).toEqual(expected);

    // Replicate repeats the completed webhooks: the jobs are already ended, so the ledger does not move.
    for (const job of [priced, perOutput, failed]) {
      expect(await stack.simulator!.sendWebhook(job.predictionId!, 'completed')).toBe(202);
      expect(await stack.simulator!.sendWebhook(job.predictionId!, 'completed')).toBe(202);
    }
    await new Promise((resolve) => setTimeout(resolve, 1_500)); // the consumer has had time to apply them
    const again = await stack.request(`/usage?from=${today()}&to=${today()}`);
    expect(again.json.days).toEqual([{ date: today(), ...expected }]);
    expect(again.json.totals).toEqual(expected);
    // Owner-scoped: another key sees its own (empty) day.
    const other = await stack.request(`/usage?from=${today()}&to=${today()}`, { key: 'key-erin' });
    expect(other.json).toMatchObject({ owner: 'erin', totals: { submitted: 0, predictSeconds: 0 } });
  });

  it('replicate-jobs usage prints the days as a table, and as JSON with --json', async () => {
    const run = (args: string[]) =>
      new Promise<{ code: number; stdout: string }>((resolve) => {
        execFile(
          process.execPath,
          [CLI, 'usage', ...args],
          { env: { ...process.env, REPLICATE_JOBS_URL: stack.url, REPLICATE_JOBS_API_KEY: 'key-alice' } },
          (error, stdout) => resolve({ code: error ? (error.code as number) : 0, stdout }),
        );
      });
    const json = await run(['--from', today(), '--to', today(), '--json']);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ owner: 'alice', from: today(), totals: { submitted: 4 } });
    const table = await run([]);
    expect(table.code).toBe(0);
    const lines = table.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^alice: \d{4}-\d{2}-\d{2} to /);
    expect(lines[1]).toMatch(/^date\s+submitted\s+succeeded\s+failed\s+canceled\s+predict s\s+est\. USD$/);
    expect(lines).toHaveLength(2 + 30 + 1); // heading, columns, 30 days, totals
    expect(lines.at(-1)).toMatch(/^total\s+4\s+2\s+1\s+1\s+4\.0\s+0\.0230\+$/);
    expect((await run(['--from', 'yesterday'])).code).toBe(3); // the API refused: 422
  });

  it('refuses bad dates and ranges over 92 days (422 validation_failed, with details)', async () => {
    const long = await stack.request('/usage?from=2026-01-01&to=2026-04-10');
    expect(long).toMatchObject({ status: 422, json: { error: { code: 'validation_failed' } } });
    expect(long.json.error.details).toEqual([{ path: 'from', message: 'the range is 100 days; at most 92' }]);
    const ninetyTwo = await stack.request('/usage?from=2026-01-01&to=2026-04-02');
    expect(ninetyTwo.status).toBe(200);
    expect(ninetyTwo.json.days).toHaveLength(92);
    const bad = await stack.request('/usage?from=2026-02-30');
    expect(bad).toMatchObject({ status: 422, json: { error: { code: 'validation_failed' } } });
    expect(bad.json.error.details[0].path).toBe('from');
    const reversed = await stack.request('/usage?from=2026-03-02&to=2026-03-01');
    expect(reversed.status).toBe(422);
    expect((await stack.request('/usage?days=3')).status).toBe(422);
    expect((await stack.request('/usage', { key: null })).status).toBe(401);
  });

  it('a predict-seconds budget refuses the next submit: 429 owner_limit_exceeded, details.limit, Retry-After', async () => {
    const job = await stack.submit({ model: 'a/priced', input: { simulate: { predictTime: 5 } } }, { key: 'key-bob' });
    await stack.waitFor(job.id, undefined, { key: 'key-bob' });
    await usageWhen(stack, 'key-bob', (u) => u.totals.predictSeconds === 5);
    const refused = await stack.request('/jobs', { body: { model: 'a/priced', input: {} }, key: 'key-bob' });
    expect(refused).toMatchObject({
      status: 429,
      json: { error: { code: 'owner_limit_exceeded', details: { limit: 'daily_predict_seconds' } } },
    });
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(86_400);
    // Refused before anything was written: the day counts no new submission.
    expect(
      (await stack.request(`/usage?from=${today()}&to=${today()}`, { key: 'key-bob' })).json.totals.submitted,
    ).toBe(1);
  });

  it('a cost budget refuses the next submit with details.limit daily_cost', async () => {
    const job = await stack.submit(
      { model: 'a/per-output', input: { simulate: { output: 'images', count: 2 } } },
      { key: 'key-dave' },
    );
    await stack.waitFor(job.id, undefined, { key: 'key-dave' });
    await usageWhen(stack, 'key-dave', (u) => u.totals.estimatedCostUsd === 0.02);
    const refused = await stack.request('/jobs', { body: { model: 'a/b', input: {} }, key: 'key-dave' });
    expect(refused).toMatchObject({
      status: 429,
      json: { error: { code: 'owner_limit_exceeded', details: { limit: 'daily_cost' } } },
    });
  });

  it('by default a job that failed before any output gives its daily count back', async () => {
    const failed = await stack.submit({ model: 'a/b', input: { simulate: { fail: 'boom' } } }, { key: 'key-carol' });
    expect((await stack.waitFor(failed.id, undefined, { key: 'key-carol' })).status).toBe('failed');
    await usageWhen(stack, 'key-carol', (u) => u.totals.failed === 1);
    // maxPerDay 2: the failure was given back, so two more are accepted, and only the third is refused.
    await stack.submit({ model: 'a/b', input: {} }, { key: 'key-carol' });
    await stack.submit({ model: 'a/b', input: {} }, { key: 'key-carol' });
    const third = await stack.request('/jobs', { body: { model: 'a/b', input: {} }, key: 'key-carol' });
    expect(third).toMatchObject({ status: 429, json: { error: { details: { limit: 'daily' } } } });
  });

  it('by default a job the client canceled keeps its daily count', async () => {
    const slow = await stack.submit({ model: 'a/b', input: { simulate: { stepMs: 60_000 } } }, { key: 'key-erin' });
    expect((await stack.request(`/jobs/${slow.id}/cancel`, { method: 'POST', key: 'key-erin' })).status).toBe(200);
    await usageWhen(stack, 'key-erin', (u) => u.totals.canceled === 1);
    const next = await stack.request('/jobs', { body: { model: 'a/b', input: {} }, key: 'key-erin' });
    expect(next).toMatchObject({ status: 429, json: { error: { details: { limit: 'daily' } } } });
  });
});

describe('daily credit rules turned the other way (REFUND_FAILURES_WITHOUT_OUTPUT=false, REFUND_CLIENT_CANCELS=true)', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack({
      apiKeys: KEYS,
      env: {
        REFUND_FAILURES_WITHOUT_OUTPUT: 'false',
        REFUND_CLIENT_CANCELS: 'true',
        OWNER_LIMITS: JSON.stringify({ default: { maxInFlight: 50, maxPerDay: 1 } }),
      },
    });
  });
  afterAll(() => stack?.stop());

  it('a failed job keeps its daily count', async () => {
    const failed = await stack.submit({ model: 'a/b', input: { simulate: { fail: 'boom' } } }, { key: 'key-carol' });
    await stack.waitFor(failed.id, undefined, { key: 'key-carol' });
    await usageWhen(stack, 'key-carol', (u) => u.totals.failed === 1);
    const next = await stack.request('/jobs', { body: { model: 'a/b', input: {} }, key: 'key-carol' });
    expect(next).toMatchObject({ status: 429, json: { error: { details: { limit: 'daily' } } } });
  });

  it("a client's cancel gives the daily count back", async () => {
    const slow = await stack.submit({ model: 'a/b', input: { simulate: { stepMs: 60_000 } } }, { key: 'key-erin' });
    expect((await stack.request(`/jobs/${slow.id}/cancel`, { method: 'POST', key: 'key-erin' })).status).toBe(200);
    await usageWhen(stack, 'key-erin', (u) => u.totals.canceled === 1);
    expect((await stack.request('/jobs', { body: { model: 'a/b', input: {} }, key: 'key-erin' })).status).toBe(202);
  });
});
