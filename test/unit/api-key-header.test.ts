import { apiKeyOf } from '../../lambdas/core/api-key-header';
import { handler } from '../../lambdas/functions/authorizer';

describe('the API key a request presents', () => {
  it.each([
    [{ 'x-api-key': 'k1' }, 'k1'],
    [{ 'X-Api-Key': ' k1 ' }, 'k1'],
    [{ Authorization: 'Bearer k2' }, 'k2'],
    [{ authorization: 'bearer k2' }, 'k2'],
    [{ authorization: 'Token k3' }, 'k3'], // the official clients' older scheme
    [{ 'x-api-key': 'k1', authorization: 'Bearer k2' }, 'k1'], // API Gateway's own header first
    [{ authorization: 'Bearer' }, undefined],
    [{ authorization: 'Bearer a b' }, undefined],
    [{ authorization: 'Basic azE=' }, undefined],
    [{ authorization: 'k1' }, undefined],
    [{ 'x-api-key': '' }, undefined],
    [{}, undefined],
  ])('%j presents %j', (headers, key) => {
    expect(apiKeyOf(headers)).toBe(key);
  });
});

describe('the API authorizer', () => {
  const methodArn = 'arn:aws:execute-api:us-east-1:123456789012:abc/v1/GET/jobs';

  it('allows the method and hands API Gateway the key to check against its usage plans', async () => {
    expect(await handler({ headers: { authorization: 'Bearer k2' }, methodArn })).toEqual({
      principalId: 'api-key',
      usageIdentifierKey: 'k2',
      policyDocument: {
        Version: '2012-10-17',
        Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: methodArn }],
      },
    });
  });

  it('names no key when none is presented (API Gateway then refuses, 403), and never throws: no function error, no alarm', async () => {
    for (const headers of [{ authorization: 'Basic x' }, null as never]) {
      const answer = await handler({ headers, methodArn });
      expect(answer.principalId).toBe('api-key');
      expect(answer).not.toHaveProperty('usageIdentifierKey');
    }
  });
});
