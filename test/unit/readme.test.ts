import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ENV } from '../../contract/environment';
import { JOB_ERROR_CODES } from '../../lambdas/core/errors';
import { API_ERRORS } from '../../lambdas/http/error-status';

const readme = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8');

describe('README stays true to the code', () => {
  it('starts with the two commands a newcomer runs', () => {
    const top = readme.split('\n').slice(0, 6).join('\n');
    expect(top).toContain('npm ci && npm start');
    expect(top).toContain('npm test');
  });

  it.each(Object.entries(API_ERRORS))('documents error code %s with status %i', (code, status) => {
    expect(readme).toMatch(new RegExp(`\\| ${status} \\| \`${code}\` \\|`));
  });

  it.each(JOB_ERROR_CODES)('documents job error code %s', (code) => {
    expect(readme).toContain(`\`${code}\``);
  });

  it.each([
    'PORT',
    'HOST',
    'REPLICATE_API_TOKEN',
    'REPLICATE_API_BASE_URL',
    'REPLICATE_WEBHOOK_SECRET',
    'PUBLIC_URL',
    'API_KEYS',
    'OUTPUT_HOSTS',
    ENV.maxOutputBytes,
    ENV.maxOutputFiles,
    ENV.maxOutputTotalBytes,
    ENV.presignedUrlSeconds,
  ])('documents the setting %s', (name) => {
    expect(readme).toContain(`\`${name}\``);
  });
});
