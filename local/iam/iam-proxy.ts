/**
 * local/iam/: the IAM-enforcing proxy in front of the emulators: checks each AWS request's signature and the
 * calling function's role against the template's policies. Imports only Node, the IAM simulator, local/read-body
 * and itself.
 */
import { randomUUID } from 'node:crypto';
import http, { type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { pipeline } from 'node:stream/promises';
import { gunzipSync } from 'node:zlib';
import { readBody } from '../read-body';
import {
  type AwsRequestContext,
  type AwsService,
  describeAwsRequest,
  needsBody,
  s3Address,
  serviceOf,
  tableNameOf,
} from './aws-request';
import { type IndexWrite, type Item, indexWrites, scalarOf, type TableSchema } from './index-writes';
import { checkAuthorization } from './policy-check';
import { accessKeyIdOf, assumedRoleArn, type Principal } from './principal';
import { s3ResponseOverrides } from './s3-response-overrides';
import { verifySignature } from './signature';

/**
 * IAM in front of the local emulators. Every request from a function process is mapped to the IAM action(s),
 * resource(s) and condition keys AWS would authorize (aws-request.ts), judged against that function's role
 * policies (policy-check.ts), and either forwarded to the emulator or refused the way the AWS service refuses it,
 * so a missing grant fails locally exactly as it would in AWS. One port serves all four services: the request
 * itself says which (X-Amz-Target, else S3).
 *
 * S3 bodies (objects up to GiBs, multipart parts) stream through both ways, never buffered; only the small JSON
 * bodies are read, because the mapping needs them. A request with `Expect: 100-continue` is authorized before its
 * body is asked for, so a denied upload is refused without being sent.
 */

/**
 * The output bucket's CORS rule (lib/jobs-storage.ts): any origin may PUT and GET with a signed URL. The emulator
 * has no CORS, so the proxy answers for it.
 */
const BUCKET_CORS = { methods: ['PUT', 'GET'], headers: ['content-type'], maxAgeSeconds: 3600 };

export interface RequestRecord {
  /** The function (principal name), or `unknown:<access key id>` / `anonymous`. */
  function: string;
  service: AwsService;
  operation: string;
  action: string;
  resource: string;
  /** The DynamoDB partition-key value, or the S3 object key, when there is one. */
  key?: string;
  /** From the request's arrival to the end of the upstream's response (or of the refusal). */
  latencyMs: number;
  /** The HTTP status the caller got. */
  status: number;
  /** This authorization's decision (a request is forwarded only when all of its authorizations are allowed). */
  allowed: boolean;
  /** Epoch ms of the request's arrival. */
  at: number;
  /**
   * The invocation that made it: the Root of its X-Ray trace header, which the AWS SDK sends from within a Lambda
   * invocation (`_X_AMZN_TRACE_ID`).
   */
  trace?: string;
}

/** One item a function wrote (or tried to), recorded when the proxy follows item writes (`itemWrites`). */
export interface ItemWriteRecord {
  function: string;
  /** `PutItem`, `UpdateItem`, `DeleteItem`, or a part of a batch: `TransactWriteItems.Update`, `BatchWriteItem.PutRequest`. */
  operation: string;
  table: string;
  /** The item's partition-key value. */
  key: string;
  /**
   * `written`; `conditionFailed`: its condition did not hold, nothing changed, yet in AWS it consumed a write on the
   * table key; `failed`: refused otherwise (validation, an unprocessed batch item, a canceled transaction), no write.
   */
  outcome: 'written' | 'conditionFailed' | 'failed';
  /** The index entries the write changed (index-writes.ts): empty unless `written`. */
  indexWrites: IndexWrite[];
  /** The invocation that wrote it (see RequestRecord.trace). */
  trace?: string;
  /** Epoch ms of the request's arrival. */
  at: number;
  /** Why the item's images could not be read: its index writes are then unknown (left empty). */
  unread?: string;
}

export interface DeniedEntry {
  function: string;
  action: string;
  resource: string;
  /** The message AWS would give (for S3, which answers only "Access Denied", the detailed one). */
  message: string;
  /** The evaluator's reason: the denying statement, or what no policy allows. */
  reason: string;
}

export interface IamProxyOptions {
  upstreams: Record<AwsService, string>;
  /** Access key id → the function it belongs to. */
  principals: Map<string, Principal>;
  /** Local tooling's keys (key id → secret key): signatures verified, then forwarded unauthorized and unrecorded. */
  trustedKeys?: Map<string, string>;
  /**
   * Where the SQS emulator's queue URLs point (default: its endpoint); queue URLs naming the proxy are translated to
   * it.
   */
  sqsQueueUrlOrigin?: string;
  context: AwsRequestContext;
  /** Called once per refused request, with its first denied authorization: for a log line. */
  onDenied?: (entry: DeniedEntry) => void;
  /** Default 127.0.0.1 (an IP: the S3 client then addresses buckets path-style). */
  host?: string;
  /** Default 0 (any free port). */
  port?: number;
  /**
   * Opt-in, for measurements (it costs two reads per written item): every DynamoDB item a function writes is read
   * before and after the write (`readItem`: consistent, straight at the emulator, neither authorized nor recorded),
   * writes to one item are serialized so that the two images belong to that write alone, and the index entries the
   * write changed are recorded in `itemWrites`. Those writes' `latencyMs` then includes the two reads.
   */
  itemWrites?: {
    /** Each table's keys and indexes, by table name: items of other tables are not followed. */
    tables: Record<string, TableSchema>;
    readItem(table: string, key: Item): Promise<Item | undefined>;
  };
}

export interface IamProxy {
  url: string;
  records: RequestRecord[];
  /** Empty unless `itemWrites` is set. */
  itemWrites: ItemWriteRecord[];
  stop(): Promise<void>;
}

/** The JSON bodies are small (DynamoDB's largest, BatchWriteItem, is 16 MB). */
const MAX_JSON_BODY_BYTES = 32 * 1024 * 1024;
const HOP_BY_HOP = [
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'te',
  'trailer',
  'expect',
];

export async function startIamProxy(options: IamProxyOptions): Promise<IamProxy> {
  const records: RequestRecord[] = [];
  const itemWriteRecords: ItemWriteRecord[] = [];
  const itemLocks = new ItemLocks();
  /** This proxy's own origin, which queue URLs name (known once it listens). */
  let ownOrigin = '';
  const agents = { http: new http.Agent({ keepAlive: true }), https: new https.Agent({ keepAlive: true }) };
  const upstreams = Object.fromEntries(
    Object.entries(options.upstreams).map(([service, url]) => [service, new URL(url)]),
  ) as Record<AwsService, URL>;

  const handle = async (req: IncomingMessage, res: ServerResponse, expectsContinue: boolean) => {
    const started = performance.now();
    const at = Date.now();
    const rawUrl = req.url ?? '/';
    const queryStart = rawUrl.indexOf('?');
    const path = queryStart < 0 ? rawUrl : rawUrl.slice(0, queryStart);
    const search = queryStart < 0 ? '' : rawUrl.slice(queryStart);
    const headers = flatten(req.headers);
    const request = { method: req.method ?? 'GET', path, query: new URLSearchParams(search), headers };
    // A browser's CORS preflight (a console uploading with a presigned PUT): answered as the bucket's CORS rule says.
    if (request.method === 'OPTIONS' && headers['access-control-request-method']) {
      res.writeHead(BUCKET_CORS.methods.includes(headers['access-control-request-method']) ? 200 : 403, {
        'access-control-allow-origin': '*',
        'access-control-allow-methods': BUCKET_CORS.methods.join(', '),
        'access-control-allow-headers': BUCKET_CORS.headers.join(', '),
        'access-control-max-age': String(BUCKET_CORS.maxAgeSeconds),
      });
      res.end();
      return 200;
    }
    const service = serviceOf(headers);
    const trace = /(?:^|;)\s*Root=([^;\s]+)/.exec(headers['x-amzn-trace-id'] ?? '')?.[1];
    const keyId = accessKeyIdOf(request);
    const upstreamPath = () =>
      (service === 's3' ? (s3Address(request, options.context).upstreamPath ?? path) : path) + search;

    const trustedSecret = keyId === undefined ? undefined : options.trustedKeys?.get(keyId);
    if (trustedSecret !== undefined) {
      // The local tooling's own key: authenticated like any other (anyone can name a key id), never authorized.
      if (expectsContinue) res.writeContinue();
      const trustedBody = needsBody(request) ? await readBody(req, MAX_JSON_BODY_BYTES) : undefined;
      const verdict = verifySignature({ ...request, body: trustedBody }, trustedSecret);
      if (!verdict.valid) {
        const answer = badSignature(service, verdict.code, verdict.reason, req.method);
        return refuse(res, answer.status, answer.headers, answer.body, false);
      }
      await forward(req, res, service, upstreamPath(), trustedBody);
      return;
    }

    const principal = keyId === undefined ? undefined : options.principals.get(keyId);
    let body: Buffer | undefined;
    if (needsBody(request)) {
      if (principal && expectsContinue) res.writeContinue();
      if (principal || !expectsContinue) body = await readBody(req, MAX_JSON_BODY_BYTES);
      if (body === undefined && principal) return void res.destroy(); // over the limit: no AWS JSON request is this large
    }
    const description = describeAwsRequest({ ...request, body }, options.context);
    const record = (fn: string, allowed: boolean[], status: number) => {
      const latencyMs = Math.round((performance.now() - started) * 100) / 100;
      records.push(
        ...description.authorizations.map((authorization, index) => ({
          function: fn,
          service,
          operation: description.operation,
          action: authorization.action,
          resource: authorization.resource,
          ...(authorization.key !== undefined ? { key: authorization.key } : {}),
          latencyMs,
          status,
          allowed: allowed[index],
          at,
          ...(trace !== undefined ? { trace } : {}),
        })),
      );
    };

    if (!principal) {
      const name = keyId === undefined ? 'anonymous' : `unknown:${keyId}`;
      const answer =
        keyId === undefined && service === 's3'
          ? denial(service, 'Access Denied', req.method)
          : invalidKey(service, keyId ?? '', req.method);
      refuse(res, answer.status, answer.headers, answer.body, expectsContinue);
      record(
        name,
        description.authorizations.map(() => false),
        answer.status,
      );
      const first = description.authorizations[0];
      options.onDenied?.({
        function: name,
        action: first?.action ?? '',
        resource: first?.resource ?? '',
        message: keyId === undefined ? 'Unsigned request' : 'The security token included in the request is invalid.',
        reason: keyId === undefined ? 'the request is not signed' : `access key id ${keyId} belongs to no function`,
      });
      return;
    }

    if (principal.secretAccessKey) {
      const verdict = verifySignature({ ...request, body }, principal.secretAccessKey);
      if (!verdict.valid) {
        const answer = badSignature(service, verdict.code, verdict.reason, req.method);
        refuse(res, answer.status, answer.headers, answer.body, expectsContinue);
        record(
          principal.name,
          description.authorizations.map(() => false),
          answer.status,
        );
        const first = description.authorizations[0];
        options.onDenied?.({
          function: principal.name,
          action: first?.action ?? '',
          resource: first?.resource ?? '',
          message: verdict.reason,
          reason: verdict.code,
        });
        return;
      }
    }

    const results = await Promise.all(
      description.authorizations.map((authorization) => checkAuthorization(principal, authorization)),
    );
    const deniedAt = results.findIndex((result) => !result.allowed);
    if (deniedAt >= 0) {
      const { action, resource } = description.authorizations[deniedAt];
      const because =
        results[deniedAt].decision === 'ExplicitlyDenied'
          ? 'with an explicit deny in an identity-based policy'
          : `because no identity-based policy allows the ${action} action`;
      const message = `User: ${assumedRoleArn(principal, options.context.accountId)} is not authorized to perform: ${action} on resource: ${resource} ${because}`;
      const answer = denial(service, message, req.method);
      // An unread S3 body: drained when it is coming anyway; when it waits for 100 Continue, the connection is closed
      // instead.
      refuse(res, answer.status, answer.headers, answer.body, expectsContinue);
      record(
        principal.name,
        results.map((result) => result.allowed),
        answer.status,
      );
      options.onDenied?.({ function: principal.name, action, resource, message, reason: results[deniedAt].reason });
      return;
    }

    if (expectsContinue && body === undefined) res.writeContinue();
    const forwardPath = description.upstreamPath !== undefined ? description.upstreamPath + search : path + search;
    const targets =
      options.itemWrites && service === 'dynamodb'
        ? writeTargets(description.operation, body, options.itemWrites.tables)
        : [];
    const status = targets.length
      ? await forwardFollowingItems(
          targets,
          (beforeAnswer) => forward(req, res, service, forwardPath, body, beforeAnswer),
          {
            function: principal.name,
            operation: description.operation,
            at,
            trace,
          },
        )
      : await forward(req, res, service, forwardPath, body);
    record(
      principal.name,
      results.map(() => true),
      status,
    );
  };

  /**
   * Forwards a write with its items locked, reads each item before and after it, and records what the write did to
   * each and to the indexes, before the caller has its answer (so a caller that got its answer finds the record). A
   * failed read is recorded (`unread`), never turned into a failed write.
   */
  const forwardFollowingItems = async (
    targets: WriteTarget[],
    send: (beforeAnswer: BeforeAnswer) => Promise<number>,
    request: Pick<ItemWriteRecord, 'function' | 'operation' | 'at' | 'trace'>,
  ): Promise<number> => {
    const { readItem, tables } = options.itemWrites!;
    const readAll = () => Promise.all(targets.map((target) => readItem(target.table, target.key)));
    return itemLocks.holding(
      targets.map((target) => target.lockKey),
      async () => {
        let unread: string | undefined;
        const before = await readAll().catch((error: Error) => {
          unread = `before: ${error.message}`;
          return [];
        });
        return send(async (status, answer) => {
          const outcomes = writeOutcomes(request.operation, status, answer, targets);
          const after =
            outcomes.includes('written') && unread === undefined
              ? await readAll().catch((error: Error) => {
                  unread = `after: ${error.message}`;
                  return [];
                })
              : [];
          targets.forEach((target, index) => {
            const written = outcomes[index] === 'written' && unread === undefined;
            itemWriteRecords.push({
              function: request.function,
              operation: target.operation,
              table: target.table,
              key: target.partitionValue,
              outcome: outcomes[index],
              indexWrites: written ? indexWrites(tables[target.table], before[index], after[index]) : [],
              ...(request.trace !== undefined ? { trace: request.trace } : {}),
              at: request.at,
              ...(unread !== undefined ? { unread } : {}),
            });
          });
        });
      },
    );
  };

  /**
   * Sends the request on (the buffered body, or the request stream itself) and streams the answer back; resolves with
   * its status once it has ended. With `beforeAnswer`, the answer (a small JSON one) is read whole and handed to it
   * before the caller gets it.
   */
  const forward = async (
    req: IncomingMessage,
    res: ServerResponse,
    service: AwsService,
    path: string,
    body: Buffer | undefined,
    beforeAnswer?: BeforeAnswer,
  ): Promise<number> => {
    const target = upstreams[service];
    // Queue URLs name this proxy (the SDK sends a queue's requests to its URL's host, as in AWS, where that is
    // the SQS endpoint); the emulator knows each queue by the URL it gave it, so the proxy translates.
    if (service === 'sqs' && body !== undefined)
      body = translateQueueUrl(body, ownOrigin, options.sqsQueueUrlOrigin ?? target.origin);
    const headers: IncomingHttpHeaders = { ...req.headers, host: target.host };
    for (const name of HOP_BY_HOP) delete headers[name];
    if (body !== undefined) headers['content-length'] = String(body.length);
    const transport = target.protocol === 'https:' ? https : http;
    const upstream = transport.request({
      protocol: target.protocol,
      hostname: target.hostname,
      port: target.port,
      method: req.method,
      path: target.pathname.replace(/\/$/, '') + path,
      headers,
      agent: target.protocol === 'https:' ? agents.https : agents.http,
    });
    const response = new Promise<IncomingMessage>((resolve, reject) => {
      upstream.once('response', resolve);
      upstream.once('error', reject);
    });
    res.once('close', () => {
      if (!res.writableFinished) upstream.destroy(); // the caller went away: stop the upload/download
    });
    const sending = body !== undefined ? Promise.resolve(upstream.end(body)) : pipeline(req, upstream);
    sending.catch(() => undefined);
    try {
      const answer = await response;
      const status = answer.statusCode ?? 502;
      const answerHeaders = { ...answer.headers };
      for (const name of HOP_BY_HOP) delete answerHeaders[name];
      if (service === 's3') {
        Object.assign(
          answerHeaders,
          s3ResponseOverrides(req.method, status, new URL(req.url ?? '/', 'http://proxy').searchParams),
        );
        if (headers.origin) answerHeaders['access-control-allow-origin'] = '*';
      }
      if (beforeAnswer) {
        const chunks: Buffer[] = [];
        for await (const chunk of answer) chunks.push(chunk);
        const bytes = Buffer.concat(chunks);
        await beforeAnswer(status, answer.headers['content-encoding'] === 'gzip' ? gunzipSync(bytes) : bytes);
        res.writeHead(status, answerHeaders);
        res.end(bytes);
        return status;
      }
      res.writeHead(status, answerHeaders);
      await pipeline(answer, res);
      return status;
    } catch (error) {
      if (!res.headersSent) {
        res.writeHead(502, { 'content-type': 'text/plain' });
        res.end(`iam-proxy: upstream ${service} failed: ${(error as Error).message}`);
        return 502;
      }
      res.destroy();
      return res.statusCode;
    }
  };

  const server = http.createServer((req, res) => {
    handle(req, res, false).catch((error) => failed(res, error));
  });
  // Authorize before asking for the body: a refused upload is never sent.
  server.on('checkContinue', (req, res) => {
    handle(req, res, true).catch((error) => failed(res, error));
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve));
  const { address, port } = server.address() as AddressInfo;
  ownOrigin = `http://${address.includes(':') ? `[${address}]` : address}:${port}`;
  return {
    url: `http://${address.includes(':') ? `[${address}]` : address}:${port}`,
    records,
    itemWrites: itemWriteRecords,
    async stop() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      agents.http.destroy();
      agents.https.destroy();
      await closed;
    },
  };
}

/** Called with the upstream's answer (its status and decoded body) before it goes on to the caller. */
type BeforeAnswer = (status: number, answer: Buffer) => Promise<void>;

/** One item a write request touches, in a table whose schema is known. */
interface WriteTarget {
  operation: string;
  table: string;
  /** The item's key attributes (DynamoDB JSON). */
  key: Item;
  partitionValue: string;
  /** Its place among the request's items (a transaction's cancellation reasons are positional). */
  position: number;
  lockKey: string;
}

/**
 * The items a DynamoDB write request writes: PutItem, UpdateItem, DeleteItem, and the Put/Update/Delete of a
 * TransactWriteItems and the put and delete requests of a BatchWriteItem (a ConditionCheck writes nothing).
 */
function writeTargets(operation: string, body: Buffer | undefined, tables: Record<string, TableSchema>): WriteTarget[] {
  let input: any;
  try {
    input = JSON.parse(body?.toString('utf8') || '{}');
  } catch {
    return [];
  }
  const parts: Array<{ operation: string; tableName: unknown; item: unknown }> = [];
  if (operation === 'PutItem') parts.push({ operation, tableName: input.TableName, item: input.Item });
  else if (operation === 'UpdateItem' || operation === 'DeleteItem')
    parts.push({ operation, tableName: input.TableName, item: input.Key });
  else if (operation === 'TransactWriteItems') {
    for (const each of Array.isArray(input.TransactItems) ? input.TransactItems : []) {
      const [kind, inner] = Object.entries(each ?? {})[0] ?? [];
      const part = inner as any;
      // A ConditionCheck keeps its place (cancellation reasons are positional) but writes nothing.
      parts.push({
        operation: `${operation}.${kind}`,
        tableName: kind === 'ConditionCheck' ? undefined : part?.TableName,
        item: part?.Item ?? part?.Key,
      });
    }
  } else if (operation === 'BatchWriteItem') {
    for (const [tableName, writes] of Object.entries(input.RequestItems ?? {}))
      for (const write of Array.isArray(writes) ? writes : [])
        parts.push({
          operation: `${operation}.${write?.PutRequest ? 'PutRequest' : 'DeleteRequest'}`,
          tableName,
          item: write?.PutRequest?.Item ?? write?.DeleteRequest?.Key,
        });
  }
  return parts.flatMap((part, position) => {
    const table = tableNameOf(part.tableName);
    const schema = table === undefined ? undefined : tables[table];
    const item = part.item as Item | undefined;
    if (!schema || !item || typeof item !== 'object') return [];
    const names = [schema.partitionKey, ...(schema.sortKey ? [schema.sortKey] : [])];
    if (names.some((name) => item[name] === undefined)) return []; // refused by DynamoDB anyway
    const key = Object.fromEntries(names.map((name) => [name, item[name]]));
    return [
      {
        operation: part.operation,
        table: table!,
        key,
        partitionValue: scalarOf(item[schema.partitionKey]),
        position,
        lockKey: JSON.stringify([table, names.map((name) => item[name])]),
      },
    ];
  });
}

/** What became of each item of a write, from the upstream's answer. */
function writeOutcomes(
  operation: string,
  status: number,
  body: Buffer,
  targets: WriteTarget[],
): Array<ItemWriteRecord['outcome']> {
  let answer: any = {};
  try {
    answer = JSON.parse(body.toString('utf8') || '{}');
  } catch {
    // not JSON: judged by the status alone
  }
  if (status === 200) {
    if (operation !== 'BatchWriteItem') return targets.map(() => 'written');
    const unprocessed = new Set<string>();
    for (const [tableName, writes] of Object.entries(answer?.UnprocessedItems ?? {}))
      for (const write of Array.isArray(writes) ? writes : []) {
        const item = write?.PutRequest?.Item ?? write?.DeleteRequest?.Key ?? {};
        const target = targets.find(
          (each) =>
            each.table === tableNameOf(tableName) &&
            Object.entries(each.key).every(([name, value]) => JSON.stringify(item[name]) === JSON.stringify(value)),
        );
        if (target) unprocessed.add(target.lockKey);
      }
    return targets.map((target) => (unprocessed.has(target.lockKey) ? 'failed' : 'written'));
  }
  const type = String(answer?.__type ?? '')
    .split('#')
    .pop();
  if (type === 'ConditionalCheckFailedException') return targets.map(() => 'conditionFailed');
  if (type === 'TransactionCanceledException') {
    const reasons = Array.isArray(answer?.CancellationReasons) ? answer.CancellationReasons : [];
    return targets.map((target) =>
      reasons[target.position]?.Code === 'ConditionalCheckFailed' ? 'conditionFailed' : 'failed',
    );
  }
  return targets.map(() => 'failed');
}

/**
 * Locks on item keys: a holder of several takes them in one order (sorted), so two writes that share items cannot
 * wait for each other; each key's waiters go in arrival order.
 */
class ItemLocks {
  private readonly tails = new Map<string, Promise<void>>();

  async holding<T>(keys: string[], run: () => Promise<T>): Promise<T> {
    const releases: Array<() => void> = [];
    try {
      for (const key of [...new Set(keys)].sort()) releases.push(await this.take(key));
      return await run();
    } finally {
      for (const release of releases) release();
    }
  }

  private async take(key: string): Promise<() => void> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((resolve) => {
      release = resolve;
    });
    const tail = previous.then(() => mine);
    this.tails.set(key, tail);
    await previous;
    return () => {
      release();
      if (this.tails.get(key) === tail) this.tails.delete(key);
    };
  }
}

function failed(res: ServerResponse, error: unknown) {
  if (!res.headersSent) {
    res.writeHead(500, { 'content-type': 'text/plain' });
    res.end(`iam-proxy: ${(error as Error).message}`);
  } else res.destroy();
}

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** AccessDenied, as each service words it on the wire (the SDK clients name the error from these). */
function denial(service: AwsService, message: string, method: string | undefined): Answer {
  const requestId = randomUUID();
  switch (service) {
    case 'dynamodb':
      return json(
        400,
        '1.0',
        { __type: 'com.amazon.coral.service#AccessDeniedException', Message: message },
        { 'x-amzn-requestid': requestId },
      );
    case 'sqs':
      return json(
        400,
        '1.0',
        { __type: 'com.amazonaws.sqs#AccessDenied', message },
        { 'x-amzn-requestid': requestId, 'x-amzn-query-error': 'AccessDenied;Sender' },
      );
    case 'secretsmanager':
      return json(400, '1.1', { __type: 'AccessDeniedException', Message: message }, { 'x-amzn-requestid': requestId });
    case 's3':
      // S3 says only "Access Denied"; the detail goes to onDenied.
      return s3Error(403, 'AccessDenied', 'Access Denied', requestId, method);
  }
}

/** A signature that does not verify, or a presigned URL past its expiry: what each service answers. */
function badSignature(
  service: AwsService,
  code: 'SignatureDoesNotMatch' | 'RequestExpired',
  message: string,
  method: string | undefined,
): Answer {
  const requestId = randomUUID();
  switch (service) {
    case 'dynamodb':
      return json(
        400,
        '1.0',
        { __type: 'com.amazon.coral.service#InvalidSignatureException', message },
        { 'x-amzn-requestid': requestId },
      );
    case 'sqs':
      return json(
        403,
        '1.0',
        { __type: 'com.amazonaws.sqs#SignatureDoesNotMatch', message },
        { 'x-amzn-requestid': requestId, 'x-amzn-query-error': 'SignatureDoesNotMatch;Sender' },
      );
    case 'secretsmanager':
      return json(
        400,
        '1.1',
        { __type: 'InvalidSignatureException', Message: message },
        { 'x-amzn-requestid': requestId },
      );
    case 's3':
      return code === 'RequestExpired'
        ? s3Error(403, 'AccessDenied', 'Request has expired', requestId, method)
        : s3Error(403, 'SignatureDoesNotMatch', message, requestId, method);
  }
}

/** An access key id that belongs to no function: what each service answers for a key it does not know. */
function invalidKey(service: AwsService, keyId: string, method: string | undefined): Answer {
  const requestId = randomUUID();
  const message = 'The security token included in the request is invalid.';
  switch (service) {
    case 'dynamodb':
      return json(
        400,
        '1.0',
        { __type: 'com.amazon.coral.service#UnrecognizedClientException', message },
        { 'x-amzn-requestid': requestId },
      );
    case 'sqs':
      return json(
        403,
        '1.0',
        { __type: 'com.amazonaws.sqs#InvalidClientTokenId', message },
        { 'x-amzn-requestid': requestId, 'x-amzn-query-error': 'InvalidClientTokenId;Sender' },
      );
    case 'secretsmanager':
      return json(400, '1.1', { __type: 'UnrecognizedClientException', message }, { 'x-amzn-requestid': requestId });
    case 's3':
      return s3Error(
        403,
        'InvalidAccessKeyId',
        'The AWS Access Key Id you provided does not exist in our records.',
        requestId,
        method,
        `<AWSAccessKeyId>${xml(keyId)}</AWSAccessKeyId>`,
      );
  }
}

function json(status: number, version: '1.0' | '1.1', payload: unknown, headers: Record<string, string>): Answer {
  return {
    status,
    headers: { 'content-type': `application/x-amz-json-${version}`, ...headers },
    body: JSON.stringify(payload),
  };
}

function s3Error(
  status: number,
  code: string,
  message: string,
  requestId: string,
  method: string | undefined,
  extra = '',
): Answer {
  const body =
    method === 'HEAD' // HEAD answers carry no body: the SDK names the error from the status
      ? ''
      : `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${xml(message)}</Message>${extra}<RequestId>${requestId}</RequestId><HostId>iam-proxy</HostId></Error>`;
  return { status, headers: { 'content-type': 'application/xml', 'x-amz-request-id': requestId }, body };
}

/**
 * Answers without having read the request body. With `close`, the connection is closed after the answer (the client
 * may be waiting for 100 Continue, so the body may never come); otherwise the body is read and dropped, keeping the
 * connection usable.
 */
function refuse(res: ServerResponse, status: number, headers: Record<string, string>, body: string, close: boolean) {
  const req = res.req;
  res.writeHead(status, {
    ...headers,
    'content-length': String(Buffer.byteLength(body)),
    ...(close ? { connection: 'close' } : {}),
  });
  res.end(body);
  if (!req.readableEnded) req.resume();
}

/**
 * The one field that names a queue, moved from this proxy's origin to the emulator's. Only the parsed
 * `QueueUrl` value is touched, and only when it names this proxy: nothing a caller sends (a Host header, another
 * field) can change which queue the request reaches after it was authorized.
 */
function translateQueueUrl(body: Buffer, from: string, to: string): Buffer {
  let parsed: { QueueUrl?: unknown };
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    return body; // not JSON: the emulator refuses it as SQS would
  }
  if (typeof parsed?.QueueUrl !== 'string' || !parsed.QueueUrl.startsWith(`${from}/`)) return body;
  return Buffer.from(JSON.stringify({ ...parsed, QueueUrl: `${to}${parsed.QueueUrl.slice(from.length)}` }));
}

function flatten(headers: IncomingHttpHeaders): Record<string, string | undefined> {
  return Object.fromEntries(
    Object.entries(headers).map(([name, value]) => [name, Array.isArray(value) ? value.join(', ') : value]),
  );
}

function xml(text: string): string {
  return text.replace(
    /[<>&'"]/g,
    (char) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[char]!,
  );
}
