/**
 * Finding the files in a prediction's output and putting our copies in their place.
 *
 * Replicate outputs come in a few shapes: one file URL, a list of file URLs, an object whose values hold
 * file URLs, plain text, a list of text tokens (language models stream these), numbers and nested JSON.
 * A string is a file when it is a whole absolute http(s) URL or a `data:` URI. A list that holds any string
 * which is not a file is text (tokens) and passes through untouched, so a model that writes a URL as one
 * of its tokens does not make us fetch it.
 */

export interface FileRef {
  /** Depth-first position among the output's files: names the stored object deterministically. */
  index: number;
  url: string;
}

const FILE_URL = /^(https?:\/\/[^\s]+|data:[^,\s]*,[^\s]*)$/i;
export const isFileReference = (value: unknown): value is string => typeof value === 'string' && FILE_URL.test(value);

const isTextList = (list: unknown[]): boolean =>
  list.some((item) => typeof item === 'string' && !isFileReference(item));

/** Rewrites every file reference in `output`, in depth-first order, keeping everything else as it is. */
export function mapOutputFiles(output: unknown, replace: (file: FileRef) => unknown): unknown {
  let index = 0;
  const walk = (value: unknown): unknown => {
    if (isFileReference(value)) return replace({ index: index++, url: value });
    if (Array.isArray(value)) return isTextList(value) ? value : value.map(walk);
    if (value !== null && typeof value === 'object') {
      return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, walk(inner)]));
    }
    return value;
  };
  return walk(output);
}

export function findOutputFiles(output: unknown): FileRef[] {
  const files: FileRef[] = [];
  mapOutputFiles(output, (file) => {
    files.push(file);
    return file.url;
  });
  return files;
}

/** Decodes a `data:` URI output (Replicate returns these for small synchronous outputs). */
export function decodeDataUri(uri: string): { contentType: string; bytes: Buffer } {
  const comma = uri.indexOf(',');
  const meta = uri.slice(5, comma);
  const data = uri.slice(comma + 1);
  const isBase64 = /;base64$/i.test(meta);
  const contentType = (isBase64 ? meta.slice(0, -7) : meta).split(';')[0] || 'text/plain';
  const bytes = isBase64 ? Buffer.from(data, 'base64') : Buffer.from(decodeURIComponent(data), 'utf8');
  return { contentType, bytes };
}
