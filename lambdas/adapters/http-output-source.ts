import { pipeline, Readable, Transform } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { lookup, type LookupAddress, type LookupOptions } from 'node:dns';
import { isIP } from 'node:net';
import { Agent, fetch as undiciFetch } from 'undici';
import { isPublicAddress } from '../core/address-policy';
import { OutputFailure } from '../core/failures';
import type { HostAllowlist } from '../core/host-allowlist';
import type { OpenedOutput, OutputSource } from '../core/ports';

export interface HttpOutputSourceOptions {
  allowlist: HostAllowlist;
  /**
   * Refuse hosts that resolve to loopback, private or link-local addresses (checked at connect time, so DNS
   * rebinding cannot get past it). Off only for the local stack, whose simulator listens on 127.0.0.1.
   */
  blockPrivateAddresses?: boolean;
  /** Largest file we copy; a bigger one fails the job with `output_too_large` instead of filling the disk. */
  maxBytes: number;
  /** How long one download may take from request to last byte. */
  timeoutMs: number;
  fetch?: typeof fetch;
}

const MAX_REDIRECTS = 3;

/** Downloads output files from allowlisted hosts only, following redirects only to allowlisted hosts. */
export class HttpOutputSource implements OutputSource {
  private readonly dispatcher?: Agent;
  private readonly fetch: (url: string, init: { redirect: 'manual'; signal: AbortSignal }) => Promise<Response>;

  constructor(private readonly options: HttpOutputSourceOptions) {
    if (options.blockPrivateAddresses ?? true) this.dispatcher = new Agent({ connect: { lookup: publicOnlyLookup } });
    this.fetch = options.fetch
      ? (url, init) => options.fetch!(url, init)
      : (url, init) => undiciFetch(url, { ...init, dispatcher: this.dispatcher }) as unknown as Promise<Response>;
  }

  async open(url: string): Promise<OpenedOutput> {
    const signal = AbortSignal.timeout(this.options.timeoutMs);
    let current = url;
    for (let redirects = 0; ; redirects++) {
      if (!this.options.allowlist.allows(current)) {
        throw new OutputFailure('output_host_not_allowed', `Output URL host is not on the allowlist: ${safeHost(current)}`, true);
      }
      const literal = new URL(current).hostname.replace(/^\[|\]$/g, '');
      if (this.dispatcher && isIP(literal) && !isPublicAddress(literal)) throw privateAddress(literal);
      let response: Response;
      try {
        response = await this.fetch(current, { redirect: 'manual', signal });
      } catch (error) {
        if (causes(error).some((cause) => cause instanceof OutputFailure)) throw causes(error).find((cause) => cause instanceof OutputFailure);
        throw new OutputFailure('output_download_failed', `Downloading an output failed: ${(error as Error).message}`, false);
      }
      const location = response.headers.get('location');
      if (response.status >= 300 && response.status < 400 && location) {
        await response.body?.cancel();
        if (redirects >= MAX_REDIRECTS) throw new OutputFailure('output_download_failed', 'Too many redirects', true);
        current = new URL(location, current).toString();
        continue;
      }
      if (!response.ok || !response.body) {
        await response.body?.cancel();
        // A 4xx will not get better (the file is gone or never was); a 5xx might.
        const permanent = response.status >= 400 && response.status < 500 && response.status !== 429;
        throw new OutputFailure('output_download_failed', `Downloading an output answered ${response.status}`, permanent);
      }
      const declared = Number(response.headers.get('content-length') ?? NaN);
      if (Number.isFinite(declared) && declared > this.options.maxBytes) {
        await response.body.cancel();
        throw tooLarge(this.options.maxBytes);
      }
      // pipeline (not pipe) so a connection reset mid-file errors the stream the uploader reads.
      const body = pipeline(Readable.fromWeb(response.body as unknown as WebReadableStream), limitBytes(this.options.maxBytes), () => {});
      return {
        body,
        contentType: response.headers.get('content-type') ?? undefined,
        contentLength: Number.isFinite(declared) ? declared : undefined,
      };
    }
  }
}

const tooLarge = (maxBytes: number) =>
  new OutputFailure('output_too_large', `An output file is larger than the limit of ${maxBytes} bytes`, true);

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

const privateAddress = (address: string) =>
  new OutputFailure('output_host_not_allowed', `Output host resolves to a non-public address (${address})`, true);

/** dns.lookup, refusing any answer that holds a non-public address. Node's connect calls it for host names. */
function publicOnlyLookup(
  hostname: string,
  options: LookupOptions,
  callback: (error: Error | null, address: string | LookupAddress[], family?: number) => void,
): void {
  lookup(hostname, { ...options, all: true }, (error, addresses) => {
    if (error) return callback(error, []);
    const refused = addresses.find((entry) => !isPublicAddress(entry.address));
    if (refused) return callback(privateAddress(refused.address), []);
    if (options.all) return callback(null, addresses);
    callback(null, addresses[0].address, addresses[0].family);
  });
}

function causes(error: unknown): unknown[] {
  const chain: unknown[] = [];
  for (let current = error; current && chain.length < 5; current = (current as { cause?: unknown }).cause) chain.push(current);
  return chain;
}

function safeHost(url: string): string {
  try {
    return new URL(url).host.slice(0, 255);
  } catch {
    return '(not a URL)';
  }
}
