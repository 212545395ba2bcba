import { OutputFailure } from '../core/failures';
import { withRetries } from '../core/retry';
import type { Job, StoredOutput } from '../core/job';
import { storedFormOf } from '../core/media-types';
import { decodeDataUri, outputKey, type FileRef } from '../core/outputs';
import type { Dependencies } from './dependencies';

/**
 * Copies every output file into the bucket under its deterministic key. Runs only while the caller holds
 * the job's transfer lease, so duplicates of one webhook copy once; a retry after a crash overwrites the
 * same objects instead of adding new ones.
 */
export async function copyOutputs(
  deps: Pick<Dependencies, 'outputs' | 'objects' | 'settings' | 'log'>,
  job: Pick<Job, 'id' | 'owner'>,
  files: FileRef[],
): Promise<StoredOutput[]> {
  const stored: StoredOutput[] = new Array(files.length);
  let next = 0;
  const worker = async () => {
    while (next < files.length) {
      const file = files[next++];
      stored[file.index] = await withRetries(
        () => copyOne(deps, job, file),
        deps.settings.downloadRetry,
        (error) => error instanceof OutputFailure && !error.permanent,
      );
    }
  };
  await Promise.all(Array.from({ length: Math.min(deps.settings.transferConcurrency, files.length) }, worker));
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
