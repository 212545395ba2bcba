import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP, type Socket } from 'node:net';
import { isPublicAddress } from '../core/address-policy';
import type { CallbackEndpoint } from '../core/ports';
import { publicOnlyLookupRefusingWith } from './public-only-lookup';

class BlockedAddress extends Error {}
const publicOnlyLookup = publicOnlyLookupRefusingWith(
  (address) => new BlockedAddress(`the callback host resolves to a non-public address (${address})`),
);

export interface CallbackTimeouts {
  /** From the request's start to a connected socket (DNS lookup and TCP handshake). */
  connectTimeoutMs: number;
  /** From the connection to the answer's status line (TLS, sending the body, the endpoint's work). */
  firstByteTimeoutMs: number;
}

/**
 * POSTs callbacks to client endpoints: no redirects followed, and (in AWS) never to a loopback, private or
 * link-local address, so a callback URL cannot reach into the account's network. Two short time limits, so a
 * host that never answers holds a delivery for connect + first byte at most, whatever it does: a host that
 * does not complete the handshake fails at the first, one that accepts and stays silent at the second. The
 * answer's body is not waited for.
 */
export class HttpCallbackEndpoint implements CallbackEndpoint {
  constructor(private readonly options: { blockPrivateAddresses: boolean } & CallbackTimeouts) {}

  post(
    url: string,
    body: string,
    headers: Record<string, string>,
    signal?: AbortSignal,
  ): Promise<{ status: number; error?: string }> {
    const target = new URL(url);
    const literal = target.hostname.replace(/^\[|\]$/g, '');
    if (this.options.blockPrivateAddresses && isIP(literal) && !isPublicAddress(literal)) {
      return Promise.resolve({ status: 0, error: `the callback host is a non-public address (${literal})` });
    }
    const { connectTimeoutMs, firstByteTimeoutMs } = this.options;
    const request = target.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const giveUp = (reason: string, ms: number) => {
        clearTimeout(timer);
        timer = setTimeout(() => outgoing.destroy(new Error(reason)), ms);
      };
      const outgoing = request(
        target,
        {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
            'user-agent': 'replicate-jobs-callbacks',
            ...headers,
          },
          signal,
          ...(this.options.blockPrivateAddresses ? { lookup: publicOnlyLookup } : {}),
        },
        (response) => {
          clearTimeout(timer);
          response.resume(); // the answer's body is not needed
          resolve({ status: response.statusCode ?? 0 });
        },
      );
      giveUp(`no connection within ${connectTimeoutMs} ms`, connectTimeoutMs);
      outgoing.once('socket', (socket: Socket) => {
        const connected = () => giveUp(`no answer within ${firstByteTimeoutMs} ms of connecting`, firstByteTimeoutMs);
        // A kept-alive socket is connected already.
        if (socket.connecting) socket.once('connect', connected);
        else connected();
      });
      outgoing.once('error', (error) => {
        clearTimeout(timer);
        const reason = signal?.aborted ? signal.reason : error;
        resolve({ status: 0, error: String(reason instanceof Error ? reason.message : reason).slice(0, 200) });
      });
      outgoing.end(body);
    });
  }
}
