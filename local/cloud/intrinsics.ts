/**
 * Resolves CloudFormation intrinsic functions against the local resources, as CloudFormation would against
 * the deployed ones: `Ref`, `Fn::GetAtt`, `Fn::Join`, `Fn::Sub`, `Fn::Select`, `Fn::Split` and the pseudo
 * parameters. An unknown intrinsic or an unresolvable reference throws: a guess would hide a template bug.
 */
export interface Environment {
  region: string;
  accountId: string;
  stackName: string;
}

/** Answers what `Ref` (attribute undefined) or `Fn::GetAtt` gives for one logical id. */
export type PhysicalLookup = (logicalId: string, attribute?: string) => string;

export function resolveIntrinsics(value: unknown, physical: PhysicalLookup, env: Environment): any {
  const resolve = (item: unknown): any => resolveIntrinsics(item, physical, env);
  if (Array.isArray(value)) return value.map(resolve);
  if (value === null || typeof value !== 'object') return value;
  const entries = Object.entries(value);
  if (entries.length === 1 && (entries[0][0] === 'Ref' || entries[0][0].startsWith('Fn::'))) {
    const [name, argument] = entries[0] as [string, any];
    switch (name) {
      case 'Ref':
        return pseudo(argument, env) ?? physical(argument);
      case 'Fn::GetAtt': {
        const [logicalId, attribute] = Array.isArray(argument) ? argument : String(argument).split(/\.(.*)/);
        return physical(logicalId, attribute);
      }
      case 'Fn::Join': {
        const [separator, parts] = argument;
        return resolve(parts).join(separator);
      }
      case 'Fn::Select': {
        const [index, list] = resolve(argument);
        return list[Number(index)];
      }
      case 'Fn::Split': {
        const [separator, text] = resolve(argument);
        return String(text).split(separator);
      }
      case 'Fn::Sub': {
        const [text, variables] = typeof argument === 'string' ? [argument, {}] : [argument[0], resolve(argument[1])];
        return text.replace(/\$\{([^}!]+)\}/g, (_: string, reference: string) => {
          if (reference in variables) return variables[reference];
          const known = pseudo(reference, env);
          if (known !== undefined) return known;
          const [logicalId, attribute] = reference.split(/\.(.*)/);
          return physical(logicalId, attribute || undefined);
        });
      }
      default:
        throw new Error(`The local stack cannot resolve ${name}`);
    }
  }
  return Object.fromEntries(entries.map(([key, item]) => [key, resolve(item)]));
}

function pseudo(name: string, env: Environment): string | undefined {
  switch (name) {
    case 'AWS::Region':
      return env.region;
    case 'AWS::AccountId':
      return env.accountId;
    case 'AWS::Partition':
      return 'aws';
    case 'AWS::URLSuffix':
      return 'amazonaws.com';
    case 'AWS::StackName':
      return env.stackName;
    case 'AWS::NoValue':
      return undefined;
    default:
      return undefined;
  }
}
