import type { CloudAssembly } from '../../local/cloud/synthesize';
import type { RequestRecord } from '../../local/iam/iam-proxy';
import type { Principal } from '../../local/iam/principal';

/** IAM's wildcard match for actions and resources: `*` any run, `?` one character (actions ignore case). */
export function iamMatches(pattern: string, value: string, ignoreCase = false): boolean {
  const source = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${source}$`, ignoreCase ? 'i' : '').test(value);
}

export interface Grant {
  function: string;
  action: string;
  resource: string;
}

/**
 * Every (action, resource) pair each role allows that no allowed request used. X-Ray's grants are the Lambda service's.
 */
export function unusedGrants(policies: Map<string, Principal['policies']>, records: RequestRecord[]): Grant[] {
  const unused: Grant[] = [];
  for (const [fn, documents] of policies) {
    for (const { policy } of documents) {
      for (const statement of (policy as { Statement: any[] }).Statement) {
        if (statement.Effect !== 'Allow') continue;
        for (const action of [statement.Action].flat()) {
          if (action.startsWith('xray:')) continue; // sent by the X-Ray daemon Lambda runs, not by the function's code
          for (const resource of [statement.Resource].flat()) {
            const used = records.some(
              (r) =>
                r.allowed &&
                r.function === fn &&
                iamMatches(action, r.action, true) &&
                iamMatches(resource, r.resource),
            );
            if (!used) unused.push({ function: fn, action, resource });
          }
        }
      }
    }
  }
  return unused;
}

/** A template edit for `startLocalStack`: the named function's role loses one action (its statements shrink or go). */
export function withoutGrant(functionPrefix: string, action: string) {
  return (template: CloudAssembly['template']) => {
    const resources = template.Resources;
    const fnId = Object.keys(resources).find(
      (id) => resources[id].Type === 'AWS::Lambda::Function' && id.startsWith(`ReplicateJobs${functionPrefix}Function`),
    );
    if (!fnId) throw new Error(`no function ${functionPrefix}`);
    const roleId = resources[fnId].Properties.Role['Fn::GetAtt'][0];
    let removed = 0;
    for (const resource of Object.values(resources)) {
      if (resource.Type !== 'AWS::IAM::Policy' || !resource.Properties.Roles.some((role: any) => role.Ref === roleId))
        continue;
      const statements = resource.Properties.PolicyDocument.Statement;
      for (const statement of statements) {
        const actions = [statement.Action].flat();
        if (!actions.includes(action)) continue;
        statement.Action = actions.filter((a) => a !== action);
        removed++;
      }
      resource.Properties.PolicyDocument.Statement = statements.filter((statement: any) => statement.Action.length > 0);
    }
    if (removed === 0) throw new Error(`${functionPrefix} is not granted ${action}`);
  };
}
