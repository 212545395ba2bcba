/** Percentile of a sample (nearest rank), and the shared table printer of the benchmarks. */
export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

export function table(header: string[], rows: string[][]): string {
  return [
    `| ${header.join(' | ')} |`,
    `|${header.map(() => '---').join('|')}|`,
    ...rows.map((row) => `| ${row.join(' | ')} |`),
  ].join('\n');
}

export const ms = (value: number) => `${value.toFixed(2)} ms`;
export const ratio = (ours: number, floor: number, target: string) =>
  `${(ours / floor).toFixed(2)}× (target ${target})`;
