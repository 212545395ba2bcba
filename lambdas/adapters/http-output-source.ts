import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import { pipeline, Transform } from 'node:stream';
import { isPublicAddress } from '../core/address-policy';
import { OutputFailure } from '../core/errors';
import type { HostAllowlist } from '../core/host-allowlist';
import type { OpenedOutput, OutputSource } from '../core/ports';
import { publicOnlyLookupRefusingWith } from './public-only-lookup';

export interface HttpOutputSourceOptions {
  allowlist: HostAllowlist;
  /**
   * Refuse hosts that resolve to loopback, private or link-local addresses (checked in the connection's own
   * DNS lookup, so DNS rebinding cannot get past it). Off only for the local stack, whose simulator listens
   * on 127.0.0.1.
   */
  blockPrivateAddresses?: boolean;
  /** Largest file we copy; a bigger one fails the job with `output_too_large` instead of filling the disk. */
  maxBytes: number;
  /** How long one download may take from request to last byte. */
  timeoutMs: number;
}

const MAX_REDIRECTS = 3;

/**
 * Downloads output files from allowlisted hosts only, following redirects only to allowlisted hosts. Built on
 * Node's http/https (not fetch): the response is already a Node stream for the multipart upload, and the
 * connection's DNS lookup can be replaced to refuse non-public addresses.
 */
export class HttpOutputSource implements OutputSource {
  private readonly blockPrivate: boolean;

  constructor(private readonly options: HttpOutputSourceOptions) {
    this.blockPrivate = options.blockPrivateAddresses ?? true;
  }

  async open(url: string): Promise<OpenedOutput> {
    const signal = AbortSignal.timeout(this.options.timeoutMs);
    let current = url;
    for (let redirects = 0; ; redirects++) {
      if (!this.options.allowlist.allows(current)) {
        throw new OutputFailure(
          'output_host_not_allowed',
          `Output URL host is not on the allowlist: ${safeHost(current)}`,
          true,
        );
      }
      const literal = new URL(current).hostname.replace(/^\[|\]$/g, '');
      if (this.blockPrivate && isIP(literal) && !isPublicAddress(literal)) throw privateAddress(literal);
      const response = await this.get(current, signal);
      const status = response.statusCode ?? 0;
      const location = response.headers.location;
      if (status >= 300 && status < 400 && location) {
        response.resume();
        if (redirects >= MAX_REDIRECTS) throw new OutputFailure('output_download_failed', 'Too many redirects', true);
        current = new URL(location, current).toString();
        continue;
      }
      if (status < 200 || status >= 300) {
        response.resume();
        // A 4xx will not get better (the file is gone or never was); a 5xx might.
        const permanent = status >= 400 && status < 500 && status !== 429;
        throw new OutputFailure('output_download_failed', `Downloading an output answered ${status}`, permanent);
      }
      const declared = Number(response.headers['content-length'] ?? NaN);
      if (Number.isFinite(declared) && declared > this.options.maxBytes) {
        response.destroy();
        throw tooLarge(this.options.maxBytes);
      }
      // pipeline (not pipe) so a connection reset mid-file errors the stream the uploader reads.
      const body = pipeline(response, limitBytes(this.options.maxBytes), () => {});
      return {
        body,
        contentType: response.headers['content-type'] ?? undefined,
        contentLength: Number.isFinite(declared) ? declared : undefined,
      };
    }
  }

  private get(url: string, signal: AbortSignal): Promise<IncomingMessage> {
    const request = url.startsWith('https:') ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const outgoing = request(url, { signal, ...(this.blockPrivate ? { lookup: publicOnlyLookup } : {}) }, resolve);
      outgoing.once('error', (error) => {
        reject(
          error instanceof OutputFailure
            ? error
            : new OutputFailure('output_download_failed', `Downloading an output failed: ${error.message}`, false),
        );
      });
      outgoing.end();
    });
  }
}

const tooLarge = (maxBytes: number) =>
  new OutputFailure('output_too_large', `An output file is larger than the limit of ${maxBytes} bytes`, true);

const privateAddress = (address: string) =>
  new OutputFailure('output_host_not_allowed', `Output host resolves to a non-public address (${address})`, true);
const publicOnlyLookup = publicOnlyLookupRefusingWith(privateAddress);

/** Fails the stream as soon as more than `maxBytes` have passed: a lying Content-Length cannot get past it. */
function limitBytes(maxBytes: number): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      seen += chunk.length;
      done(seen > maxBytes ? tooLarge(maxBytes) : null, chunk);
    },
  });
}

function safeHost(url: string): string {
  try {
    return new URL(url).host.slice(0, 255);
  } catch {
    return '(not a URL)';
  }
}
