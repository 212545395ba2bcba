import { HEARTBEAT, parseEventId } from '../../../lambdas/core/event-stream';
import { MAX_PARTIAL_OUTPUT_BYTES, partialOutputOf } from '../../../lambdas/core/partial-output';
import type { Prediction } from '../../../lambdas/core/prediction';
import { applyPredictionEvent } from '../../../lambdas/use-cases/apply-prediction-event';
import { openJobEvents, type StreamTiming } from '../../../lambdas/use-cases/job-events';
import { type FakeDependencies, fakeDependencies } from '../../support/fake-ports';
import { OTHER_OWNER, OWNER, predictionOf, runningJob, seedJob, webhookMessage } from './builders';

/** What DELETE /jobs/{id} leaves between two reads of a running job: it canceled it, then left a tombstone. */
async function deleteJob(deps: FakeDependencies, id: string) {
  const updatedAt = deps.clock().toISOString();
  await deps.jobs.finish(id, {
    status: 'canceled',
    error: { code: 'prediction_canceled', message: 'Canceled' },
    updatedAt,
  });
  expect(await deps.jobs.replaceByTombstone(id, updatedAt)).toBe(true);
}

const apply = (deps: FakeDependencies, prediction: Prediction) =>
  applyPredictionEvent(deps, webhookMessage(deps, prediction), 'message-1');

describe('partial outputs (a running model streaming its output)', () => {
  it('keeps the largest output seen while the job runs, whatever order the events come in', async () => {
    const deps = fakeDependencies();
    const job = runningJob(deps);
    await apply(deps, predictionOf(job, { output: ['Hel', 'lo'] }));
    await apply(deps, predictionOf(job, { output: ['Hel'] })); // late, and older
    await apply(deps, predictionOf(job, { output: ['Hel', 'lo'] })); // a repeat
    expect(await deps.jobs.get(job.id)).toMatchObject({ status: 'processing', partialOutput: ['Hel', 'lo'] });
  });

  it('keeps none from a prediction that is not processing (starting, or ended: output replaces it)', async () => {
    const deps = fakeDependencies();
    const job = runningJob(deps, { status: 'starting', rank: 1 });
    await apply(deps, predictionOf(job, { status: 'starting', output: ['early'] }));
    expect((await deps.jobs.get(job.id))!.partialOutput).toBeUndefined();
    expect(partialOutputOf(predictionOf(job, { status: 'succeeded', output: ['done'] }))).toBeUndefined();
  });

  it('takes it from the event that moves the job to processing, too', async () => {
    const deps = fakeDependencies();
    const job = runningJob(deps, { status: 'starting', rank: 1 });
    await apply(deps, predictionOf(job, { status: 'processing', output: ['first'] }));
    expect(await deps.jobs.get(job.id)).toMatchObject({ status: 'processing', partialOutput: ['first'] });
  });

  it("ignores another prediction's output, one over the cap, and any after the end (which removes it)", async () => {
    const deps = fakeDependencies();
    const job = runningJob(deps);
    await apply(deps, predictionOf(job, { id: 'pred_2', output: ['not', 'ours'] }));
    await apply(deps, predictionOf(job, { output: ['x'.repeat(MAX_PARTIAL_OUTPUT_BYTES)] }));
    expect((await deps.jobs.get(job.id))!.partialOutput).toBeUndefined();
    await apply(deps, predictionOf(job, { output: ['a'] }));
    await apply(deps, predictionOf(job, { status: 'failed', error: 'boom' }));
    await apply(deps, predictionOf(job, { output: ['a', 'b'] }));
    const ended = (await deps.jobs.get(job.id))!;
    expect(ended.partialOutput).toBeUndefined();
    expect(ended.status).toBe('failed');
  });
});

describe('openJobEvents', () => {
  const FAST: StreamTiming = { pollMs: 5, heartbeatMs: 40, maxStreamMs: 10_000 };

  /** Reads events until the stream ends or `stop` says so (then the reader stops, as a client closing would). */
  async function read(events: AsyncIterable<string>, stop: (chunks: string[]) => boolean = () => false) {
    const chunks: string[] = [];
    for await (const chunk of events) {
      chunks.push(chunk);
      if (stop(chunks)) break;
    }
    return chunks;
  }
  const dataOf = (chunk: string) => JSON.parse(/^data: (.*)$/m.exec(chunk)![1]);

  it('sends the job at once, a heartbeat while nothing changes, each change, and ends after the terminal event', async () => {
    const deps = fakeDependencies();
    const job = runningJob(deps, { status: 'starting', rank: 1 });
    const opened = await openJobEvents(deps, { owner: OWNER, jobId: job.id }, FAST);
    if (opened.kind !== 'stream') throw new Error('expected a stream');
    const chunks: string[] = [];
    for await (const chunk of opened.events) {
      chunks.push(chunk);
      if (chunk === HEARTBEAT && chunks.filter((each) => each === HEARTBEAT).length === 1) {
        await apply(deps, predictionOf(job, { status: 'processing', output: ['a'] }));
        await apply(deps, predictionOf(job, { status: 'failed', error: 'boom' }));
      }
    }
    expect(chunks[0]).toBe('retry: 1000\n\n');
    const events = chunks.filter((chunk) => chunk.startsWith('id:'));
    // The terminal event keeps the partial output's size: ['a'] is 5 bytes of JSON.
    expect(events.map((chunk) => /^id: (.*)$/m.exec(chunk)![1])).toEqual(['1-0', '3-5']);
    expect(events.map((chunk) => dataOf(chunk).status)).toEqual(['starting', 'failed']);
    expect(chunks).toContain(HEARTBEAT);
    expect(chunks.at(-1)).toMatch(/^id: 3-5\nevent: job\n/);
  });

  it('sends each partial output as the job advances', async () => {
    const deps = fakeDependencies();
    const job = runningJob(deps);
    const opened = await openJobEvents(deps, { owner: OWNER, jobId: job.id }, FAST);
    if (opened.kind !== 'stream') throw new Error('expected a stream');
    const seen: unknown[] = [];
    for await (const chunk of opened.events) {
      if (!chunk.startsWith('id:')) continue;
      seen.push(dataOf(chunk).partialOutput);
      if (seen.length === 1) await apply(deps, predictionOf(job, { output: ['a'] }));
      if (seen.length === 2) await apply(deps, predictionOf(job, { output: ['a', 'b'] }));
      if (seen.length === 3) await apply(deps, predictionOf(job, { status: 'canceled' }));
    }
    expect(seen).toEqual([null, ['a'], ['a', 'b'], null]);
  });

  it('resumes after Last-Event-ID: nothing repeated; and answers "ended" to a client that saw the end', async () => {
    const deps = fakeDependencies();
    const job = runningJob(deps);
    const resumed = await openJobEvents(deps, { owner: OWNER, jobId: job.id, lastEventId: '2-0' }, FAST);
    if (resumed.kind !== 'stream') throw new Error('expected a stream');
    const chunks = await read(resumed.events, (all) => all.includes(HEARTBEAT));
    expect(chunks.some((chunk) => chunk.startsWith('id:'))).toBe(false); // nothing new since 2-0
    await apply(deps, predictionOf(job, { status: 'succeeded', output: null }));
    expect(await openJobEvents(deps, { owner: OWNER, jobId: job.id, lastEventId: '3-0' }, FAST)).toEqual({
      kind: 'ended',
    });
  });

  it('ignores an id ahead of the job (found by an attack): the client gets the job, not a silent stream', async () => {
    const deps = fakeDependencies();
    const job = runningJob(deps);
    const opened = await openJobEvents(deps, { owner: OWNER, jobId: job.id, lastEventId: '3-0' }, FAST);
    if (opened.kind !== 'stream') throw new Error('expected a stream');
    const chunks = await read(opened.events, (all) => all.some((chunk) => chunk.startsWith('id:')));
    expect(chunks.at(-1)).toMatch(/^id: 2-0\nevent: job\n/);
  });

  it('ends a stream after its longest time (the client resumes), and says when the job is deleted', async () => {
    const deps = fakeDependencies();
    const job = runningJob(deps);
    const short = await openJobEvents(deps, { owner: OWNER, jobId: job.id }, { ...FAST, maxStreamMs: 30 });
    if (short.kind !== 'stream') throw new Error('expected a stream');
    const started = Date.now();
    await read(short.events);
    expect(Date.now() - started).toBeLessThan(1_000);
    const watched = await openJobEvents(deps, { owner: OWNER, jobId: job.id }, FAST);
    if (watched.kind !== 'stream') throw new Error('expected a stream');
    const chunks: string[] = [];
    for await (const chunk of watched.events) {
      chunks.push(chunk);
      if (chunks.length === 2) await deleteJob(deps, job.id);
    }
    expect(chunks.at(-1)).toBe(`event: deleted\ndata: {"id":"${job.id}"}\n\n`);
  });

  it("refuses another owner's job, a deleted one and a malformed id before any stream (404)", async () => {
    const deps = fakeDependencies();
    const job = seedJob(deps);
    await expect(openJobEvents(deps, { owner: OTHER_OWNER, jobId: job.id })).rejects.toMatchObject({
      code: 'not_found',
    });
    await expect(openJobEvents(deps, { owner: OWNER, jobId: '../x' })).rejects.toMatchObject({ code: 'not_found' });
    await deleteJob(deps, job.id);
    await expect(openJobEvents(deps, { owner: OWNER, jobId: job.id })).rejects.toMatchObject({ code: 'not_found' });
  });

  it.each([
    ['', undefined],
    ['3-0', { rank: 3, partialSize: 0 }],
    [' 2-17 ', { rank: 2, partialSize: 17 }],
    ['2-17\nevent: x', undefined],
    ['-1-0', undefined],
    ['99-0', undefined], // no status has that rank (found by an attack)
    ['2-99999999999', undefined],
  ])('reads Last-Event-ID %j as %j', (value, position) => {
    expect(parseEventId(value)).toEqual(position);
  });
});
