import { OutputFailure, TransferInProgress } from '../core/failures';
import { withRetries } from '../core/retry';
import type { Job, StoredOutput } from '../core/job';
import { storedFormOf } from '../core/media-types';
import { decodeDataUri, outputKey, type FileRef } from '../core/outputs';
import type { TransferLease } from '../core/ports';
import type { Dependencies } from './dependencies';

/**
 * Copies every output file into the bucket under its deterministic key. Runs only while the caller holds
 * the job's transfer lease, so duplicates of one webhook copy once. Each copied file is recorded on the job:
 * a redelivery after a crash or a failed download copies only the rest (and overwrites the same keys).
 */
export async function copyOutputs(
  deps: Pick<Dependencies, 'outputs' | 'objects' | 'jobs' | 'settings' | 'log'>,
  job: Pick<Job, 'id' | 'owner'>,
  files: FileRef[],
  lease: TransferLease & { holder: string },
): Promise<StoredOutput[]> {
  const stored: StoredOutput[] = new Array(files.length);
  for (const output of lease.copied) stored[output.index] = output;
  const pending = files.filter((file) => !stored[file.index]);
  let next = 0;
  const worker = async () => {
    while (next < pending.length) {
      const file = pending[next++];
      const output = await withRetries(
        () => copyOne(deps, job, file),
        deps.settings.downloadRetry,
        (error) => error instanceof OutputFailure && !error.permanent,
      );
      stored[file.index] = output;
      // The last file needs no record: the job's success write, next, records them all (a one-file job
      // costs no extra write).
      if (pending.every((each) => stored[each.index])) continue;
      // Refused when our lease expired and another consumer took the copy over, or the job ended: that one
      // (or nobody) finishes it; this message comes back and decides again.
      if (!(await deps.jobs.recordCopiedOutput(job.id, lease.holder, output))) throw new TransferInProgress(deps.settings.transferLeaseSeconds);
    }
  };
  // Every worker is waited for, so nothing is still copying (and recording) once the caller hears of a failure.
  const settled = await Promise.allSettled(Array.from({ length: Math.min(deps.settings.transferConcurrency, pending.length) }, worker));
  const failed = settled.find((result) => result.status === 'rejected');
  if (failed) throw failed.reason;
  return stored;
}

async function copyOne(
  deps: Pick<Dependencies, 'outputs' | 'objects' | 'log'>,
  job: Pick<Job, 'id' | 'owner'>,
  file: FileRef,
): Promise<StoredOutput> {
  if (file.url.startsWith('data:')) {
    let decoded: ReturnType<typeof decodeDataUri>;
    try {
      decoded = decodeDataUri(file.url);
    } catch {
      throw new OutputFailure('output_download_failed', 'An output data URI could not be decoded', true);
    }
    const { contentType, extension } = storedFormOf(file.url, decoded.contentType);
    const key = outputKey(job.owner, job.id, file.index, extension);
    const { size } = await deps.objects.upload(key, decoded.bytes, contentType);
    return { index: file.index, key, contentType, size };
  }
  const opened = await deps.outputs.open(file.url);
  const { contentType, extension } = storedFormOf(file.url, opened.contentType);
  const key = outputKey(job.owner, job.id, file.index, extension);
  try {
    const { size } = await deps.objects.upload(key, opened.body, contentType);
    deps.log.info('output copied', { jobId: job.id, key, size });
    return { index: file.index, key, contentType, size };
  } catch (error) {
    opened.body.destroy();
    // The byte limit and a broken download surface here as the stream's error.
    if (error instanceof OutputFailure) throw error;
    const cause = (error as { cause?: unknown }).cause;
    if (cause instanceof OutputFailure) throw cause;
    throw new OutputFailure('output_download_failed', `Copying an output failed: ${(error as Error).message}`, false);
  }
}
