import { type LookupAddress, type LookupOptions, lookup } from 'node:dns';
import { isPublicAddress } from '../core/address-policy';

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * A `lookup` for Node's http/https sockets that refuses any answer holding a non-public address (loopback,
 * private, link-local, …), failing the connection with `refusal(address)`. Checked when the socket connects,
 * so DNS rebinding between a check and the connection cannot get past it.
 */
export function publicOnlyLookupRefusingWith(refusal: (address: string) => Error) {
  return (hostname: string, options: LookupOptions, callback: LookupCallback): void => {
    lookup(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) return callback(error, []);
      const refused = addresses.find((entry) => !isPublicAddress(entry.address));
      if (refused) return callback(refusal(refused.address) as NodeJS.ErrnoException, []);
      if (options.all) return callback(null, addresses);
      callback(null, addresses[0].address, addresses[0].family);
    });
  };
}
