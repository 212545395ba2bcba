import type * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import { checkWafRate, ValidationError } from './validate-props';

export interface ApiWafProps {
  readonly stage: apigateway.Stage;
  /** Requests one IP address may make in 5 minutes before it is blocked (WAF's floor is 10). */
  readonly rateLimitPer5Minutes: number;
}

/**
 * A REGIONAL web ACL on the API stage that blocks an IP address past its rate: a limit per client address,
 * in front of everything (unauthenticated routes included), which API Gateway's throttles cannot express.
 */
export class ApiWaf extends Construct {
  readonly webAcl: wafv2.CfnWebACL;

  constructor(scope: Construct, id: string, props: ApiWafProps) {
    super(scope, id);
    const limit = props.rateLimitPer5Minutes;
    checkWafRate((message) => {
      throw new ValidationError(this, message);
    }, limit);
    const visibility = (metricName: string) => ({
      cloudWatchMetricsEnabled: true,
      sampledRequestsEnabled: true,
      metricName,
    });
    this.webAcl = new wafv2.CfnWebACL(this, 'WebAcl', {
      scope: 'REGIONAL',
      description: 'replicate-jobs API: per-IP rate limit',
      defaultAction: { allow: {} },
      visibilityConfig: visibility('replicate-jobs-api'),
      rules: [
        {
          name: 'RateLimitPerIp',
          priority: 0,
          action: { block: {} },
          statement: { rateBasedStatement: { limit, aggregateKeyType: 'IP', evaluationWindowSec: 300 } },
          visibilityConfig: visibility('replicate-jobs-rate-limit-per-ip'),
        },
      ],
    });
    // The stage's ARN names it by a reference to the stage, so CloudFormation associates once the stage exists.
    new wafv2.CfnWebACLAssociation(this, 'Association', {
      resourceArn: props.stage.stageArn,
      webAclArn: this.webAcl.attrArn,
    });
  }
}
