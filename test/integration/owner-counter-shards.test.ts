import { DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { QuotaDecision } from '../../lambdas/core/owner-limits';
import { cancelJob } from '../../lambdas/use-cases/cancel-job';
import { listJobs } from '../../lambdas/use-cases/list-jobs';
import { startTestStack, type TestStack } from '../support/local-stack';
import { storedJob } from '../support/records';

/**
 * An owner allowed many jobs gets several counter items (shards), each with its share of the limits, so that
 * 2 000 jobs a second do not all write one item. Against the real table: the shards together never pass the
 * owner's limits under concurrency, a full shard sends a submit to one with room, and a leaked slot is repaired.
 */
describe('owner counters in shards (local stack)', () => {
  let stack: TestStack;
  const BIG = { maxInFlight: 100, maxPerDay: 100_000, counterShards: 2 }; // 2 shards of 50
  beforeAll(async () => {
    stack = await startTestStack({
      apiKeys: 'big=key-big',
      reconcileIntervalSeconds: 0,
      env: {
        OWNER_LIMITS: JSON.stringify({
          default: { maxInFlight: 10, maxPerDay: 100 },
          owners: {
            big: BIG,
            daily: { maxInFlight: 1000, maxPerDay: 100, counterShards: 2 },
            picky: BIG,
            mended: { maxInFlight: 2, maxPerDay: 1000, counterShards: 2 },
            ender: BIG,
          },
        }),
      },
    });
  });
  afterAll(() => stack.stop());

  const documents = () => DynamoDBDocumentClient.from(stack.emulators.clients.dynamo);
  const counter = async (key: string) =>
    (await documents().send(new GetCommand({ TableName: stack.emulators.resources.tableName, Key: { id: key } })))
      .Item ?? {};
  const granted = (decisions: QuotaDecision[]) =>
    decisions.filter((decision): decision is Extract<QuotaDecision, { granted: true }> => decision.granted);

  it('never grants more than the owner’s limit together, however the concurrent submits land', async () => {
    const now = new Date();
    const decisions = await Promise.all(Array.from({ length: 130 }, () => stack.deps.quota.acquire('big', now)));
    expect(granted(decisions)).toHaveLength(100);
    expect(decisions.filter((decision) => !decision.granted)).toEqual(
      Array.from({ length: 30 }, () => ({ granted: false, limit: 'in_flight', retryAfterSeconds: 10 })),
    );
    const [zero, one] = [await counter('quota#big'), await counter('quota#big#1')];
    expect([zero.inFlight, one.inFlight]).toEqual([50, 50]);

    // A slot given back to one shard is found by the next submit, wherever it first looks.
    await stack.deps.quota.release('big', { shard: 1 });
    expect(await stack.deps.quota.acquire('big', now)).toEqual({ granted: true, shard: 1 });
    expect((await stack.deps.quota.acquire('big', now)).granted).toBe(false);
  });

  it('repairs a shard’s leaked slots once the grace has passed (here no job holds any of them)', async () => {
    const old = new Date(Date.now() - 61_000).toISOString();
    for (const key of ['quota#big', 'quota#big#1']) {
      await documents().send(
        new UpdateCommand({
          TableName: stack.emulators.resources.tableName,
          Key: { id: key },
          UpdateExpression: 'SET lastAcquiredAt = :old',
          ExpressionAttributeValues: { ':old': old },
        }),
      );
    }
    const decision = await stack.deps.quota.acquire('big', new Date());
    expect(decision.granted).toBe(true);
    const repaired = await counter(decision.granted && decision.shard === 1 ? 'quota#big#1' : 'quota#big');
    expect(repaired.inFlight).toBe(1); // the truth (no unfinished job of that shard) plus this slot
  });

  it('splits the day between the shards and refuses the day once every shard has spent its share', async () => {
    const now = new Date();
    const decisions: QuotaDecision[] = [];
    for (let i = 0; i < 101; i++) {
      const decision = await stack.deps.quota.acquire('daily', now);
      decisions.push(decision);
      if (decision.granted) await stack.deps.quota.release('daily', { shard: decision.shard, countedAt: now });
    }
    expect(granted(decisions)).toHaveLength(100);
    expect(new Set(granted(decisions).map((decision) => decision.shard))).toEqual(new Set([0, 1]));
    expect(decisions.at(-1)).toMatchObject({ granted: false, limit: 'daily' });
  });

  it('counts a refusal in every shard, so the refusal limit is the owner’s, not each shard’s', async () => {
    const now = new Date();
    for (let i = 0; i < 20; i++) await stack.deps.quota.recordRefusal('picky', now);
    expect((await counter('quota#picky')).refusals).toBe(20);
    expect((await counter('quota#picky#1')).refusals).toBe(20);
    expect(await stack.deps.quota.acquire('picky', now)).toMatchObject({ granted: false, limit: 'refusals' });
  });

  const setCounter = (key: string, inFlight: number, lastAcquiredAt = new Date(Date.now() - 61_000).toISOString()) =>
    documents().send(
      new UpdateCommand({
        TableName: stack.emulators.resources.tableName,
        Key: { id: key },
        UpdateExpression: 'SET inFlight = :inFlight, lastAcquiredAt = :at',
        ExpressionAttributeValues: { ':inFlight': inFlight, ':at': lastAcquiredAt },
      }),
    );

  it('repairs a shard from its own unfinished jobs, not another shard’s', async () => {
    // Shard 0 (share 1) holds a real unfinished job; shard 1 (share 1) holds a leaked slot.
    await stack.deps.jobs.create(storedJob({ owner: 'mended', quotaShard: 0 }));
    await setCounter('quota#mended', 1);
    await setCounter('quota#mended#1', 1);
    // Each submit tries a shard picked at random first: shard 1's leak is repaired when it is picked.
    let decision: QuotaDecision = { granted: false, limit: 'in_flight', retryAfterSeconds: 10 };
    for (let attempt = 0; attempt < 25 && !decision.granted; attempt++) {
      decision = await stack.deps.quota.acquire('mended', new Date());
    }
    expect(decision).toEqual({ granted: true, shard: 1 });
    expect((await counter('quota#mended')).inFlight).toBe(1); // the real job's slot stays counted
  });

  it('gives a job’s slot back to the shard it was taken from when the job ends', async () => {
    const job = storedJob({ owner: 'ender', quotaShard: 1 });
    await stack.deps.jobs.create(job);
    await setCounter('quota#ender#1', 1, new Date().toISOString());
    await cancelJob(stack.deps, 'ender', job.id);
    expect((await counter('quota#ender#1')).inFlight).toBe(0);
  });

  it('lists an owner’s jobs from every shard newest first, page after page, none lost or repeated', async () => {
    const base = Date.parse('2026-11-20T10:00:00.000Z');
    const ids: string[] = [];
    for (let i = 0; i < 9; i++) {
      // Alternate shards; jobs 4 and 5 created in the same millisecond (told apart by id).
      const createdAt = new Date(base + (i === 5 ? 4 : i) * 1000).toISOString();
      const id = `job_${String(i).padStart(26, '0')}`;
      ids.push(id);
      await stack.deps.jobs.create(
        storedJob({
          id,
          owner: 'lister',
          status: 'succeeded',
          rank: 3,
          quotaShard: i % 2,
          createdAt,
          updatedAt: createdAt,
        }),
      );
    }
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await listJobs(stack.deps, 'lister', { limit: 2, cursor });
      seen.push(...page.jobs.map((job) => job.id));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    expect(seen).toEqual([...ids].reverse());
  });
});
