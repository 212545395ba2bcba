import { DEFAULTS } from '../../contract/defaults';
import * as z from './schema';
import { shareOf } from './shards';

/**
 * Per-owner limits: jobs in flight (submitted, not ended), jobs accepted per UTC day, and submissions
 * Replicate refused per minute. Every product built on this needs them: one runaway client must not spend
 * the whole Replicate budget, nor the shared token's rate limit (about 600 creates a minute per account)
 * on requests Replicate refuses. Optionally, daily budgets of predict time and estimated cost (core/budgets.ts).
 */
export interface Limits {
  maxInFlight: number;
  maxPerDay: number;
  maxRefusalsPerMinute: number;
  /** Counter items the limits are split over (`counterShardsOf`); 1 unless set. */
  counterShards?: number;
  /** Daily budgets (core/budgets.ts): none unless set. */
  maxPredictSecondsPerDay?: number;
  maxCostPerDayUsd?: number;
}

const count = (max: number) => z.number().check(z.int(), z.minimum(1), z.maximum(max));
const LimitsSchema = z.strictObject({
  maxInFlight: count(1_000_000),
  maxPerDay: count(100_000_000),
  maxRefusalsPerMinute: z.optional(count(100_000)),
  counterShards: z.optional(count(16)),
  maxPredictSecondsPerDay: z.optional(z.number().check(z.positive(), z.maximum(1e9))),
  maxCostPerDayUsd: z.optional(z.number().check(z.positive(), z.maximum(1e9))),
});

/** Limits as configured: the refusal rate may be left out (it then takes its default). */
export type LimitsSetting = z.infer<typeof LimitsSchema>;

export const OwnerLimitsSetting = z.strictObject({
  default: LimitsSchema,
  owners: z._default(z.record(z.string().check(z.minLength(1), z.maxLength(128)), z.partial(LimitsSchema)), {}),
});
export type OwnerLimitsSetting = z.infer<typeof OwnerLimitsSetting>;

export const DEFAULT_LIMITS: Limits = { ...DEFAULTS.ownerLimits };

/** Parses the OWNER_LIMITS setting (JSON); an owner's entry overrides the default field by field. */
export function parseOwnerLimits(json: string | undefined): (owner: string) => Limits {
  const setting = json ? OwnerLimitsSetting.parse(JSON.parse(json)) : { default: DEFAULT_LIMITS, owners: {} };
  const base = { maxRefusalsPerMinute: DEFAULT_LIMITS.maxRefusalsPerMinute, ...setting.default };
  return (owner) => ({ ...base, ...(Object.hasOwn(setting.owners, owner) ? setting.owners[owner] : {}) });
}

export type QuotaLimit = 'in_flight' | 'daily' | 'refusals';
/** Granted: the slot was taken in counter shard `shard`, which the job keeps and gives it back to. */
export type QuotaDecision =
  | { granted: true; shard: number }
  | { granted: false; limit: QuotaLimit; retryAfterSeconds: number };

/**
 * An owner's counters may be split over up to MAX_COUNTER_SHARDS items (`counterShards` in its limits), each
 * holding its share of the limits: one item takes about 1 000 writes a second, and a job writes its shard twice
 * (take, give back), so one counter serves up to ~400 jobs a second and 16 serve 2 000 with room (each about
 * 250 writes a second). The count is set, not derived from the limits: the shares add up to the limits only
 * over the same shards, so changing it while jobs are in flight lets the owner pass its limits until they end.
 */
export const MAX_COUNTER_SHARDS = 16;

export function counterShardsOf(limits: Limits): number {
  return Math.max(1, Math.min(MAX_COUNTER_SHARDS, Math.floor(limits.counterShards ?? 1)));
}

/** The limits one counter shard enforces. The refusal limit is not split: every shard counts every refusal. */
export function shardLimits(limits: Limits, shards: number, shard: number): Limits {
  return {
    maxInFlight: shareOf(limits.maxInFlight, shards, shard),
    maxPerDay: shareOf(limits.maxPerDay, shards, shard),
    maxRefusalsPerMinute: limits.maxRefusalsPerMinute,
  };
}

/** The UTC minute refusals are counted in (`2026-11-29T18:05`). */
export const minuteOf = (now: Date) => now.toISOString().slice(0, 16);

/** Seconds until the next UTC minute, when the refusal count starts again. */
export function secondsUntilNextMinute(now: Date): number {
  return Math.max(1, 60 - now.getUTCSeconds());
}

/** Seconds until the next UTC midnight, when the daily count starts again. */
export function secondsUntilNextDay(now: Date): number {
  const midnight = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1);
  return Math.max(1, Math.ceil((midnight - now.getTime()) / 1000));
}
