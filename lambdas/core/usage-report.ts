import { type FieldIssue, fieldIssues, validationFailed } from './request-body';
import * as z from './schema';
import { type DayUsage, EMPTY_DAY, usageDayOf } from './usage';

/** At most this many days per `GET /usage`: a quarter, read in one request (the day items, by key). */
export const MAX_USAGE_DAYS = 92;
/** Without `from`, the report starts this many days before `to` (30 days, today included). */
export const DEFAULT_USAGE_DAYS = 30;

const DATE = /^\d{4}-\d{2}-\d{2}$/;
/** No usage can predate this service, and years before 1970 would make the default range reach year -1. */
const FIRST_DAY = '1970-01-01';
const isDate = (value: string) =>
  DATE.test(value) && value >= FIRST_DAY && usageDayOf(new Date(`${value}T00:00:00Z`)) === value;
const day = z.string().check(z.refine((value) => isDate(value), `must be a date YYYY-MM-DD, ${FIRST_DAY} or later`));
export const UsageQuery = z.strictObject({ from: z.optional(day), to: z.optional(day) });

export interface UsageRange {
  from: string;
  to: string;
}

/** The days from `from` to `to`, both included, in order. */
export function daysOf(range: UsageRange): string[] {
  const days: string[] = [];
  for (let at = Date.parse(`${range.from}T00:00:00Z`); at <= Date.parse(`${range.to}T00:00:00Z`); at += 86_400_000) {
    days.push(usageDayOf(new Date(at)));
  }
  return days;
}

const addDays = (date: string, days: number) =>
  usageDayOf(new Date(Date.parse(`${date}T00:00:00Z`) + days * 86_400_000));

/**
 * The range a query asks for: `to` defaults to today (UTC), `from` to 29 days before `to`. `validation_failed`
 * (422) for a bad date, `from` after `to`, or more than MAX_USAGE_DAYS days, with each problem in `details`.
 */
export function usageRangeOf(query: Record<string, string | undefined>, now: Date): UsageRange {
  const parsed = UsageQuery.safeParse(query);
  if (!parsed.success) throw invalid(fieldIssues(parsed.error, '(query)'));
  const to = parsed.data.to ?? usageDayOf(now);
  const earliest = addDays(to, 1 - DEFAULT_USAGE_DAYS);
  const from = parsed.data.from ?? (earliest < FIRST_DAY ? FIRST_DAY : earliest);
  if (from > to) throw invalid([{ path: 'from', message: `must not be after to (${to})` }]);
  // Counted, not listed: a range of ten thousand years is refused before a single day is made.
  const days = (Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000 + 1;
  if (days > MAX_USAGE_DAYS) {
    throw invalid([{ path: 'from', message: `the range is ${days} days; at most ${MAX_USAGE_DAYS}` }]);
  }
  return { from, to };
}

const invalid = (issues: FieldIssue[]) => validationFailed(issues, 'usage range');

/** A day (or the totals) as `GET /usage` answers it. */
export interface UsageFigures {
  submitted: number;
  succeeded: number;
  failed: number;
  canceled: number;
  predictSeconds: number;
  /**
   * The estimate for the jobs with a known price; `null` when jobs ended and none had one. When only some had one,
   * `unpricedJobs` says how many are left out.
   */
  estimatedCostUsd: number | null;
  unpricedJobs: number;
}

export interface UsageReport {
  owner: string;
  from: string;
  to: string;
  days: Array<{ date: string } & UsageFigures>;
  totals: UsageFigures;
}

/** Every day of the range, those with nothing as zeros (a chart needs them), and the totals. */
export function usageReport(owner: string, range: UsageRange, stored: ReadonlyMap<string, DayUsage>): UsageReport {
  const stamped = daysOf(range).map((date) => ({ date, usage: stored.get(date) ?? EMPTY_DAY }));
  const sum = stamped.reduce<DayUsage>((total, day) => addUsage(total, day.usage), EMPTY_DAY);
  const days = stamped.map(({ date, usage }) => ({ date, ...figuresOf(usage) }));
  return { owner, from: range.from, to: range.to, days, totals: figuresOf(sum) };
}

function addUsage(a: DayUsage, b: DayUsage): DayUsage {
  const sum = { ...a };
  for (const key of Object.keys(EMPTY_DAY) as Array<keyof DayUsage>) sum[key] = a[key] + b[key];
  return sum;
}

function figuresOf(day: DayUsage): UsageFigures {
  return {
    submitted: day.submitted,
    succeeded: day.succeeded,
    failed: day.failed,
    canceled: day.canceled,
    predictSeconds: day.predictMillis / 1000,
    estimatedCostUsd: day.pricedJobs === 0 && day.unpricedJobs > 0 ? null : day.costNanoUsd / 1e9,
    unpricedJobs: day.unpricedJobs,
  };
}

/** The report's JSON shape, for the OpenAPI document. */
const figures = {
  submitted: z.number(),
  succeeded: z.number(),
  failed: z.number(),
  canceled: z.number(),
  predictSeconds: z.number(),
  estimatedCostUsd: z.nullable(z.number()),
  unpricedJobs: z.number(),
};
export const usageReportSchema = z.object({
  owner: z.string(),
  from: z.string(),
  to: z.string(),
  days: z.array(z.object({ date: z.string(), ...figures })),
  totals: z.object(figures),
});
