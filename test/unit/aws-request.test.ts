import { type AwsRequestContext, describeAwsRequest, needsBody } from '../../local/iam/aws-request';
import { accessKeyIdOf, assumedRoleArn } from '../../local/iam/principal';

const context: AwsRequestContext = {
  region: 'us-east-1',
  accountId: '123456789012',
  tables: { jobs: { partitionKey: 'id', indexes: { byOwner: 'owner', byPrediction: 'predictionId' } } },
};
const TABLE = 'arn:aws:dynamodb:us-east-1:123456789012:table/jobs';

function json(target: string, input: object) {
  return describeAwsRequest(
    {
      method: 'POST',
      path: '/',
      query: new URLSearchParams(),
      headers: { 'x-amz-target': target, host: '127.0.0.1:1' },
      body: Buffer.from(JSON.stringify(input)),
    },
    context,
  );
}
const dynamo = (operation: string, input: object) => json(`DynamoDB_20120810.${operation}`, input);

function s3(method: string, url: string, headers: Record<string, string> = {}, body?: string) {
  const [path, query = ''] = url.split('?');
  return describeAwsRequest(
    {
      method,
      path,
      query: new URLSearchParams(query),
      headers: { host: '127.0.0.1:9000', ...headers },
      ...(body ? { body: Buffer.from(body) } : {}),
    },
    context,
  );
}
const actions = (description: ReturnType<typeof describeAwsRequest>) =>
  description.authorizations.map(({ action, resource }) => `${action} ${resource}`);

describe('DynamoDB', () => {
  test('item operations: the table ARN, LeadingKeys and key from Key/Item', () => {
    expect(dynamo('PutItem', { TableName: 'jobs', Item: { id: { S: 'webhook#a' }, n: { N: '1' } } })).toEqual({
      service: 'dynamodb',
      operation: 'PutItem',
      authorizations: [
        {
          action: 'dynamodb:PutItem',
          resource: TABLE,
          context: { 'dynamodb:LeadingKeys': ['webhook#a'] },
          key: 'webhook#a',
        },
      ],
    });
    for (const operation of ['GetItem', 'UpdateItem', 'DeleteItem']) {
      expect(dynamo(operation, { TableName: 'jobs', Key: { id: { S: 'job_1' } } }).authorizations).toEqual([
        {
          action: `dynamodb:${operation}`,
          resource: TABLE,
          context: { 'dynamodb:LeadingKeys': ['job_1'] },
          key: 'job_1',
        },
      ]);
    }
  });

  test('a table given by ARN, and a table not in the context (no LeadingKeys: its partition key is unknown)', () => {
    expect(dynamo('GetItem', { TableName: TABLE, Key: { id: { S: 'a' } } }).authorizations[0]).toMatchObject({
      resource: TABLE,
      key: 'a',
    });
    expect(dynamo('GetItem', { TableName: 'other', Key: { pk: { S: 'a' } } }).authorizations).toEqual([
      { action: 'dynamodb:GetItem', resource: 'arn:aws:dynamodb:us-east-1:123456789012:table/other', context: {} },
    ]);
  });

  test('Query: the value bound to the (index) partition key, however the expression is written', () => {
    const query = (input: object) => dynamo('Query', { TableName: 'jobs', ...input }).authorizations[0];
    expect(query({ KeyConditionExpression: 'id = :id', ExpressionAttributeValues: { ':id': { S: 'job_1' } } })).toEqual(
      {
        action: 'dynamodb:Query',
        resource: TABLE,
        context: { 'dynamodb:LeadingKeys': ['job_1'] },
        key: 'job_1',
      },
    );
    expect(
      query({
        IndexName: 'byOwner',
        KeyConditionExpression: '(#o = :o) AND #c BETWEEN :a AND :b',
        ExpressionAttributeNames: { '#o': 'owner', '#c': 'createdAt' },
        ExpressionAttributeValues: { ':o': { S: 'alice' }, ':a': { S: '1' }, ':b': { S: '2' } },
      }),
    ).toEqual({
      action: 'dynamodb:Query',
      resource: `${TABLE}/index/byOwner`,
      context: { 'dynamodb:LeadingKeys': ['alice'] },
      key: 'alice',
    });
    expect(
      query({
        IndexName: 'byPrediction',
        KeyConditionExpression: ':p=predictionId',
        ExpressionAttributeValues: { ':p': { S: 'p9' } },
      }),
    ).toMatchObject({ key: 'p9' });
    // A sort-key comparison (>=) never binds the partition key.
    expect(
      query({
        IndexName: 'byOwner',
        KeyConditionExpression: 'owner = :o AND createdAt >= :c',
        ExpressionAttributeValues: { ':o': { S: 'bob' }, ':c': { S: 'x' } },
      }),
    ).toMatchObject({
      context: { 'dynamodb:LeadingKeys': ['bob'] },
    });
    expect(
      query({ KeyConditions: { id: { ComparisonOperator: 'EQ', AttributeValueList: [{ S: 'legacy' }] } } }),
    ).toMatchObject({ key: 'legacy' });
  });

  test('Scan has no LeadingKeys; DescribeTable and CreateTable are on the table', () => {
    expect(dynamo('Scan', { TableName: 'jobs', IndexName: 'byOwner' }).authorizations).toEqual([
      { action: 'dynamodb:Scan', resource: `${TABLE}/index/byOwner`, context: {} },
    ]);
    expect(actions(dynamo('DescribeTable', { TableName: 'jobs' }))).toEqual([`dynamodb:DescribeTable ${TABLE}`]);
    expect(actions(dynamo('CreateTable', { TableName: 'jobs' }))).toEqual([`dynamodb:CreateTable ${TABLE}`]);
  });

  test('batches: one authorization per table, with every partition key it touches', () => {
    expect(
      dynamo('BatchWriteItem', {
        RequestItems: {
          jobs: [
            { PutRequest: { Item: { id: { S: 'a' } } } },
            { DeleteRequest: { Key: { id: { S: 'b' } } } },
            { PutRequest: { Item: { id: { S: 'a' } } } },
          ],
          other: [{ PutRequest: { Item: { pk: { S: 'z' } } } }],
        },
      }).authorizations,
    ).toEqual([
      { action: 'dynamodb:BatchWriteItem', resource: TABLE, context: { 'dynamodb:LeadingKeys': ['a', 'b'] } },
      {
        action: 'dynamodb:BatchWriteItem',
        resource: 'arn:aws:dynamodb:us-east-1:123456789012:table/other',
        context: {},
      },
    ]);
    expect(dynamo('BatchGetItem', { RequestItems: { jobs: { Keys: [{ id: { S: 'a' } }] } } }).authorizations).toEqual([
      { action: 'dynamodb:BatchGetItem', resource: TABLE, context: { 'dynamodb:LeadingKeys': ['a'] }, key: 'a' },
    ]);
  });

  test('transactions: each contained operation is its own action on its own table', () => {
    const write = dynamo('TransactWriteItems', {
      TransactItems: [
        { Put: { TableName: 'jobs', Item: { id: { S: 'a' } } } },
        { Update: { TableName: 'jobs', Key: { id: { S: 'b' } } } },
        { Delete: { TableName: 'other', Key: { pk: { S: 'c' } } } },
        { ConditionCheck: { TableName: 'jobs', Key: { id: { S: 'd' } } } },
      ],
    });
    expect(write.operation).toBe('TransactWriteItems');
    expect(write.authorizations.map(({ action, key }) => `${action} ${key}`)).toEqual([
      'dynamodb:PutItem a',
      'dynamodb:UpdateItem b',
      'dynamodb:DeleteItem undefined',
      'dynamodb:ConditionCheckItem d',
    ]);
    expect(
      actions(dynamo('TransactGetItems', { TransactItems: [{ Get: { TableName: 'jobs', Key: { id: { S: 'a' } } } }] })),
    ).toEqual([`dynamodb:GetItem ${TABLE}`]);
  });

  test('an operation it does not map is still an authorization: on the table when named, else on *', () => {
    expect(actions(dynamo('DeleteTable', { TableName: 'jobs' }))).toEqual([`dynamodb:DeleteTable ${TABLE}`]);
    expect(actions(dynamo('ListTables', {}))).toEqual(['dynamodb:ListTables *']);
    // Nothing to authorize is not a pass: an empty transaction still needs a grant (none exists for this action).
    expect(actions(dynamo('TransactWriteItems', { TransactItems: [] }))).toEqual(['dynamodb:TransactWriteItems *']);
  });
});

describe('SQS (JSON protocol)', () => {
  const sqs = (operation: string, input: object) => json(`AmazonSQS.${operation}`, input);
  const url = 'http://sqs.us-east-1.127.0.0.1:4566/000000000000/events';
  const QUEUE = 'arn:aws:sqs:us-east-1:123456789012:events';
  test('the queue ARN from the QueueUrl, batches as their single action', () => {
    const cases: Array<[string, string]> = [
      ['SendMessage', 'sqs:SendMessage'],
      ['SendMessageBatch', 'sqs:SendMessage'],
      ['ReceiveMessage', 'sqs:ReceiveMessage'],
      ['DeleteMessage', 'sqs:DeleteMessage'],
      ['DeleteMessageBatch', 'sqs:DeleteMessage'],
      ['ChangeMessageVisibility', 'sqs:ChangeMessageVisibility'],
      ['ChangeMessageVisibilityBatch', 'sqs:ChangeMessageVisibility'],
      ['GetQueueAttributes', 'sqs:GetQueueAttributes'],
      ['PurgeQueue', 'sqs:PurgeQueue'],
      ['SetQueueAttributes', 'sqs:SetQueueAttributes'],
    ];
    for (const [operation, action] of cases)
      expect(sqs(operation, { QueueUrl: url })).toEqual({
        service: 'sqs',
        operation,
        authorizations: [{ action, resource: QUEUE, context: {} }],
      });
  });
  test('by name, and ListQueues on *', () => {
    expect(actions(sqs('GetQueueUrl', { QueueName: 'events' }))).toEqual([`sqs:GetQueueUrl ${QUEUE}`]);
    expect(actions(sqs('CreateQueue', { QueueName: 'events' }))).toEqual([`sqs:CreateQueue ${QUEUE}`]);
    expect(actions(sqs('ListQueues', {}))).toEqual(['sqs:ListQueues *']);
  });
});

describe('Secrets Manager', () => {
  test('SecretId as an ARN is the resource; a name becomes an ARN', () => {
    const arn = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:token-AbCdEf';
    expect(json('secretsmanager.GetSecretValue', { SecretId: arn })).toEqual({
      service: 'secretsmanager',
      operation: 'GetSecretValue',
      authorizations: [{ action: 'secretsmanager:GetSecretValue', resource: arn, context: {} }],
    });
    expect(actions(json('secretsmanager.PutSecretValue', { SecretId: 'token' }))).toEqual([
      'secretsmanager:PutSecretValue arn:aws:secretsmanager:us-east-1:123456789012:secret:token',
    ]);
    expect(actions(json('secretsmanager.DescribeSecret', { SecretId: arn }))).toEqual([
      `secretsmanager:DescribeSecret ${arn}`,
    ]);
  });
});

describe('S3 (REST)', () => {
  const OBJECT = 'arn:aws:s3:::b/outputs/a b+c.png';
  test('object reads and writes, the key decoded', () => {
    expect(s3('GET', '/b/outputs/a%20b%2Bc.png?x-id=GetObject')).toEqual({
      service: 's3',
      operation: 'GetObject',
      authorizations: [{ action: 's3:GetObject', resource: OBJECT, context: {}, key: 'outputs/a b+c.png' }],
    });
    expect(s3('HEAD', '/b/outputs/a%20b%2Bc.png').operation).toBe('HeadObject');
    expect(actions(s3('PUT', '/b/outputs/a%20b%2Bc.png?x-id=PutObject'))).toEqual([`s3:PutObject ${OBJECT}`]);
    expect(actions(s3('DELETE', '/b/outputs/a%20b%2Bc.png'))).toEqual([`s3:DeleteObject ${OBJECT}`]);
  });

  test('a copy also reads its source', () => {
    const copy = s3('PUT', '/b/outputs/copy.png', { 'x-amz-copy-source': '/src/in%20put.png?versionId=1' });
    expect(copy.operation).toBe('CopyObject');
    expect(copy.authorizations).toEqual([
      { action: 's3:PutObject', resource: 'arn:aws:s3:::b/outputs/copy.png', context: {}, key: 'outputs/copy.png' },
      { action: 's3:GetObject', resource: 'arn:aws:s3:::src/in put.png', context: {}, key: 'in put.png' },
    ]);
    expect(actions(s3('PUT', '/b/k?partNumber=2&uploadId=u', { 'x-amz-copy-source': 'src/x' }))).toEqual([
      's3:PutObject arn:aws:s3:::b/k',
      's3:GetObject arn:aws:s3:::src/x',
    ]);
  });

  test('multipart uploads', () => {
    const cases: Array<[string, string, string, string]> = [
      ['POST', '/b/k?uploads', 'CreateMultipartUpload', 's3:PutObject'],
      ['PUT', '/b/k?partNumber=1&uploadId=u', 'UploadPart', 's3:PutObject'],
      ['POST', '/b/k?uploadId=u', 'CompleteMultipartUpload', 's3:PutObject'],
      ['DELETE', '/b/k?uploadId=u', 'AbortMultipartUpload', 's3:AbortMultipartUpload'],
      ['GET', '/b/k?uploadId=u', 'ListParts', 's3:ListMultipartUploadParts'],
    ];
    for (const [method, url, operation, action] of cases) {
      expect(s3(method, url)).toEqual({
        service: 's3',
        operation,
        authorizations: [{ action, resource: 'arn:aws:s3:::b/k', context: {}, key: 'k' }],
      });
    }
  });

  test('bucket operations: list (with s3:prefix), head, create', () => {
    expect(s3('GET', '/b/?list-type=2&prefix=outputs%2F')).toEqual({
      service: 's3',
      operation: 'ListObjectsV2',
      authorizations: [{ action: 's3:ListBucket', resource: 'arn:aws:s3:::b', context: { 's3:prefix': 'outputs/' } }],
    });
    expect(s3('GET', '/b').authorizations).toEqual([
      { action: 's3:ListBucket', resource: 'arn:aws:s3:::b', context: {} },
    ]);
    expect(s3('HEAD', '/b')).toMatchObject({
      operation: 'HeadBucket',
      authorizations: [{ action: 's3:ListBucket', resource: 'arn:aws:s3:::b', context: {} }],
    });
    expect(actions(s3('PUT', '/b'))).toEqual(['s3:CreateBucket arn:aws:s3:::b']);
    expect(actions(s3('GET', '/'))).toEqual(['s3:ListAllMyBuckets *']);
  });

  test('DeleteObjects: s3:DeleteObject on each key of its body', () => {
    const request = { method: 'POST', query: new URLSearchParams('delete'), headers: {} };
    expect(needsBody(request)).toBe(true);
    expect(needsBody({ ...request, query: new URLSearchParams('uploads') })).toBe(false);
    const body = '<Delete><Object><Key>outputs/a&amp;b</Key></Object><Object><Key>secret/x</Key></Object></Delete>';
    expect(actions(s3('POST', '/b?delete', {}, body))).toEqual([
      's3:DeleteObject arn:aws:s3:::b/outputs/a&b',
      's3:DeleteObject arn:aws:s3:::b/secret/x',
    ]);
    expect(actions(s3('POST', '/b?delete'))).toEqual(['s3:DeleteObject arn:aws:s3:::b/*']);
  });

  test('virtual-host style under localhost: the bucket from Host, and the path-style path to forward', () => {
    expect(s3('GET', '/outputs/a.png', { host: 'my.bucket.localhost:9000' })).toEqual({
      service: 's3',
      operation: 'GetObject',
      authorizations: [
        { action: 's3:GetObject', resource: 'arn:aws:s3:::my.bucket/outputs/a.png', context: {}, key: 'outputs/a.png' },
      ],
      upstreamPath: '/my.bucket/outputs/a.png',
    });
    // An IP, plain localhost or another dotted name is path-style.
    expect(s3('GET', '/b/k', { host: 'localhost:9000' }).authorizations[0].resource).toBe('arn:aws:s3:::b/k');
    expect(s3('GET', '/b/k', { host: 'host.docker.internal:9000' }).authorizations[0].resource).toBe(
      'arn:aws:s3:::b/k',
    );
  });

  test('sub-resources it does not map become their likely IAM action, denied unless granted', () => {
    expect(actions(s3('GET', '/b/k?tagging'))).toEqual(['s3:GetObjectTagging arn:aws:s3:::b/k']);
    expect(actions(s3('PUT', '/b?policy'))).toEqual(['s3:PutBucketPolicy arn:aws:s3:::b']);
  });
});

describe('the caller', () => {
  test('the access key id from a SigV4 Authorization header, a presigned URL, or none', () => {
    const headers = {
      authorization:
        'AWS4-HMAC-SHA256 Credential=AKIAEXAMPLE/20260101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=abc',
    };
    expect(accessKeyIdOf({ headers, query: new URLSearchParams() })).toBe('AKIAEXAMPLE');
    expect(
      accessKeyIdOf({
        headers: {},
        query: new URLSearchParams('X-Amz-Credential=AKIASIGNER%2F20260101%2Fus-east-1%2Fs3%2Faws4_request'),
      }),
    ).toBe('AKIASIGNER');
    expect(accessKeyIdOf({ headers: {}, query: new URLSearchParams() })).toBeUndefined();
  });

  test('the assumed-role session ARN AWS names in its messages', () => {
    expect(assumedRoleArn({ name: 'submit', roleArn: 'arn:aws:iam::123456789012:role/path/stack-SubmitRole' })).toBe(
      'arn:aws:sts::123456789012:assumed-role/stack-SubmitRole/submit',
    );
  });
});
