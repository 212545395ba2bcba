import { HostAllowlist, REPLICATE_OUTPUT_HOSTS } from '../../lambdas/core/host-allowlist';

describe('output host allowlist', () => {
  const replicate = new HostAllowlist(REPLICATE_OUTPUT_HOSTS);
  it.each([
    ['https://replicate.delivery/pbxt/a.png', true],
    ['https://pbxt.replicate.delivery/a.png', true],
    ['https://REPLICATE.DELIVERY/a.png', true],
    ['http://replicate.delivery/a.png', false],
    ['https://replicate.delivery.evil.com/a.png', false],
    ['https://evilreplicate.delivery/a.png', false],
    ['https://replicate.delivery@evil.com/a.png', false],
    ['https://user:pw@replicate.delivery/a.png', false],
    ['https://replicate.delivery:8443/a.png', false],
    ['https://pbxt.replicate.delivery:8443/a.png', false], // a wildcard entry is port-less too
    ['https://pbxt.replicate.delivery:443/a.png', true], // the default port, written out, is no port (the URL drops it)
    ['https://a.replicate.delivery/a.png', true], // a one-letter subdomain is a subdomain
    ['https://.replicate.delivery/a.png', false], // an empty label is not (the URL parser keeps it)
    ['https://user@replicate.delivery/a.png', false], // user-info of either part alone
    ['https://:pw@replicate.delivery/a.png', false],
    ['https://169.254.169.254/latest/meta-data', false],
    ['file:///etc/passwd', false],
    ['not a url', false],
  ])('%s → %s', (url, allowed) => {
    expect(replicate.allows(url)).toBe(allowed);
  });

  it('matches host:port entries exactly, and plain http only when allowed', () => {
    const local = new HostAllowlist(['127.0.0.1:4010'], true);
    expect(local.allows('http://127.0.0.1:4010/files/a.png')).toBe(true);
    expect(local.allows('http://127.0.0.1:4011/files/a.png')).toBe(false);
    expect(new HostAllowlist(['127.0.0.1:4010']).allows('http://127.0.0.1:4010/files/a.png')).toBe(false);
    // Allowing http allows no other scheme.
    expect(local.allows('ftp://127.0.0.1:4010/files/a.png')).toBe(false);
    expect(local.allows('ws://127.0.0.1:4010/files/a.png')).toBe(false);
  });

  it('ignores spaces and case in its entries, and empty entries, whoever builds it', () => {
    const configured = new HostAllowlist([' Files.Example.com ', '', ' *.CDN.example.com']);
    expect(configured.allows('https://files.example.com/a.png')).toBe(true);
    expect(configured.allows('https://eu.cdn.example.com/a.png')).toBe(true);
    expect(configured.allows('https://example.com/a.png')).toBe(false);
  });
});
