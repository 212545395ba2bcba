/**
 * The API's Lambda authorizer (REQUEST, not cached): it hands API Gateway the API key the request presents, in
 * `x-api-key` or as `Authorization: Bearer <key>` (Replicate's clients), as `usageIdentifierKey`; the API's key
 * source is AUTHORIZER, so API Gateway checks that key against its usage plans (and counts and throttles it) as it
 * would the header. It never refuses by itself: without a key it names none, and API Gateway answers 403 as it did to
 * a missing header. Throwing `Unauthorized` would count every keyless request as a function error (and set off its
 * alarm). It calls nothing, so it has no grants.
 */
import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { apiKeyOf } from '../core/api-key-header';

export const handler = async (
  event: Pick<APIGatewayRequestAuthorizerEvent, 'headers' | 'methodArn'>,
): Promise<APIGatewayAuthorizerResult & { usageIdentifierKey?: string }> => {
  const key = apiKeyOf(event.headers);
  return {
    principalId: 'api-key', // never the key itself: the principal is logged
    ...(key ? { usageIdentifierKey: key } : {}),
    policyDocument: {
      Version: '2012-10-17',
      Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: event.methodArn }],
    },
  };
};
