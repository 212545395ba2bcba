import { readSettings } from '../../lambdas/runtime/settings';

/** The network guards come from the template's environment, each from its own variable, both on by default. */
describe('network settings', () => {
  const required = { TABLE_NAME: 't', BUCKET_NAME: 'b', QUEUE_URL: 'q', CALLBACK_QUEUE_URL: 'c', CALLBACK_DEAD_LETTER_QUEUE_URL: 'd' };

  it('keeps every guard on unless the environment says otherwise', () => {
    expect(readSettings(required).network).toEqual({ allowPlainHttp: false, allowPrivateAddresses: false });
    expect(readSettings(required).callbacks.httpsOnly).toBe(true);
  });

  it.each([
    [{ ALLOW_PLAIN_HTTP: 'true' }, { allowPlainHttp: true, allowPrivateAddresses: false }],
    [{ ALLOW_PRIVATE_ADDRESSES: 'true' }, { allowPlainHttp: false, allowPrivateAddresses: true }],
    [{ ALLOW_PLAIN_HTTP: 'yes', ALLOW_PRIVATE_ADDRESSES: '1' }, { allowPlainHttp: false, allowPrivateAddresses: false }],
  ])('%j → %j', (env, network) => {
    expect(readSettings({ ...required, ...env }).network).toEqual(network);
    expect(readSettings({ ...required, ...env }).callbacks.httpsOnly).toBe(!network.allowPlainHttp);
  });
});
