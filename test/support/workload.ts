import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { readEventStream } from '../../cli/event-stream';
import { endedJob } from './callback-receiver';
import { eventually, type TestStack } from './local-stack';

/**
 * Every path through the deployed functions that touches AWS: submit (fresh, idempotent replay, refused at
 * the limit, the limit's repair, waiting for capacity), the admitter, status, list, a job's event stream, cancel, the callback secret, webhooks (small and carried
 * through S3), outputs (files, a result kept in S3, the copies of a failing job removed), presigned
 * downloads, uploads (signed PUT, checked, presigned for Replicate by submit and by the admitter), derivatives,
 * retention tags, DELETE, polling for lost webhooks, timeouts, and client callbacks (delivered, retried, waiting for their
 * owner's share, dead-lettered). What it makes the functions do is what the least-privilege test grants.
 * The stack needs `OWNER_LIMITS` with owner `quota` limited to 1 in flight, JOB_TIMEOUT_SECONDS short, the
 * reconciler running, and the admitter's timeout short (`shortAdmitterRuns`).
 */
export async function runWorkload(stack: TestStack): Promise<void> {
  const received: any[] = [];
  let refused = 0;
  const receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      // The first callback fails: its retry is scheduled by changing the message's visibility.
      if (refused++ === 0 || req.url === '/fail') return void res.writeHead(500).end();
      received.push(JSON.parse(body));
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const callbackUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/done`;
  try {
    // Files copied, a callback, presigned downloads from the status answer and from the callback.
    const images = await stack.submit(
      { model: 'a/b', input: { simulate: { output: 'images' } }, callbackUrl },
      { headers: { 'idempotency-key': 'workload-1' } },
    );
    await stack.request('/jobs', {
      body: { model: 'a/b', input: { simulate: { output: 'images' } }, callbackUrl },
      headers: { 'idempotency-key': 'workload-1' },
    });
    const done = await stack.waitFor(images.id, undefined, { timeoutMs: 20_000 });
    await Promise.all(done.outputs.map(async (output) => expectOk(await fetch(output.url!))));
    await eventually(() => received.some((callback) => callback.job.id === images.id), 20_000);
    const callback = received.find((c) => c.job.id === images.id);
    await Promise.all(callback.job.outputs.map(async (output: { url: string }) => expectOk(await fetch(output.url))));
    // The job's event stream (the events function reads it), and a download presigned by that function.
    const streamed = await lastStreamedJob(stack, images.id);
    await Promise.all(streamed.outputs.map(async (output: { url: string }) => expectOk(await fetch(output.url))));

    // Through /v1 (Replicate's shapes): a create held by `Prefer: wait` answers outputs the submit function presigned,
    // and a result kept in S3 that it read back; then a read, a page, a cancel and the webhook secret.
    const predictions = { version: 'a'.repeat(64), headers: { prefer: 'wait=20', authorization: 'Bearer key-alice' } };
    const waited = await stack.request('/v1/predictions', {
      body: { version: predictions.version, input: { simulate: { output: 'images' } } },
      headers: predictions.headers,
      key: null,
    });
    if (waited.json.status !== 'succeeded') throw new Error(`a waited prediction: ${JSON.stringify(waited.json)}`);
    await Promise.all(waited.json.output.map(async (url: string) => expectOk(await fetch(url))));
    const long = await stack.request('/v1/predictions', {
      body: { version: predictions.version, input: { simulate: { output: 'tokens', tokens: 40_000 } } },
      headers: predictions.headers,
    });
    if (long.json.output?.length !== 40_000) throw new Error('a waited prediction lost its long output');
    expectOk(await fetch(`${stack.url}/v1/predictions/${waited.json.id}`, { headers: predictions.headers }));
    expectOk(await fetch(`${stack.url}/v1/predictions?limit=1`, { headers: predictions.headers }));
    expectOk(await fetch(`${stack.url}/v1/webhooks/default/secret`, { headers: predictions.headers }));
    const ended = await stack.request(`/v1/predictions/${waited.json.id}/cancel`, { method: 'POST' });
    if (ended.json.status !== 'succeeded') throw new Error('canceling an ended prediction changed it');

    // A job that fails on a later output (a host off the list): the copy already made is deleted.
    const doomed = await stack.submit({
      model: 'a/b',
      input: { simulate: { files: ['out-0.png', 'https://elsewhere.invalid/out-1.png'] } },
    });
    await stack.waitFor(doomed.id, (job) => job.status === 'failed', { timeoutMs: 20_000 });

    // A webhook too large for SQS (through S3), a result too large for the item (kept in S3, read back), tagged
    // with the job's own retention.
    const tokens = await stack.submit({
      model: 'a/b',
      input: { simulate: { output: 'tokens', tokens: 40_000 } },
      callbackUrl,
      retentionDays: 7,
    });
    await stack.waitFor(tokens.id, (job) => job.status === 'succeeded', { timeoutMs: 20_000 });
    await eventually(() => received.some((callback) => callback.job.id === tokens.id), 20_000);
    // Its event stream reads the output back from S3 too.
    if ((await lastStreamedJob(stack, tokens.id)).output.length !== 40_000) throw new Error('streamed output cut');

    // An upload (the client's signed PUT), named in a job's input (checked, presigned for Replicate, fetched by it);
    // outputs with derivatives and their own retention; DELETE removes the job's objects and its unused upload.
    const png = stack.simulator!.fileBytes(`${stack.simulator!.url}/files/x/image.png`);
    const ticket = (await stack.request('/uploads', { body: { contentType: 'image/png', size: png.length } })).json;
    expectOk(await fetch(ticket.uploadUrl, { method: 'PUT', headers: ticket.headers, body: new Uint8Array(png) }));
    const withFiles = await stack.submit({
      model: 'a/b',
      input: { image: ticket.reference, simulate: { output: 'images', count: 1, fetchInputs: true } },
      derivatives: [{ format: 'webp', maxWidth: 8 }],
      retentionDays: 7,
    });
    await stack.waitFor(withFiles.id, (job) => job.status === 'succeeded', { timeoutMs: 20_000 });
    for (const id of [withFiles.id, tokens.id])
      expectStatus(await stack.request(`/jobs/${id}`, { method: 'DELETE' }), 204);

    // A signed webhook for a prediction no job knows (it names no job): looked up by prediction id.
    const known = stack.simulator!.predictions.keys().next().value!;
    await stack.simulator!.sendWebhook(known, 'completed', {
      body: JSON.stringify({ id: 'unknown-prediction', status: 'succeeded' }),
      retry: false,
    });

    // A duplicate of a webhook whose outputs are being copied is put back until the copier's lease ends.
    // The copy stalls 3 s, so the duplicates surely find the lease held, however the poller batches them.
    const big = await stack.submit({
      model: 'a/b',
      input: { simulate: { output: 'images', count: 1, sizeBytes: 24 * 1024 * 1024, stallMs: 3_000, webhooks: false } },
    });
    await eventually(() => stack.simulator!.predictions.get(big.predictionId!)?.status === 'succeeded');
    await stack.simulator!.sendWebhook(big.predictionId!, 'completed', { retry: false });
    await eventually(
      () => [...stack.simulator!.downloads.keys()].some((path) => path.includes(big.predictionId!)),
      20_000,
    ); // copying
    await Promise.all([1, 2].map(() => stack.simulator!.sendWebhook(big.predictionId!, 'completed', { retry: false })));
    await eventually(
      () =>
        stack.awsRequests.some((r) => r.action === 'sqs:ChangeMessageVisibility' && r.resource.includes('EventQueue')),
      20_000,
    );
    await stack.waitFor(big.id, (job) => job.status === 'succeeded', { timeoutMs: 20_000 });

    // Lost webhooks: the reconciler polls, and carries a large prediction through S3 too.
    const quiet = await stack.submit({
      model: 'a/b',
      input: { simulate: { output: 'tokens', tokens: 40_000, webhooks: false } },
    });
    await stack.waitFor(quiet.id, (job) => job.status === 'succeeded', { timeoutMs: 20_000 });

    // A job that never ends: timed out by the reconciler (canceled at Replicate), its callback queued.
    const stuck = await stack.submit({
      model: 'a/b',
      input: { simulate: { webhooks: false, stepMs: 3_600_000 } },
      callbackUrl,
    });
    await stack.waitFor(stuck.id, (job) => job.status === 'failed', { timeoutMs: 20_000 });

    // Cancel, list, the callback secret.
    const running = await stack.submit({
      model: 'a/b',
      input: { simulate: { webhooks: false, stepMs: 3_600_000 } },
      callbackUrl,
    });
    expectStatus(await stack.request(`/jobs/${running.id}/cancel`, { method: 'POST' }), 200);
    await eventually(() => received.some((callback) => callback.job.id === running.id), 20_000);
    expectStatus(await stack.request('/jobs?limit=5'), 200);
    expectStatus(await stack.request('/callbacks/secret'), 200);

    // An owner at its limit: refused; then its leaked slot is repaired from the unfinished index.
    const first = await stack.request('/jobs', {
      key: 'key-quota',
      body: { model: 'a/b', input: { simulate: { webhooks: false, stepMs: 3_600_000 } } },
    });
    expectStatus(first, 202);
    const documents = DynamoDBDocumentClient.from(stack.emulators.clients.dynamo);
    await documents.send(
      new UpdateCommand({
        TableName: stack.emulators.resources.tableName,
        Key: { id: 'quota#quota' },
        UpdateExpression: 'SET lastAcquiredAt = :old',
        ExpressionAttributeValues: { ':old': new Date(Date.now() - 120_000).toISOString() },
      }),
    );
    await stack.request(`/jobs/${first.json.id}/cancel`, { key: 'key-quota', method: 'POST' });
    await documents.send(
      new UpdateCommand({
        TableName: stack.emulators.resources.tableName,
        Key: { id: 'quota#quota' },
        UpdateExpression: 'ADD inFlight :one',
        ExpressionAttributeValues: { ':one': 1 },
      }),
    );
    const repaired = await stack.request('/jobs', {
      key: 'key-quota',
      body: { model: 'a/b', input: { simulate: { output: 'text' } } },
    });
    expectStatus(repaired, 202);
    // It holds the owner's one slot until it ends (later, the owner submits again).
    await stack.waitFor(repaired.json.id, undefined, { key: 'key-quota', timeoutMs: 20_000 });

    // A callback whose owner has its share of the sender in flight is sent again, delayed.
    const sentBySender = (queue: string) => () =>
      stack.awsRequests.some(
        (r) =>
          r.allowed &&
          r.function.startsWith('ReplicateJobsCallbackFunction') &&
          r.action === 'sqs:SendMessage' &&
          r.resource.includes(queue),
      );
    const owners = stack.deps.callbackOwners;
    const longAgo = Date.now() - 10_000;
    if (!(await owners.lease('alice', await owners.read('alice'), { a: longAgo, b: longAgo }, new Date())))
      throw new Error("could not take alice's share");
    await stack.deps.callbacks.send({ jobId: images.id });
    await eventually(sentBySender('CallbackQueue'), 20_000);
    await Promise.all(['a', 'b'].map((batch) => owners.settle('alice', batch, true, new Date())));
    // A callback whose last attempt fails goes to the callbacks DLQ.
    const failing = await endedJob(stack, 'quota', callbackUrl.replace(/\/done$/, '/fail'));
    await stack.deps.callbacks.send({ jobId: failing.id, attempts: 7 });
    await eventually(sentBySender('CallbackDeadLetterQueue'), 20_000);

    // Admission, last (Replicate's Retry-After pauses every create): a throttled job waits and wakes the admitter;
    // one that queues behind it and that Replicate then refuses fails from the admitter, with its callback; the
    // reconciler wakes the admitter while jobs wait; an admitter out of time hands over to a fresh one.
    // (Always refused by the simulator, it holds its owner's line until its timeout: the refused job then goes.
    // The refused job's own timeout is far longer, so the admitter, not the reconciler, is the one that fails it
    // however slowly a loaded machine runs the admitter.)
    const throttled = await stack.submit({ model: 'a/b', input: { simulate: { rateLimit: true } } });
    await new Promise((resolve) => setTimeout(resolve, 1_200)); // every instance's cached state now says "paused"
    // A job the admitter starts, with an upload: the URL Replicate fetches is the admitter's to sign.
    const upload = (await stack.request('/uploads', { body: { contentType: 'image/png', size: png.length } })).json;
    expectOk(await fetch(upload.uploadUrl, { method: 'PUT', headers: upload.headers, body: new Uint8Array(png) }));
    const refused = await stack.submit({
      model: 'a/b',
      input: { image: upload.reference, simulate: { reject: 'no' } },
      callbackUrl,
      timeoutSeconds: 60,
    });
    const admitted = await stack.submit({
      model: 'a/b',
      input: { image: upload.reference, simulate: { fetchInputs: true } },
      timeoutSeconds: 60,
    });
    expect(refused.waitingSince).not.toBeNull();
    const refusedEnd = await stack.waitFor(refused.id, (job) => job.status === 'failed', { timeoutMs: 45_000 });
    expect(refusedEnd.error?.code).toBe('submit_failed'); // not `timeout`: refused by Replicate
    await eventually(() => received.some((callback) => callback.job.id === refused.id), 20_000);
    const sentBy = (fn: string) => () =>
      stack.awsRequests.some(
        (r) =>
          r.allowed && r.function.startsWith(fn) && r.action === 'sqs:SendMessage' && r.resource.includes('Admission'),
      );
    await eventually(sentBy('ReplicateJobsReconcilerFunction'), 20_000);
    await eventually(sentBy('ReplicateJobsAdmitterFunction'), 30_000);
    const started = await stack.waitFor(admitted.id, (job) => job.status === 'succeeded', { timeoutMs: 45_000 });
    if (stack.simulator!.inputFetches.get(started.predictionId!)?.[0]?.status !== 200)
      throw new Error("Replicate could not fetch the admitter's upload URL");
    await stack.request(`/jobs/${throttled.id}/cancel`, { method: 'POST' });
  } finally {
    receiver.closeAllConnections();
    await new Promise<void>((resolve) => receiver.close(() => resolve()));
  }
}

/** Reads a job's Server-Sent Events to the end; answers the last job event's job. */
async function lastStreamedJob(stack: TestStack, id: string) {
  const response = await fetch(`${stack.url}/jobs/${id}/events`, { headers: { 'x-api-key': 'key-alice' } });
  expectOk(response);
  let last: any;
  for await (const event of readEventStream(response.body!)) if (event.event === 'job') last = JSON.parse(event.data);
  return last;
}

function expectOk(response: Response) {
  if (!response.ok) throw new Error(`${response.url} answered ${response.status}`);
}
function expectStatus(response: { status: number; json: unknown }, status: number) {
  if (response.status !== status)
    throw new Error(`expected ${status}, got ${response.status}: ${JSON.stringify(response.json)}`);
}

/**
 * The admitter's Lambda timeout cut to 35 s in the template: its runs then last 5 s (its timeout less 30 s), so a
 * workload sees one hand over to the next.
 */
export function shortAdmitterRuns(template: { Resources: Record<string, any> }): void {
  const admitter = Object.entries(template.Resources).find(
    ([id, resource]) => resource.Type === 'AWS::Lambda::Function' && id.startsWith('ReplicateJobsAdmitterFunction'),
  );
  if (!admitter) throw new Error('no admitter function in the template');
  admitter[1].Properties.Timeout = 35;
}
