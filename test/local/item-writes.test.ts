import {
  BatchWriteItemCommand,
  CreateTableCommand,
  DeleteItemCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { type Emulators, startEmulators } from '../../local/emulators';
import { type IamProxy, type ItemWriteRecord, startIamProxy } from '../../local/iam/iam-proxy';
import type { Item, TableSchema } from '../../local/iam/index-writes';

// dynalite behind the IAM proxy with item writes followed: each write a function makes is recorded with the index
// entries it changed, read from the item's images before and after it.

const REGION = 'us-east-1';
const ACCOUNT = '123456789012';
const TABLE = 'jobs';
const SCHEMA: TableSchema = {
  partitionKey: 'id',
  indexes: [
    { name: 'byOwner', partitionKey: 'owner', sortKey: 'createdAt', projection: 'ALL' },
    {
      name: 'unfinished',
      partitionKey: 'activeShard',
      sortKey: 'checkAt',
      projection: 'INCLUDE',
      nonKeyAttributes: ['owner'],
    },
  ],
};
const WRITER = {
  name: 'writer',
  roleArn: `arn:aws:iam::${ACCOUNT}:role/writer`,
  policies: [
    {
      name: 'inline',
      policy: {
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Action: 'dynamodb:*', Resource: `arn:aws:dynamodb:${REGION}:${ACCOUNT}:*` }],
      },
    },
  ],
};

let emulators: Emulators;
let following: IamProxy;
let plain: IamProxy;
const clients: DynamoDBClient[] = [];
const through = (proxy: IamProxy) => {
  const client = new DynamoDBClient({
    region: REGION,
    endpoint: proxy.url,
    credentials: { accessKeyId: 'AKIAWRITER', secretAccessKey: 'not-checked' },
    maxAttempts: 1,
  });
  clients.push(client);
  return client;
};

beforeAll(async () => {
  emulators = await startEmulators();
  await emulators.clients.dynamo.send(
    new CreateTableCommand({
      TableName: TABLE,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: ['id', 'owner', 'createdAt', 'activeShard', 'checkAt'].map((AttributeName) => ({
        AttributeName,
        AttributeType: 'S' as const,
      })),
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      GlobalSecondaryIndexes: SCHEMA.indexes.map((index) => ({
        IndexName: index.name,
        KeySchema: [
          { AttributeName: index.partitionKey, KeyType: 'HASH' as const },
          { AttributeName: index.sortKey!, KeyType: 'RANGE' as const },
        ],
        Projection:
          index.projection === 'INCLUDE'
            ? { ProjectionType: 'INCLUDE' as const, NonKeyAttributes: index.nonKeyAttributes }
            : { ProjectionType: index.projection },
      })),
    }),
  );
  const common = {
    upstreams: {
      dynamodb: emulators.dynamoEndpoint,
      sqs: emulators.awsEndpoint,
      s3: emulators.awsEndpoint,
      secretsmanager: emulators.awsEndpoint,
    },
    principals: new Map([['AKIAWRITER', WRITER]]),
    context: {
      region: REGION,
      accountId: ACCOUNT,
      tables: { [TABLE]: { partitionKey: 'id', indexes: { byOwner: 'owner', unfinished: 'activeShard' } } },
    },
  };
  const readItem = async (table: string, key: Item) =>
    (
      await emulators.clients.dynamo.send(
        new GetItemCommand({ TableName: table, Key: key as any, ConsistentRead: true }),
      )
    ).Item as Item | undefined;
  following = await startIamProxy({ ...common, itemWrites: { tables: { [TABLE]: SCHEMA }, readItem } });
  plain = await startIamProxy(common);
});

afterAll(async () => {
  for (const client of clients) client.destroy();
  await following?.stop();
  await plain?.stop();
  await emulators?.stop();
});

const S = (value: string) => ({ S: value });
const since = (count: number) =>
  following.itemWrites.slice(count).map(({ operation, key, outcome, indexWrites }) => ({
    operation,
    key,
    outcome,
    indexWrites,
  }));
const rejection = (promise: Promise<unknown>) =>
  promise.then(
    () => {
      throw new Error('expected a refusal');
    },
    (error) => error,
  );

test('off by default: a proxy without itemWrites records none', async () => {
  await through(plain).send(new PutItemCommand({ TableName: TABLE, Item: { id: S('job_plain'), owner: S('a') } }));
  expect(plain.itemWrites).toEqual([]);
  expect(plain.records.at(-1)).toEqual(expect.objectContaining({ operation: 'PutItem', key: 'job_plain' }));
});

test('each write is recorded with the index entries it changed, from the images before and after it', async () => {
  const db = through(following);
  const before = following.itemWrites.length;
  const job = {
    id: S('job_1'),
    owner: S('alice'),
    createdAt: S('t0'),
    status: S('queued'),
    activeShard: S('active'),
    checkAt: S('t0'),
  };
  await db.send(new PutItemCommand({ TableName: TABLE, Item: job }));
  const update = (expression: string, values: Record<string, { S: string }>) =>
    db.send(
      new UpdateItemCommand({
        TableName: TABLE,
        Key: { id: S('job_1') },
        UpdateExpression: expression,
        ExpressionAttributeNames: { '#s': 'status' },
        ExpressionAttributeValues: values,
      }),
    );
  await update('SET #s = :s, checkAt = :t', { ':s': S('processing'), ':t': S('t1') }); // unfinished's sort key moves
  await update('SET #s = :s REMOVE activeShard, checkAt', { ':s': S('succeeded') }); // leaves the sparse index
  await update('SET #s = :s', { ':s': S('succeeded') }); // changes nothing
  await db.send(new DeleteItemCommand({ TableName: TABLE, Key: { id: S('job_1') } }));
  expect(since(before)).toEqual([
    {
      operation: 'PutItem',
      key: 'job_1',
      outcome: 'written',
      indexWrites: [
        { index: 'byOwner', key: 'alice', writes: 1 },
        { index: 'unfinished', key: 'active', writes: 1 },
      ],
    },
    {
      operation: 'UpdateItem',
      key: 'job_1',
      outcome: 'written',
      indexWrites: [
        { index: 'byOwner', key: 'alice', writes: 1 },
        { index: 'unfinished', key: 'active', writes: 2 },
      ],
    },
    {
      operation: 'UpdateItem',
      key: 'job_1',
      outcome: 'written',
      indexWrites: [
        { index: 'byOwner', key: 'alice', writes: 1 },
        { index: 'unfinished', key: 'active', writes: 1 },
      ],
    },
    { operation: 'UpdateItem', key: 'job_1', outcome: 'written', indexWrites: [] },
    {
      operation: 'DeleteItem',
      key: 'job_1',
      outcome: 'written',
      indexWrites: [{ index: 'byOwner', key: 'alice', writes: 1 }],
    },
  ]);
});

test('a failed condition is a write attempt on the table key and writes no index; other refusals are failed', async () => {
  const db = through(following);
  await db.send(new PutItemCommand({ TableName: TABLE, Item: { id: S('job_2'), owner: S('bob'), createdAt: S('t') } }));
  const before = following.itemWrites.length;
  const refused = await rejection(
    db.send(
      new UpdateItemCommand({
        TableName: TABLE,
        Key: { id: S('job_2') },
        UpdateExpression: 'SET #o = :o',
        ExpressionAttributeNames: { '#o': 'owner' },
        ConditionExpression: 'attribute_not_exists(id)',
        ExpressionAttributeValues: { ':o': S('carol') },
      }),
    ),
  );
  expect(refused.name).toBe('ConditionalCheckFailedException');
  // dynalite 4 has no transactions: the whole request is refused, nothing written.
  const transaction = await rejection(
    db.send(
      new TransactWriteItemsCommand({ TransactItems: [{ Put: { TableName: TABLE, Item: { id: S('job_3') } } }] }),
    ),
  );
  expect(transaction.name).toBe('UnknownOperationException');
  expect(since(before)).toEqual([
    { operation: 'UpdateItem', key: 'job_2', outcome: 'conditionFailed', indexWrites: [] },
    { operation: 'TransactWriteItems.Put', key: 'job_3', outcome: 'failed', indexWrites: [] },
  ]);
});

test('the items of a BatchWriteItem are recorded one by one, with the invocation (trace) that wrote them', async () => {
  const saved = { ...process.env };
  // What Lambda sets: the SDK then sends the invocation's trace header.
  process.env.AWS_LAMBDA_FUNCTION_NAME = 'writer';
  process.env._X_AMZN_TRACE_ID = 'Root=1-00000000-000000000000000000000abc;Parent=0000000000000001;Sampled=0';
  try {
    const db = through(following);
    await db.send(
      new PutItemCommand({ TableName: TABLE, Item: { id: S('job_4'), owner: S('dan'), createdAt: S('t') } }),
    );
    const before = following.itemWrites.length;
    await db.send(
      new BatchWriteItemCommand({
        RequestItems: {
          [TABLE]: [
            { PutRequest: { Item: { id: S('job_5'), owner: S('erin'), createdAt: S('t') } } },
            { DeleteRequest: { Key: { id: S('job_4') } } },
          ],
        },
      }),
    );
    expect(following.itemWrites.slice(before)).toEqual([
      expect.objectContaining({
        function: 'writer',
        operation: 'BatchWriteItem.PutRequest',
        key: 'job_5',
        outcome: 'written',
        indexWrites: [{ index: 'byOwner', key: 'erin', writes: 1 }],
        trace: '1-00000000-000000000000000000000abc',
      }),
      expect.objectContaining({
        operation: 'BatchWriteItem.DeleteRequest',
        key: 'job_4',
        outcome: 'written',
        indexWrites: [{ index: 'byOwner', key: 'dan', writes: 1 }],
        trace: '1-00000000-000000000000000000000abc',
      }),
    ]);
    expect(following.records.at(-1)!.trace).toBe('1-00000000-000000000000000000000abc');
  } finally {
    process.env = saved;
  }
});

test('concurrent writes to one item are serialized: each record sees the images of its own write alone', async () => {
  const db = through(following);
  const put = { id: S('job_6'), owner: S('fay'), createdAt: S('t'), activeShard: S('shard-0'), checkAt: S('t') };
  await db.send(new PutItemCommand({ TableName: TABLE, Item: put }));
  const before = following.itemWrites.length;
  // Each write moves the item to another index key: serialized, the moves form one chain from shard-0, every key
  // put once and deleted once (but the last). Interleaved, two writes would both read shard-0 as "before".
  const writers = 20;
  await Promise.all(
    Array.from({ length: writers }, (_, index) =>
      db.send(
        new UpdateItemCommand({
          TableName: TABLE,
          Key: { id: S('job_6') },
          UpdateExpression: 'SET activeShard = :shard',
          ExpressionAttributeValues: { ':shard': S(`shard-${index + 1}`) },
        }),
      ),
    ),
  );
  const writes = following.itemWrites.slice(before) as ItemWriteRecord[];
  expect(writes).toHaveLength(writers);
  const perKey = new Map<string, number>();
  for (const write of writes)
    for (const entry of write.indexWrites.filter((each) => each.index === 'unfinished'))
      perKey.set(entry.key, (perKey.get(entry.key) ?? 0) + entry.writes);
  const last = (await emulators.clients.dynamo.send(new GetItemCommand({ TableName: TABLE, Key: { id: S('job_6') } })))
    .Item!.activeShard.S!;
  expect(perKey.get('shard-0')).toBe(1);
  expect(perKey.get(last)).toBe(1);
  for (let index = 1; index <= writers; index++) {
    const key = `shard-${index}`;
    if (key !== last) expect([key, perKey.get(key)]).toEqual([key, 2]);
  }
});
