import type { UsageFigures, UsageReport } from './api-client';

const COLUMNS = ['date', 'submitted', 'succeeded', 'failed', 'canceled', 'predict s', 'est. USD'] as const;

/**
 * `replicate-jobs usage` for a person: one row per day, then the totals. Days with nothing are kept, so the rows
 * line up with the calendar; a cost is `—` when none of the day's jobs had a price, and marked `+` when some had none.
 */
export function usageTable(report: UsageReport): string {
  const rows = [
    [...COLUMNS],
    ...report.days.map((day) => [day.date, ...cells(day)]),
    ['total', ...cells(report.totals)],
  ];
  const widths = COLUMNS.map((_, column) => Math.max(...rows.map((row) => row[column].length)));
  const lines = rows.map((row) =>
    row.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]) : cell.padStart(widths[column]))).join('  '),
  );
  return `${report.owner}: ${report.from} to ${report.to}\n${lines.join('\n')}\n`;
}

function cells(figures: UsageFigures): string[] {
  const cost =
    figures.estimatedCostUsd === null
      ? '—'
      : `${figures.estimatedCostUsd.toFixed(4)}${figures.unpricedJobs > 0 ? '+' : ''}`;
  return [
    String(figures.submitted),
    String(figures.succeeded),
    String(figures.failed),
    String(figures.canceled),
    figures.predictSeconds.toFixed(1),
    cost,
  ];
}
