import { CreateTableCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoJobRepository } from '../../lambdas/adapters/dynamo-job-repository';
import { DynamoUploadRepository } from '../../lambdas/adapters/dynamo-upload-repository';
import { type Job, TERMINAL_RANK } from '../../lambdas/core/job';
import { type Emulators, startEmulators } from '../../local/emulators';

/** The upload records' conditions against the real table: owner, expiry, and release never deleting a used one. */
describe('upload records (DynamoDB emulator)', () => {
  let emulators: Emulators;
  const table = 'upload-records';
  const now = new Date('2026-01-10T00:00:00.000Z');
  const upload = (id: string, owner = 'alice', expiresAt = '2026-01-11T00:00:00.000Z') => ({
    id,
    owner,
    key: `uploads/${owner}/${id}`,
    contentType: 'image/png',
    size: 3,
    createdAt: '2026-01-09T00:00:00.000Z',
    expiresAt,
  });
  const jobsOf = async (id: string) =>
    (
      await DynamoDBDocumentClient.from(emulators.clients.dynamo).send(
        new GetCommand({ TableName: table, Key: { id: `upload#${id}` } }),
      )
    ).Item?.jobs as Set<string> | undefined;

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

  it("refuses another owner's upload and notes nothing on it", async () => {
    const uploads = new DynamoUploadRepository(emulators.clients.dynamo, table);
    await uploads.create(upload('upl_owner0000000000000000000000'));
    expect(await uploads.reference('mallory', ['upl_owner0000000000000000000000'], 'job_m', now)).toEqual([
      'upl_owner0000000000000000000000',
    ]);
    expect(await jobsOf('upl_owner0000000000000000000000')).toBeUndefined();
  });

  it('refuses an upload past its usableUntil', async () => {
    const uploads = new DynamoUploadRepository(emulators.clients.dynamo, table);
    await uploads.create(upload('upl_expired00000000000000000000', 'alice', '2026-01-09T12:00:00.000Z'));
    expect(await uploads.reference('alice', ['upl_expired00000000000000000000'], 'job_a', now)).toEqual([
      'upl_expired00000000000000000000',
    ]);
  });

  it('release keeps a record a job took up between its two writes', async () => {
    const uploads = new DynamoUploadRepository(emulators.clients.dynamo, table);
    const id = 'upl_racing00000000000000000000';
    await uploads.create(upload(id));
    await uploads.reference('alice', [id], 'job_1', now);
    // Job 2 references the upload right after release's update emptied `jobs`, before its delete.
    let raced = false;
    emulators.clients.dynamo.middlewareStack.add(
      (next, context) => async (args) => {
        if (!raced && context.commandName === 'DeleteItemCommand') {
          raced = true;
          await uploads.reference('alice', [id], 'job_2', now);
        }
        return next(args);
      },
      { step: 'initialize', name: 'raceRelease' },
    );
    try {
      expect(await uploads.release(id, 'job_1')).toBeUndefined();
    } finally {
      emulators.clients.dynamo.middlewareStack.remove('raceRelease');
    }
    expect(raced).toBe(true);
    expect([...((await jobsOf(id)) ?? [])]).toEqual(['job_2']);
  });

  it('a tombstone stays bare: a late callback log or prediction id is not written onto it', async () => {
    const jobs = new DynamoJobRepository(emulators.clients.dynamo, table);
    const id = 'job_tombstone0000000000000000';
    const job = {
      id,
      owner: 'alice',
      status: 'canceled',
      rank: TERMINAL_RANK,
      model: 'a/b',
      input: {},
      requestHash: 'h',
      outputs: [],
      error: null,
      createdAt: '2026-01-09T00:00:00.000Z',
      updatedAt: '2026-01-09T00:00:00.000Z',
    } as unknown as Job;
    await jobs.create(job);
    expect(await jobs.replaceByTombstone(id, '2026-01-10T00:00:00.000Z', 1_800_000_000)).toBe(true);
    // A callback attempt and a create that were under way when the job was deleted.
    await jobs.recordCallbackDelivery(id, { at: '2026-01-10T00:00:01.000Z', attempt: 1, status: 200 });
    await jobs.recordPrediction(id, 'pred_late');
    await jobs.markSubmissionUnknown(id);
    const stored = (
      await DynamoDBDocumentClient.from(emulators.clients.dynamo).send(
        new GetCommand({ TableName: table, Key: { id } }),
      )
    ).Item!;
    expect(Object.keys(stored).sort()).toEqual([
      'createdAt',
      'deletedAt',
      'error',
      'expiresAt',
      'id',
      'model',
      'outputs',
      'owner',
      'rank',
      'status',
      'updatedAt',
    ]);
  });
});
