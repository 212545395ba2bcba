import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { OPERATIONS } from '../../lambdas/operations';

const readme = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8');

/** The README's API table and the OpenAPI document (read off the same operations) name the same routes. */
describe('README API table', () => {
  const documented = [...readme.matchAll(/^\| `(GET|POST|DELETE) ([^`?]+)[^`]*` \|/gm)].map(
    ([, method, path]) => `${method} ${path}`,
  );
  it.each(OPERATIONS.map((operation) => `${operation.method} ${operation.path}`))('lists %s', (route) => {
    expect(documented).toContain(route);
  });
  it('lists no route the API does not serve', () => {
    const served = OPERATIONS.map((operation) => `${operation.method} ${operation.path}`);
    for (const route of documented) expect(served).toContain(route);
  });
});
