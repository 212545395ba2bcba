/** `key=@path` in `replicate-jobs submit`: the file is uploaded (POST /uploads, then a signed PUT) with progress. */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { basename, extname } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ApiFailure, type JobsClient } from './api-client';

/** The types `POST /uploads` accepts, by extension (the service refuses any other type). */
const TYPES: Record<string, string> = {
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.webp': 'image/webp',
  '.gif': 'image/gif',
  '.avif': 'image/avif',
  '.bmp': 'image/bmp',
  '.tif': 'image/tiff',
  '.tiff': 'image/tiff',
  '.mp3': 'audio/mpeg',
  '.wav': 'audio/wav',
  '.ogg': 'audio/ogg',
  '.flac': 'audio/flac',
  '.aac': 'audio/aac',
  '.m4a': 'audio/mp4',
  '.mp4': 'video/mp4',
  '.webm': 'video/webm',
  '.mov': 'video/quicktime',
  '.txt': 'text/plain',
  '.csv': 'text/csv',
  '.md': 'text/markdown',
  '.json': 'application/json',
  '.pdf': 'application/pdf',
  '.zip': 'application/zip',
};

interface Ticket {
  id: string;
  reference: string;
  uploadUrl: string;
  method: string;
  headers: Record<string, string>;
}

/** Uploads one file and answers its `upload:` reference; progress goes to stderr when it is a terminal. */
export async function uploadFile(client: JobsClient, path: string, quiet: boolean): Promise<string> {
  const contentType = TYPES[extname(path).toLowerCase()];
  if (!contentType)
    throw new Error(`${path}: cannot tell its type from its extension (${Object.keys(TYPES).join(' ')})`);
  const { size } = await stat(path);
  const ticket = await client.request<Ticket>('POST', '/uploads', { contentType, size, filename: basename(path) });
  let sent = 0;
  const progress = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      sent += chunk.length;
      if (!quiet && process.stderr.isTTY)
        process.stderr.write(`\r${basename(path)}  ${Math.floor((100 * sent) / Math.max(1, size))}%`);
      done(null, chunk);
    },
  });
  const url = new URL(ticket.uploadUrl);
  const status = await new Promise<number>((resolve, reject) => {
    const put = (url.protocol === 'https:' ? httpsRequest : httpRequest)(
      url,
      { method: ticket.method, headers: ticket.headers },
      (response) => {
        response.resume();
        response.on('end', () => resolve(response.statusCode ?? 0));
      },
    );
    put.on('error', reject);
    pipeline(createReadStream(path), progress, put).catch(reject);
  });
  if (status < 200 || status > 299)
    throw new ApiFailure(status, 'upload_failed', `uploading ${path} answered ${status}`);
  if (!quiet)
    process.stderr.write(
      `${process.stderr.isTTY ? '\r' : ''}${basename(path)}  ${size} bytes uploaded as ${ticket.id}\n`,
    );
  return ticket.reference;
}
