import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { startTestStack, type TestStack } from '../support/local-stack';
import { storedJob } from '../support/records';

/**
 * The conditions every job write carries, each held on its own against the real table (no timing involved):
 * terminal is final, status only moves up, an event for another prediction changes nothing.
 */
describe('job writes are guarded by their conditions', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack({ reconcileIntervalSeconds: 0 });
  });
  afterAll(() => stack.stop());

  const at = (second: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, second)).toISOString();
  async function queuedJob(predictionId = 'p1'): Promise<string> {
    const job = storedJob({ createdAt: at(0), updatedAt: at(0), predictionId });
    const { id } = job;
    expect(await stack.deps.jobs.create(job)).toEqual({ created: true });
    return id;
  }
  const succeed = (id: string, second: number, predictionId = 'p1') =>
    stack.deps.jobs.advance(
      id,
      { status: 'succeeded', rank: 3, updatedAt: at(second), completedAt: at(second), predictionId },
      { outputs: [] },
    );
  const cancel = (id: string, second: number) =>
    stack.deps.jobs.finish(id, {
      status: 'canceled',
      error: { code: 'prediction_canceled', message: 'canceled' },
      updatedAt: at(second),
    });

  it('a cancel or timeout after a success changes nothing, and a success after them neither (both orders)', async () => {
    const succeededFirst = await queuedJob();
    expect((await succeed(succeededFirst, 1)).applied).toBe(true);
    expect((await cancel(succeededFirst, 2)).applied).toBe(false);
    expect((await stack.deps.jobs.get(succeededFirst))!.status).toBe('succeeded');

    const canceledFirst = await queuedJob();
    expect((await cancel(canceledFirst, 1)).applied).toBe(true);
    expect((await succeed(canceledFirst, 2)).applied).toBe(false);
    expect((await cancel(canceledFirst, 3)).applied).toBe(false); // a second ending neither
    expect((await stack.deps.jobs.get(canceledFirst))!.status).toBe('canceled');
  });

  it('status only moves up: a late `starting` after `processing` is refused', async () => {
    const id = await queuedJob();
    expect(
      (await stack.deps.jobs.advance(id, { status: 'processing', rank: 2, updatedAt: at(2), predictionId: 'p1' }))
        .applied,
    ).toBe(true);
    expect(
      (await stack.deps.jobs.advance(id, { status: 'starting', rank: 1, updatedAt: at(3), predictionId: 'p1' }))
        .applied,
    ).toBe(false);
    expect((await stack.deps.jobs.get(id))!.status).toBe('processing');
  });

  it('copied outputs are recorded only by the lease holder, handed to whoever holds the lease next, and gone once the job ends', async () => {
    const id = await queuedJob();
    const output = (index: number) => ({
      index,
      key: `outputs/alice/${id}/${index}.png`,
      contentType: 'image/png',
      size: 10,
    });
    const lease = async (holder: string, second: number) =>
      (await stack.deps.jobs.acquireTransferLease(id, 'p1', holder, at(second), at(second + 60)))?.lease;
    expect(await lease('a', 1)).toEqual({ copied: [] });
    expect(await stack.deps.jobs.recordCopiedOutput(id, 'a', output(0))).toBe(true);
    expect(await lease('a', 2)).toEqual({ copied: [output(0)] }); // a redelivery of the same message
    expect(await lease('b', 3)).toBeUndefined(); // a duplicate, while the lease runs
    expect(await lease('b', 70)).toEqual({ copied: [output(0)] }); // it took over after expiry
    expect(await stack.deps.jobs.recordCopiedOutput(id, 'a', output(1))).toBe(false); // the old holder cannot add
    expect(await stack.deps.jobs.recordCopiedOutput(id, 'b', output(1))).toBe(true);
    expect((await lease('b', 71))!.copied.sort((x, y) => x.index - y.index)).toEqual([output(0), output(1)]);
    expect((await succeed(id, 72)).applied).toBe(true);
    expect(await stack.deps.jobs.recordCopiedOutput(id, 'b', output(2))).toBe(false);
    const raw = await stack.emulators.clients.dynamo.send(
      new GetItemCommand({ TableName: stack.emulators.resources.tableName, Key: { id: { S: id } } }),
    );
    expect(
      Object.keys(raw.Item!).filter((name) => name.startsWith('transferLease') || name === 'copiedOutputs'),
    ).toEqual([]);
  });

  it("a success's lease is taken only for a job still running this prediction's (or none yet: then bound to it, out of the waiting line), answering with the job", async () => {
    const leaseForSuccess = (id: string, predictionId: string, holder: string, second: number) =>
      stack.deps.jobs.acquireTransferLease(id, predictionId, holder, at(second), at(second + 60));
    const id = await queuedJob('p1');
    expect(await leaseForSuccess(id, 'p2', 'a', 1)).toBeUndefined(); // another prediction's event
    const taken = await leaseForSuccess(id, 'p1', 'a', 2);
    expect(taken).toMatchObject({ job: { id, status: 'queued', predictionId: 'p1' }, lease: { copied: [] } });
    expect(await leaseForSuccess(id, 'p1', 'b', 3)).toBeUndefined(); // a duplicate, while the lease runs
    expect(await leaseForSuccess(id, 'p1', 'a', 4)).toMatchObject({ job: { id } }); // a redelivery of the same message
    // A job waiting for capacity whose earlier create's answer was lost: its prediction's success binds it.
    const unnamed = storedJob({ createdAt: at(0), updatedAt: at(0), waitingSince: at(0) });
    expect(await stack.deps.jobs.create(unnamed)).toEqual({ created: true });
    expect((await stack.deps.jobs.listWaiting()).map((each) => each.id)).toContain(unnamed.id);
    const bound = await leaseForSuccess(unnamed.id, 'p9', 'a', 5);
    expect(bound?.job).toMatchObject({ id: unnamed.id, predictionId: 'p9' });
    expect(bound?.job.waitingSince).toBeUndefined();
    expect((await stack.deps.jobs.listWaiting()).map((each) => each.id)).not.toContain(unnamed.id);
    expect(await stack.deps.jobs.claimWaiting(unnamed.id, at(6))).toBeUndefined(); // no second prediction for it
    expect(await leaseForSuccess(unnamed.id, 'p8', 'a', 7)).toBeUndefined(); // nor another prediction's copies
    expect((await succeed(id, 70)).applied).toBe(true);
    expect(await leaseForSuccess(id, 'p1', 'c', 200)).toBeUndefined(); // ended
    expect(await leaseForSuccess('job_0000000000000000000000000z', 'p1', 'a', 1)).toBeUndefined(); // no such job
    const raw = await stack.emulators.clients.dynamo.send(
      new GetItemCommand({
        TableName: stack.emulators.resources.tableName,
        Key: { id: { S: 'job_0000000000000000000000000z' } },
      }),
    );
    expect(raw.Item).toBeUndefined(); // a refused lease creates nothing
  });

  it('a step of a prediction takes a waiting job out of the waiting line (a prediction exists: the reconciler polls it)', async () => {
    const waiting = storedJob({ createdAt: at(0), updatedAt: at(0), waitingSince: at(0) });
    expect(await stack.deps.jobs.create(waiting)).toEqual({ created: true });
    const outcome = await stack.deps.jobs.advance(waiting.id, {
      status: 'processing',
      rank: 2,
      updatedAt: at(1),
      predictionId: 'p1',
    });
    expect(outcome.applied && outcome.job).toMatchObject({ status: 'processing', predictionId: 'p1' });
    expect(outcome.applied && outcome.job.waitingSince).toBeUndefined();
    expect((await stack.deps.jobs.listWaiting()).map((each) => each.id)).not.toContain(waiting.id);
  });

  it('an event for another prediction changes nothing', async () => {
    const id = await queuedJob('p1');
    expect((await succeed(id, 1, 'p2')).applied).toBe(false);
    expect((await stack.deps.jobs.get(id))!).toMatchObject({ status: 'queued', predictionId: 'p1' });
  });

  it('a partial output is kept only while the job runs, for its prediction, when larger than the one kept; the end removes it', async () => {
    const id = await queuedJob('p1');
    const partial = (tokens: string[]) => ({ json: JSON.stringify(tokens), size: JSON.stringify(tokens).length });
    const keep = (tokens: string[], second: number, predictionId = 'p1') =>
      stack.deps.jobs.recordPartialOutput(id, predictionId, partial(tokens), at(second));
    expect(await keep(['a', 'b'], 1)).toBe(true);
    expect(await keep(['a'], 2)).toBe(false); // an earlier, smaller one that arrived late
    expect(await keep(['a', 'b'], 2)).toBe(false); // a repeat
    expect(await keep(['a', 'b', 'c'], 3, 'p2')).toBe(false); // another prediction's
    expect(await keep(['a', 'b', 'c'], 0)).toBe(false); // from a writer whose clock is behind
    expect(await stack.deps.jobs.get(id)).toMatchObject({ partialOutput: ['a', 'b'], partialOutputSize: 9 });
    expect((await succeed(id, 4)).applied).toBe(true);
    const ended = (await stack.deps.jobs.get(id))!;
    expect(ended.partialOutput).toBeUndefined();
    expect(ended.partialOutputSize).toBe(9); // kept: the model produced something (the daily credit reads it)
    expect(await keep(['a', 'b', 'c', 'd'], 5)).toBe(false); // after the end
  });

  it("the usage ledger counts each job's attempt once, however often its write is repeated (an SDK retry)", async () => {
    const day = '2026-01-01';
    const ended = { attempt: 'job_x@1', day, outcome: 'succeeded' as const, predictMillis: 1000, costNanoUsd: 5 };
    await stack.deps.usage.recordSubmitted('zed', 'job_x@1', day);
    await stack.deps.usage.recordSubmitted('zed', 'job_x@1', day);
    await stack.deps.usage.recordEnded('zed', ended);
    await stack.deps.usage.recordEnded('zed', ended);
    await stack.deps.usage.recordEnded('zed', { ...ended, attempt: 'job_x@2' }); // its retry: another attempt
    expect((await stack.deps.usage.read('zed', [day])).get(day)).toMatchObject({
      submitted: 1,
      succeeded: 2,
      predictMillis: 2000,
      costNanoUsd: 10,
    });
  });
});
