import { readSettings } from '../../lambdas/runtime/settings';

/** The variables every function is given: the names of its resources. */
const required = {
  TABLE_NAME: 't',
  BUCKET_NAME: 'b',
  QUEUE_URL: 'q',
  CALLBACK_QUEUE_URL: 'c',
  CALLBACK_DEAD_LETTER_QUEUE_URL: 'd',
  ADMISSION_QUEUE_URL: 'a',
};

/** The network guards come from the template's environment, each from its own variable, both on by default. */
describe('network settings', () => {
  it('keeps every guard on unless the environment says otherwise', () => {
    expect(readSettings(required).network).toEqual({ allowPlainHttp: false, allowPrivateAddresses: false });
    expect(readSettings(required).callbacks.httpsOnly).toBe(true);
  });

  it.each([
    [{ ALLOW_PLAIN_HTTP: 'true' }, { allowPlainHttp: true, allowPrivateAddresses: false }],
    [{ ALLOW_PRIVATE_ADDRESSES: 'true' }, { allowPlainHttp: false, allowPrivateAddresses: true }],
    [
      { ALLOW_PLAIN_HTTP: 'yes', ALLOW_PRIVATE_ADDRESSES: '1' },
      { allowPlainHttp: false, allowPrivateAddresses: false },
    ],
  ])('%j → %j', (env, network) => {
    expect(readSettings({ ...required, ...env }).network).toEqual(network);
    expect(readSettings({ ...required, ...env }).callbacks.httpsOnly).toBe(!network.allowPlainHttp);
  });
});

describe('output limits per job', () => {
  it('defaults to 100 files and 5 GiB, and reads each from its own variable', () => {
    expect(readSettings(required).outputLimits).toEqual({ maxFiles: 100, maxTotalBytes: 5 * 1024 ** 3 });
    expect(readSettings({ ...required, MAX_OUTPUT_FILES: '3', MAX_OUTPUT_TOTAL_BYTES: '1000' }).outputLimits).toEqual({
      maxFiles: 3,
      maxTotalBytes: 1000,
    });
  });

  it.each(['MAX_OUTPUT_FILES', 'MAX_OUTPUT_TOTAL_BYTES'])('refuses a %s that is not a positive number', (name) => {
    expect(() => readSettings({ ...required, [name]: '0' })).toThrow(
      `Environment variable ${name} must be a positive number`,
    );
  });
});
