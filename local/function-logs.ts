import type { MemoryMetrics } from '../lambdas/adapters/powertools-metrics';
import type { Log } from '../lambdas/core/log';
import type { MetricName } from '../lambdas/core/metrics';

/**
 * What CloudWatch would do with the functions' output, locally: Powertools' JSON log lines go to the local
 * log (level, message, the rest as fields), Embedded Metric Format lines become metric totals, and every
 * structured record is offered to `observe` (the live view). Other lines (the runtime's own) are logged as
 * `function output`.
 */
export function functionLogSink(options: {
  log?: Log;
  metrics: MemoryMetrics;
  observe?: (record: Record<string, any>) => void;
  /** Every line when no `log` is given (npm start prints them as they come). */
  print?: (line: string) => void;
}): (line: string, functionName: string) => void {
  return (line, functionName) => {
    let record: Record<string, any> | undefined;
    try {
      const parsed = JSON.parse(line);
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) record = parsed;
    } catch {
      // not JSON: a line of the runtime's, or a stray console.log
    }
    if (record?._aws?.CloudWatchMetrics) return addMetrics(options.metrics, record);
    if (record) options.observe?.(record);
    if (!options.log) return options.print?.(line);
    if (!record || typeof record.level !== 'string')
      return options.log.info('function output', { function: functionName, line });
    // Powertools' records have a string message; the runtime's own (JSON log format) may carry an object.
    const { level, message, timestamp: _timestamp, service: _service, ...extra } = record;
    const method = String(level).toLowerCase() as 'debug' | 'info' | 'warn' | 'error';
    (options.log[method] ?? options.log.info)(typeof message === 'string' ? message : JSON.stringify(message), {
      function: functionName,
      ...extra,
    });
  };
}

/** An EMF record: each metric's value under its name, dimensions as top-level fields (`service` is always one). */
function addMetrics(metrics: MemoryMetrics, record: Record<string, any>) {
  for (const directive of record._aws.CloudWatchMetrics) {
    const dimensionNames = [...new Set<string>((directive.Dimensions ?? []).flat())].filter(
      (name) => name !== 'service',
    );
    const dimensions = dimensionNames.length
      ? Object.fromEntries(dimensionNames.map((name) => [name, String(record[name])]))
      : undefined;
    for (const { Name } of directive.Metrics ?? []) {
      const values = ([] as number[]).concat(record[Name]);
      for (const value of values) metrics.count(Name as MetricName, value, dimensions);
    }
  }
}
