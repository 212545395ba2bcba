import { iamMatches, unusedGrants } from '../support/grants';

/** The least-privilege test's own comparator: it must be able to report an unused grant. */
describe('unusedGrants', () => {
  it('matches IAM wildcards, and only them', () => {
    expect(iamMatches('s3:GetObject*', 's3:GetObjectVersion', true)).toBe(true);
    expect(iamMatches('dynamodb:Scan', 'dynamodb:GetItem', true)).toBe(false);
    expect(iamMatches('arn:aws:s3:::b/outputs/*', 'arn:aws:s3:::b/results/x')).toBe(false);
    expect(iamMatches('arn:aws:s3:::b/outputs/*', 'arn:aws:s3:::b/outputs/alice/x')).toBe(true);
  });

  it('reports a granted (action, resource) no allowed request used, and ignores X-Ray', () => {
    const policies = new Map([
      [
        'fn',
        [
          {
            name: 'p',
            policy: {
              Statement: [
                {
                  Effect: 'Allow',
                  Action: ['dynamodb:GetItem', 'dynamodb:Scan', 'xray:PutTraceSegments'],
                  Resource: ['arn:t', '*'],
                },
              ],
            },
          },
        ],
      ],
    ]);
    const record = {
      function: 'fn',
      service: 'dynamodb' as const,
      operation: 'GetItem',
      action: 'dynamodb:GetItem',
      resource: 'arn:t',
      latencyMs: 1,
      status: 200,
      allowed: true,
      at: 0,
    };
    expect(unusedGrants(policies, [record, { ...record, action: 'dynamodb:Scan', allowed: false }])).toEqual([
      // GetItem on `*` covers the GetItem on arn:t that was made: used. A refused Scan is no use.
      { function: 'fn', action: 'dynamodb:Scan', resource: 'arn:t' },
      { function: 'fn', action: 'dynamodb:Scan', resource: '*' },
    ]);
  });
});
