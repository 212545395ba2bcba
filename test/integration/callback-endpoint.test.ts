import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HttpCallbackEndpoint } from '../../lambdas/adapters/http-callback-endpoint';
import { CALLBACK_TIMEOUTS } from '../../lambdas/runtime/settings';
import { HangingHost, UnreachableHost } from '../support/silent-hosts';

/** The callback endpoint's time limits, against real sockets on this machine. */
describe('callback endpoint time limits', () => {
  const endpoint = new HttpCallbackEndpoint({ blockPrivateAddresses: false, ...CALLBACK_TIMEOUTS });
  const hanging = new HangingHost();
  const unreachable = new UnreachableHost();
  let slow: Server;
  let slowUrl = '';
  beforeAll(async () => {
    await Promise.all([hanging.start(), unreachable.start()]);
    // Answers after 3 s: slower than the connect limit, within the first-byte limit.
    slow = createServer((req, res) => {
      req.resume();
      setTimeout(() => res.writeHead(204).end(), 3_000);
    });
    await new Promise<void>((resolve) => slow.listen(0, '127.0.0.1', resolve));
    slowUrl = `http://127.0.0.1:${(slow.address() as AddressInfo).port}/hooks`;
  });
  afterAll(async () => {
    await Promise.all([hanging.stop(), unreachable.stop()]);
    slow.closeAllConnections();
    await new Promise((resolve) => slow.close(resolve));
  });

  const timed = async (url: string, signal?: AbortSignal) => {
    const started = Date.now();
    const answer = await endpoint.post(url, '{}', {}, signal);
    return { ...answer, ms: Date.now() - started };
  };

  it('gives up on a host that never completes the handshake after the connect limit (2 s)', async () => {
    const answer = await timed(unreachable.url);
    expect(answer).toMatchObject({ status: 0, error: 'no connection within 2000 ms' });
    expect(answer.ms).toBeGreaterThanOrEqual(1_900);
    expect(answer.ms).toBeLessThan(4_000);
  });

  it('gives up on a host that accepts and never answers after the first-byte limit (5 s after connecting)', async () => {
    const answer = await timed(hanging.url);
    expect(answer).toMatchObject({ status: 0, error: 'no answer within 5000 ms of connecting' });
    expect(answer.ms).toBeGreaterThanOrEqual(4_900);
    expect(answer.ms).toBeLessThan(7_000);
  });

  it('waits for an answer that takes longer than the connect limit but comes within the first-byte limit', async () => {
    const answer = await timed(slowUrl);
    expect(answer.status).toBe(204);
    expect(answer.ms).toBeGreaterThanOrEqual(2_900);
  });

  it("gives up at once when the batch's signal aborts, saying why", async () => {
    const answer = await timed(hanging.url, AbortSignal.timeout(300));
    expect(answer.status).toBe(0);
    expect(answer.error).toMatch(/timeout|aborted/i);
    expect(answer.ms).toBeLessThan(2_000);
  });
});
