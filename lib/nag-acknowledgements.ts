import { type CfnResource, Stack, Validations } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type { IConstruct } from 'constructs';
import { BUCKET_PREFIXES } from '../contract/bucket';

/**
 * The cdk-nag AwsSolutions findings this construct accepts, each with its reason, as narrowly as the finding
 * ids allow. Anything else the checks report is a defect: `test/cdk/nag.test.ts` fails on it.
 */
const RULES: Record<string, string> = {
  'AwsSolutions-APIG2':
    'Requests are validated by the handlers with the one zod schema per body (precise 400/413/422 errors); ' +
    'API Gateway request models would be a second copy of the schema.',
  'AwsSolutions-APIG4':
    'The contract authenticates clients with API keys and usage plans (owner = API key id); the webhook is ' +
    'authenticated by its Standard Webhooks signature and /health is public by design.',
  'AwsSolutions-COG4': 'No Cognito: clients are services authenticated by API keys (see APIG4).',
  'AwsSolutions-APIG6':
    'Access logs are on (JSON, every request); execution logging needs an account-wide API Gateway CloudWatch ' +
    'role, which a reusable construct must not create or replace.',
  'AwsSolutions-SMG4':
    'The Replicate API token and webhook secret are issued by Replicate, which offers no API to rotate them; ' +
    'rotation is manual and without downtime (npm run secrets -- --rotate, see SECURITY.md).',
};

/** Only without the `waf` prop: with it the stage has a web ACL and the check passes on its own. */
const NO_WAF = {
  id: 'AwsSolutions-APIG3',
  reason:
    'No WAF unless the waf prop asks for one (it is billed per web ACL, rule and request): each API key is ' +
    'throttled and capped by its usage plan, each unauthenticated method by its stage throttle, and the webhook ' +
    'authenticates by signature before any work. SECURITY.md, "WAF and throttling".',
};

export function acknowledgeNagFindings(
  scope: IConstruct,
  resources: { table: dynamodb.Table; bucket: s3.Bucket; functions: lambda.Function[]; waf: boolean },
): void {
  for (const [id, reason] of Object.entries(RULES)) Validations.of(scope).acknowledge({ id, reason });
  if (!resources.waf) Validations.of(scope).acknowledge(NO_WAF);

  const stack = Stack.of(scope);
  const arnOf = (construct: IConstruct) => `<${stack.getLogicalId(construct.node.defaultChild as CfnResource)}.Arn>`;
  const grants: Record<string, string> = {
    'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]':
      'The AWS-managed policy for a function writing its own logs; it grants nothing else.',
    'AwsSolutions-IAM5[Resource::*]': 'X-Ray PutTraceSegments/PutTelemetryRecords have no resource-level permissions.',
  };
  for (const prefix of Object.values(BUCKET_PREFIXES)) {
    grants[`AwsSolutions-IAM5[Resource::${arnOf(resources.bucket)}/${prefix}/*]`] =
      `Objects under the ${prefix}/ prefix of our bucket only.`;
  }
  for (const fn of resources.functions) {
    for (const [id, reason] of Object.entries(grants)) Validations.of(fn.role!).acknowledge({ id, reason });
  }
}
