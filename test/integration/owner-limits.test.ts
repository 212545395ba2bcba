import { DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { reconcile } from '../../lambdas/use-cases/reconcile';
import { startTestStack, type TestStack } from '../support/local-stack';

const LIMITS = { default: { maxInFlight: 2, maxPerDay: 6 }, owners: { bob: { maxInFlight: 1 } } };
const STUCK = { simulate: { webhooks: false, stepMs: 3_600_000 } };

/** Per-owner limits with conditional counters, released however a job ends. */
describe('owner limits (local stack)', () => {
  let stack: TestStack;
  let offsetMs = 0;
  beforeEach(async () => {
    offsetMs = 0;
    stack = await startTestStack({
      apiKeys: 'alice=key-alice,bob=key-bob,carol=key-carol',
      reconcileIntervalSeconds: 0,
      env: { OWNER_LIMITS: JSON.stringify(LIMITS), JOB_TIMEOUT_SECONDS: '600' },
    });
    stack.deps.clock = () => new Date(Date.now() + offsetMs);
  });
  afterEach(() => stack.stop());

  const submit = (key = 'key-alice', input: object = STUCK, headers: Record<string, string> = {}, extra: object = {}) =>
    stack.request('/jobs', { body: { model: 'a/b', input, ...extra }, key, headers });

  it('refuses a job over the in-flight limit with 429, Retry-After, and writes nothing, calls nothing', async () => {
    expect((await submit()).status).toBe(202);
    expect((await submit()).status).toBe(202);
    const items = await stack.itemCount();
    const predictions = stack.simulator!.predictions.size;
    const refused = await submit();
    expect(refused).toMatchObject({
      status: 429,
      json: { error: { code: 'owner_limit_exceeded', details: { limit: 'in_flight' } } },
    });
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await stack.itemCount()).toBe(items);
    expect(stack.simulator!.predictions.size).toBe(predictions);
    // Limits are per owner: carol is unaffected, bob has his own smaller limit.
    expect((await submit('key-carol')).status).toBe(202);
    expect((await submit('key-bob')).status).toBe(202);
    expect((await submit('key-bob')).status).toBe(429);
  });

  it.each([
    [
      'canceled',
      async (id: string) => expect((await stack.request(`/jobs/${id}/cancel`, { method: 'POST' })).status).toBe(200),
    ],
    ['failed at Replicate', async () => undefined, { simulate: { fail: 'boom' } }],
    ['succeeded', async () => undefined, {}],
    ['refused by Replicate at submit', async () => undefined, { simulate: { reject: 'bad input' } }],
    [
      'timed out',
      async () => {
        offsetMs = 121_000; // quiet long enough to be looked at, past its own 60 s timeout (not the other job's)
        expect(await reconcile(stack.deps)).toMatchObject({ timedOut: 1 });
        offsetMs = 0;
      },
      STUCK,
      { timeoutSeconds: 60 },
    ],
  ])('gives the slot back when a job is %s', async (_name, end, input: object = STUCK, extra: object = {}) => {
    await submit(); // one slot taken by a job that stays
    const response = await submit('key-alice', input, {}, extra);
    if (response.status === 202) {
      await end(response.json.id);
      await stack.waitFor(response.json.id);
    }
    expect((await submit()).status).toBe(202);
    expect((await submit()).status).toBe(429);
  });

  it('counts accepted jobs per day: those Replicate refused, and those it throttled (they wait, accepted)', async () => {
    const quick = { simulate: { output: 'text' } };
    expect((await submit('key-alice', { simulate: { reject: 'no' } })).status).toBe(422);
    for (let i = 0; i < 4; i++) {
      const response = await submit('key-alice', quick);
      expect(response.status).toBe(202);
      await stack.waitFor(response.json.id);
    }
    // Last: Replicate's Retry-After would hold every create after it.
    const throttled = await submit('key-alice', { simulate: { rateLimit: true } });
    expect(throttled).toMatchObject({ status: 202, json: { status: 'queued', predictionId: null } });
    const refused = await submit('key-alice', quick);
    expect(refused).toMatchObject({ status: 429, json: { error: { details: { limit: 'daily' } } } });
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(86_400);
    // Canceled while it waits: no prediction exists, the slot comes back (the day's count does not).
    const canceled = await stack.request(`/jobs/${throttled.json.id}/cancel`, { method: 'POST' });
    expect(canceled).toMatchObject({ status: 200, json: { status: 'canceled' } });
  });

  it('never lets concurrent submits pass the limit together', async () => {
    const responses = await Promise.all(Array.from({ length: 10 }, () => submit('key-carol')));
    expect(responses.filter((r) => r.status === 202)).toHaveLength(2);
    expect(responses.filter((r) => r.status === 429)).toHaveLength(8);
  });

  it('grants concurrent first submits of a day for a new owner, up to the limit', async () => {
    await stack.stop();
    stack = await startTestStack({
      apiKeys: 'dave=key-dave',
      reconcileIntervalSeconds: 0,
      env: { OWNER_LIMITS: JSON.stringify({ default: { maxInFlight: 8, maxPerDay: 100 } }) },
    });
    const responses = await Promise.all(Array.from({ length: 12 }, () => submit('key-dave')));
    expect(responses.filter((r) => r.status === 202)).toHaveLength(8);
    expect(responses.filter((r) => r.status === 429).every((r) => r.json.error.details.limit === 'in_flight')).toBe(
      true,
    );
  });

  it('answers an Idempotency-Key retry from the record even at the limit', async () => {
    const first = await submit('key-alice', STUCK, { 'idempotency-key': 'k1' });
    await submit();
    const again = await submit('key-alice', STUCK, { 'idempotency-key': 'k1' });
    expect(again).toMatchObject({ status: 202, json: { id: first.json.id } });
  });

  it('repairs a slot leaked by a crash (counter above the truth) when the owner reaches the limit', async () => {
    const documents = DynamoDBDocumentClient.from(stack.emulators.clients.dynamo);
    await submit();
    // A process died after taking two slots and before giving them back.
    await documents.send(
      new UpdateCommand({
        TableName: stack.emulators.resources.tableName,
        Key: { id: 'quota#alice' },
        UpdateExpression: 'ADD inFlight :two',
        ExpressionAttributeValues: { ':two': 2 },
      }),
    );
    expect((await submit()).status).toBe(429); // within the grace, a recent slot may belong to a submit still running
    // The deployed submit reads the real clock: age the last slot taken past the grace instead of moving time.
    await documents.send(
      new UpdateCommand({
        TableName: stack.emulators.resources.tableName,
        Key: { id: 'quota#alice' },
        UpdateExpression: 'SET lastAcquiredAt = :old',
        ExpressionAttributeValues: { ':old': new Date(Date.now() - 61_000).toISOString() },
      }),
    );
    expect((await submit()).status).toBe(202); // one real job in flight: the second slot is free
    expect((await submit()).status).toBe(429);
  });
});
