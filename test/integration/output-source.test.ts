import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HttpOutputSource } from '../../lambdas/adapters/http-output-source';
import { isPublicAddress } from '../../lambdas/core/address-policy';
import type { OutputFailure } from '../../lambdas/core/errors';
import { HostAllowlist } from '../../lambdas/core/host-allowlist';

/** SSRF and resource limits of output downloads, against real local HTTP servers. */
describe('output downloads (SSRF, limits)', () => {
  let server: Server;
  let port = 0;
  const hits: string[] = [];
  beforeAll(async () => {
    server = createServer((req, res) => {
      hits.push(req.url!);
      if (req.url === '/redirect-off-list')
        return void res.writeHead(302, { location: 'http://127.0.0.2:9/stolen' }).end();
      if (req.url === '/redirect-on-list') return void res.writeHead(302, { location: '/file' }).end();
      if (req.url === '/redirect-loop') return void res.writeHead(302, { location: '/redirect-loop' }).end();
      if (req.url === '/chunked-huge') {
        res.writeHead(200, { 'content-type': 'application/octet-stream' }); // no content-length: the limit must hold on the stream
        const chunk = Buffer.alloc(64 * 1024, 1);
        let sent = 0;
        const pump = () => {
          while (sent < 10 * 1024 * 1024) {
            sent += chunk.length;
            if (!res.write(chunk)) return void res.once('drain', pump);
          }
          res.end();
        };
        return pump();
      }
      if (req.url === '/hang') return; // never answers
      if (req.url === '/gone') return void res.writeHead(404).end();
      res.writeHead(200, { 'content-type': 'image/png', 'content-length': 5 }).end('hello');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const source = (options: { hosts?: string[]; local?: boolean; maxBytes?: number; timeoutMs?: number } = {}) =>
    new HttpOutputSource({
      allowlist: new HostAllowlist(options.hosts ?? [`127.0.0.1:${port}`, `localhost:${port}`], true),
      blockPrivateAddresses: !(options.local ?? true),
      maxBytes: options.maxBytes ?? 1024,
      timeoutMs: options.timeoutMs ?? 2000,
    });
  const failureOf = async (promise: Promise<unknown>): Promise<OutputFailure> => {
    try {
      const opened = (await promise) as { body: NodeJS.ReadableStream };
      for await (const _ of opened.body) void _;
    } catch (error) {
      return error as OutputFailure;
    }
    throw new Error('expected the download to fail');
  };
  const url = (path: string, host = `127.0.0.1:${port}`) => `http://${host}${path}`;

  it('downloads from an allowlisted host and follows redirects that stay on the list', async () => {
    const opened = await source().open(url('/redirect-on-list'));
    let body = '';
    for await (const chunk of opened.body) body += chunk;
    expect(body).toBe('hello');
    expect(opened.contentType).toBe('image/png');
  });

  it('refuses a redirect off the allowlist, fetching nothing there', async () => {
    const failure = await failureOf(source().open(url('/redirect-off-list')));
    expect(failure).toMatchObject({ code: 'output_host_not_allowed', permanent: true });
  });

  it('refuses a host off the allowlist without connecting', async () => {
    const before = hits.length;
    const failure = await failureOf(source({ hosts: ['replicate.delivery'] }).open(url('/file')));
    expect(failure.code).toBe('output_host_not_allowed');
    expect(hits.length).toBe(before);
  });

  it.each([
    ['an IP literal on the list', () => url('/file')],
    ['a host name that resolves to loopback', () => url('/file', `localhost:${port}`)],
  ])('refuses %s when private addresses are blocked (as in AWS), without connecting', async (_name, target) => {
    const before = hits.length;
    const failure = await failureOf(source({ local: false }).open(target()));
    expect(failure).toMatchObject({ code: 'output_host_not_allowed', permanent: true });
    expect(failure.message).toMatch(/non-public address/);
    expect(hits.length).toBe(before);
  });

  it('stops a body without Content-Length as soon as it passes the size limit', async () => {
    const failure = await failureOf(source({ maxBytes: 100_000 }).open(url('/chunked-huge')));
    expect(failure).toMatchObject({ code: 'output_too_large', permanent: true });
  });

  it('gives up on a host that does not answer within the time limit (retryable)', async () => {
    const started = Date.now();
    const failure = await failureOf(source({ timeoutMs: 300 }).open(url('/hang')));
    expect(failure).toMatchObject({ code: 'output_download_failed', permanent: false });
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('treats 404 as permanent and stops redirect loops', async () => {
    expect(await failureOf(source().open(url('/gone')))).toMatchObject({
      code: 'output_download_failed',
      permanent: true,
    });
    expect(await failureOf(source().open(url('/redirect-loop')))).toMatchObject({
      code: 'output_download_failed',
      permanent: true,
    });
  });

  it.each([
    ['127.0.0.1', false],
    ['10.1.2.3', false],
    ['172.20.0.1', false],
    ['192.168.1.1', false],
    ['169.254.169.254', false],
    ['100.64.0.1', false],
    ['0.0.0.0', false],
    ['::1', false],
    ['fe80::1', false],
    ['fd00::1', false],
    ['::ffff:127.0.0.1', false],
    ['34.120.1.1', true],
    ['2606:4700::1111', true],
    ['::ffff:8.8.8.8', true],
    ['not-an-ip', false],
  ])('classifies %s as public: %s', (address, expected) => {
    expect(isPublicAddress(address)).toBe(expected);
  });
});
