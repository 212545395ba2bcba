process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { JOB_STATUS_CHANGED } from '../lambdas/adapters/logged-job-repository';
import type { Log } from '../lambdas/core/log';
import { type LocalStack, startLocalStack } from '../local/stack';
import {
  jobsByInvocation,
  type KeyClassRow,
  keyClassifier,
  keyClassRows,
  type Population,
  type Scenario,
  scopesOf,
} from './key-writes';
import { table } from './stats';

/**
 * Writes per partition key at scale. The local stack follows every item the functions write (`recordItemWrites`:
 * the IAM proxy reads each item before and after, and counts the index entries the write changed as DynamoDB does),
 * while two populations of jobs run through it with the simulator answering at once:
 * - spread: jobs from many owners, interleaved: scenario A, 10 000 jobs/s over 1 000 owners (10 jobs/s each);
 * - one owner: scenario B, 2 000 jobs/s from a single owner.
 * They run one after the other in one stack (one start), each until all its jobs succeeded, their callbacks were
 * delivered and no write came for a while: so every write belongs to one population, and a consumer or callback
 * batch never mixes the two. A warm-up job per owner runs first, unmeasured, so that once-a-day writes (the first
 * submit of an owner's day) and cold starts do not count as steady state.
 *
 * From the records: each key's writes per job, whether it is per job, per owner or shared (from which owners' jobs
 * the invocations that wrote it worked for: key-writes.ts), and its writes per second at the scenario's rate. The
 * verdict: whether the busiest key stays under 1 000 writes/s, what one DynamoDB partition takes (a single hot key
 * can never be split further).
 * `npm run bench:scale -- [spread jobs] [owners] [one-owner jobs] [clients]`, default 200 20 200 20 (about 3.5 minutes
 * on 2 loaded cores; 100 + 100 jobs give the same writes per job in about 2: either is too long for `npm run bench`).
 * `--events=completed` (default: all four webhook events), `--no-callbacks` (default: every job has a callback URL):
 * the default is the heaviest workload a client can ask for.
 */
const LIMIT_PER_KEY = 1_000;
const SCENARIOS: Record<'spread' | 'single', Scenario> = {
  spread: { label: 'A: 10 000 jobs/s over 1 000 owners', total: 10_000, perOwner: 10 },
  single: { label: 'B: 2 000 jobs/s from one owner', total: 2_000, perOwner: 2_000 },
};
/** A population has settled once no write came for this long (longer than the consumer's batching window). */
const QUIET_MS = 2_500;

const succeeded = new Set<string>();
const watch: Log = {
  debug() {},
  info(message, extra) {
    if (message === JOB_STATUS_CHANGED && extra?.status === 'succeeded') succeeded.add(String(extra.jobId));
  },
  warn() {},
  error() {},
};

async function main() {
  const started = performance.now();
  const positional = process.argv.slice(2).filter((arg) => !arg.startsWith('--'));
  const flags = process.argv.slice(2).filter((arg) => arg.startsWith('--'));
  const [spreadJobs, ownerCount, singleJobs, clients] = [200, 20, 200, 20].map((fallback, index) =>
    Number(positional[index] ?? fallback),
  );
  const events = (flags.find((flag) => flag.startsWith('--events='))?.slice(9) ?? 'start,output,logs,completed').split(
    ',',
  );
  const callbacks = !flags.includes('--no-callbacks');

  const owners = Array.from({ length: ownerCount }, (_, index) => `owner-${String(index + 1).padStart(3, '0')}`);
  const single = 'single-owner';
  const keyOf = (owner: string) => `key-${owner}`;
  const delivered = new Set<string>();
  const receiver = createServer(async (req, res) => {
    let body = '';
    for await (const chunk of req) body += chunk;
    delivered.add(JSON.parse(body).job?.id);
    res.writeHead(204).end();
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const callbackUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/callbacks`;

  const stack = await startLocalStack({
    port: 0,
    log: watch,
    simulatorStepMs: 0,
    reconcileIntervalSeconds: 0,
    recordItemWrites: true,
    apiKeys: [...owners, single].map((owner) => `${owner}=${keyOf(owner)}`).join(','),
    // 16 counter shards, as an owner meant for 2 000 jobs a second is configured (docs/scale.md).
    env: {
      OWNER_LIMITS: JSON.stringify({ default: { maxInFlight: 100_000, maxPerDay: 1_000_000, counterShards: 16 } }),
    },
  });
  const body = JSON.stringify({
    model: 'bench/model',
    input: { prompt: 'x' },
    webhookEvents: events,
    ...(callbacks ? { callbackUrl } : {}),
  });
  const startedAt = performance.now();

  /** Submits the owners' jobs (interleaved) from `clients` clients, then waits until they have settled. */
  const run = async (name: string, submitters: string[]): Promise<Population & { seconds: number }> => {
    const t0 = performance.now();
    const from = stack.itemWrites.length;
    const jobs = new Map<string, string>();
    let next = 0;
    const client = async () => {
      while (next < submitters.length) {
        const owner = submitters[next++];
        const response = await fetch(`${stack.url}/jobs`, {
          method: 'POST',
          headers: { 'x-api-key': keyOf(owner), 'content-type': 'application/json' },
          body,
        });
        if (response.status !== 202) throw new Error(`submit answered ${response.status}: ${await response.text()}`);
        jobs.set(((await response.json()) as { id: string }).id, owner);
      }
    };
    await Promise.all(Array.from({ length: Math.min(clients, submitters.length) }, client));
    const submitted = (performance.now() - t0) / 1000;
    await settled(stack, () => [...jobs.keys()].every((id) => succeeded.has(id) && (!callbacks || delivered.has(id))));
    const seconds = (performance.now() - t0) / 1000;
    process.stderr.write(
      `${name}: ${jobs.size} jobs submitted in ${submitted.toFixed(0)} s, settled in ${seconds.toFixed(0)} s\n`,
    );
    return { name, jobs, writes: stack.itemWrites.slice(from), seconds };
  };
  const interleaved = (count: number, among: string[]) =>
    Array.from({ length: count }, (_, index) => among[index % among.length]);

  let populations: Array<Population & { seconds: number }>;
  let runSeconds: number;
  try {
    populations = [
      await run('warm-up', [...owners, single]),
      await run('spread', interleaved(spreadJobs, owners)),
      await run('one owner', interleaved(singleJobs, [single])),
    ];
    runSeconds = (performance.now() - startedAt) / 1000;
  } finally {
    await stack.stop();
    receiver.closeAllConnections();
    receiver.close();
  }
  const [warmUp, spread, one] = populations;

  // Which jobs each invocation worked for, and so each key's scope, from everything recorded (warm-up included).
  const ownerOf = new Map([...warmUp.jobs, ...spread.jobs, ...one.jobs]);
  const jobIds = new Set(ownerOf.keys());
  const invocations = jobsByInvocation(stack.awsRequests, stack.itemWrites, jobIds);
  const classOf = keyClassifier(jobIds, new Set([...owners, single]));
  const scopes = scopesOf(stack.itemWrites, invocations, ownerOf, classOf);
  const spreadRows = keyClassRows(spread, SCENARIOS.spread, scopes, classOf);
  const oneRows = keyClassRows(one, SCENARIOS.single, scopes, classOf);

  const rowId = (row: KeyClassRow) => `${row.where}\u0000${row.keyClass}`;
  const ids = [...new Set([...spreadRows, ...oneRows].map(rowId))];
  const find = (rows: KeyClassRow[], id: string) => rows.find((row) => rowId(row) === id);
  const rate = (row: KeyClassRow | undefined) =>
    row === undefined
      ? '—'
      : row.busiestPerSecond !== undefined
        ? `${row.busiestPerSecond.toFixed(0)}${row.sampleBusiestPerSecond !== undefined ? ` (mean ${row.meanPerSecond!.toFixed(0)}, sample's busiest ${row.sampleBusiestPerSecond.toFixed(0)})` : ''}`
        : `— (≤ ${row.mostPerKey} per key, in one job's life)`;
  const under = (row: KeyClassRow | undefined) =>
    row === undefined ? '' : (row.busiestPerSecond ?? row.mostPerKey) < LIMIT_PER_KEY ? 'yes' : '**no**';
  const perJob = (row: KeyClassRow | undefined) =>
    row === undefined
      ? '—'
      : `${row.writesPerJob.toFixed(2)}${row.failedPerJob > 0 ? ` (${row.failedPerJob.toFixed(2)} failed cond.)` : ''}`;
  const rows = ids
    .map((id) => [find(spreadRows, id), find(oneRows, id)] as const)
    .sort(
      ([a1, b1], [a2, b2]) =>
        Math.max(b2?.busiestPerSecond ?? -1, a2?.busiestPerSecond ?? -1) -
        Math.max(b1?.busiestPerSecond ?? -1, a1?.busiestPerSecond ?? -1),
    )
    .map(([a, b]) => {
      const any = (a ?? b)!;
      return [
        any.where,
        `\`${any.keyClass}\``,
        [...new Set([...(a?.scopes ?? []), ...(b?.scopes ?? [])])].join(', '),
        `${a?.keys ?? 0} / ${b?.keys ?? 0}`,
        perJob(a),
        perJob(b),
        rate(a),
        under(a),
        rate(b),
        under(b),
      ];
    });

  const overall = (population: Population) => {
    const attempts = population.writes.filter((write) => write.outcome !== 'failed');
    const failed = attempts.filter((write) => write.outcome === 'conditionFailed').length;
    const indexes = new Map<string, number>();
    for (const write of attempts)
      for (const entry of write.indexWrites) indexes.set(entry.index, (indexes.get(entry.index) ?? 0) + entry.writes);
    const n = population.jobs.size;
    return [
      population.name,
      String(n),
      `${(attempts.length / n).toFixed(2)} (${(failed / n).toFixed(2)} failed cond.)`,
      [...indexes].map(([index, writes]) => `${index} ${(writes / n).toFixed(2)}`).join(', '),
      `${population.writes.filter((write) => write.unread !== undefined).length}`,
    ];
  };
  const busiest = (rows: KeyClassRow[]) =>
    rows.reduce<KeyClassRow | undefined>(
      (top, row) => ((row.busiestPerSecond ?? 0) > (top?.busiestPerSecond ?? 0) ? row : top),
      undefined,
    );
  const verdict = (scenario: Scenario, rows: KeyClassRow[]) => {
    const top = busiest(rows);
    const value = top?.busiestPerSecond ?? 0;
    return `${scenario.label}: busiest key ${top ? `${top.where} \`${top.keyClass}\`` : '—'} at ${value.toFixed(0)} writes/s: ${value < LIMIT_PER_KEY ? 'under' : 'OVER'} ${LIMIT_PER_KEY} per key`;
  };

  process.stdout.write(
    [
      `Workload: webhook events ${events.join(', ')}; ${callbacks ? 'a callback URL on every job' : 'no callbacks'}; reconciler off; simulator answering at once.`,
      `Populations (after a warm-up of one job per owner, ${warmUp.jobs.size} jobs): spread ${spread.jobs.size} jobs over ${owners.length} owners (${spread.seconds.toFixed(0)} s), one owner ${one.jobs.size} jobs (${one.seconds.toFixed(0)} s), ${clients} clients.`,
      '',
      table(
        ['population', 'jobs', 'table writes per job', 'index writes per job', 'writes not followed'],
        [overall(spread), overall(one)],
      ),
      '',
      'Per partition key class (A = spread population at scenario A, B = one-owner population at scenario B; keys seen A / B):',
      table(
        [
          'table / index',
          'key class',
          'scales with',
          'keys',
          'writes per job A',
          'writes per job B',
          'busiest key writes/s at A (estimate at scale; mean, sample)',
          `under ${LIMIT_PER_KEY}`,
          'busiest key writes/s at B (estimate at scale; mean, sample)',
          `under ${LIMIT_PER_KEY}`,
        ],
        rows,
      ),
      '',
      `Verdict (${LIMIT_PER_KEY} writes/s is what one partition key takes):`,
      `- ${verdict(SCENARIOS.spread, spreadRows)}`,
      `- ${verdict(SCENARIOS.single, oneRows)}`,
      '',
      `Took ${((performance.now() - started) / 1000).toFixed(0)} s (jobs ${runSeconds.toFixed(0)} s).`,
    ].join('\n') + '\n',
  );
}

/** Resolves once `done` holds and no item write has come for QUIET_MS; throws after 5 minutes. */
async function settled(stack: LocalStack, done: () => boolean): Promise<void> {
  const deadline = Date.now() + 300_000;
  let count = -1;
  let since = Date.now();
  for (;;) {
    if (stack.itemWrites.length !== count) {
      count = stack.itemWrites.length;
      since = Date.now();
    }
    if (done() && Date.now() - since >= QUIET_MS) return;
    if (Date.now() > deadline)
      throw new Error('the jobs did not all succeed (and their callbacks arrive) in 5 minutes');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

main().catch((error) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
