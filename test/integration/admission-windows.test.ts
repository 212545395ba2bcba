import { CreateTableCommand } from '@aws-sdk/client-dynamodb';
import { DynamoAdmission, windowShardsOf } from '../../lambdas/adapters/dynamo-admission';
import { type Emulators, startEmulators } from '../../local/emulators';

/**
 * The shared create rate against the real table: however many instances take at once, a window never grants more
 * than its capacity; a rate above what one key takes is split over several window keys, still adding up to it.
 */
describe('admission windows (DynamoDB emulator)', () => {
  let emulators: Emulators;
  const table = 'admission-windows';
  beforeAll(async () => {
    emulators = await startEmulators();
    await emulators.clients.dynamo.send(
      new CreateTableCommand({
        TableName: table,
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
  });
  afterAll(() => emulators.stop());

  async function takeAll(admission: DynamoAdmission, count: number, now: Date) {
    const results = [];
    for (let i = 0; i < count; i += 100) {
      results.push(
        ...(await Promise.all(Array.from({ length: Math.min(100, count - i) }, () => admission.tryTake(now)))),
      );
    }
    return results;
  }

  it('grants exactly the capacity of a window to concurrent takers, spreading their slots over it', async () => {
    const admission = new DynamoAdmission(emulators.clients.dynamo, table, { windowSeconds: 1, capacity: 10 });
    const now = new Date('2026-11-30T00:00:00.000Z');
    const results = await takeAll(admission, 25, now);
    const granted = results.filter((result) => result.granted);
    expect(granted).toHaveLength(10);
    const slots = granted.map((result) => (result.granted ? result.slotAt - now.getTime() : -1)).sort((a, b) => a - b);
    expect(slots).toEqual([0, 100, 200, 300, 400, 500, 600, 700, 800, 900]);
    expect(results.find((result) => !result.granted)).toEqual({ granted: false, retryInMs: 1000 });
  });

  it('reads the shared state afresh once its copy is a second old by the real clock, whatever `now` says', async () => {
    const admission = new DynamoAdmission(emulators.clients.dynamo, table, { windowSeconds: 1, capacity: 10 });
    const other = new DynamoAdmission(emulators.clients.dynamo, table, { windowSeconds: 1, capacity: 10 });
    const then = new Date('2026-11-30T00:00:00.000Z'); // a slow submit's start time
    expect((await admission.state(then)).backlogSince).toBeUndefined();
    await other.startBacklog(then);
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    expect((await admission.state(then)).backlogSince).toBe(then.toISOString());
    await other.clearBacklog();
  });

  it('splits a high rate over several window keys that together never pass it', async () => {
    const pace = { windowSeconds: 1, capacity: 1001 };
    expect(windowShardsOf(pace)).toBe(3);
    const admission = new DynamoAdmission(emulators.clients.dynamo, table, pace);
    const results = await takeAll(admission, 1100, new Date('2026-11-30T00:00:01.000Z'));
    expect(results.filter((result) => result.granted)).toHaveLength(1001);
  });
});
