import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import { networkInterfaces } from 'node:os';
import { Readable } from 'node:stream';
import {
  CreateTableCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  TransactWriteItemsCommand,
} from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { CreateQueueCommand, ReceiveMessageCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { EMULATOR_CREDENTIALS, type Emulators, startEmulators } from '../../local/emulators';
import { type DeniedEntry, type IamProxy, startIamProxy } from '../../local/iam/iam-proxy';
import { checkAuthorization } from '../../local/iam/policy-check';
import type { Principal } from '../../local/iam/principal';
import { startSecretsManager } from '../../local/secrets-manager';

// Real emulators (dynalite, fauxqs, the Secrets Manager stand-in) behind the proxy, called by the real SDK v3
// clients with one access key per function, pointed at the proxy the way the functions are: AWS_ENDPOINT_URL_*.

const REGION = 'us-east-1';
const ACCOUNT = '123456789012';
const TABLE = 'jobs';
const BUCKET = 'outputs-bucket';
const TABLE_ARN = `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${TABLE}`;
const SECRET_ARN = `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:replicate-token-AbCdEf`;
const OTHER_SECRET_ARN = `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:webhook-secret-XyZ123`;
const queueArn = (name: string) => `arn:aws:sqs:${REGION}:${ACCOUNT}:${name}`;

const role = (name: string) => `arn:aws:iam::${ACCOUNT}:role/stack-${name}Role`;
const policy = (...Statement: object[]) => [{ name: 'inline', policy: { Version: '2012-10-17', Statement } }];
const allow = (Action: string | string[], Resource: string | string[], Condition?: object) => ({
  Effect: 'Allow',
  Action,
  Resource,
  ...(Condition ? { Condition } : {}),
});

const PRINCIPALS: Record<string, Principal> = {
  AKIAWEBHOOK: {
    name: 'webhook',
    roleArn: role('Webhook'),
    policies: policy(
      allow(['dynamodb:PutItem', 'dynamodb:GetItem'], TABLE_ARN, {
        'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['webhook#*'] },
      }),
      allow('sqs:SendMessage', queueArn('events')),
    ),
  },
  AKIASUBMIT: {
    name: 'submit',
    roleArn: role('Submit'),
    policies: policy(
      allow(['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:ConditionCheckItem'], TABLE_ARN),
      allow('dynamodb:Query', `${TABLE_ARN}/index/*`),
      allow('secretsmanager:GetSecretValue', SECRET_ARN),
      allow('s3:GetObject', `arn:aws:s3:::${BUCKET}/outputs/*`),
    ),
  },
  AKIATABLEQUERY: { name: 'reporter', roleArn: role('Reporter'), policies: policy(allow('dynamodb:Query', TABLE_ARN)) },
  AKIACONSUMER: {
    name: 'consumer',
    roleArn: role('Consumer'),
    policies: policy(
      allow(['dynamodb:PutItem', 'dynamodb:ConditionCheckItem'], TABLE_ARN),
      allow(
        ['s3:PutObject', 's3:GetObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts'],
        `arn:aws:s3:::${BUCKET}/outputs/*`,
      ),
    ),
  },
  AKIANOREAD: {
    name: 'writer',
    roleArn: role('Writer'),
    policies: policy(allow('s3:PutObject', `arn:aws:s3:::${BUCKET}/outputs/*`)),
  },
  // A principal whose secret key the proxy knows: its signatures are verified, as AWS verifies them.
  AKIASIGNED: {
    name: 'signed',
    roleArn: role('Signed'),
    secretAccessKey: 'the-real-secret',
    policies: policy(
      allow('dynamodb:GetItem', TABLE_ARN),
      allow(['s3:GetObject', 's3:PutObject'], `arn:aws:s3:::${BUCKET}/outputs/*`),
      allow('sqs:SendMessage', queueArn('events')),
    ),
  },
};

let emulators: Emulators;
let secrets: Awaited<ReturnType<typeof startSecretsManager>>;
let proxy: IamProxy;
let queues: { events: string; other: string };
const denied: DeniedEntry[] = [];
const clients: Array<{ destroy(): void }> = [];
const savedEnv = { ...process.env };

function client<T extends { destroy(): void }>(made: T): T {
  clients.push(made);
  return made;
}
const credentials = (
  accessKeyId: string,
  secretAccessKey = accessKeyId === 'AKIASIGNED' ? 'the-real-secret' : 'not-checked',
) => ({ accessKeyId, secretAccessKey });
// No `endpoint`: the AWS_ENDPOINT_URL_* variables point them at the proxy, as in the local stack.
const dynamo = (key: string, secret?: string) =>
  client(new DynamoDBClient({ region: REGION, credentials: credentials(key, secret), maxAttempts: 1 }));
const s3 = (key: string, secret?: string) =>
  client(new S3Client({ region: REGION, credentials: credentials(key, secret), maxAttempts: 1 }));
// useQueueUrlAsEndpoint: without an explicit `endpoint`, the SQS client sends to the QueueUrl's own host (fauxqs),
// past the proxy. fauxqs matches QueueUrl exactly, so the URL cannot be rewritten to the proxy's host instead.
const sqs = (key: string) =>
  client(
    new SQSClient({ region: REGION, credentials: credentials(key), maxAttempts: 1, useQueueUrlAsEndpoint: false }),
  );
const secretsManager = (key: string) =>
  client(new SecretsManagerClient({ region: REGION, credentials: credentials(key), maxAttempts: 1 }));

async function rejection(promise: Promise<unknown>): Promise<any> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to be refused');
}

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const recordsSince = (count: number) => proxy.records.slice(count);
const message = (fn: string, roleName: string, action: string, resource: string) =>
  `User: arn:aws:sts::${ACCOUNT}:assumed-role/stack-${roleName}Role/${fn} is not authorized to perform: ${action} on resource: ${resource} because no identity-based policy allows the ${action} action`;

beforeAll(async () => {
  emulators = await startEmulators();
  secrets = await startSecretsManager({ [SECRET_ARN]: 'r8_token', [OTHER_SECRET_ARN]: 'whsec_x' });
  const admin = emulators.clients;
  await admin.dynamo.send(
    new CreateTableCommand({
      TableName: TABLE,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: ['id', 'predictionId'].map((AttributeName) => ({
        AttributeName,
        AttributeType: 'S' as const,
      })),
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      GlobalSecondaryIndexes: [
        {
          IndexName: 'byPrediction',
          KeySchema: [{ AttributeName: 'predictionId', KeyType: 'HASH' }],
          Projection: { ProjectionType: 'KEYS_ONLY' },
        },
      ],
    }),
  );
  await admin.s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  queues = {
    events: (await admin.sqs.send(new CreateQueueCommand({ QueueName: 'events' }))).QueueUrl!,
    other: (await admin.sqs.send(new CreateQueueCommand({ QueueName: 'other' }))).QueueUrl!,
  };
  const dynamoEndpoint = await admin.dynamo.config.endpoint!();
  proxy = await startIamProxy({
    upstreams: {
      dynamodb: `${dynamoEndpoint.protocol}//${dynamoEndpoint.hostname}:${dynamoEndpoint.port}`,
      sqs: emulators.awsEndpoint,
      s3: emulators.awsEndpoint,
      secretsmanager: secrets.endpoint,
    },
    principals: new Map(Object.entries(PRINCIPALS)),
    trustedKeys: new Map([[EMULATOR_CREDENTIALS.accessKeyId, EMULATOR_CREDENTIALS.secretAccessKey]]),
    sqsQueueUrlOrigin: emulators.queueUrlOrigin,
    context: {
      region: REGION,
      accountId: ACCOUNT,
      tables: { [TABLE]: { partitionKey: 'id', indexes: { byPrediction: 'predictionId' } } },
    },
    onDenied: (entry) => denied.push(entry),
  });
  for (const service of ['DYNAMODB', 'SQS', 'S3', 'SECRETS_MANAGER'])
    process.env[`AWS_ENDPOINT_URL_${service}`] = proxy.url;
});

afterAll(async () => {
  for (const each of clients) each.destroy();
  await proxy?.stop();
  await secrets?.stop();
  await emulators?.stop();
  for (const service of ['DYNAMODB', 'SQS', 'S3', 'SECRETS_MANAGER']) {
    const name = `AWS_ENDPOINT_URL_${service}`;
    if (savedEnv[name] === undefined) delete process.env[name];
    else process.env[name] = savedEnv[name];
  }
});

test('an allowed PutItem and GetItem reach dynalite, and each is recorded with its function, action, resource, key and latency', async () => {
  const before = proxy.records.length;
  const submit = dynamo('AKIASUBMIT');
  await submit.send(new PutItemCommand({ TableName: TABLE, Item: { id: { S: 'job_1' }, predictionId: { S: 'p1' } } }));
  const got = await submit.send(new GetItemCommand({ TableName: TABLE, Key: { id: { S: 'job_1' } } }));
  expect(got.Item?.predictionId?.S).toBe('p1');
  const records = recordsSince(before);
  expect(records).toEqual([
    expect.objectContaining({
      function: 'submit',
      service: 'dynamodb',
      operation: 'PutItem',
      action: 'dynamodb:PutItem',
      resource: TABLE_ARN,
      key: 'job_1',
      status: 200,
      allowed: true,
    }),
    expect.objectContaining({
      function: 'submit',
      service: 'dynamodb',
      operation: 'GetItem',
      action: 'dynamodb:GetItem',
      resource: TABLE_ARN,
      key: 'job_1',
      status: 200,
      allowed: true,
    }),
  ]);
  for (const record of records) {
    expect(record.latencyMs).toBeGreaterThan(0);
    expect(record.at).toBeLessThanOrEqual(Date.now());
  }
});

test('dynamodb:LeadingKeys: webhook#… is allowed, another key is refused as AWS refuses it', async () => {
  const webhook = dynamo('AKIAWEBHOOK');
  await webhook.send(new PutItemCommand({ TableName: TABLE, Item: { id: { S: 'webhook#abc' } } }));
  const before = proxy.records.length;
  const error = await rejection(webhook.send(new PutItemCommand({ TableName: TABLE, Item: { id: { S: 'job_123' } } })));
  expect(error.name).toBe('AccessDeniedException');
  expect(error.$metadata.httpStatusCode).toBe(400);
  expect(error.message).toBe(message('webhook', 'Webhook', 'dynamodb:PutItem', TABLE_ARN));
  expect(recordsSince(before)).toEqual([
    expect.objectContaining({
      function: 'webhook',
      action: 'dynamodb:PutItem',
      key: 'job_123',
      allowed: false,
      status: 400,
    }),
  ]);
  expect(denied.at(-1)).toEqual(
    expect.objectContaining({ function: 'webhook', action: 'dynamodb:PutItem', resource: TABLE_ARN }),
  );
  // Nothing was written.
  expect(
    (await emulators.clients.dynamo.send(new GetItemCommand({ TableName: TABLE, Key: { id: { S: 'job_123' } } }))).Item,
  ).toBeUndefined();
});

test('a Query on an index needs table/T/index/*: a grant on the table alone does not cover it', async () => {
  const query = (key: string, IndexName?: string) =>
    dynamo(key).send(
      new QueryCommand({
        TableName: TABLE,
        ...(IndexName
          ? {
              IndexName,
              KeyConditionExpression: '#p = :p',
              ExpressionAttributeNames: { '#p': 'predictionId' },
              ExpressionAttributeValues: { ':p': { S: 'p1' } },
            }
          : { KeyConditionExpression: 'id = :id', ExpressionAttributeValues: { ':id': { S: 'job_1' } } }),
      }),
    );
  const before = proxy.records.length;
  expect((await query('AKIASUBMIT', 'byPrediction')).Items).toEqual([
    { id: { S: 'job_1' }, predictionId: { S: 'p1' } },
  ]);
  expect((await query('AKIATABLEQUERY')).Items).toHaveLength(1);
  const error = await rejection(query('AKIATABLEQUERY', 'byPrediction'));
  expect(error.name).toBe('AccessDeniedException');
  expect(error.message).toBe(message('reporter', 'Reporter', 'dynamodb:Query', `${TABLE_ARN}/index/byPrediction`));
  expect(
    recordsSince(before).map(({ function: fn, resource, key, allowed }) => ({ fn, resource, key, allowed })),
  ).toEqual([
    { fn: 'submit', resource: `${TABLE_ARN}/index/byPrediction`, key: 'p1', allowed: true },
    { fn: 'reporter', resource: TABLE_ARN, key: 'job_1', allowed: true },
    { fn: 'reporter', resource: `${TABLE_ARN}/index/byPrediction`, key: 'p1', allowed: false },
  ]);
});

test('TransactWriteItems needs each contained action: Put + ConditionCheck pass, an Update without dynamodb:UpdateItem is refused', async () => {
  const consumer = dynamo('AKIACONSUMER');
  let before = proxy.records.length;
  // dynalite 4 has no transactions: its UnknownOperationException shows the request got past the proxy.
  const forwarded = await rejection(
    consumer.send(
      new TransactWriteItemsCommand({
        TransactItems: [
          { Put: { TableName: TABLE, Item: { id: { S: 'job_2' } } } },
          {
            ConditionCheck: {
              TableName: TABLE,
              Key: { id: { S: 'job_1' } },
              ConditionExpression: 'attribute_exists(id)',
            },
          },
        ],
      }),
    ),
  );
  expect(forwarded.name).toBe('UnknownOperationException');
  expect(
    recordsSince(before).map(({ operation, action, key, allowed }) => ({ operation, action, key, allowed })),
  ).toEqual([
    { operation: 'TransactWriteItems', action: 'dynamodb:PutItem', key: 'job_2', allowed: true },
    { operation: 'TransactWriteItems', action: 'dynamodb:ConditionCheckItem', key: 'job_1', allowed: true },
  ]);
  before = proxy.records.length;
  const error = await rejection(
    consumer.send(
      new TransactWriteItemsCommand({
        TransactItems: [
          { Put: { TableName: TABLE, Item: { id: { S: 'job_3' } } } },
          {
            Update: {
              TableName: TABLE,
              Key: { id: { S: 'job_1' } },
              UpdateExpression: 'SET #s = :s',
              ExpressionAttributeNames: { '#s': 'status' },
              ExpressionAttributeValues: { ':s': { S: 'x' } },
            },
          },
        ],
      }),
    ),
  );
  expect(error.name).toBe('AccessDeniedException');
  expect(error.message).toBe(message('consumer', 'Consumer', 'dynamodb:UpdateItem', TABLE_ARN));
  expect(recordsSince(before).map(({ action, allowed, status }) => ({ action, allowed, status }))).toEqual([
    { action: 'dynamodb:PutItem', allowed: true, status: 400 },
    { action: 'dynamodb:UpdateItem', allowed: false, status: 400 },
  ]);
});

test('SQS SendMessage: allowed on its queue, refused on another with the AccessDenied SQS answers', async () => {
  const webhook = sqs('AKIAWEBHOOK');
  const before = proxy.records.length;
  expect(
    (await webhook.send(new SendMessageCommand({ QueueUrl: queues.events, MessageBody: '{"id":"p1"}' }))).MessageId,
  ).toBeTruthy();
  const error = await rejection(webhook.send(new SendMessageCommand({ QueueUrl: queues.other, MessageBody: 'x' })));
  expect(error.name).toBe('AccessDenied');
  expect(error.$metadata.httpStatusCode).toBe(400);
  expect(error.message).toBe(message('webhook', 'Webhook', 'sqs:SendMessage', queueArn('other')));
  expect(
    recordsSince(before).map(({ action, resource, allowed, status }) => ({ action, resource, allowed, status })),
  ).toEqual([
    { action: 'sqs:SendMessage', resource: queueArn('events'), allowed: true, status: 200 },
    { action: 'sqs:SendMessage', resource: queueArn('other'), allowed: false, status: 400 },
  ]);
});

test('S3 PutObject: allowed under outputs/, refused under secret/ (the S3 client goes path-style to 127.0.0.1)', async () => {
  const consumer = s3('AKIACONSUMER');
  const before = proxy.records.length;
  await consumer.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'outputs/a b.txt', Body: 'hello' }));
  const error = await rejection(
    consumer.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'secret/a.txt', Body: 'hello' })),
  );
  expect(error.name).toBe('AccessDenied');
  expect(error.$metadata.httpStatusCode).toBe(403);
  expect(error.message).toBe('Access Denied');
  expect(
    recordsSince(before).map(({ operation, action, resource, key, allowed }) => ({
      operation,
      action,
      resource,
      key,
      allowed,
    })),
  ).toEqual([
    {
      operation: 'PutObject',
      action: 's3:PutObject',
      resource: `arn:aws:s3:::${BUCKET}/outputs/a b.txt`,
      key: 'outputs/a b.txt',
      allowed: true,
    },
    {
      operation: 'PutObject',
      action: 's3:PutObject',
      resource: `arn:aws:s3:::${BUCKET}/secret/a.txt`,
      key: 'secret/a.txt',
      allowed: false,
    },
  ]);
  expect(denied.at(-1)).toEqual({
    function: 'consumer',
    action: 's3:PutObject',
    resource: `arn:aws:s3:::${BUCKET}/secret/a.txt`,
    message: message('consumer', 'Consumer', 's3:PutObject', `arn:aws:s3:::${BUCKET}/secret/a.txt`),
    reason: 'no identity policy allows it',
  });
});

test('a 12 MiB multipart upload (lib-storage) streams through, and reads back intact', async () => {
  const bytes = randomBytes(12 * 1024 * 1024 + 123);
  const before = proxy.records.length;
  const upload = new Upload({
    client: s3('AKIACONSUMER'),
    params: {
      Bucket: BUCKET,
      Key: 'outputs/big.bin',
      Body: Readable.from([bytes.subarray(0, 7e6), bytes.subarray(7e6)]),
    },
  });
  await upload.done();
  const operations = recordsSince(before).map((record) => `${record.operation} ${record.action} ${record.status}`);
  expect(operations).toEqual([
    'CreateMultipartUpload s3:PutObject 200',
    'UploadPart s3:PutObject 200',
    'UploadPart s3:PutObject 200',
    'UploadPart s3:PutObject 200',
    'CompleteMultipartUpload s3:PutObject 200',
  ]);
  const read = await s3('AKIASUBMIT').send(new GetObjectCommand({ Bucket: BUCKET, Key: 'outputs/big.bin' }));
  expect(sha256(await read.Body!.transformToByteArray())).toBe(sha256(bytes));
});

test('a presigned GET is authorized against its signer: allowed signer → 200 with the bytes, a signer without s3:GetObject → 403', async () => {
  const command = new GetObjectCommand({ Bucket: BUCKET, Key: 'outputs/a b.txt' });
  const allowedUrl = await getSignedUrl(s3('AKIASUBMIT'), command, { expiresIn: 60 });
  const refusedUrl = await getSignedUrl(s3('AKIANOREAD'), command, { expiresIn: 60 });
  expect(new URL(allowedUrl).origin).toBe(proxy.url);
  const before = proxy.records.length;
  const ok = await fetch(allowedUrl);
  expect(ok.status).toBe(200);
  expect(await ok.text()).toBe('hello');
  const refused = await fetch(refusedUrl);
  expect(refused.status).toBe(403);
  expect(await refused.text()).toContain('<Code>AccessDenied</Code>');
  expect(recordsSince(before).map(({ function: fn, action, allowed }) => ({ fn, action, allowed }))).toEqual([
    { fn: 'submit', action: 's3:GetObject', allowed: true },
    { fn: 'writer', action: 's3:GetObject', allowed: false },
  ]);
});

test('Secrets Manager GetSecretValue by ARN: the granted secret is read, another is refused', async () => {
  const submit = secretsManager('AKIASUBMIT');
  expect((await submit.send(new GetSecretValueCommand({ SecretId: SECRET_ARN }))).SecretString).toBe('r8_token');
  const error = await rejection(submit.send(new GetSecretValueCommand({ SecretId: OTHER_SECRET_ARN })));
  expect(error.name).toBe('AccessDeniedException');
  expect(error.$metadata.httpStatusCode).toBe(400);
  expect(error.message).toBe(message('submit', 'Submit', 'secretsmanager:GetSecretValue', OTHER_SECRET_ARN));
});

test('an access key id that belongs to no function is refused the way each service refuses an unknown key', async () => {
  const before = proxy.records.length;
  const fromDynamo = await rejection(
    dynamo('AKIAUNKNOWN').send(new GetItemCommand({ TableName: TABLE, Key: { id: { S: 'job_1' } } })),
  );
  expect([fromDynamo.name, fromDynamo.$metadata.httpStatusCode]).toEqual(['UnrecognizedClientException', 400]);
  const fromSqs = await rejection(
    sqs('AKIAUNKNOWN').send(new SendMessageCommand({ QueueUrl: queues.events, MessageBody: 'x' })),
  );
  expect([fromSqs.name, fromSqs.$metadata.httpStatusCode]).toEqual(['InvalidClientTokenId', 403]);
  const fromS3 = await rejection(
    s3('AKIAUNKNOWN').send(new GetObjectCommand({ Bucket: BUCKET, Key: 'outputs/a b.txt' })),
  );
  expect([fromS3.name, fromS3.$metadata.httpStatusCode]).toEqual(['InvalidAccessKeyId', 403]);
  const fromSecrets = await rejection(
    secretsManager('AKIAUNKNOWN').send(new GetSecretValueCommand({ SecretId: SECRET_ARN })),
  );
  expect([fromSecrets.name, fromSecrets.$metadata.httpStatusCode]).toEqual(['UnrecognizedClientException', 400]);
  expect(recordsSince(before).every((record) => record.function === 'unknown:AKIAUNKNOWN' && !record.allowed)).toBe(
    true,
  );
  // The emulators' own key is trusted once its signature verifies: forwarded, not recorded.
  const trusted = proxy.records.length;
  const admin = client(new DynamoDBClient({ region: REGION, credentials: EMULATOR_CREDENTIALS, maxAttempts: 1 }));
  expect(
    (await admin.send(new GetItemCommand({ TableName: TABLE, Key: { id: { S: 'job_123' } } }))).Item,
  ).toBeUndefined();
  expect(proxy.records.length).toBe(trusted);
  // Anyone can name the well-known key id; without its secret the request is refused.
  const forger = client(
    new DynamoDBClient({
      region: REGION,
      credentials: { accessKeyId: EMULATOR_CREDENTIALS.accessKeyId, secretAccessKey: 'local' },
      maxAttempts: 1,
    }),
  );
  const forged = await rejection(forger.send(new GetItemCommand({ TableName: TABLE, Key: { id: { S: 'job_123' } } })));
  expect([forged.name, forged.$metadata.httpStatusCode]).toEqual(['InvalidSignatureException', 400]);
  const listing = await fetch(
    `${proxy.url}/${BUCKET}?list-type=2&X-Amz-Credential=local%2F20260101%2Fus-east-1%2Fs3%2Faws4_request`,
  );
  expect(listing.status).toBe(403);
});

test('an action on `*` is allowed only by a grant on every resource, not by one on some resource', async () => {
  const some = { name: 'some', roleArn: role('Some'), policies: policy(allow('sqs:ListQueues', queueArn('events'))) };
  const every = { name: 'every', roleArn: role('Every'), policies: policy(allow('sqs:ListQueues', '*')) };
  const listQueues = { action: 'sqs:ListQueues', resource: '*', context: {} };
  expect((await checkAuthorization(some, listQueues)).allowed).toBe(false);
  expect((await checkAuthorization(every, listQueues)).allowed).toBe(true);
});

test('a Host header cannot move an authorized SendMessage to another queue', async () => {
  // Found by an attack: the queue URL was translated by text replacement keyed on the Host header, so a crafted
  // Host turned a body authorized for "events" (the last of two QueueUrl keys) into one sent to "other".
  const host = `a","QueueUrl":"${proxy.url}/000000000000/events","x":"b`;
  const body = `{"MessageBody":"forged-${Date.now()}","QueueUrl":"http://${host}/000000000000/other"}`;
  const status = await new Promise<number>((resolve, reject) => {
    const request = http.request(
      proxy.url,
      {
        method: 'POST',
        headers: {
          host,
          'content-type': 'application/x-amz-json-1.0',
          'x-amz-target': 'AmazonSQS.SendMessage',
          authorization:
            'AWS4-HMAC-SHA256 Credential=AKIAWEBHOOK/20260101/us-east-1/sqs/aws4_request, SignedHeaders=host, Signature=00',
        },
      },
      (response) => {
        response.resume();
        resolve(response.statusCode!);
      },
    );
    request.once('error', reject);
    request.end(body);
  });
  expect(status).toBe(200); // authorized for "events", and sent there
  const other = await emulators.clients.sqs.send(
    new ReceiveMessageCommand({ QueueUrl: queues.other, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
  );
  expect((other.Messages ?? []).map((message) => message.Body)).not.toContainEqual(expect.stringContaining('forged'));
});

test('an empty uploadId is not a multipart request: refused, never a DeleteObjects in disguise', async () => {
  await s3('AKIACONSUMER').send(new PutObjectCommand({ Bucket: BUCKET, Key: 'outputs/keep.txt', Body: 'keep' }));
  const body = '<Delete><Object><Key>outputs/keep.txt</Key></Object></Delete>';
  const response = await fetch(`${proxy.url}/${BUCKET}/outputs/x?uploadId=`, {
    method: 'POST',
    headers: {
      authorization:
        'AWS4-HMAC-SHA256 Credential=AKIANOREAD/20260101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=00',
      'content-type': 'application/xml',
    },
    body,
  });
  expect(response.status).toBe(403);
  expect(
    (await s3('AKIACONSUMER').send(new GetObjectCommand({ Bucket: BUCKET, Key: 'outputs/keep.txt' }))).Body,
  ).toBeDefined();
});

test('the emulators and the proxy listen on loopback only', async () => {
  const external = Object.values(networkInterfaces())
    .flat()
    .find((address) => address && address.family === 'IPv4' && !address.internal);
  if (!external) return; // nothing but loopback on this machine: nothing else can reach them anyway
  for (const endpoint of [emulators.awsEndpoint, emulators.dynamoEndpoint, proxy.url]) {
    const port = Number(new URL(endpoint).port);
    const reached = await new Promise<boolean>((resolve) => {
      const socket = connect({ host: external.address, port }, () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    expect({ endpoint, reached }).toEqual({ endpoint, reached: false });
  }
});

describe('signatures are verified for a principal whose secret key the proxy knows', () => {
  it('accepts requests signed with the right key, over every protocol, streamed uploads included', async () => {
    await dynamo('AKIASIGNED').send(new GetItemCommand({ TableName: TABLE, Key: { id: { S: 'job_1' } } }));
    await sqs('AKIASIGNED').send(new SendMessageCommand({ QueueUrl: queues.events, MessageBody: 'signed' }));
    const bytes = randomBytes(6 * 1024 * 1024);
    await new Upload({
      client: s3('AKIASIGNED'),
      params: { Bucket: BUCKET, Key: 'outputs/signed.bin', Body: Readable.from([bytes]) },
    }).done();
    const url = await getSignedUrl(
      s3('AKIASIGNED'),
      new GetObjectCommand({ Bucket: BUCKET, Key: 'outputs/signed.bin' }),
      { expiresIn: 60 },
    );
    expect(sha256(new Uint8Array(await (await fetch(url)).arrayBuffer()))).toBe(sha256(bytes));
  });

  it('refuses a request signed with another secret key, as each service does', async () => {
    const error = await rejection(
      dynamo('AKIASIGNED', 'a-guessed-secret').send(
        new GetItemCommand({ TableName: TABLE, Key: { id: { S: 'job_1' } } }),
      ),
    );
    expect([error.name, error.$metadata.httpStatusCode]).toEqual(['InvalidSignatureException', 400]);
    const fromS3 = await rejection(
      s3('AKIASIGNED', 'a-guessed-secret').send(new GetObjectCommand({ Bucket: BUCKET, Key: 'outputs/signed.bin' })),
    );
    expect([fromS3.name, fromS3.$metadata.httpStatusCode]).toEqual(['SignatureDoesNotMatch', 403]);
  });

  it('refuses a presigned URL whose key, method or expiry was edited, and one past its expiry', async () => {
    await s3('AKIASIGNED').send(
      new PutObjectCommand({ Bucket: BUCKET, Key: 'outputs/other-owner.txt', Body: 'not yours' }),
    );
    const url = await getSignedUrl(
      s3('AKIASIGNED'),
      new GetObjectCommand({ Bucket: BUCKET, Key: 'outputs/signed.bin' }),
      { expiresIn: 60 },
    );
    expect((await fetch(url)).status).toBe(200);
    const otherKey = url.replace('/outputs/signed.bin', '/outputs/other-owner.txt');
    const edited = await fetch(otherKey);
    expect(edited.status).toBe(403);
    expect(await edited.text()).toContain('<Code>SignatureDoesNotMatch</Code>');
    expect((await fetch(url.replace('X-Amz-Expires=60', 'X-Amz-Expires=600'))).status).toBe(403);
    expect((await fetch(url, { method: 'DELETE' })).status).toBe(403);
    const shortLived = await getSignedUrl(
      s3('AKIASIGNED'),
      new GetObjectCommand({ Bucket: BUCKET, Key: 'outputs/signed.bin' }),
      { expiresIn: 1 },
    );
    await new Promise((resolve) => setTimeout(resolve, 2100));
    const expired = await fetch(shortLived);
    expect(expired.status).toBe(403);
    expect(await expired.text()).toContain('Request has expired');
  });
});

describe('streaming, against a fake S3 upstream', () => {
  let upstream: http.Server;
  let fake: IamProxy;
  const firstBytes: Array<() => void> = [];
  let received = 0;

  beforeAll(async () => {
    upstream = http.createServer((req, res) => {
      received = 0;
      req.on('data', (chunk: Buffer) => {
        received += chunk.length;
        firstBytes.shift()?.();
      });
      req.on('end', () => {
        res.writeHead(200, { etag: '"x"' });
        res.end();
      });
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
    fake = await startIamProxy({
      upstreams: { dynamodb: url, sqs: url, s3: url, secretsmanager: url },
      principals: new Map(Object.entries(PRINCIPALS)),
      context: { region: REGION, accountId: ACCOUNT, tables: {} },
    });
  });
  afterAll(async () => {
    await fake.stop();
    await new Promise<void>((resolve) => upstream.close(() => resolve()));
  });

  const put = (key: string, headers: Record<string, string>) =>
    http.request(`${fake.url}/${BUCKET}/${key}`, {
      method: 'PUT',
      headers: {
        authorization:
          'AWS4-HMAC-SHA256 Credential=AKIACONSUMER/20260101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=0',
        ...headers,
      },
    });
  const answer = (request: http.ClientRequest) =>
    new Promise<http.IncomingMessage>((resolve, reject) => request.once('response', resolve).once('error', reject));

  test('an upload reaches the upstream while the client is still sending it (not buffered)', async () => {
    const request = put('outputs/stream.bin', { 'content-length': String(2 * 1024 * 1024) });
    const response = answer(request);
    const arrived = new Promise<void>((resolve) => firstBytes.push(resolve));
    request.write(Buffer.alloc(1024 * 1024, 1));
    await arrived; // the first MiB is upstream, the second not yet written
    request.end(Buffer.alloc(1024 * 1024, 2));
    expect((await response).statusCode).toBe(200);
    expect(received).toBe(2 * 1024 * 1024);
  });

  test('a refused upload with Expect: 100-continue is answered 403 without its body being asked for', async () => {
    const request = put('secret/stream.bin', { 'content-length': String(1024), expect: '100-continue' });
    let continued = false;
    request.once('continue', () => (continued = true));
    request.flushHeaders();
    const response = await answer(request);
    request.destroy();
    expect(response.statusCode).toBe(403);
    expect(continued).toBe(false);
  });
});
