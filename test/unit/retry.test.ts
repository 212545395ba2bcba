import { type RetryPolicy, withRetries } from '../../lambdas/core/retry';

class Transient extends Error {}
const isTransient = (error: unknown) => error instanceof Transient;

/** Runs `withRetries` over an operation that fails `failures` times, recording the attempts and the waits. */
async function run(policy: RetryPolicy, failures: number, random = () => 1) {
  const attempts: number[] = [];
  const waits: number[] = [];
  const outcome = await withRetries(
    async (attempt) => {
      attempts.push(attempt);
      if (attempts.length <= failures) throw new Transient(`failure ${attempts.length}`);
      return 'done';
    },
    policy,
    isTransient,
    async (ms) => void waits.push(ms),
    random,
  ).catch((error: Error) => error);
  return { outcome, attempts, waits };
}

describe('retries with exponential backoff and full jitter', () => {
  it('returns the first success, numbering the attempts', async () => {
    expect(await run({ attempts: 4, baseDelayMs: 100 }, 2)).toEqual({
      outcome: 'done',
      attempts: [1, 2, 3],
      waits: [100, 200],
    });
    expect(await run({ attempts: 4, baseDelayMs: 100 }, 0)).toEqual({ outcome: 'done', attempts: [1], waits: [] });
  });

  it('gives up after the last attempt with that attempt’s error', async () => {
    const { outcome, attempts, waits } = await run({ attempts: 3, baseDelayMs: 100 }, 10);
    expect((outcome as Error).message).toBe('failure 3');
    expect(attempts).toEqual([1, 2, 3]);
    expect(waits).toEqual([100, 200]);
  });

  it('doubles the wait up to its ceiling (30 s unless the policy says otherwise)', async () => {
    expect((await run({ attempts: 6, baseDelayMs: 100, maxDelayMs: 500 }, 10)).waits).toEqual([
      100, 200, 400, 500, 500,
    ]);
    expect((await run({ attempts: 4, baseDelayMs: 10_000 }, 10)).waits).toEqual([10_000, 20_000, 30_000]);
  });

  it('waits a random part of the backoff, rounded to the millisecond (full jitter)', async () => {
    expect((await run({ attempts: 4, baseDelayMs: 100 }, 10, () => 0.5)).waits).toEqual([50, 100, 200]);
    expect((await run({ attempts: 3, baseDelayMs: 3 }, 10, () => 0.5)).waits).toEqual([2, 3]);
    expect((await run({ attempts: 3, baseDelayMs: 100 }, 10, () => 0)).waits).toEqual([0, 0]);
  });

  it('does not retry an error it is told is permanent', async () => {
    const attempts: number[] = [];
    const permanent = new Error('host not allowed');
    const failing = withRetries(
      async (attempt) => {
        attempts.push(attempt);
        throw permanent;
      },
      { attempts: 5, baseDelayMs: 1 },
      isTransient,
    );
    await expect(failing).rejects.toBe(permanent);
    expect(attempts).toEqual([1]);
  });

  it('really waits between attempts by default', async () => {
    const started = Date.now();
    const outcome = withRetries(
      async (attempt) => {
        if (attempt === 1) throw new Transient('once');
        return Date.now() - started;
      },
      { attempts: 2, baseDelayMs: 60 },
      isTransient,
      undefined,
      () => 1,
    );
    // Timers may fire a millisecond early, never much earlier.
    expect(await outcome).toBeGreaterThanOrEqual(55);
  });
});
