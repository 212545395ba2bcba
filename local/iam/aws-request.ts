/**
 * What an AWS API request asks IAM for: the action(s), resource ARN(s) and condition keys AWS would authorize it
 * with. Pure (no I/O), so the mapping is testable on hand-written request shapes; the proxy (iam-proxy.ts) feeds it
 * requests and the policy evaluator (policy-check.ts) judges each authorization.
 *
 * Whatever this module does not recognise still becomes an authorization, `<service>:<Operation>`, on the most
 * specific resource it can name (the table, queue, secret, bucket or object the request names, else `*`): an
 * unmapped call is denied unless a policy grants exactly that, never forwarded unchecked.
 */

export type AwsService = 'dynamodb' | 'sqs' | 's3' | 'secretsmanager';

export interface AwsRequest {
  method: string;
  /** The raw (still percent-encoded) path, without the query string. */
  path: string;
  query: URLSearchParams;
  /** Header names as Node gives them (lower case); other cases are looked up too. */
  headers: Record<string, string | undefined>;
  /**
   * The body, for the JSON protocols (DynamoDB, SQS, Secrets Manager). Absent for S3, whose bodies are streamed
   * and never needed, except DeleteObjects (POST ?delete): the keys it deletes are in its small XML body
   * (see `needsBody`); without it, that request is authorized on `bucket/*`.
   */
  body?: Buffer;
}

export interface TableKeys {
  partitionKey: string;
  /** Index name → the index's partition key. */
  indexes: Record<string, string>;
}

export interface AwsRequestContext {
  region: string;
  accountId: string;
  /**
   * The key schema of every table a caller may touch: `dynamodb:LeadingKeys` is the value of the table's (or, for
   * a Query on an index, the index's) partition key, which the request alone does not say. A table missing here
   * gets no LeadingKeys, and then a `ForAllValues:` condition on it holds vacuously: list every table.
   */
  tables: Record<string, TableKeys>;
  /**
   * Host names under which S3 is addressed virtual-host style (`<bucket>.<suffix>`). Default `['localhost']`:
   * the SDK v3 S3 client goes virtual-host with an endpoint of `http://localhost:PORT` (to `bucket.localhost`,
   * which does not resolve here) and path-style with `http://127.0.0.1:PORT` (an IP is never virtual-hosted).
   * Any other Host (an IP, `localhost`, a dotted name not under a suffix) is read path-style: `/bucket/key`.
   */
  s3VirtualHostSuffixes?: string[];
}

export interface AwsAuthorization {
  /** The IAM action, e.g. `dynamodb:PutItem`. */
  action: string;
  /** The resource ARN (or `*`). */
  resource: string;
  /** Request condition keys, e.g. `{ 'dynamodb:LeadingKeys': ['webhook#abc'] }`. */
  context: Record<string, string | string[]>;
  /**
   * For the record: the DynamoDB partition-key value when the authorization touches exactly one, or the S3 object key.
   */
  key?: string;
}

export interface AwsRequestDescription {
  service: AwsService;
  /** The API operation, e.g. `TransactWriteItems`, `UploadPart`, `ListObjectsV2`. */
  operation: string;
  authorizations: AwsAuthorization[];
  /**
   * S3 only, when the request came virtual-host style: the same request path-style (`/bucket/key`), which is what
   * the proxy forwards (it rewrites Host to the upstream's, which would otherwise lose the bucket).
   */
  upstreamPath?: string;
}

/** The service a request is for: by its `X-Amz-Target` prefix (the JSON protocols), otherwise S3 (REST). */
export function serviceOf(headers: Record<string, string | undefined>): AwsService {
  const target = header(headers, 'x-amz-target') ?? '';
  if (target.startsWith('DynamoDB_')) return 'dynamodb';
  if (target.startsWith('AmazonSQS.')) return 'sqs';
  if (target.startsWith('secretsmanager.')) return 'secretsmanager';
  return 's3';
}

/** Whether `describeAwsRequest` needs the body: always for the JSON protocols, for S3 only DeleteObjects. */
export function needsBody(request: Pick<AwsRequest, 'method' | 'query' | 'headers'>): boolean {
  return (
    serviceOf(request.headers) !== 's3' || (request.method.toUpperCase() === 'POST' && request.query.has('delete'))
  );
}

export function describeAwsRequest(request: AwsRequest, context: AwsRequestContext): AwsRequestDescription {
  const service = serviceOf(request.headers);
  if (service === 's3') return describeS3(request, context);
  const operation = (header(request.headers, 'x-amz-target') ?? '').split('.').pop() ?? '';
  const input = parseJson(request.body);
  const describe = { dynamodb: describeDynamo, sqs: describeSqs, secretsmanager: describeSecret }[service];
  const authorizations = describe(operation, input, context);
  // A request that names nothing to authorize (an empty batch or transaction) is never let through for that.
  return {
    service,
    operation,
    authorizations: authorizations.length
      ? authorizations
      : [{ action: `${service}:${operation}`, resource: '*', context: {} }],
  };
}

// ---------------------------------------------------------------- DynamoDB

type Json = Record<string, any>;

function describeDynamo(operation: string, input: Json, context: AwsRequestContext): AwsAuthorization[] {
  const on = (tableName: unknown, action: string, values: string[], indexName?: unknown): AwsAuthorization => {
    const arn = tableArn(tableName, context);
    return withLeadingKeys(
      { action: `dynamodb:${action}`, resource: typeof indexName === 'string' ? `${arn}/index/${indexName}` : arn },
      values,
    );
  };
  const table = input.TableName;
  switch (operation) {
    case 'GetItem':
    case 'UpdateItem':
    case 'DeleteItem':
      return [on(table, operation, partitionValues(table, [input.Key], context))];
    case 'PutItem':
      return [on(table, operation, partitionValues(table, [input.Item], context))];
    case 'Query':
      return [on(table, operation, queryPartitionValues(input, context), input.IndexName)];
    case 'Scan':
      return [on(table, operation, [], input.IndexName)]; // a Scan touches no one partition: no LeadingKeys, as in AWS
    case 'BatchGetItem':
      return Object.entries((input.RequestItems ?? {}) as Json).map(([name, request]) =>
        on(name, operation, partitionValues(name, asArray(request?.Keys), context)),
      );
    case 'BatchWriteItem':
      return Object.entries((input.RequestItems ?? {}) as Json).map(([name, writes]) =>
        on(
          name,
          operation,
          partitionValues(
            name,
            asArray(writes).map((write) => write?.PutRequest?.Item ?? write?.DeleteRequest?.Key),
            context,
          ),
        ),
      );
    case 'TransactWriteItems':
    case 'TransactGetItems': {
      // IAM authorizes each contained operation as its own action, on its own table.
      const actions: Record<string, string> = {
        Put: 'PutItem',
        Update: 'UpdateItem',
        Delete: 'DeleteItem',
        ConditionCheck: 'ConditionCheckItem',
        Get: 'GetItem',
      };
      return asArray(input.TransactItems).flatMap((item: Json) =>
        Object.entries(item ?? {})
          .filter(([kind]) => kind in actions)
          .map(([kind, inner]) =>
            on(
              inner?.TableName,
              actions[kind],
              partitionValues(inner?.TableName, [inner?.Item ?? inner?.Key], context),
            ),
          ),
      );
    }
    case 'DescribeTable':
    case 'CreateTable':
      return [on(table, operation, [])];
    default:
      return [
        {
          action: `dynamodb:${operation}`,
          resource: typeof table === 'string' ? tableArn(table, context) : '*',
          context: {},
        },
      ];
  }
}

function tableArn(tableName: unknown, context: AwsRequestContext): string {
  if (typeof tableName !== 'string' || !tableName) return '*';
  if (tableName.startsWith('arn:')) return tableName; // DynamoDB accepts a table ARN as TableName
  return `arn:aws:dynamodb:${context.region}:${context.accountId}:table/${tableName}`;
}

export function tableNameOf(tableName: unknown): string | undefined {
  if (typeof tableName !== 'string') return undefined;
  return tableName.startsWith('arn:') ? tableName.split(':table/')[1]?.split('/')[0] : tableName;
}

/** The partition-key values of the given items or keys (DynamoDB JSON), deduplicated. */
function partitionValues(tableName: unknown, items: unknown[], context: AwsRequestContext): string[] {
  const name = tableNameOf(tableName);
  const partitionKey = name === undefined ? undefined : context.tables[name]?.partitionKey;
  if (!partitionKey) return [];
  const values = items.map((item) => attributeValue((item as Json | undefined)?.[partitionKey]));
  return unique(values.filter((value): value is string => value !== undefined));
}

/**
 * The value a Query binds to its (index's) partition key: `KeyConditionExpression` (`#pk = :v`, either side) or legacy
 * `KeyConditions`.
 */
function queryPartitionValues(input: Json, context: AwsRequestContext): string[] {
  const table = context.tables[tableNameOf(input.TableName) ?? ''];
  if (!table) return [];
  const partitionKey = typeof input.IndexName === 'string' ? table.indexes[input.IndexName] : table.partitionKey;
  if (!partitionKey) return [];
  if (input.KeyConditions?.[partitionKey]?.ComparisonOperator === 'EQ') {
    const value = attributeValue(input.KeyConditions[partitionKey].AttributeValueList?.[0]);
    return value === undefined ? [] : [value];
  }
  const expression = typeof input.KeyConditionExpression === 'string' ? input.KeyConditionExpression : '';
  const names: Json = input.ExpressionAttributeNames ?? {};
  const values: Json = input.ExpressionAttributeValues ?? {};
  const nameOf = (token: string) => (token.startsWith('#') ? names[token] : token);
  const operand = String.raw`(#?[A-Za-z0-9_.\-]+|:[A-Za-z0-9_]+)`;
  const found: string[] = [];
  for (const match of expression.matchAll(new RegExp(String.raw`${operand}\s*(?<![<>!])=(?!=)\s*${operand}`, 'g'))) {
    const [left, right] = [match[1], match[2]];
    const [attribute, placeholder] = left.startsWith(':') ? [right, left] : [left, right];
    if (!placeholder.startsWith(':') || nameOf(attribute) !== partitionKey) continue;
    const value = attributeValue(values[placeholder]);
    if (value !== undefined) found.push(value);
  }
  return unique(found);
}

/** The scalar of a DynamoDB attribute value (`{"S":"x"}`, `{"N":"1"}`, `{"B":"base64"}`), as IAM compares it. */
function attributeValue(value: unknown): string | undefined {
  if (!value || typeof value !== 'object') return undefined;
  const typed = value as Json;
  for (const type of ['S', 'N', 'B']) if (typeof typed[type] === 'string') return typed[type];
  return undefined;
}

function withLeadingKeys(authorization: Omit<AwsAuthorization, 'context'>, values: string[]): AwsAuthorization {
  return {
    ...authorization,
    context: values.length ? { 'dynamodb:LeadingKeys': values } : {},
    ...(values.length === 1 ? { key: values[0] } : {}),
  };
}

// ---------------------------------------------------------------- SQS (AWS JSON 1.0 protocol)

function describeSqs(operation: string, input: Json, context: AwsRequestContext): AwsAuthorization[] {
  const queueArn = (name: unknown) =>
    typeof name === 'string' && name ? `arn:aws:sqs:${context.region}:${context.accountId}:${name}` : '*';
  const byUrl = queueArn(queueNameOf(input.QueueUrl));
  // Batches are authorized as their single-message action, once.
  const actions: Record<string, string> = {
    SendMessage: 'SendMessage',
    SendMessageBatch: 'SendMessage',
    ReceiveMessage: 'ReceiveMessage',
    DeleteMessage: 'DeleteMessage',
    DeleteMessageBatch: 'DeleteMessage',
    ChangeMessageVisibility: 'ChangeMessageVisibility',
    ChangeMessageVisibilityBatch: 'ChangeMessageVisibility',
    GetQueueAttributes: 'GetQueueAttributes',
    PurgeQueue: 'PurgeQueue',
  };
  if (operation in actions) return [{ action: `sqs:${actions[operation]}`, resource: byUrl, context: {} }];
  if (operation === 'GetQueueUrl' || operation === 'CreateQueue')
    return [{ action: `sqs:${operation}`, resource: queueArn(input.QueueName), context: {} }];
  if (operation === 'ListQueues') return [{ action: 'sqs:ListQueues', resource: '*', context: {} }];
  return [{ action: `sqs:${operation}`, resource: byUrl, context: {} }];
}

/** The queue name: the QueueUrl's last path segment. */
function queueNameOf(queueUrl: unknown): string | undefined {
  if (typeof queueUrl !== 'string' || !queueUrl) return undefined;
  const path = /^[a-z]+:\/\//i.test(queueUrl) ? safe(() => new URL(queueUrl).pathname, queueUrl) : queueUrl;
  return path.split('/').filter(Boolean).pop();
}

// ---------------------------------------------------------------- Secrets Manager (AWS JSON 1.1 protocol)

function describeSecret(operation: string, input: Json, context: AwsRequestContext): AwsAuthorization[] {
  const id = input.SecretId;
  const resource =
    typeof id !== 'string' || !id
      ? '*'
      : id.startsWith('arn:')
        ? id
        : `arn:aws:secretsmanager:${context.region}:${context.accountId}:secret:${id}`; // a name: AWS would add the 6-character suffix
  return [{ action: `secretsmanager:${operation}`, resource, context: {} }];
}

// ---------------------------------------------------------------- S3 (REST)

/**
 * Query parameters that name a sub-resource (and so another operation); `x-id`, `versionId`, `response-*` etc. do not.
 */
const SUBRESOURCES = [
  'uploads',
  'uploadId',
  'delete',
  'acl',
  'tagging',
  'location',
  'versioning',
  'versions',
  'policy',
  'cors',
  'lifecycle',
  'website',
  'logging',
  'notification',
  'replication',
  'encryption',
  'accelerate',
  'requestPayment',
  'restore',
  'attributes',
  'legal-hold',
  'retention',
  'object-lock',
  'ownershipControls',
  'publicAccessBlock',
  'policyStatus',
  'analytics',
  'inventory',
  'metrics',
  'intelligent-tiering',
  'select',
  'torrent',
];

function describeS3(request: AwsRequest, context: AwsRequestContext): AwsRequestDescription {
  const { bucket, key, upstreamPath } = s3Address(request, context);
  const method = request.method.toUpperCase();
  const query = request.query;
  const sub = SUBRESOURCES.find((name) => query.has(name));
  const bucketArn = `arn:aws:s3:::${bucket}`;
  const objectArn = `arn:aws:s3:::${bucket}/${key}`;
  const result = (operation: string, authorizations: AwsAuthorization[]): AwsRequestDescription => ({
    service: 's3',
    operation,
    authorizations,
    ...(upstreamPath !== undefined ? { upstreamPath } : {}),
  });
  const onObject = (action: string): AwsAuthorization => ({
    action: `s3:${action}`,
    resource: objectArn,
    context: {},
    key,
  });
  const onBucket = (action: string, conditions: Record<string, string> = {}): AwsAuthorization => ({
    action: `s3:${action}`,
    resource: bucketArn,
    context: conditions,
  });
  const unknown = (scope: 'Object' | 'Bucket') => {
    // e.g. GET ?tagging on an object → s3:GetObjectTagging, PUT ?policy on a bucket → s3:PutBucketPolicy (true for
    // many; a wrong guess is denied)
    const verb = method === 'HEAD' ? 'Get' : method.charAt(0) + method.slice(1).toLowerCase();
    const operation = `${verb}${scope}${(sub ?? '')
      .split('-')
      .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
      .join('')}`;
    return result(operation, [scope === 'Object' ? onObject(operation) : onBucket(operation)]);
  };

  if (!bucket)
    return method === 'GET'
      ? result('ListBuckets', [{ action: 's3:ListAllMyBuckets', resource: '*', context: {} }])
      : unknown('Bucket');
  // S3 refuses an empty uploadId or a bad partNumber (InvalidArgument). Treated as a multipart request, an empty
  // one would be authorized as a PutObject while an emulator may read it as something else (a DeleteObjects).
  const uploadId = query.get('uploadId');
  const partNumber = query.get('partNumber');
  if (uploadId === '' || (partNumber !== null && !/^[1-9]\d{0,4}$/.test(partNumber))) {
    return result('InvalidArgument', [
      { action: 's3:InvalidArgument', resource: key === undefined ? bucketArn : objectArn, context: {} },
    ]);
  }

  if (key === undefined) {
    if ((method === 'GET' || method === 'HEAD') && !sub) {
      const prefix = query.get('prefix');
      const operation =
        method === 'HEAD' ? 'HeadBucket' : query.get('list-type') === '2' ? 'ListObjectsV2' : 'ListObjects';
      return result(operation, [
        onBucket('ListBucket', method === 'GET' && prefix !== null ? { 's3:prefix': prefix } : {}),
      ]);
    }
    if (method === 'GET' && sub === 'versions')
      return result('ListObjectVersions', [
        onBucket('ListBucketVersions', query.has('prefix') ? { 's3:prefix': query.get('prefix')! } : {}),
      ]);
    if (method === 'GET' && sub === 'uploads')
      return result('ListMultipartUploads', [onBucket('ListBucketMultipartUploads')]);
    if (method === 'GET' && sub === 'location') return result('GetBucketLocation', [onBucket('GetBucketLocation')]);
    if (method === 'PUT' && !sub) return result('CreateBucket', [onBucket('CreateBucket')]);
    if (method === 'DELETE' && !sub) return result('DeleteBucket', [onBucket('DeleteBucket')]);
    if (method === 'POST' && sub === 'delete') {
      // DeleteObjects: IAM authorizes s3:DeleteObject on each key.
      const keys = request.body ? deleteObjectsKeys(request.body.toString('utf8')) : undefined;
      const each = keys ?? ['*'];
      return result(
        'DeleteObjects',
        each.map((each) => ({ action: 's3:DeleteObject', resource: `${bucketArn}/${each}`, context: {}, key: each })),
      );
    }
    return unknown('Bucket');
  }

  if (method === 'GET' || method === 'HEAD') {
    if (method === 'GET' && sub === 'uploadId') return result('ListParts', [onObject('ListMultipartUploadParts')]);
    if (!sub)
      return result(method === 'HEAD' ? 'HeadObject' : 'GetObject', [
        onObject(query.has('versionId') ? 'GetObjectVersion' : 'GetObject'),
      ]);
    return unknown('Object');
  }
  if (method === 'PUT') {
    const copySource = header(request.headers, 'x-amz-copy-source');
    const readSource = (): AwsAuthorization[] => {
      if (!copySource) return [];
      const source = safe(() => decodeURIComponent(copySource.replace(/^\//, '').split('?')[0]), copySource);
      return [
        {
          action: 's3:GetObject',
          resource: `arn:aws:s3:::${source}`,
          context: {},
          key: source.slice(source.indexOf('/') + 1),
        },
      ];
    };
    if (sub === 'uploadId' && query.has('partNumber'))
      return result(copySource ? 'UploadPartCopy' : 'UploadPart', [onObject('PutObject'), ...readSource()]);
    // Tags and ACLs sent with the object need their own permissions, as in AWS.
    const extras = [
      header(request.headers, 'x-amz-tagging') ? [onObject('PutObjectTagging')] : [],
      header(request.headers, 'x-amz-acl') ? [onObject('PutObjectAcl')] : [],
    ].flat();
    if (!sub)
      return result(copySource ? 'CopyObject' : 'PutObject', [onObject('PutObject'), ...extras, ...readSource()]);
    return unknown('Object');
  }
  if (method === 'POST') {
    // Tags sent when the upload starts need their own permission, as on a PUT.
    if (sub === 'uploads')
      return result('CreateMultipartUpload', [
        onObject('PutObject'),
        ...(header(request.headers, 'x-amz-tagging') ? [onObject('PutObjectTagging')] : []),
      ]);
    if (sub === 'uploadId') return result('CompleteMultipartUpload', [onObject('PutObject')]);
    return unknown('Object');
  }
  if (method === 'DELETE') {
    if (sub === 'uploadId') return result('AbortMultipartUpload', [onObject('AbortMultipartUpload')]);
    if (!sub)
      return result('DeleteObject', [onObject(query.has('versionId') ? 'DeleteObjectVersion' : 'DeleteObject')]);
  }
  return unknown('Object');
}

/**
 * The bucket and (decoded) key a request addresses. Path-style `/bucket/key`, unless the Host is
 * `<bucket>.<suffix>` for a configured suffix (see `s3VirtualHostSuffixes`). `key` is undefined for bucket
 * requests (`/bucket` or `/bucket/`).
 */
export function s3Address(
  request: Pick<AwsRequest, 'path' | 'headers'>,
  context: Pick<AwsRequestContext, 's3VirtualHostSuffixes'>,
): { bucket: string; key?: string; upstreamPath?: string } {
  const hostname = (header(request.headers, 'host') ?? '').replace(/:\d+$/, '').toLowerCase();
  const suffix = (context.s3VirtualHostSuffixes ?? ['localhost']).find((each) =>
    hostname.endsWith(`.${each.toLowerCase()}`),
  );
  const path = request.path.startsWith('/') ? request.path : `/${request.path}`;
  const decode = (raw: string) => (raw === '' ? undefined : safe(() => decodeURIComponent(raw), raw));
  if (suffix) {
    const bucket = hostname.slice(0, -(suffix.length + 1));
    return { bucket, key: decode(path.slice(1)), upstreamPath: `/${bucket}${path}` };
  }
  const slash = path.indexOf('/', 1);
  if (slash < 0) return { bucket: safe(() => decodeURIComponent(path.slice(1)), path.slice(1)) };
  return {
    bucket: safe(() => decodeURIComponent(path.slice(1, slash)), path.slice(1, slash)),
    key: decode(path.slice(slash + 1)),
  };
}

/** The `<Key>`s of a DeleteObjects XML body. */
function deleteObjectsKeys(xml: string): string[] {
  const entities: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
  return [...xml.matchAll(/<Key>([\s\S]*?)<\/Key>/g)].map((match) =>
    match[1].replace(/&(#x[0-9a-f]+|#\d+|amp|lt|gt|quot|apos);/gi, (_, entity: string) =>
      entity.startsWith('#x') || entity.startsWith('#X')
        ? String.fromCodePoint(parseInt(entity.slice(2), 16))
        : entity.startsWith('#')
          ? String.fromCodePoint(Number(entity.slice(1)))
          : entities[entity.toLowerCase()],
    ),
  );
}

// ---------------------------------------------------------------- helpers

function header(headers: Record<string, string | undefined>, name: string): string | undefined {
  if (headers[name] !== undefined) return headers[name];
  const found = Object.keys(headers).find((each) => each.toLowerCase() === name);
  return found === undefined ? undefined : headers[found];
}

function parseJson(body: Buffer | undefined): Json {
  const parsed = safe(() => JSON.parse(body?.toString('utf8') || '{}'), {});
  return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? parsed : {};
}

function asArray(value: unknown): any[] {
  return Array.isArray(value) ? value : [];
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}

function safe<T>(run: () => T, fallback: T): T {
  try {
    return run();
  } catch {
    return fallback;
  }
}
