import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { reconcile } from '../../lambdas/use-cases/reconcile';
import { startTestStack, type TestStack } from '../support/local-stack';

/**
 * The reconciler must reach every unfinished job in bounded time, whatever the backlog: quiet jobs that stay
 * quiet forever (long predictions) must not keep the front of the order, and one owner's backlog must not
 * push another owner's job out of a run.
 */
describe('reconciler: every quiet job examined in bounded time, a fair share per owner', () => {
  let stack: TestStack;
  let offsetMs = 0;
  const BATCH = 10;
  const HOG_JOBS = 35;
  const stuck = { simulate: { webhooks: false, stepMs: 3_600_000 } };

  beforeAll(async () => {
    stack = await startTestStack({
      reconcileIntervalSeconds: 0,
      env: { RECONCILE_BATCH_SIZE: String(BATCH), RECONCILE_AFTER_SECONDS: '30', JOB_TIMEOUT_SECONDS: '3600' },
    });
    stack.deps.clock = () => new Date(Date.now() + offsetMs);
  });
  afterAll(() => stack.stop());

  /** When the reconciler last looked at each unfinished job (`checkAt`), read straight from the table. */
  async function checkedAt(): Promise<Map<string, { owner: string; checkAt: string }>> {
    const { Items = [] } = await stack.emulators.clients.dynamo.send(
      new ScanCommand({
        TableName: stack.emulators.resources.tableName,
        FilterExpression: 'attribute_exists(activeShard)',
      }),
    );
    return new Map(Items.map((item) => [item.id.S!, { owner: item.owner.S!, checkAt: item.checkAt.S! }]));
  }

  it(`examines ${HOG_JOBS + 1} quiet jobs in ceil(${HOG_JOBS + 1} / ${BATCH}) runs of ${BATCH}, the other owner's job in the first`, async () => {
    const hog = [];
    for (let i = 0; i < HOG_JOBS; i++) hog.push(await stack.submit({ model: 'a/b', input: { i, ...stuck } }));
    const lone = await stack.submit({ model: 'a/b', input: stuck }, { key: 'key-bob' });
    const ids = [...hog.map((job) => job.id), lone.id];
    expect(stack.deps.settings.reconcileBatchSize).toBe(BATCH); // the setting reached the functions through the template

    // 36 submits in a row pass Replicate's create rate: the admitter creates the last ones a little later.
    const keyOf = (id: string) => (id === lone.id ? 'key-bob' : 'key-alice');
    for (const id of ids) await stack.waitFor(id, (view) => view.predictionId !== null, { key: keyOf(id) });
    // First let every job find its prediction running (one poll each, fed through the consumer), so that
    // the runs below find nothing new: only the order of examination is left to observe.
    offsetMs = 60_000;
    for (let run = 0; run < 5; run++) await reconcile(stack.deps);
    for (const id of ids)
      await stack.waitFor(id, (view) => view.status === 'starting', { key: id === lone.id ? 'key-bob' : 'key-alice' });

    offsetMs = 600_000;
    const now = stack.deps.clock().toISOString(); // each run marks the jobs it examined with its own start time, later
    const examinedAfter: number[] = [];
    const first = await reconcile(stack.deps);
    expect(first).toMatchObject({ examined: BATCH, polled: BATCH, advanced: 0 });
    const afterFirst = await checkedAt();
    // Bob's single job is the newest of all, yet it gets its share of the first run.
    expect(afterFirst.get(lone.id)!.checkAt >= now).toBe(true);
    examinedAfter.push([...afterFirst.values()].filter((job) => job.checkAt >= now).length);
    for (let run = 2; run <= Math.ceil(ids.length / BATCH); run++) {
      await reconcile(stack.deps);
      examinedAfter.push([...(await checkedAt()).values()].filter((job) => job.checkAt >= now).length);
    }
    // Each run examines jobs not yet examined: the backlog moves, it does not repeat its front.
    expect(examinedAfter).toEqual([10, 20, 30, 36]);
    expect(await reconcile(stack.deps)).toMatchObject({ examined: 0 });
  });

  it('a job that changed keeps its place in the quiet order: checkAt is its creation, not its last write', async () => {
    offsetMs = 0;
    const job = await stack.submit({
      model: 'a/b',
      input: { simulate: { stepMs: 4_000 } },
      webhookEvents: ['start', 'completed'],
    }); // started at 4 s, done at 12 s
    await stack.waitFor(job.id, (view) => view.status !== 'queued');
    const item = (await checkedAt()).get(job.id)!;
    const { updatedAt } = (await stack.request(`/jobs/${job.id}`)).json;
    expect(updatedAt > job.createdAt).toBe(true);
    // Moving the index's sort key on every status change would cost the index two writes each time.
    expect(item.checkAt).toBe(job.createdAt);
  });
});
