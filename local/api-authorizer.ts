import { FunctionError } from './lambda/local-function';

/** What API Gateway makes of a Lambda authorizer's answer. */
export type Authorization =
  | { kind: 'allowed'; usageIdentifierKey?: string }
  /** It threw `Unauthorized`: API Gateway's 401. */
  | { kind: 'unauthorized' }
  /** Its policy does not allow the method: API Gateway's 403. */
  | { kind: 'denied' }
  /** It failed otherwise, or answered nothing API Gateway can use: API Gateway's 500. */
  | { kind: 'failed' };

/**
 * A REQUEST Lambda authorizer as API Gateway runs it: the request's event (a proxy event without its body, with
 * `type` and `methodArn`) in, a policy and a `usageIdentifierKey` out. The method is allowed only by a policy
 * statement that allows `execute-api:Invoke` on its ARN (or `*`, or a prefix of it ending in `*`) and none denies it.
 */
export async function authorize(
  invoke: (event: unknown) => Promise<unknown>,
  event: Record<string, unknown> & { methodArn: string },
): Promise<Authorization> {
  let answer: unknown;
  try {
    answer = await invoke({ ...event, type: 'REQUEST' });
  } catch (error) {
    if (error instanceof FunctionError && error.errorMessage === 'Unauthorized') return { kind: 'unauthorized' };
    return { kind: 'failed' };
  }
  const { policyDocument, usageIdentifierKey } = (answer ?? {}) as {
    policyDocument?: { Statement?: Array<{ Effect?: string; Action?: unknown; Resource?: unknown }> };
    usageIdentifierKey?: unknown;
  };
  if (!Array.isArray(policyDocument?.Statement)) return { kind: 'failed' };
  const applies = (statement: { Action?: unknown; Resource?: unknown }) =>
    matchesAny(statement.Action, 'execute-api:Invoke') && matchesAny(statement.Resource, event.methodArn);
  const statements = policyDocument.Statement.filter(applies);
  if (statements.some((s) => s.Effect === 'Deny') || !statements.some((s) => s.Effect === 'Allow')) {
    return { kind: 'denied' };
  }
  return {
    kind: 'allowed',
    ...(typeof usageIdentifierKey === 'string' ? { usageIdentifierKey } : {}),
  };
}

/** IAM's matching of an Action or Resource element (one value or a list; `*` and `?` wildcards). */
function matchesAny(element: unknown, value: string): boolean {
  const patterns = Array.isArray(element) ? element : [element];
  return patterns.some((pattern) => {
    if (typeof pattern !== 'string') return false;
    const regex = pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.');
    return new RegExp(`^${regex}$`, 'i').test(value);
  });
}
