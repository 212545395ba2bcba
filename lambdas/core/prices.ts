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
export const PriceTableSetting = z.record(
  z.string().check(z.regex(MODEL_NAME, 'a model or deployment as owner/name')),
  Price,
);
export type PriceTable = z.infer<typeof PriceTableSetting>;

/** Parses the PRICES setting (JSON); none set: no price is known, and every cost is `null`. */
export function parsePrices(json: string | undefined): PriceTable {
  return json ? PriceTableSetting.parse(JSON.parse(json)) : {};
}

/** The price of what a job ran on: its deployment's, else its model's; undefined when none is listed. */
export function priceOf(prices: PriceTable, job: { model: string; deployment?: string }): Price | undefined {
  const name = job.deployment || job.model;
  return Object.hasOwn(prices, name) ? prices[name] : undefined;
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
