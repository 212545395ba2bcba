import { UsageQuery, usageRangeOf } from '../core/usage-report';
import { getUsage } from '../use-cases/get-usage';
import type { Operation } from './operation';

/** `GET /usage?from=&to=`: the owner's jobs, predict time and estimated cost per UTC day (at most 92 days). */
export const getUsageOperation: Operation = {
  name: 'getUsage',
  method: 'GET',
  path: '/usage',
  function: 'status',
  apiKeyRequired: true,
  summary:
    "The owner's usage per UTC day from `from` to `to` (YYYY-MM-DD, both included; default: the last 30 days to today; at most 92 days): jobs accepted and how they ended (on the day they were submitted), predict seconds and estimated cost",
  request: { query: UsageQuery },
  success: {
    status: 200,
    description: 'Every day of the range (zeros where nothing ran) and the totals',
    schema: 'usage',
  },
  errors: ['unauthorized', 'validation_failed', 'internal_error'],
  async handle(request, deps) {
    const range = usageRangeOf(request.query, deps.clock());
    return { body: await getUsage(deps, request.owner, range) };
  },
};
