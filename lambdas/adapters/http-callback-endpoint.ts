import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import { isPublicAddress } from '../core/address-policy';
import type { CallbackEndpoint } from '../core/ports';
import { publicOnlyLookupRefusingWith } from './public-only-lookup';

class BlockedAddress extends Error {}
const publicOnlyLookup = publicOnlyLookupRefusingWith((address) => new BlockedAddress(`the callback host resolves to a non-public address (${address})`));

/**
 * POSTs callbacks to client endpoints: no redirects followed, a time limit, and (in AWS) never to a
 * loopback, private or link-local address, so a callback URL cannot reach into the account's network.
 */
export class HttpCallbackEndpoint implements CallbackEndpoint {
  constructor(private readonly options: { blockPrivateAddresses: boolean; timeoutMs: number }) {}

  post(url: string, body: string, headers: Record<string, string>): Promise<{ status: number; error?: string }> {
    const target = new URL(url);
    const literal = target.hostname.replace(/^\[|\]$/g, '');
    if (this.options.blockPrivateAddresses && isIP(literal) && !isPublicAddress(literal)) {
      return Promise.resolve({ status: 0, error: `the callback host is a non-public address (${literal})` });
    }
    const request = target.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise((resolve) => {
      const outgoing = request(
        target,
        {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'user-agent': 'replicate-jobs-callbacks', ...headers },
          signal: AbortSignal.timeout(this.options.timeoutMs),
          ...(this.options.blockPrivateAddresses ? { lookup: publicOnlyLookup } : {}),
        },
        (response) => {
          response.resume(); // the answer's body is not needed
          resolve({ status: response.statusCode ?? 0 });
        },
      );
      outgoing.once('error', (error) => resolve({ status: 0, error: error.message.slice(0, 200) }));
      outgoing.end(body);
    });
  }
}
