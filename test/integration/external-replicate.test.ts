import { type ReplicateSimulator, startReplicateSimulator } from '../../local/simulator';
import { startTestStack, type TestStack } from '../support/local-stack';

/**
 * REPLICATE_API_BASE_URL pointing at any Replicate-compatible server: here a simulator started apart from
 * the stack, as a real server would be. The stack fetches the webhook signing secret from it
 * (`GET /v1/webhooks/default/secret`), exactly as it does from Replicate when REPLICATE_WEBHOOK_SECRET is unset.
 */
describe('an external Replicate-compatible server', () => {
  let external: ReplicateSimulator;
  let stack: TestStack;
  beforeAll(async () => {
    external = await startReplicateSimulator({ webhookSecret: 'whsec_ZXh0ZXJuYWwtc2VydmVyLXNlY3JldC0x', stepMs: 10 });
    stack = await startTestStack({ replicateApiBaseUrl: external.apiBaseUrl, replicateApiToken: 'r8_external' });
  });
  afterAll(async () => {
    await stack.stop();
    await external.stop();
  });

  it('runs jobs against it, downloading outputs from its host', async () => {
    expect(stack.simulator).toBeUndefined();
    expect(stack.webhookSecret).toBe('whsec_ZXh0ZXJuYWwtc2VydmVyLXNlY3JldC0x');
    const { id, predictionId } = await stack.submit({ model: 'a/b', input: { simulate: { output: 'images' } } });
    expect(external.predictions.has(predictionId!)).toBe(true);
    const job = await stack.waitFor(id);
    expect(job.status).toBe('succeeded');
    expect(job.outputs).toHaveLength(2);
  });

  it('fails a job whose output is off the host allowlist, fetching nothing', async () => {
    const { id } = await stack.submit({
      model: 'a/b',
      input: { simulate: { outputUrl: 'http://127.0.0.2:9/secret.png' } },
    });
    const job = await stack.waitFor(id);
    expect(job).toMatchObject({ status: 'failed', error: { code: 'output_host_not_allowed' }, outputs: [] });
  });
});
