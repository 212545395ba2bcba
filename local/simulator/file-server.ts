import type { IncomingMessage, ServerResponse } from 'node:http';
import { fileBytes, fileSlice } from './fixtures';
import { json } from './http';
import type { Scenario } from './scenario';

/** What the file server needs from the simulator around it. */
export interface FileServerContext {
  /** The scenario of a prediction, or undefined when there is no such prediction. */
  scenarioOf(predictionId: string): Scenario | undefined;
  /** Requests per file path, counted here: how often each output was downloaded (retries included). */
  downloads: Map<string, number>;
}

/** The type a file is served with, from its extension, so that consumers can be tested on risky types too. */
const CONTENT_TYPES: Record<string, string> = {
  png: 'image/png',
  wav: 'audio/wav',
  txt: 'text/plain',
  mp4: 'video/mp4',
  html: 'text/html; charset=utf-8',
  svg: 'image/svg+xml',
};
const STREAM_CHUNK_BYTES = 1024 * 1024;

/**
 * Serves `/files/<prediction id>/<name>`, the output files of a prediction, misbehaving as its scenario says:
 * the first requests failing (`flaky`), the first one cut off (`cutAfterBytes`), a slow start (`stallMs`).
 */
export function serveFile(path: string, req: IncomingMessage, res: ServerResponse, context: FileServerContext) {
  const [, , id, name] = path.split('/');
  const scenario = id && name ? context.scenarioOf(id) : undefined;
  if (!scenario) return json(res, 404, { detail: 'Not found.' });
  const requestNumber = (context.downloads.get(path) ?? 0) + 1;
  context.downloads.set(path, requestNumber);
  if (scenario.flaky !== undefined && requestNumber <= scenario.flaky) return json(res, 503, { detail: 'Try again' });
  const type = CONTENT_TYPES[name.split('.').pop() ?? ''] ?? 'application/octet-stream';
  const size = scenario.sizeBytes;
  if (scenario.cutAfterBytes !== undefined && requestNumber === 1) {
    const bytes = fileBytes(id, name, size);
    res.writeHead(200, { 'content-type': type, 'content-length': bytes.length });
    res.write(bytes.subarray(0, scenario.cutAfterBytes));
    return void setTimeout(() => res.destroy(), 20);
  }
  if (size === undefined) {
    const bytes = fileBytes(id, name, undefined, scenario.imageSize);
    res.writeHead(200, { 'content-type': type, 'content-length': bytes.length });
    return res.end(req.method === 'HEAD' ? undefined : bytes);
  }
  // Files of a requested size are generated as they are sent, so the simulator stays small however big the file.
  res.writeHead(200, { 'content-type': type, 'content-length': size });
  let offset = 0;
  const pump = () => {
    while (offset < size) {
      const length = Math.min(STREAM_CHUNK_BYTES, size - offset);
      const ok = res.write(fileSlice(id, name, offset, length));
      offset += length;
      if (!ok) return void res.once('drain', pump);
    }
    res.end();
  };
  if (scenario.stallMs !== undefined) setTimeout(pump, scenario.stallMs);
  else pump();
}
