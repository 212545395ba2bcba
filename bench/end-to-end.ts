process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

import { JOB_STATUS_CHANGED } from '../lambdas/adapters/logged-job-repository';
import type { Log } from '../lambdas/core/log';
import { startLocalStack } from '../local/stack';
import { ms, percentile, ratio, table } from './stats';

/**
 * End to end on the local stack with the simulator answering at once: submits N jobs (one image output each)
 * from C concurrent clients, and measures sustained jobs per second, submit → succeeded latency, where the
 * time goes, and the AWS requests one successful job costs. The floor is the simulator's own part of each
 * job (create → completed webhook sent): what any system on top of Replicate must wait for.
 * `npm run bench:e2e -- 2000 20`
 */
/** The deployed functions' own log lines tell when each job succeeded (as CloudWatch Logs would). */
const succeededAt = new Map<string, number>();
const watch: Log = {
  debug() {},
  info(message, extra) {
    if (message === JOB_STATUS_CHANGED && extra?.status === 'succeeded')
      succeededAt.set(String(extra.jobId), performance.now());
  },
  warn() {},
  error() {},
};

async function main() {
  const jobs = Number(process.argv[2] ?? 2000);
  const concurrency = Number(process.argv[3] ?? 20);
  const stack = await startLocalStack({
    port: 0,
    log: watch,
    simulatorStepMs: 0,
    reconcileIntervalSeconds: 0,
    apiKeys: 'bench=bench-key',
    env: {
      OWNER_LIMITS: JSON.stringify({ default: { maxInFlight: 100_000, maxPerDay: 1_000_000 } }),
      // The simulator has no create limit: pacing at Replicate's default (600 a minute) would send most jobs through
      // the admitter, and this measures a job's own path (bench:scale measures the admission path).
      REPLICATE_CREATES_PER_MINUTE: '600000',
    },
  });
  const submittedAt = new Map<string, number>();
  const submitDone = new Map<string, number>();

  const started = performance.now();
  let next = 0;
  const client = async () => {
    while (next++ < jobs) {
      const t0 = performance.now();
      const response = await fetch(`${stack.url}/jobs`, {
        method: 'POST',
        headers: { 'x-api-key': 'bench-key', 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'bench/model', input: { prompt: 'x' } }),
      });
      const job = (await response.json()) as { id: string };
      if (response.status !== 202) throw new Error(`submit answered ${response.status}`);
      submittedAt.set(job.id, t0);
      submitDone.set(job.id, performance.now());
    }
  };
  await Promise.all(Array.from({ length: concurrency }, client));
  const deadline = Date.now() + 120_000;
  while (succeededAt.size < jobs && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  const elapsed = (performance.now() - started) / 1000;

  const ids = [...submittedAt.keys()];
  const latency = ids.filter((id) => succeededAt.has(id)).map((id) => succeededAt.get(id)! - submittedAt.get(id)!);
  const simulated = [...stack.simulator!.predictions.values()].map(
    (p) => Date.parse(p.completed_at!) - Date.parse(p.created_at),
  );
  const segment = (from: Map<string, number>, to: Map<string, number>) =>
    percentile(
      ids.filter((id) => from.has(id) && to.has(id)).map((id) => to.get(id)! - from.get(id)!),
      50,
    );
  const lost = jobs - succeededAt.size;
  await stack.stop();

  // Every AWS request the functions made, as the IAM proxy recorded it. The event source's own requests (it polls,
  // and deletes what a batch handled, with the function's role) are counted apart: Lambda makes them, not our code.
  const counts = new Map<string, { count: number; ms: number }>();
  const EVENT_SOURCE = ['sqs:ReceiveMessage', 'sqs:GetQueueAttributes', 'sqs:DeleteMessage', 'sqs:DeleteMessageBatch'];
  let eventSource = 0;
  for (const request of stack.awsRequests) {
    if (EVENT_SOURCE.includes(request.action)) {
      eventSource++;
      continue;
    }
    const key = `${request.function.replace(/^ReplicateJobs|Function[0-9A-F]{8}$/g, '')} ${request.action}`;
    const entry = counts.get(key) ?? { count: 0, ms: 0 };
    entry.count++;
    entry.ms += request.latencyMs;
    counts.set(key, entry);
  }
  const perJob = [...counts.entries()]
    .sort()
    .map(([operation, { count, ms: spent }]) => [
      operation,
      (count / jobs).toFixed(2),
      `${(spent / count).toFixed(1)} ms`,
    ]);
  const total = [...counts.values()].reduce((a, b) => a + b.count, 0) / jobs;
  // The emulators' share: the time one job's AWS requests took (proxy + emulator), summed, against its latency.
  const inAws = [...counts.values()].reduce((a, b) => a + b.ms, 0) / jobs;
  const p50 = percentile(latency, 50);
  process.stdout.write(
    [
      table(
        ['figure', 'ours', 'floor (simulated Replicate: create → completed)', 'ratio'],
        [
          ['jobs', `${jobs} submitted, ${succeededAt.size} succeeded, ${lost} lost`, '', ''],
          [
            'sustained throughput',
            `${(succeededAt.size / elapsed).toFixed(0)} jobs/s (${concurrency} clients)`,
            '',
            '',
          ],
          [
            'submit → succeeded p50',
            ms(percentile(latency, 50)),
            ms(percentile(simulated, 50)),
            ratio(percentile(latency, 50), Math.max(1, percentile(simulated, 50)), 'report'),
          ],
          [
            'submit → succeeded p99',
            ms(percentile(latency, 99)),
            ms(percentile(simulated, 99)),
            ratio(percentile(latency, 99), Math.max(1, percentile(simulated, 99)), 'report'),
          ],
        ],
      ),
      '',
      'Where the time goes (p50 per job):',
      table(
        ['segment', 'p50'],
        [
          ['submit request (validate, put job, create prediction, record id)', ms(segment(submittedAt, submitDone))],
          [
            'submit answered → succeeded (webhook, queue with its batching window, consumer: lease, copy, write)',
            ms(segment(submitDone, succeededAt)),
          ],
          [
            "the job's AWS requests, summed (IAM proxy + emulator: the emulators' share of a job)",
            `${ms(inAws)} (${((100 * inAws) / p50).toFixed(0)} % of the p50 latency)`,
          ],
        ],
      ),
      '',
      `AWS requests per successful job, made by the functions: ${total.toFixed(2)} (target ≤ 9); by the event sources (polling, deleting): ${(eventSource / jobs).toFixed(2)}`,
      table(['function and action', 'per job', 'mean time (proxy + emulator)'], perJob),
    ].join('\n') + '\n',
  );
  if (lost > 0) process.exitCode = 1;
}

main().catch((error) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
