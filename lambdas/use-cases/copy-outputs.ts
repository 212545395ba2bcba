import { pipeline, type Readable, Transform } from 'node:stream';
import { outputKey, retentionTagsOf } from '../../contract/bucket';
import { DERIVABLE_CONTENT_TYPES } from '../core/derivatives';
import { OutputFailure, TransferInProgress } from '../core/errors';
import { isTerminal, type Job, type StoredOutput, storedKeysOf } from '../core/job';
import { storedFormOf } from '../core/media-types';
import { ByteBudget, checkFileCount } from '../core/output-limits';
import { decodeDataUri, type FileRef } from '../core/outputs';
import type { TransferLease } from '../core/ports';
import { withRetries } from '../core/retry';
import { forEachBounded } from '../core/worker-pool';
import type { Dependencies } from './dependencies';
import { deriveVariants, SourceKeeper } from './derive-variants';

type CopyDependencies = Pick<Dependencies, 'outputs' | 'objects' | 'jobs' | 'settings' | 'log' | 'images'>;
/** What of the job a copy needs: where its objects go, how long they are kept, which derivatives to make. */
type CopiedJob = Pick<Job, 'id' | 'owner' | 'derivatives' | 'retentionDays'>;

const isPermanent = (error: unknown): error is OutputFailure => error instanceof OutputFailure && error.permanent;

/**
 * Copies every output file into the bucket under its deterministic key, within the job's limits. Runs only
 * while the caller holds the job's transfer lease, so duplicates of one webhook copy once. Each copied file is
 * recorded on the job: a redelivery after a crash or a failed download copies only the rest, and counts the
 * recorded files' bytes towards the total.
 *
 * A permanent failure (a limit, a host off the list, a file that is gone) starts no further file, and deletes
 * every object the job stored before it is thrown: a failed job leaves nothing in the bucket.
 */
export async function copyOutputs(
  deps: CopyDependencies,
  job: CopiedJob,
  files: FileRef[],
  lease: TransferLease & { holder: string },
): Promise<StoredOutput[]> {
  const limits = deps.settings.outputLimits;
  // Derivatives get at most half the time this copy may take (its lease): the other half is for the copies.
  const deriveUntil = Date.now() + (deps.settings.transferLeaseSeconds * 1000) / 2;
  const stored: StoredOutput[] = new Array(files.length);
  for (const output of lease.copied) stored[output.index] = output;
  const budget = new ByteBudget(limits.maxTotalBytes);
  const failures: unknown[] = [];
  // What is known before any download: the number of files, and the bytes earlier deliveries copied.
  try {
    checkFileCount(files.length, limits);
    for (const output of lease.copied) budget.take(output.size);
  } catch (error) {
    failures.push(error);
  }
  const pending = files.filter((file) => !stored[file.index]);
  // After a failure no new file starts; those under way finish (or fail at once, past the byte budget).
  const copy = async (file: FileRef) => {
    try {
      const output = await withRetries(
        () => copyOne(deps, job, file, budget, deriveUntil),
        deps.settings.downloadRetry,
        (error) => error instanceof OutputFailure && !error.permanent,
      );
      stored[file.index] = output;
      // The last file needs no record: the job's success write, next, records them all (a one-file job
      // costs no extra write).
      if (pending.every((each) => stored[each.index])) return;
      // Refused when our lease expired and another consumer took the copy over, or the job ended: that one
      // (or nobody) finishes it; this message comes back and decides again.
      if (!(await deps.jobs.recordCopiedOutput(job.id, lease.holder, output))) {
        throw new TransferInProgress(deps.settings.transferLeaseSeconds);
      }
    } catch (error) {
      failures.push(error);
    }
  };
  await forEachBounded(pending, deps.settings.transferConcurrency, copy, () => failures.length > 0);
  if (failures.length === 0) return stored;
  const permanent = failures.find(isPermanent);
  if (permanent) {
    // Before the job's failed write, not after: should that write be lost, the redelivery fails the same way
    // and deletes again, where the other order could leave objects that no job points to.
    const keys = storedKeysOf(stored.filter(Boolean));
    if (keys.length > 0) {
      await deps.objects.remove(keys);
      deps.log.info('outputs of a failing job removed', { jobId: job.id, code: permanent.code, removed: keys.length });
    }
    throw permanent;
  }
  // Refused to record a copy: another consumer took the copy over (same keys: keep them), or the job ended.
  if (failures.some((failure) => failure instanceof TransferInProgress)) {
    await discardCopiesIfEnded(deps, job.id, storedKeysOf(stored.filter(Boolean)));
  }
  throw failures[0];
}

/**
 * A job that ended otherwise (timed out, canceled) while its outputs were being copied points to none of the
 * copies, and the bucket keeps outputs for good: they are removed, or nothing ever would. A job another consumer
 * made succeed keeps them (its copies are under the same keys). Answers whether they were removed.
 */
export async function discardCopiesIfEnded(
  deps: Pick<CopyDependencies, 'jobs' | 'objects' | 'log'>,
  jobId: string,
  keys: string[],
): Promise<boolean> {
  if (keys.length === 0) return false;
  const fresh = await deps.jobs.get(jobId);
  if (!fresh || !isTerminal(fresh.status) || (fresh.status === 'succeeded' && !fresh.deletedAt)) return false;
  await deps.objects.remove(keys);
  deps.log.info('copies of a job that ended meanwhile removed', { jobId, status: fresh.status, removed: keys.length });
  return true;
}

/** Copies one file (and makes its derivatives, when it is an image and the job asked for some). */
async function copyOne(
  deps: CopyDependencies,
  job: CopiedJob,
  file: FileRef,
  budget: ByteBudget,
  deriveUntil: number,
): Promise<StoredOutput> {
  const tags = retentionTagsOf(job.retentionDays);
  const wantsVariants = (contentType: string) =>
    Boolean(job.derivatives?.length) && DERIVABLE_CONTENT_TYPES.has(contentType);
  const withVariants = async (output: StoredOutput, source: Buffer | undefined): Promise<StoredOutput> =>
    wantsVariants(output.contentType)
      ? { ...output, variants: await deriveVariants(deps, job, file.index, source, deriveUntil) }
      : output;
  if (file.url.startsWith('data:')) {
    let decoded: ReturnType<typeof decodeDataUri>;
    try {
      decoded = decodeDataUri(file.url);
    } catch {
      throw new OutputFailure('output_download_failed', 'An output data URI could not be decoded', true);
    }
    budget.take(decoded.bytes.length);
    const { contentType, extension } = storedFormOf(file.url, decoded.contentType);
    const key = outputKey(job.owner, job.id, file.index, extension);
    const { size } = await deps.objects.upload(key, decoded.bytes, contentType, tags);
    return withVariants({ index: file.index, key, contentType, size }, decoded.bytes);
  }
  const opened = await deps.outputs.open(file.url);
  const { contentType, extension } = storedFormOf(file.url, opened.contentType);
  const key = outputKey(job.owner, job.id, file.index, extension);
  // An image to make derivatives of is kept in memory as it passes (up to a limit), so it is downloaded once.
  const source = wantsVariants(contentType) ? new SourceKeeper() : undefined;
  let counted = 0;
  const body = pipeline(
    opened.body,
    new Transform({
      transform(chunk: Buffer, _encoding, done) {
        try {
          budget.take(chunk.length);
          counted += chunk.length;
          source?.add(chunk);
          done(null, chunk);
        } catch (error) {
          done(error as Error);
        }
      },
    }),
    () => {},
  ) as Readable;
  try {
    const { size } = await deps.objects.upload(key, body, contentType, tags);
    deps.log.info('output copied', { jobId: job.id, key, size });
    return await withVariants({ index: file.index, key, contentType, size }, source?.bytes());
  } catch (error) {
    body.destroy();
    // A retried download counts its bytes again.
    budget.giveBack(counted);
    // The byte limits and a broken download surface here as the stream's error.
    if (error instanceof OutputFailure) throw error;
    const cause = (error as { cause?: unknown }).cause;
    if (cause instanceof OutputFailure) throw cause;
    throw new OutputFailure('output_download_failed', `Copying an output failed: ${(error as Error).message}`, false);
  }
}
