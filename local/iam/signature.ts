import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/**
 * AWS Signature Version 4, checked the way AWS checks it: the canonical request is rebuilt from what arrived
 * and signed again with the caller's secret key. A presigned URL also expires (`X-Amz-Expires`). Without this,
 * a presigned URL with its key edited to another owner's object would work locally and fail in AWS.
 */
export interface SignedRequest {
  method: string;
  /** The path as it arrived (still percent-encoded). */
  path: string;
  query: URLSearchParams;
  headers: Record<string, string | undefined>;
  /** The body, when the signature covers it and no `x-amz-content-sha256` header stands for it. */
  body?: Buffer;
}

export type Verdict =
  | { valid: true }
  | { valid: false; code: 'SignatureDoesNotMatch' | 'RequestExpired'; reason: string };

export function verifySignature(request: SignedRequest, secretAccessKey: string, now = new Date()): Verdict {
  const presigned = request.query.has('X-Amz-Signature');
  const parts = presigned ? presignedParts(request.query) : headerParts(request.headers);
  if (!parts) return { valid: false, code: 'SignatureDoesNotMatch', reason: 'not a SigV4 signature' };
  const [, date, region, service] = parts.credential.split('/');
  if (presigned) {
    const expires = Number(request.query.get('X-Amz-Expires'));
    if (!(expires > 0) || now.getTime() > amzDateToMs(parts.amzDate) + expires * 1000) {
      return { valid: false, code: 'RequestExpired', reason: 'Request has expired' };
    }
  }
  const query = [...request.query].filter(([name]) => !(presigned && name === 'X-Amz-Signature'));
  const canonical = [
    request.method,
    canonicalPath(request.path, service),
    query
      .map(([name, value]) => [encode(name), encode(value)])
      .sort(([a, x], [b, y]) => (a === b ? (x < y ? -1 : 1) : a < b ? -1 : 1))
      .map(([name, value]) => `${name}=${value}`)
      .join('&'),
    parts.signedHeaders.map((name) => `${name}:${headerValue(request.headers, name)}\n`).join(''),
    parts.signedHeaders.join(';'),
    presigned
      ? 'UNSIGNED-PAYLOAD'
      : headerValue(request.headers, 'x-amz-content-sha256') || sha256(request.body ?? Buffer.alloc(0)),
  ].join('\n');
  const scope = `${date}/${region}/${service}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', parts.amzDate, scope, sha256(canonical)].join('\n');
  let key = hmac(`AWS4${secretAccessKey}`, date);
  for (const step of [region, service, 'aws4_request']) key = hmac(key, step);
  const expected = Buffer.from(createHmac('sha256', key).update(stringToSign).digest('hex'));
  const given = Buffer.from(parts.signature);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) {
    return {
      valid: false,
      code: 'SignatureDoesNotMatch',
      reason: 'The request signature we calculated does not match the signature you provided.',
    };
  }
  return { valid: true };
}

interface Parts {
  credential: string;
  signedHeaders: string[];
  signature: string;
  amzDate: string;
}

function headerParts(headers: SignedRequest['headers']): Parts | undefined {
  const match = /^AWS4-HMAC-SHA256 Credential=([^,\s]+),\s*SignedHeaders=([^,\s]+),\s*Signature=([0-9a-f]+)$/.exec(
    headerValue(headers, 'authorization'),
  );
  const amzDate = headerValue(headers, 'x-amz-date');
  if (!match || !amzDate) return undefined;
  return { credential: match[1], signedHeaders: match[2].split(';'), signature: match[3], amzDate };
}

function presignedParts(query: URLSearchParams): Parts | undefined {
  const [credential, signedHeaders, signature, amzDate] = [
    'X-Amz-Credential',
    'X-Amz-SignedHeaders',
    'X-Amz-Signature',
    'X-Amz-Date',
  ].map((name) => query.get(name));
  if (query.get('X-Amz-Algorithm') !== 'AWS4-HMAC-SHA256' || !credential || !signedHeaders || !signature || !amzDate)
    return undefined;
  return { credential, signedHeaders: signedHeaders.split(';'), signature, amzDate };
}

/** S3 signs the path as sent; the other services encode each segment once more. */
function canonicalPath(path: string, service: string): string {
  if (service === 's3') return path || '/';
  return (
    path
      .split('/')
      .map((segment) => encode(safeDecode(segment)))
      .join('/') || '/'
  );
}

/** Header values: trimmed, inner runs of spaces folded, several values joined with commas (as Node joins them). */
function headerValue(headers: SignedRequest['headers'], name: string): string {
  const found = Object.entries(headers).find(([key]) => key.toLowerCase() === name)?.[1];
  return (found ?? '').trim().replace(/\s+/g, ' ');
}

/** RFC 3986 encoding, as SigV4 wants it. */
const encode = (text: string) =>
  encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
const safeDecode = (text: string) => {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
};
const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');
const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data).digest();
const amzDateToMs = (amzDate: string) =>
  Date.parse(
    `${amzDate.slice(0, 4)}-${amzDate.slice(4, 6)}-${amzDate.slice(6, 8)}T${amzDate.slice(9, 11)}:${amzDate.slice(11, 13)}:${amzDate.slice(13, 15)}Z`,
  );
