process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

import { BatchWriteCommand, DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import type { Log } from '../lambdas/core/log';
import { reconcile } from '../lambdas/use-cases/reconcile';
import { startLocalStack } from '../local/stack';
import { ms, percentile, ratio, table } from './stats';

/**
 * The reconciler's worst case: N quiet unfinished jobs (predictions running for hours, nothing to report)
 * ahead of one more job. Counts the runs until that job is examined, first when it belongs to the owner of
 * the backlog (it must wait its turn), then to another owner (its fair share). The floor is the part no
 * design avoids: polling one batch of predictions at Replicate (the simulator) with the same concurrency.
 * `npm run bench:reconciler -- 10000`
 */
const quiet: Log = { debug() {}, info() {}, warn() {}, error() {} };
const INTERVAL_SECONDS = 60; // the schedule's default rate

async function main() {
  const backlog = Number(process.argv[2] ?? 10_000);
  const stack = await startLocalStack({
    port: 0,
    log: quiet,
    reconcileIntervalSeconds: 0,
    apiKeys: 'bench=bench-key',
    env: { JOB_TIMEOUT_SECONDS: '86400', RECONCILE_AFTER_SECONDS: '60' },
  });
  const documents = DynamoDBDocumentClient.from(stack.emulators.clients.dynamo);
  const tableName = stack.emulators.resources.tableName;
  const simulator = stack.simulator!;
  let offsetMs = 0;
  stack.deps.clock = () => new Date(Date.now() + offsetMs);

  // Running predictions at the simulator, and one unfinished job item for each: the backlog, then the target.
  const createPrediction = async () => {
    const response = await fetch(`${simulator.url}/v1/predictions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ version: 'v', input: { simulate: { webhooks: false, stepMs: 86_400_000 } } }),
    });
    return ((await response.json()) as { id: string }).id;
  };
  const t0 = Date.now();
  const jobItem = (index: number, owner: string, predictionId: string) => {
    const at = new Date(t0 + index).toISOString(); // distinct, in order: the backlog is older than the target
    return {
      id: `job_bench${String(index).padStart(8, '0')}`,
      owner,
      status: 'starting',
      rank: 1,
      predictionId,
      model: 'a/b',
      input: '{}',
      webhookEvents: ['completed'],
      outputs: [],
      error: null,
      requestHash: 'x',
      createdAt: at,
      updatedAt: at,
      activeShard: 'active',
      checkAt: at,
    };
  };
  const items = [];
  for (let i = 0; i < backlog; i += 50) {
    const ids = await Promise.all(Array.from({ length: Math.min(50, backlog - i) }, createPrediction));
    items.push(...ids.map((predictionId, k) => jobItem(i + k, 'backlog', predictionId)));
  }
  const targets = {
    sameOwner: jobItem(backlog, 'backlog', await createPrediction()),
    otherOwner: jobItem(backlog + 1, 'other', await createPrediction()),
  };
  items.push(targets.sameOwner, targets.otherOwner);
  for (let i = 0; i < items.length; i += 25) {
    const batch = items.slice(i, i + 25).map((item) => ({ PutRequest: { Item: item } }));
    await documents.send(new BatchWriteCommand({ RequestItems: { [tableName]: batch } }));
  }
  const checkAt = async (id: string) =>
    (await documents.send(new GetCommand({ TableName: tableName, Key: { id } }))).Item?.checkAt;

  // Every run at the same moment, a reconcileAfter past all of them: what it examines then is order alone.
  offsetMs = 5 * 60_000;
  const runMs: number[] = [];
  const examinedIn: Record<keyof typeof targets, number | undefined> = { sameOwner: undefined, otherOwner: undefined };
  for (
    let run = 1;
    examinedIn.sameOwner === undefined && run <= Math.ceil(items.length / stack.deps.settings.reconcileBatchSize) + 2;
    run++
  ) {
    const started = performance.now();
    const report = await reconcile(stack.deps);
    runMs.push(performance.now() - started);
    if (report.examined === 0) break;
    for (const name of ['sameOwner', 'otherOwner'] as const) {
      if (examinedIn[name] === undefined && (await checkAt(targets[name].id)) !== targets[name].checkAt)
        examinedIn[name] = run;
    }
  }

  // The floor: one batch of polls, straight to the simulator, as concurrent as the reconciler's.
  const batch = items.slice(0, stack.deps.settings.reconcileBatchSize);
  const floorStart = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < batch.length)
        await (await fetch(`${simulator.url}/v1/predictions/${batch[next++].predictionId}`)).arrayBuffer();
    }),
  );
  const floorMs = performance.now() - floorStart;
  await stack.stop();

  const worst = (runs: number | undefined) =>
    runs === undefined
      ? 'never'
      : `${runs} runs ≈ ${((runs - 1) * INTERVAL_SECONDS + Math.max(...runMs) / 1000).toFixed(0)} s at one run a minute`;
  process.stdout.write(
    table(
      ['figure', 'ours', 'floor (polling one batch at the simulator)', 'ratio'],
      [
        ['quiet jobs ahead', String(backlog), '', ''],
        ['batch per run', String(stack.deps.settings.reconcileBatchSize), '', ''],
        ['run time p50', ms(percentile(runMs, 50)), ms(floorMs), ratio(percentile(runMs, 50), floorMs, 'report')],
        ['run time max', ms(Math.max(...runMs)), ms(floorMs), ratio(Math.max(...runMs), floorMs, '< 40 s budget')],
        ['target job, same owner as the backlog: examined in', worst(examinedIn.sameOwner), '', ''],
        ['target job, another owner: examined in', worst(examinedIn.otherOwner), '', ''],
      ],
    ) + '\n',
  );
  if (examinedIn.sameOwner === undefined || examinedIn.otherOwner !== 1) process.exitCode = 1;
}

main().catch((error) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
