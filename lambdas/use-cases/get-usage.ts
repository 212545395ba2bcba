import { daysOf, type UsageRange, type UsageReport, usageReport } from '../core/usage-report';
import type { Dependencies } from './dependencies';

/** The owner's usage, day by day over the range (at most 92 days: one read of the day items). */
export async function getUsage(
  deps: Pick<Dependencies, 'usage'>,
  owner: string,
  range: UsageRange,
): Promise<UsageReport> {
  return usageReport(owner, range, await deps.usage.read(owner, daysOf(range)));
}
