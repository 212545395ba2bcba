import { InvalidRequest, Unauthenticated, Unavailable } from '../../../lambdas/core/errors';
import { MAX_INLINE_BODY_BYTES, MAX_WEBHOOK_BODY_BYTES } from '../../../lambdas/core/limits';
import { METRIC } from '../../../lambdas/core/metrics';
import { receiveWebhook } from '../../../lambdas/use-cases/receive-webhook';
import { type FakeDependencies, fakeDependencies, WEBHOOK_SECRET } from '../../support/fake-ports';
import { signedHeaders } from './builders';

const BODY = JSON.stringify({
  id: 'pred_1',
  status: 'processing',
  webhook: 'https://api.test/webhooks/replicate?job=x',
});

/** Delivers `body` signed now (or with the headers given), as the HTTP adapter would. */
const deliver = (deps: FakeDependencies, body = BODY, headers: Record<string, string> = signedHeaders(deps, body)) =>
  receiveWebhook(deps, { headers, rawBody: body });

const refusal = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (error: unknown) => error,
  );

describe('receiveWebhook', () => {
  it('queues a verified webhook, body as received, with its id', async () => {
    const deps = fakeDependencies();
    await deliver(deps);
    expect(deps.queue.messages()).toEqual([
      { source: 'webhook', webhookId: 'msg_1', receivedAt: deps.clock().toISOString(), body: BODY },
    ]);
  });

  it('accepts a webhook signed with either secret during a rotation', async () => {
    const next = `whsec_${Buffer.alloc(32, 9).toString('base64')}`;
    const deps = fakeDependencies();
    deps.secrets.webhookSecret = `${next},${WEBHOOK_SECRET}`;
    await deliver(deps, BODY, signedHeaders(deps, BODY, 'msg_new', next));
    await deliver(deps, BODY, signedHeaders(deps, BODY, 'msg_old', WEBHOOK_SECRET));
    expect(deps.queue.sent).toHaveLength(2);
  });

  it.each([
    [
      'a signature by another key',
      (deps: FakeDependencies) => signedHeaders(deps, BODY, 'msg_1', `whsec_${Buffer.alloc(32, 1).toString('base64')}`),
    ],
    ['a signature of another body', (deps: FakeDependencies) => signedHeaders(deps, `${BODY} `)],
    ['no signature', () => ({ 'webhook-id': 'msg_1', 'webhook-timestamp': '1' })],
    [
      'a timestamp older than five minutes',
      (deps: FakeDependencies) => {
        const headers = signedHeaders(deps, BODY);
        deps.time.advance(301);
        return headers;
      },
    ],
  ])('refuses %s as Unauthenticated and queues nothing', async (_, headersOf) => {
    const deps = fakeDependencies();
    const error = await refusal(deliver(deps, BODY, headersOf(deps)));
    expect(error).toBeInstanceOf(Unauthenticated);
    expect(error).toMatchObject({ code: 'invalid_signature' });
    expect(deps.queue.sent).toEqual([]);
    expect(deps.metrics.total(METRIC.webhookRejected)).toBe(1);
  });

  it.each([
    ['not JSON', 'not json'],
    ['not a prediction', JSON.stringify({ hello: 'world' })],
    ['a prediction of an unknown status', JSON.stringify({ id: 'pred_1', status: 'dreaming' })],
  ])('refuses a signed body that is %s as invalid_prediction, writing nothing', async (_, body) => {
    const deps = fakeDependencies();
    const error = await refusal(deliver(deps, body));
    expect(error).toBeInstanceOf(InvalidRequest);
    expect(error).toMatchObject({ code: 'invalid_prediction' });
    expect(deps.queue.sent).toEqual([]);
  });

  it('queues a replayed delivery again: the consumer ignores it (the request path is verify + queue only)', async () => {
    const deps = fakeDependencies();
    const headers = signedHeaders(deps, BODY);
    await deliver(deps, BODY, headers);
    await deliver(deps, BODY, headers);
    expect(deps.queue.sent).toHaveLength(2);
  });

  it('answers Unavailable when queueing fails, and the retry is queued', async () => {
    const deps = fakeDependencies();
    const headers = signedHeaders(deps, BODY);
    deps.queue.failing = new Error('SQS is down');
    const error = await refusal(deliver(deps, BODY, headers));
    expect(error).toBeInstanceOf(Unavailable);
    expect(error).toMatchObject({ code: 'queue_unavailable' });

    deps.queue.failing = undefined;
    await deliver(deps, BODY, headers);
    expect(deps.queue.sent).toHaveLength(1);
  });

  it('refuses a body over the payload limit before reading any secret', async () => {
    const deps = fakeDependencies();
    const secrets = jest.spyOn(deps.secrets, 'webhookSigningKeys');
    const body = 'x'.repeat(MAX_WEBHOOK_BODY_BYTES + 1);
    const error = await refusal(receiveWebhook(deps, { headers: {}, rawBody: body }));
    expect(error).toBeInstanceOf(InvalidRequest);
    expect(error).toMatchObject({ code: 'body_too_large' });
    expect(secrets).not.toHaveBeenCalled();
  });

  it('puts a large body in the bucket and queues its key', async () => {
    const deps = fakeDependencies();
    const body = JSON.stringify({ id: 'pred_1', status: 'succeeded', output: 'x'.repeat(MAX_INLINE_BODY_BYTES) });
    await deliver(deps, body);
    const [message] = deps.queue.messages();
    expect(message.body).toBeUndefined();
    expect(await deps.objects.getText(message.bodyKey!)).toBe(body);
  });

  it.each([
    ['not set', 'UNSET'],
    ['malformed', 'whsec_short'],
  ])('fails closed with webhook_not_configured while the signing secret is %s', async (_, setting) => {
    const deps = fakeDependencies();
    deps.secrets.webhookSecret = setting;
    const error = await refusal(deliver(deps));
    expect(error).toBeInstanceOf(Unavailable);
    expect(error).toMatchObject({ code: 'webhook_not_configured' });
    expect(deps.metrics.total(METRIC.webhookSecretInvalid)).toBe(1);
    expect(deps.queue.sent).toEqual([]);
  });

  it('answers queue_unavailable when the secret cannot be read at all', async () => {
    const deps = fakeDependencies();
    deps.secrets.webhookSecret = new Error('Secrets Manager timed out');
    await expect(deliver(deps)).rejects.toMatchObject({ code: 'queue_unavailable' });
    expect(deps.metrics.total(METRIC.webhookSecretInvalid)).toBe(0);
  });
});
