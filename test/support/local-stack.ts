/** test/support/: what the tests share (a local stack per file, fake ports, builders, fault injection). */
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import type { JobView } from '../../lambdas/core/job-view';
import type { Log } from '../../lambdas/core/log';
import { type LocalStack, type LocalStackOptions, startLocalStack } from '../../local/stack';

/** Collects log lines instead of printing them; tests can look for what was logged. */
export class MemoryLog implements Log {
  readonly lines: Array<{ level: string; message: string; extra: Record<string, unknown> }> = [];
  private add(level: string, message: string, extra: Record<string, unknown>[]) {
    this.lines.push({ level, message, extra: Object.assign({}, ...extra) });
  }
  debug = (message: string, ...extra: Record<string, unknown>[]) => this.add('debug', message, extra);
  info = (message: string, ...extra: Record<string, unknown>[]) => this.add('info', message, extra);
  warn = (message: string, ...extra: Record<string, unknown>[]) => this.add('warn', message, extra);
  error = (message: string, ...extra: Record<string, unknown>[]) => this.add('error', message, extra);
}

export interface TestStack extends LocalStack {
  log: MemoryLog;
  request(
    path: string,
    options?: { method?: string; body?: unknown; key?: string | null; headers?: Record<string, string> },
  ): Promise<{
    status: number;
    headers: Headers;
    json: any;
  }>;
  submit(body: unknown, options?: { key?: string; headers?: Record<string, string> }): Promise<JobView>;
  waitFor(
    id: string,
    done?: (job: JobView) => boolean,
    options?: { key?: string; timeoutMs?: number },
  ): Promise<JobView>;
  itemCount(): Promise<number>;
}

/** The real local stack (emulators, simulator, server, poller) on free ports, quiet. */
export async function startTestStack(options: LocalStackOptions = {}): Promise<TestStack> {
  const log = new MemoryLog();
  const stack = await startLocalStack({
    port: 0,
    apiKeys: 'alice=key-alice,bob=key-bob',
    log,
    simulatorStepMs: 10,
    ...options,
  });
  const request: TestStack['request'] = async (path, opts = {}) => {
    const key = opts.key === undefined ? 'key-alice' : opts.key;
    const response = await fetch(`${stack.url}${path}`, {
      method: opts.method ?? (opts.body === undefined ? 'GET' : 'POST'),
      headers: {
        ...(key ? { 'x-api-key': key } : {}),
        ...(opts.body === undefined ? {} : { 'content-type': 'application/json' }),
        ...opts.headers,
      },
      body: opts.body === undefined ? undefined : typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body),
    });
    const text = await response.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = text;
    }
    return { status: response.status, headers: response.headers, json };
  };
  return {
    ...stack,
    log,
    request,
    async submit(body, opts = {}) {
      const response = await request('/jobs', { body, key: opts.key, headers: opts.headers });
      if (response.status !== 202)
        throw new Error(`submit answered ${response.status}: ${JSON.stringify(response.json)}`);
      return response.json;
    },
    async waitFor(id, done = (job) => ['succeeded', 'failed', 'canceled'].includes(job.status), opts = {}) {
      const deadline = Date.now() + (opts.timeoutMs ?? 10_000);
      for (;;) {
        const response = await request(`/jobs/${id}`, { key: opts.key });
        if (response.status === 200 && done(response.json)) return response.json;
        if (Date.now() > deadline)
          throw new Error(`job ${id} did not get there in time: ${JSON.stringify(response.json)}`);
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    },
    async itemCount() {
      // Jobs and quota counters: what a request writes.
      const result = await stack.emulators.clients.dynamo.send(
        new ScanCommand({ TableName: stack.emulators.resources.tableName, Select: 'COUNT' }),
      );
      return result.Count ?? 0;
    },
  };
}

/** Keys stored under a prefix of the stack's bucket: proves "one object per output, never a second". */
export async function storedKeys(stack: LocalStack, prefix: string): Promise<string[]> {
  const { ListObjectsV2Command } = await import('@aws-sdk/client-s3');
  const result = await stack.emulators.clients.s3.send(
    new ListObjectsV2Command({ Bucket: stack.emulators.resources.bucketName, Prefix: prefix }),
  );
  return (result.Contents ?? []).map((object) => object.Key!).sort();
}

/** Waits until `check` holds, polling; for effects that happen in the background (queue, consumer). */
export async function eventually(check: () => Promise<boolean> | boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** A job view without its presigned URLs, which change every second (X-Amz-Date): for comparing states. */
export function withoutUrls(job: JobView): unknown {
  return {
    ...job,
    outputs: job.outputs.map(({ url: _url, ...rest }) => rest),
    output: job.outputs.length ? '(urls)' : job.output,
  };
}
