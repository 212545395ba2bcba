import { execFileSync } from 'node:child_process';
import { readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { startTestStack, type TestStack } from '../support/local-stack';

const ROOT = join(__dirname, '..', '..');

/** What runs locally is what `cdk deploy` ships: each function's bundle, handler and environment from the template. */
describe('the local stack runs the synthesized app', () => {
  let stack: TestStack;
  beforeAll(async () => {
    process.env.REPLICATE_JOBS_PARENT_ONLY = 'must not leak into a function';
    stack = await startTestStack();
    const job = await stack.submit({ model: 'a/b', input: { simulate: { output: 'images' } } });
    await stack.waitFor(job.id);
  });
  afterAll(async () => {
    delete process.env.REPLICATE_JOBS_PARENT_ONLY;
    await stack?.stop();
  });

  it('runs each invoked function from a copy of its asset directory in cdk.out, on Node.js 24, through the Lambda runtime client', () => {
    const running = [...stack.functions].filter(([, fn]) => fn.processIds().length > 0);
    // submit, status and webhook answered the API; the consumer copied the outputs.
    expect(running.length).toBeGreaterThanOrEqual(4);
    for (const [logicalId, fn] of running) {
      const model = stack.model.functions.find((f) => f.logicalId === logicalId)!;
      expect(model).toMatchObject({ runtime: 'nodejs24.x', architectures: ['arm64'] });
      expect(model.codeDir.startsWith(join(ROOT, 'cdk.out', 'local'))).toBe(true);
      for (const pid of fn.processIds()) {
        const exe = readlinkSync(`/proc/${pid}/exe`);
        expect(execFileSync(exe, ['--version']).toString().trim()).toMatch(/^v24\./);
        // A copy outside the repository, as /var/task has no parent node_modules: a package the bundle lacks
        // (zod, say) cannot be found by walking up from it.
        const taskRoot = readlinkSync(`/proc/${pid}/cwd`);
        expect(taskRoot.startsWith(ROOT)).toBe(false);
        expect(readFileSync(join(taskRoot, 'index.js')).equals(readFileSync(join(model.codeDir, 'index.js')))).toBe(
          true,
        );
        expect(() => require.resolve('zod', { paths: [taskRoot] })).toThrow();
        expect(readFileSync(`/proc/${pid}/cmdline`, 'utf8')).toContain('aws-lambda-ric');
        const environ = Object.fromEntries(
          readFileSync(`/proc/${pid}/environ`, 'utf8')
            .split('\0')
            .filter(Boolean)
            .map((entry) => [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)]),
        );
        expect(environ._HANDLER).toBe(model.handler);
        expect(environ.LAMBDA_TASK_ROOT).toBe(taskRoot);
        expect(environ.NODE_PATH).toBe(
          `${environ.LAMBDA_RUNTIME_DIR}/node_modules:${environ.LAMBDA_RUNTIME_DIR}:${taskRoot}`,
        );
        expect(environ.AWS_LAMBDA_FUNCTION_MEMORY_SIZE).toBe(String(model.memoryMb));
        expect(environ.AWS_LAMBDA_LOG_FORMAT).toBe('JSON');
        // Only the template's environment (resolved) and Lambda's own variables: nothing from this process.
        for (const name of Object.keys(model.environment)) expect(environ).toHaveProperty(name);
        expect(environ.TABLE_NAME).toBe(stack.emulators.resources.tableName);
        expect(environ.REPLICATE_JOBS_PARENT_ONLY).toBeUndefined();
        expect(environ.AWS_ENDPOINT_URL_DYNAMODB).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      }
    }
  });

  it('reads the API and the environment from the template: a route it lacks is not served, a value it holds is used', async () => {
    expect(stack.model.routes.map((route) => `${route.method} ${route.path}`).sort()).toEqual(
      [
        'DELETE /jobs/{id}',
        'GET /callbacks/secret',
        'GET /health',
        'GET /jobs',
        'GET /jobs/{id}',
        'GET /jobs/{id}/events',
        'GET /openapi.json',
        'GET /usage',
        'POST /jobs',
        'POST /jobs/{id}/cancel',
        'POST /jobs/{id}/retry',
        'POST /uploads',
        'POST /webhooks/replicate',
        'GET /v1/predictions',
        'GET /v1/predictions/{id}',
        'GET /v1/webhooks/default/secret',
        'POST /v1/deployments/{owner}/{name}/predictions',
        'POST /v1/models/{owner}/{name}/predictions',
        'POST /v1/predictions',
        'POST /v1/predictions/{id}/cancel',
      ].sort(),
    );
    const edited = await startTestStack({
      editTemplate: (template) => {
        for (const [id, resource] of Object.entries(template.Resources)) {
          if (
            resource.Type === 'AWS::ApiGateway::Method' &&
            resource.Properties.HttpMethod === 'GET' &&
            JSON.stringify(resource.Properties.ResourceId).includes('health')
          )
            delete template.Resources[id];
          if (resource.Type === 'AWS::Lambda::Function')
            resource.Properties.Environment.Variables.PRESIGNED_URL_SECONDS = '123';
        }
      },
    });
    try {
      expect((await edited.request('/health', { key: null })).status).toBe(404);
      expect((await edited.request('/openapi.json', { key: null })).status).toBe(200);
      const job = await edited.waitFor(
        (await edited.submit({ model: 'a/b', input: { simulate: { output: 'images' } } })).id,
      );
      expect(new URL(job.outputs[0].url!).searchParams.get('X-Amz-Expires')).toBe('123');
    } finally {
      await edited.stop();
    }
  });

  it("loads handlers by the template's Handler string", async () => {
    const edited = await startTestStack({
      editTemplate: (template) => {
        for (const [logicalId, resource] of Object.entries(template.Resources)) {
          if (resource.Type !== 'AWS::Lambda::Function') continue;
          if (logicalId.startsWith('ReplicateJobsStatusFunction')) resource.Properties.Handler = 'index.missing';
        }
      },
    });
    try {
      // API Gateway's answer when the integration fails; the runtime's own error is in the function's log.
      expect((await edited.request('/health', { key: null })).status).toBe(502);
      expect(edited.log.lines.some((line) => JSON.stringify(line).includes('Runtime.HandlerNotFound'))).toBe(true);
      expect((await edited.submit({ model: 'a/b', input: {} })).status).toBe('queued'); // the submit function's own handler is fine
    } finally {
      await edited.stop();
    }
  });

  it('refuses to run a template AWS would refuse to deploy: a queue hiding messages for less than its consumer may run', async () => {
    const refused = startTestStack({
      editTemplate: (template) => {
        for (const resource of Object.values(template.Resources)) {
          if (resource.Type === 'AWS::SQS::Queue' && resource.Properties?.RedrivePolicy)
            resource.Properties.VisibilityTimeout = 1;
        }
      },
    });
    await expect(refused).rejects.toThrow(
      /Queue visibility timeout: 1 seconds is less than Function timeout: \d+ seconds/,
    );
  });

  it('enforces the usage plan read from the template: throttle per API key', async () => {
    const throttled = await startTestStack({ throttle: { rateLimit: 1, burstLimit: 3, dailyQuota: 1000 } });
    try {
      const statuses = [];
      for (let i = 0; i < 6; i++) statuses.push((await throttled.request('/jobs?limit=1')).status);
      expect(statuses.slice(0, 3)).toEqual([200, 200, 200]);
      expect(statuses).toContain(429);
      // Another key has its own bucket; unkeyed routes are not in the plan.
      expect((await throttled.request('/jobs?limit=1', { key: 'key-bob' })).status).toBe(200);
      expect((await throttled.request('/health', { key: null })).status).toBe(200);
    } finally {
      await throttled.stop();
    }
  });

  it('checks presigned URLs as AWS does: an edited key or expiry is refused', async () => {
    const job = await stack.waitFor(
      (await stack.submit({ model: 'a/b', input: { simulate: { output: 'images' } } })).id,
    );
    const url = job.outputs[0].url!;
    expect((await fetch(url)).status).toBe(200);
    const bobs = await fetch(url.replace('/outputs/alice/', '/outputs/bob/'));
    expect(bobs.status).toBe(403);
    expect(await bobs.text()).toContain('SignatureDoesNotMatch');
    expect((await fetch(url.replace(/X-Amz-Expires=\d+/, 'X-Amz-Expires=604800'))).status).toBe(403);
  });

  it("sends webhooks to the URL each request came in on (API Gateway's X-Forwarded-Proto and Host)", async () => {
    const job = await stack.submit({ model: 'a/b', input: {} });
    const prediction = stack.simulator!.predictions.get(job.predictionId!)!;
    expect(prediction.webhook).toBe(`${stack.url}/webhooks/replicate?job=${job.id}`);
  });
});
