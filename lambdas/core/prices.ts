import * as z from './schema';

/**
 * What a model costs at Replicate, as the deployment tells us (`prices` prop, `PRICES` setting): USD per second of
 * predict time (hardware-priced models, deployments) or USD per output file (per-output-priced models, most image
 * models). Keyed by `owner/name` of the model, or of the deployment for jobs on one. Replicate's own bill is the
 * truth; this is an estimate the service can compute when a job ends, with no call to Replicate.
 */
const usd = z.number().check(z.positive(), z.maximum(1_000));
const Price = z.union([z.strictObject({ perSecondUsd: usd }), z.strictObject({ perOutputUsd: usd })]);
export type Price = z.infer<typeof Price>;

const MODEL_NAME = /^[\w.-]+\/[\w.-]+$/;
/** A model version's id, as a job names one instead of a model (`"version"`). */
const VERSION_ID = /^[0-9a-f]{64}$/i;
export const PriceTableSetting = z.record(
  z
    .string()
    .check(
      z.refine(
        (name) => MODEL_NAME.test(name) || VERSION_ID.test(name),
        'a model or deployment as owner/name, or a version id',
      ),
    ),
  Price,
);
export type PriceTable = z.infer<typeof PriceTableSetting>;

/**
 * Parses the PRICES setting (JSON); none set: no price is known, and every cost is `null`. Names are kept in lower
 * case: Replicate's names are case-insensitive, and so is submit's check of them, so `A/B` and `a/b` are one model.
 */
export function parsePrices(json: string | undefined): PriceTable {
  if (!json) return {};
  const table = PriceTableSetting.parse(JSON.parse(json));
  return Object.fromEntries(Object.entries(table).map(([name, price]) => [name.toLowerCase(), price]));
}

/**
 * The price of what a job ran on: its deployment's, else its model's, else its version's (a job may name only a
 * version); undefined when none is listed.
 */
export function priceOf(
  prices: PriceTable,
  job: { model: string; version?: string; deployment?: string },
): Price | undefined {
  for (const name of [job.deployment, job.model, job.version]) {
    const key = name?.toLowerCase();
    if (key && Object.hasOwn(prices, key)) return prices[key];
  }
  return undefined;
}

/**
 * The estimated cost in nano-dollars (10⁻⁹ USD), an integer: sums of integers never drift, where a day of
 * `0.000225 × 1.37` added in floating point would. Per second: of predict time; per output: of stored files.
 */
export function costNanoUsd(price: Price, usage: { predictMillis: number; outputs: number }): number {
  const usdCost =
    'perSecondUsd' in price ? (price.perSecondUsd * usage.predictMillis) / 1000 : price.perOutputUsd * usage.outputs;
  return Math.round(usdCost * 1e9);
}
