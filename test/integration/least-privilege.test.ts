import type { RequestRecord } from '../../local/iam/iam-proxy';
import { checkAuthorization } from '../../local/iam/policy-check';
import { unusedGrants, withoutGrant } from '../support/grants';
import { eventually, startTestStack, type TestStack } from '../support/local-stack';
import { runWorkload, shortAdmitterRuns } from '../support/workload';

/**
 * IAM as deployed: every AWS call of every function passes the IAM proxy, judged against that function's
 * role from the template. Removing one grant breaks the path that needs it, with AccessDenied naming the
 * function, the action and the resource; and no role grants an action that no path uses.
 */
describe('least privilege, measured on the deployed bundles', () => {
  async function withStack(options: Parameters<typeof startTestStack>[0], run: (stack: TestStack) => Promise<void>) {
    const stack = await startTestStack(options);
    try {
      await run(stack);
    } finally {
      await stack.stop();
    }
  }

  /** The proxy's log line for the refusal, and the request it recorded. */
  function expectDenied(stack: TestStack, fn: string, action: string, resource: RegExp) {
    const line = stack.log.lines.find(
      (l) =>
        l.message === 'access denied' &&
        String(l.extra.function).startsWith(`ReplicateJobs${fn}Function`) &&
        l.extra.action === action,
    );
    expect(line?.extra).toMatchObject({ resource: expect.stringMatching(resource) });
    expect(String(line!.extra.detail)).toContain(
      `is not authorized to perform: ${action} on resource: ${line!.extra.resource}`,
    );
    expect(stack.awsRequests.some((r) => !r.allowed && r.action === action && resource.test(r.resource))).toBe(true);
  }
  const TABLE = /^arn:aws:dynamodb:us-east-1:000000000000:table\/ReplicateJobsJobsTable[^/]*$/;

  it('submit without dynamodb:PutItem answers 500', async () => {
    await withStack({ editTemplate: withoutGrant('Submit', 'dynamodb:PutItem') }, async (stack) => {
      const response = await stack.request('/jobs', { body: { model: 'a/b', input: {} } });
      expect(response).toMatchObject({ status: 500, json: { error: { code: 'internal_error' } } });
      expectDenied(stack, 'Submit', 'dynamodb:PutItem', TABLE);
    });
  });

  it('status without dynamodb:GetItem cannot read a job', async () => {
    await withStack({ editTemplate: withoutGrant('Status', 'dynamodb:GetItem') }, async (stack) => {
      expect((await stack.request('/jobs/job_0000000000000000000000000a')).status).toBe(500);
      expectDenied(stack, 'Status', 'dynamodb:GetItem', TABLE);
    });
  });

  it('the webhook without sqs:SendMessage answers 503', async () => {
    await withStack({ editTemplate: withoutGrant('Webhook', 'sqs:SendMessage') }, async (stack) => {
      await stack.submit({ model: 'a/b', input: {} });
      await eventually(() => stack.simulator!.deliveries.some((delivery) => delivery.responseStatus === 503));
      expectDenied(stack, 'Webhook', 'sqs:SendMessage', /:ReplicateJobsEventQueue/);
    });
  });

  it('the consumer without s3:PutObject cannot store outputs; the job does not succeed', async () => {
    await withStack({ editTemplate: withoutGrant('Consumer', 's3:PutObject') }, async (stack) => {
      const job = await stack.submit({ model: 'a/b', input: { simulate: { output: 'images' } } });
      await eventually(() => stack.log.lines.some((l) => l.message === 'access denied'));
      expectDenied(stack, 'Consumer', 's3:PutObject', /^arn:aws:s3:::replicatejobsoutputbucket[^/]*\/outputs\/alice\//);
      expect((await stack.request(`/jobs/${job.id}`)).json.status).not.toBe('succeeded');
    });
  });

  it('the reconciler without dynamodb:Query cannot find quiet jobs', async () => {
    await withStack(
      { reconcileIntervalSeconds: 0.3, editTemplate: withoutGrant('Reconciler', 'dynamodb:Query') },
      async (stack) => {
        await eventually(() => stack.log.lines.some((l) => l.message === 'access denied'));
        // Its first query counts the waiting line; without the grant it finds neither that nor quiet jobs.
        expectDenied(stack, 'Reconciler', 'dynamodb:Query', /table\/ReplicateJobsJobsTable[^/]*\/index\/waiting$/);
      },
    );
  });

  it('the callback sender without secretsmanager:GetSecretValue cannot sign', async () => {
    await withStack({ editTemplate: withoutGrant('Callback', 'secretsmanager:GetSecretValue') }, async (stack) => {
      await stack.submit({ model: 'a/b', input: {}, callbackUrl: 'http://127.0.0.1:9/unreachable' });
      await eventually(() => stack.log.lines.some((l) => l.message === 'access denied'), 20_000);
      expectDenied(stack, 'Callback', 'secretsmanager:GetSecretValue', /:secret:ReplicateJobsCallbackSigningKey/);
    });
  });

  it('every path through the functions is allowed, and every grant is used by one', async () => {
    // Its own records only: this test stands alone.
    const used: RequestRecord[] = [];
    let granted: TestStack['policies'] | undefined;
    const run = async (options: Parameters<typeof startTestStack>[0], drive: (stack: TestStack) => Promise<void>) =>
      withStack(options, async (stack) => {
        granted ??= stack.policies;
        try {
          await drive(stack);
        } finally {
          used.push(...stack.awsRequests);
        }
      });
    await run(
      {
        apiKeys: 'alice=key-alice,quota=key-quota',
        reconcileIntervalSeconds: 0.5,
        editTemplate: shortAdmitterRuns,
        env: {
          RECONCILE_AFTER_SECONDS: '1',
          JOB_TIMEOUT_SECONDS: '8',
          CALLBACK_RETRY_BASE_SECONDS: '1',
          OWNER_LIMITS: JSON.stringify({
            default: { maxInFlight: 50, maxPerDay: 1000 },
            owners: { quota: { maxInFlight: 1 } },
          }),
        },
      },
      async (stack) => {
        await runWorkload(stack);
        expect(stack.awsRequests.filter((r) => !r.allowed)).toEqual([]);
        // A port an entry point forgot to wire throws (runtime/aws.ts), even where the use case only logs the failure.
        expect(stack.log.lines.filter((line) => JSON.stringify(line).includes('is not wired'))).toEqual([]);
      },
    );
    const unused = unusedGrants(granted!, used);
    // The report: what each function used, and what it is granted but never used (must be nothing).
    const pairs = new Set(used.filter((r) => r.allowed).map((r) => `${r.function} ${r.action}`));
    console.log(
      `least privilege: ${pairs.size} (function, action) pairs used over ${used.length} AWS requests; unused grants: ${unused.length}`,
    );
    expect(unused).toEqual([]);
    // The comparison can fail: one grant more than the paths use is reported.
    const status = [...granted!.keys()].find((name) => name.startsWith('ReplicateJobsStatusFunction'))!;
    const widened = new Map(granted!);
    widened.set(status, [
      ...granted!.get(status)!,
      { name: 'extra', policy: { Statement: [{ Effect: 'Allow', Action: 'dynamodb:Scan', Resource: '*' }] } },
    ]);
    expect(unusedGrants(widened, used)).toEqual([{ function: status, action: 'dynamodb:Scan', resource: '*' }]);
  }, 180_000);

  it('the webhook role cannot touch the table at all: the deployed policy denies every item', async () => {
    await withStack({}, async (stack) => {
      const webhook = [...stack.policies.keys()].find((name) => name.startsWith('ReplicateJobsWebhookFunction'))!;
      const principal = {
        name: webhook,
        roleArn: 'arn:aws:iam::000000000000:role/Webhook',
        policies: stack.policies.get(webhook)!,
      };
      const table = `arn:aws:dynamodb:us-east-1:000000000000:table/${stack.emulators.resources.tableName}`;
      for (const action of ['dynamodb:PutItem', 'dynamodb:GetItem', 'dynamodb:UpdateItem'])
        for (const key of ['webhook#msg_1', 'job_0000000000000000000000000a', 'quota#alice'])
          expect(
            (
              await checkAuthorization(principal, {
                action,
                resource: table,
                context: { 'dynamodb:LeadingKeys': [key] },
              })
            ).allowed,
          ).toBe(false);
    });
  });

  it("the consumer's event source cannot start without sqs:GetQueueAttributes, as Lambda's cannot", async () => {
    await withStack({ editTemplate: withoutGrant('Consumer', 'sqs:GetQueueAttributes') }, async (stack) => {
      const job = await stack.submit({ model: 'a/b', input: {} });
      await eventually(() =>
        stack.log.lines.some((l) => l.message === 'access denied' && l.extra.action === 'sqs:GetQueueAttributes'),
      );
      expectDenied(stack, 'Consumer', 'sqs:GetQueueAttributes', /:ReplicateJobsEventQueue/);
      await new Promise((resolve) => setTimeout(resolve, 1500));
      expect(
        stack.awsRequests.some(
          (r) => r.function.startsWith('ReplicateJobsConsumerFunction') && r.action === 'sqs:ReceiveMessage',
        ),
      ).toBe(false);
      expect((await stack.request(`/jobs/${job.id}`)).json.status).toBe('queued');
    });
  });
});
