import {
  counterShardsOf,
  DEFAULT_LIMITS,
  parseOwnerLimits,
  secondsUntilNextDay,
  shardLimits,
} from '../../lambdas/core/owner-limits';
import { shareOf } from '../../lambdas/core/shards';

describe('OWNER_LIMITS setting', () => {
  it('gives everyone the built-in defaults when unset', () => {
    expect(DEFAULT_LIMITS).toEqual({ maxInFlight: 50, maxPerDay: 10_000, maxRefusalsPerMinute: 20 });
    expect(parseOwnerLimits(undefined)('alice')).toEqual({
      maxInFlight: 50,
      maxPerDay: 10_000,
      maxRefusalsPerMinute: 20,
    });
    expect(parseOwnerLimits('')('alice')).toEqual(DEFAULT_LIMITS);
  });

  it('lets an owner override the default field by field', () => {
    const limitsOf = parseOwnerLimits(
      JSON.stringify({
        default: { maxInFlight: 5, maxPerDay: 100 },
        owners: { big: { maxInFlight: 500 }, tiny: { maxInFlight: 1, maxPerDay: 1, maxRefusalsPerMinute: 2 } },
      }),
    );
    expect(limitsOf('alice')).toEqual({ maxInFlight: 5, maxPerDay: 100, maxRefusalsPerMinute: 20 });
    expect(limitsOf('big')).toEqual({ maxInFlight: 500, maxPerDay: 100, maxRefusalsPerMinute: 20 });
    expect(limitsOf('tiny')).toEqual({ maxInFlight: 1, maxPerDay: 1, maxRefusalsPerMinute: 2 });
    // An owner named like an Object.prototype member gets the default, not the prototype's function.
    expect(limitsOf('constructor')).toEqual({ maxInFlight: 5, maxPerDay: 100, maxRefusalsPerMinute: 20 });
  });

  it('takes the largest limits it allows', () => {
    const limitsOf = parseOwnerLimits(JSON.stringify({ default: { maxInFlight: 1_000_000, maxPerDay: 100_000_000 } }));
    expect(limitsOf('alice')).toEqual({ maxInFlight: 1_000_000, maxPerDay: 100_000_000, maxRefusalsPerMinute: 20 });
  });

  it.each([
    ['no default', { owners: {} }],
    ['a default without maxPerDay', { default: { maxInFlight: 5 } }],
    ['a zero limit', { default: { maxInFlight: 0, maxPerDay: 100 } }],
    ['a fractional limit', { default: { maxInFlight: 1.5, maxPerDay: 100 } }],
    ['a limit given as text', { default: { maxInFlight: '5', maxPerDay: 100 } }],
    ['maxInFlight over a million', { default: { maxInFlight: 1_000_001, maxPerDay: 100 } }],
    ['maxPerDay over a hundred million', { default: { maxInFlight: 5, maxPerDay: 100_000_001 } }],
    ['a misspelt field (it would silently do nothing)', { default: { maxInFlight: 5, maxPerDay: 100, maxPerDays: 1 } }],
    ['a misspelt top-level key', { default: { maxInFlight: 5, maxPerDay: 100 }, owner: {} }],
    ['an empty owner name', { default: { maxInFlight: 5, maxPerDay: 100 }, owners: { '': { maxInFlight: 1 } } }],
    [
      'an owner name over 128 characters',
      { default: { maxInFlight: 5, maxPerDay: 100 }, owners: { ['o'.repeat(129)]: { maxInFlight: 1 } } },
    ],
    ['an invalid owner limit', { default: { maxInFlight: 5, maxPerDay: 100 }, owners: { alice: { maxPerDay: -1 } } }],
  ])('refuses %s (a deployment must not start with limits it misread)', (_name, setting) => {
    expect(() => parseOwnerLimits(JSON.stringify(setting))).toThrow();
  });

  it('refuses a setting that is not JSON', () => {
    expect(() => parseOwnerLimits('{default:')).toThrow(SyntaxError);
  });
});

describe('daily quota reset', () => {
  it.each([
    ['2026-03-10T00:00:00.000Z', 86_400],
    ['2026-03-10T12:00:00.000Z', 43_200],
    ['2026-03-10T23:59:59.000Z', 1],
    ['2026-03-10T23:59:59.999Z', 1], // rounded up, never 0: a client told to retry in 0 s would retry at once
    ['2026-03-10T23:59:58.500Z', 2], // rounded up: retrying a little early would be refused again
    ['2026-12-31T23:00:00.000Z', 3_600], // across a year's end
    ['2028-02-28T12:00:00.000Z', 43_200], // a leap day follows
  ])('at %s the next UTC day starts in %i s', (now, seconds) => {
    expect(secondsUntilNextDay(new Date(now))).toBe(seconds);
  });
});

describe('counter shards', () => {
  it('keeps one counter unless the owner’s limits set more (at most 16), whatever the limits are', () => {
    const limits = { maxInFlight: 100_000, maxPerDay: 10_000_000, maxRefusalsPerMinute: 20 };
    expect(counterShardsOf(limits)).toBe(1); // a limit's size alone never changes the shards (found by an attack)
    expect(counterShardsOf({ ...limits, counterShards: 16 })).toBe(16);
    const setting = JSON.stringify({
      default: { maxInFlight: 5, maxPerDay: 9 },
      owners: { big: { counterShards: 4 } },
    });
    expect(counterShardsOf(parseOwnerLimits(setting)('big'))).toBe(4);
    expect(() =>
      parseOwnerLimits(JSON.stringify({ default: { maxInFlight: 5, maxPerDay: 9, counterShards: 17 } })),
    ).toThrow();
  });

  it('splits each limit into shares that add up to it exactly (never more: no overshoot), the refusals not at all', () => {
    for (const [total, shards] of [
      [100, 2],
      [101, 16],
      [7, 3],
      [1_000_000, 16],
    ]) {
      const shares = Array.from({ length: shards }, (_, shard) => shareOf(total, shards, shard));
      expect(shares.reduce((sum, share) => sum + share, 0)).toBe(total);
      expect(Math.max(...shares) - Math.min(...shares)).toBeLessThanOrEqual(1);
    }
    const limits = { maxInFlight: 101, maxPerDay: 1_000, maxRefusalsPerMinute: 20 };
    expect(shardLimits(limits, 2, 0)).toEqual({ maxInFlight: 51, maxPerDay: 500, maxRefusalsPerMinute: 20 });
    expect(shardLimits(limits, 2, 1)).toEqual({ maxInFlight: 50, maxPerDay: 500, maxRefusalsPerMinute: 20 });
  });
});
