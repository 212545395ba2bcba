import * as z from './schema';

/**
 * Per-owner limits: jobs in flight (submitted, not ended) and jobs accepted per UTC day. Every product
 * built on this needs them: one runaway client must not spend the whole Replicate budget.
 */
export interface Limits {
  maxInFlight: number;
  maxPerDay: number;
}

const count = (max: number) => z.number().check(z.int(), z.minimum(1), z.maximum(max));
const LimitsSchema = z.strictObject({ maxInFlight: count(1_000_000), maxPerDay: count(100_000_000) });

export const OwnerLimitsSetting = z.strictObject({
  default: LimitsSchema,
  owners: z._default(z.record(z.string().check(z.minLength(1), z.maxLength(128)), z.partial(LimitsSchema)), {}),
});
export type OwnerLimitsSetting = z.infer<typeof OwnerLimitsSetting>;

export const DEFAULT_LIMITS: Limits = { maxInFlight: 50, maxPerDay: 10_000 };

/** Parses the OWNER_LIMITS setting (JSON); an owner's entry overrides the default field by field. */
export function parseOwnerLimits(json: string | undefined): (owner: string) => Limits {
  const setting = json ? OwnerLimitsSetting.parse(JSON.parse(json)) : { default: DEFAULT_LIMITS, owners: {} };
  return (owner) => ({ ...setting.default, ...(Object.hasOwn(setting.owners, owner) ? setting.owners[owner] : {}) });
}

export type QuotaDecision = { granted: true } | { granted: false; limit: 'in_flight' | 'daily'; retryAfterSeconds: number };

/** Seconds until the next UTC midnight, when the daily count starts again. */
export function secondsUntilNextDay(now: Date): number {
  const midnight = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1);
  return Math.max(1, Math.ceil((midnight - now.getTime()) / 1000));
}
