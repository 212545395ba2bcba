import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  FunctionError,
  type FunctionSpec,
  type LocalFunction,
  type LocalFunctionOptions,
  startLocalFunction,
} from '../../local/lambda/local-function';

// Real processes: each function below runs in Node 24 under the official Runtime Interface Client.

const MARKER = 'LOCAL_FUNCTION_TEST_MARKER';
let root: string;
const started: LocalFunction[] = [];

beforeAll(() => {
  process.env[MARKER] = 'from the test process';
  // realpath: the handler's cwd is reported resolved, and tmpdir() may be a symlink.
  root = realpathSync(mkdtempSync(join(tmpdir(), 'local-function-')));
});

afterAll(async () => {
  await Promise.all(started.map((fn) => fn.stop()));
  rmSync(root, { recursive: true, force: true });
  delete process.env[MARKER];
});

/** Writes `code` as the function's index file and starts it. */
function start(
  name: string,
  code: string,
  spec: Partial<FunctionSpec> = {},
  options: LocalFunctionOptions & { file?: string } = {},
): LocalFunction {
  const codeDir = join(root, name);
  mkdirSync(codeDir);
  writeFileSync(join(codeDir, options.file ?? 'index.js'), code);
  const fn = startLocalFunction(
    { name, codeDir, handler: 'index.handler', environment: {}, timeoutSeconds: 3, memoryMb: 128, ...spec },
    options,
  );
  started.push(fn);
  return fn;
}

async function failure(promise: Promise<unknown>): Promise<FunctionError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(FunctionError);
  return error as FunctionError;
}

/** Sleeps `event.sleepMs`, then answers its pid. */
const SLEEPER = `
exports.handler = async (event) => {
  await new Promise((resolve) => setTimeout(resolve, event.sleepMs ?? 0));
  if (event.exit !== undefined) process.exit(event.exit);
  return process.pid;
};`;

test("runs on Node 24 with Lambda's environment and context, and none of this process's", async () => {
  const fn = start(
    'Environment',
    `
const v8 = require('node:v8');
exports.handler = async (event, context) => ({
  event,
  version: process.version,
  cwd: process.cwd(),
  taskRoot: process.env.LAMBDA_TASK_ROOT,
  fromSpec: process.env.FROM_SPEC,
  fromPlatform: process.env.AWS_ACCESS_KEY_ID,
  marker: process.env.${MARKER} ?? null,
  region: process.env.AWS_REGION,
  logGroup: process.env.AWS_LAMBDA_LOG_GROUP_NAME,
  traceId: process.env._X_AMZN_TRACE_ID,
  heapMb: v8.getHeapStatistics().heap_size_limit / 2 ** 20,
  memoryLimitInMB: context.memoryLimitInMB,
  functionName: context.functionName,
  invokedFunctionArn: context.invokedFunctionArn,
  awsRequestId: context.awsRequestId,
  remaining: context.getRemainingTimeInMillis(),
});`,
    { environment: { FROM_SPEC: 'spec value' } },
    { platformEnvironment: { AWS_ACCESS_KEY_ID: 'AKIDLOCAL' }, region: 'eu-west-1', accountId: '123456789012' },
  );

  const result = (await fn.invoke({ hello: 'world' })) as Record<string, unknown>;

  expect(result.event).toEqual({ hello: 'world' });
  expect(result.version).toMatch(/^v24\./);
  expect(result.cwd).toBe(join(root, 'Environment'));
  expect(result.taskRoot).toBe(join(root, 'Environment'));
  expect(result.fromSpec).toBe('spec value');
  expect(result.fromPlatform).toBe('AKIDLOCAL');
  expect(result.marker).toBeNull();
  expect(result.region).toBe('eu-west-1');
  expect(result.logGroup).toBe('/aws/lambda/Environment');
  expect(result.traceId).toMatch(/^Root=1-[0-9a-f]{8}-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=0$/);
  expect(result.heapMb).toBeLessThan(256); // V8's default would be gigabytes: MemorySize bounds the heap
  expect(result.memoryLimitInMB).toBe('128'); // a string, as the runtime reads it from the environment
  expect(result.functionName).toBe('Environment');
  expect(result.invokedFunctionArn).toBe('arn:aws:lambda:eu-west-1:123456789012:function:Environment');
  expect(result.awsRequestId).toMatch(/^[0-9a-f-]{36}$/);
  expect(result.remaining).toBeGreaterThan(2000);
  expect(result.remaining).toBeLessThanOrEqual(3000);
});

test('runs an ES module handler', async () => {
  const code = 'export const handler = async () => ({ esm: typeof require === "undefined" });';
  const fn = start('Esm', code, {}, { file: 'index.mjs' });
  expect(await fn.invoke({})).toEqual({ esm: true });
});

test('keeps an environment warm for sequential invocations', async () => {
  const fn = start('Warm', SLEEPER);
  const first = await fn.invoke({});
  const second = await fn.invoke({});
  expect(second).toBe(first);
  expect(fn.coldStarts).toBe(1);
});

test('starts one environment per concurrent invocation, up to maxEnvironments', async () => {
  const fn = start('Concurrent', SLEEPER, {}, { maxEnvironments: 2 });
  const pids = await Promise.all([fn.invoke({ sleepMs: 300 }), fn.invoke({ sleepMs: 300 })]);
  expect(new Set(pids).size).toBe(2);
  expect(fn.coldStarts).toBe(2);
});

test('queues invocations beyond maxEnvironments', async () => {
  const fn = start('Queued', SLEEPER, {}, { maxEnvironments: 1 });
  const began = Date.now();
  const pids = await Promise.all([fn.invoke({ sleepMs: 300 }), fn.invoke({ sleepMs: 300 })]);
  expect(Date.now() - began).toBeGreaterThanOrEqual(600);
  expect(pids[1]).toBe(pids[0]);
  expect(fn.coldStarts).toBe(1);
});

test("reports a handler's error as the runtime posted it, and stays warm", async () => {
  const fn = start(
    'Throws',
    `
class ValidationError extends Error { name = 'ValidationError'; }
exports.handler = async (event) => {
  if (event.fail) throw new ValidationError('bad input');
  return process.pid;
};`,
  );
  const pid = await fn.invoke({});

  const error = await failure(fn.invoke({ fail: true }));
  expect(error.errorType).toBe('ValidationError');
  expect(error.errorMessage).toBe('bad input');
  expect(error.trace?.[0]).toBe('ValidationError: bad input');

  expect(await fn.invoke({})).toBe(pid);
  expect(fn.coldStarts).toBe(1);
});

test('times out as Lambda does, and the next invocation starts a fresh environment', async () => {
  const fn = start('Slow', SLEEPER, { timeoutSeconds: 1 });
  const pid = await fn.invoke({});

  const began = Date.now();
  const error = await failure(fn.invoke({ sleepMs: 5000 }));
  expect(Date.now() - began).toBeLessThan(1500);
  expect(error.errorType).toBe('Sandbox.Timedout');
  expect(error.errorMessage).toBe('Task timed out after 1.00 seconds');

  expect(await fn.invoke({})).not.toBe(pid);
  expect(fn.coldStarts).toBe(2);
});

test("refuses an event over Lambda's 6 MB payload limit before any environment starts", async () => {
  const fn = start('Payload', SLEEPER);
  const error = await failure(fn.invoke({ body: 'x'.repeat(6_291_456) }));
  expect(error.errorType).toBe('RequestEntityTooLargeException');
  expect(fn.coldStarts).toBe(0);
  expect(typeof (await fn.invoke({ body: 'x'.repeat(6_000_000) }))).toBe('number');
});

test('reports a process that exits mid-invocation as Runtime.ExitError', async () => {
  const fn = start('Exits', SLEEPER);
  const error = await failure(fn.invoke({ exit: 3 }));
  expect(error.errorType).toBe('Runtime.ExitError');
  expect(error.errorMessage).toMatch(/^RequestId: [0-9a-f-]{36} Error: Runtime exited with error: exit status 3$/);

  expect(typeof (await fn.invoke({}))).toBe('number');
  expect(fn.coldStarts).toBe(2);
});

test("reports init errors with the runtime's error type", async () => {
  const missingExport = start('NoHandler', 'exports.other = async () => 1;');
  const notFound = await failure(missingExport.invoke({}));
  expect(notFound.errorType).toBe('Runtime.HandlerNotFound');
  expect(notFound.errorMessage).toBe('index.handler is undefined or not exported');

  const missingModule = start('NoModule', 'exports.handler = async () => 1;', { handler: 'missing.handler' });
  expect((await failure(missingModule.invoke({}))).errorType).toBe('Runtime.ImportModuleError');
});

test('gives every line the function writes to onLog, none lost at stop', async () => {
  const lines: string[] = [];
  const fn = start(
    'Logs',
    `
console.log('at init');
exports.handler = async (event, context) => {
  console.log('hello %s', 'world');
  console.error('two\\nlines');
  process.stdout.write('raw line\\n');
  process.stdout.write('no newline at the end');
  return context.awsRequestId;
};`,
    {},
    { onLog: (line, name) => lines.push(`${name} ${line}`) },
  );
  const requestId = await fn.invoke({});
  await fn.stop();

  expect(lines).toEqual([
    expect.stringMatching(/^Logs \S+Z\t-\tINFO\tat init$/),
    expect.stringMatching(new RegExp(`^Logs \\S+Z\\t${requestId}\\tINFO\\thello world$`)),
    // The runtime keeps a message whole by turning its newlines into \r, as in CloudWatch.
    expect.stringMatching(new RegExp(`^Logs \\S+Z\\t${requestId}\\tERROR\\ttwo\\rlines$`)),
    'Logs raw line',
    'Logs no newline at the end',
  ]);
});

test('cuts a line over 256 KB as CloudWatch Logs does, in linear time', async () => {
  const lines: string[] = [];
  const fn = start(
    'LongLine',
    `exports.handler = async () => { process.stdout.write('x'.repeat(32 * 1024 * 1024) + '\\nafter\\n'); return 1; };`,
    {},
    { onLog: (line) => lines.push(line) },
  );
  const began = Date.now();
  await fn.invoke({});
  while (lines.length < 2 && Date.now() - began < 10_000) await new Promise((resolve) => setTimeout(resolve, 20)); // a pipe drains after the handler returns
  await fn.stop();
  expect(lines.map((line) => line.length)).toEqual([256 * 1024, 5]);
  expect(Date.now() - began).toBeLessThan(10_000); // quadratic splitting took 47 s for this line
});

test('stop() ends running invocations and rejects queued ones', async () => {
  const fn = start('Stopped', SLEEPER, {}, { maxEnvironments: 1 });
  // Outcomes caught at once: both settle during stop(), before they are awaited.
  const running = failure(fn.invoke({ sleepMs: 5000 }));
  const queued = fn.invoke({}).catch((error: unknown) => error);
  await new Promise((resolve) => setTimeout(resolve, 300));
  await fn.stop();

  expect((await running).errorType).toBe('Runtime.ExitError');
  expect(await queued).toEqual(new Error('Function Stopped stopped'));
  await expect(fn.invoke({})).rejects.toThrow('Function Stopped stopped');
});

/** Reads a streamed response whole; answers its text, or the error that cut it. */
async function readWhole(body: NodeJS.ReadableStream): Promise<{ text: string; error?: Error }> {
  let text = '';
  try {
    for await (const chunk of body) text += chunk.toString();
    return { text };
  } catch (error) {
    return { text, error: error as Error };
  }
}

/** A streaming handler (awslambda.streamifyResponse) writing `event.chunks` pieces `event.gapMs` apart, then ending. */
const STREAMER = `
exports.handler = awslambda.streamifyResponse(async (event, responseStream) => {
  const stream = awslambda.HttpResponseStream.from(responseStream, { statusCode: 200, headers: { 'x-kind': 'sse' } });
  for (let i = 0; i < event.chunks; i++) {
    stream.write('piece ' + i + ' at ' + Date.now() + '\\n');
    await new Promise((resolve) => setTimeout(resolve, event.gapMs));
  }
  if (event.fail) throw new Error('failed mid-stream');
  stream.end();
});`;

describe('response streaming (InvokeWithResponseStream)', () => {
  it("hands on a streaming handler's bytes as it writes them, prelude first, then goes back to the pool", async () => {
    const fn = start('Streamer', STREAMER);
    const body = await fn.invokeWithResponseStream({ chunks: 3, gapMs: 300 });
    const first = await new Promise<string>((resolve) =>
      body.once('data', (chunk: Buffer) => resolve(chunk.toString())),
    );
    const receivedAt = Date.now();
    const { text } = await readWhole(body);
    const whole = first + text;
    const prelude = whole.slice(0, whole.indexOf('\0'));
    expect(JSON.parse(prelude)).toEqual({ statusCode: 200, headers: { 'x-kind': 'sse' } });
    expect(whole.slice(prelude.length, prelude.length + 8)).toBe('\0'.repeat(8));
    const pieces = [...whole.matchAll(/piece (\d) at (\d+)/g)];
    expect(pieces.map((match) => match[1])).toEqual(['0', '1', '2']);
    // The last piece was written ~600 ms after the first reached us: nothing waited for the handler to end.
    expect(Number(pieces[2][2])).toBeGreaterThan(receivedAt + 300);
    // The environment is free again: a second invocation runs in it.
    expect((await readWhole(await fn.invokeWithResponseStream({ chunks: 1, gapMs: 0 }))).text).toContain('piece 0');
    expect(fn.coldStarts).toBe(1);
  });

  it('ends the body where a handler failed mid-stream, and cuts it where a timeout killed it', async () => {
    const failing = start('StreamFails', STREAMER);
    const failed = await readWhole(await failing.invokeWithResponseStream({ chunks: 1, gapMs: 0, fail: true }));
    expect(failed.text).toContain('piece 0');
    const slow = start('StreamTimesOut', STREAMER, { timeoutSeconds: 1 });
    const cut = await readWhole(await slow.invokeWithResponseStream({ chunks: 10, gapMs: 400 }));
    expect(cut.text).toContain('piece 0');
    expect(cut.text).not.toContain('piece 9');
    expect(cut.error?.message).toMatch(/stopped in the middle/);
  });

  it("answers a plain handler's result whole, and fails the body of one that throws before writing", async () => {
    const plain = start('PlainAsStream', SLEEPER);
    expect((await readWhole(await plain.invokeWithResponseStream({}))).text).toMatch(/^\d+$/);
    const broken = start(
      'StreamThrowsFirst',
      'exports.handler = awslambda.streamifyResponse(async () => { throw new Error("no"); });',
    );
    expect(await readWhole(await broken.invokeWithResponseStream({}))).toEqual({
      text: '',
      error: new Error('Error: no'),
    });
  });

  it('throttles past its reservation instead of queueing, as Lambda does (found by an attack: watchers queued forever)', async () => {
    const fn = start('Reserved', STREAMER, {}, { maxEnvironments: 1, throttleWhenFull: true });
    const first = await fn.invokeWithResponseStream({ chunks: 2, gapMs: 300 });
    const error = await failure(fn.invokeWithResponseStream({ chunks: 1, gapMs: 0 }));
    expect(error.errorType).toBe('TooManyRequestsException');
    expect((await readWhole(first)).text).toContain('piece 1');
  });
});
