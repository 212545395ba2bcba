import { isPublicAddress } from '../../lambdas/core/address-policy';

/** Output downloads and callbacks connect only to public addresses: each blocked range is pinned at both edges. */
describe('public address policy', () => {
  it.each([
    // IPv4: each blocked range's first and last address, and its public neighbours.
    ['0.0.0.0', false],
    ['0.255.255.255', false],
    ['1.0.0.0', true],
    ['9.255.255.255', true],
    ['10.0.0.0', false],
    ['10.255.255.255', false],
    ['11.0.0.0', true],
    ['100.63.255.255', true],
    ['100.64.0.0', false], // carrier-grade NAT
    ['100.127.255.255', false],
    ['100.128.0.0', true],
    ['126.255.255.255', true],
    ['127.0.0.1', false],
    ['127.255.255.255', false],
    ['128.0.0.0', true],
    ['169.253.255.255', true],
    ['169.254.169.254', false], // the instance metadata service
    ['169.255.0.0', true],
    ['172.15.255.255', true],
    ['172.16.0.0', false],
    ['172.31.255.255', false],
    ['172.32.0.0', true],
    ['192.0.0.0', false],
    ['192.0.0.255', false],
    ['192.0.1.0', true],
    ['192.167.255.255', true],
    ['192.168.0.1', false],
    ['192.168.255.255', false],
    ['192.169.0.0', true],
    ['198.17.255.255', true],
    ['198.18.0.0', false], // benchmarking
    ['198.19.255.255', false],
    ['198.20.0.0', true],
    ['223.255.255.255', true],
    ['224.0.0.1', false], // multicast
    ['239.255.255.255', false],
    ['240.0.0.0', false], // reserved
    ['255.255.255.255', false],
    ['8.8.8.8', true],
    // IPv6 (its neighbours are unassigned space: no claim is made about them).
    ['::', false],
    ['::1', false],
    ['fc00::1', false], // unique local
    ['fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', false],
    ['fe80::1', false], // link-local
    ['febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff', false],
    ['ff02::1', false], // multicast
    ['64:ff9b::a9fe:a9fe', false], // NAT64 of 169.254.169.254
    ['2606:4700:4700::1111', true],
    // IPv4-mapped IPv6 is judged as the IPv4 address it carries, however it is written.
    ['::ffff:169.254.169.254', false],
    ['::FFFF:127.0.0.1', false],
    ['::ffff:a9fe:a9fe', false],
    ['::ffff:8.8.8.8', true],
  ])('%s → public: %s', (address, expected) => {
    expect(isPublicAddress(address)).toBe(expected);
  });

  it.each(['', 'localhost', 'example.com', '169.254.169.254.nip.io', '1.2.3', '::ffff:999.1.1.1'])(
    '%j is not an address, so not public',
    (text) => {
      expect(isPublicAddress(text)).toBe(false);
    },
  );
});
