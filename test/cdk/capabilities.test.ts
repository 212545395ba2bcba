import { App, Duration, type Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { ReplicateJobsProps } from '../../lib/replicate-jobs';
import { ReplicateJobsStack } from '../../lib/replicate-jobs-stack';

/** The construct's public capabilities (grant*, metric*, alarm thresholds), read back from the template. */
function stackWith(props: ReplicateJobsProps = {}) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new ReplicateJobsStack(app, 'Test', { jobs: props });
  const reader = new iam.Role(stack, 'Reader', { assumedBy: new iam.AccountRootPrincipal() });
  return { stack, jobs: stack.jobs, reader };
}

/** The statements of the one policy attached to `role`. */
function statementsOf(template: Template, stack: Stack, role: iam.Role): unknown[] {
  const roleId = stack.getLogicalId(role.node.defaultChild as iam.CfnRole);
  const policies = Object.values(
    template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: roleId }] } }),
  );
  expect(policies).toHaveLength(1);
  return policies[0].Properties.PolicyDocument.Statement;
}

const arn = (logicalIdPart: string) => ({ 'Fn::GetAtt': [Match.stringLikeRegexp(logicalIdPart), 'Arn'] });
const objects = (prefix: string) => ({ 'Fn::Join': ['', [arn('^ReplicateJobsOutputBucket'), `/${prefix}/*`]] });

describe('grant methods', () => {
  it('grantReadOutputs: s3:GetObject on outputs/* and results/* only', () => {
    const { stack, jobs, reader } = stackWith();
    jobs.grantReadOutputs(reader);
    expect(statementsOf(Template.fromStack(stack), stack, reader)).toHaveLength(1);
    Template.fromStack(stack).hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: stack.getLogicalId(reader.node.defaultChild as iam.CfnRole) }],
      PolicyDocument: {
        Statement: [{ Action: 's3:GetObject', Effect: 'Allow', Resource: [objects('outputs'), objects('results')] }],
      },
    });
  });

  it('grantReadJobs: dynamodb:GetItem and BatchGetItem on the table, dynamodb:Query on the byOwner index', () => {
    const { stack, jobs, reader } = stackWith();
    jobs.grantReadJobs(reader);
    Template.fromStack(stack).hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: stack.getLogicalId(reader.node.defaultChild as iam.CfnRole) }],
      PolicyDocument: {
        Statement: [
          {
            Action: ['dynamodb:GetItem', 'dynamodb:BatchGetItem'],
            Effect: 'Allow',
            Resource: arn('^ReplicateJobsJobsTable'),
          },
          {
            Action: 'dynamodb:Query',
            Effect: 'Allow',
            Resource: { 'Fn::Join': ['', [arn('^ReplicateJobsJobsTable'), '/index/byOwnerShard']] },
          },
        ],
      },
    });
  });

  it('grantRedriveDeadLetters: read and delete on both DLQs, send on the queues they feed', () => {
    const { stack, jobs, reader } = stackWith();
    jobs.grantRedriveDeadLetters(reader);
    Template.fromStack(stack).hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: stack.getLogicalId(reader.node.defaultChild as iam.CfnRole) }],
      PolicyDocument: {
        Statement: [
          {
            Action: ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes'],
            Effect: 'Allow',
            Resource: [arn('^ReplicateJobsDeadLetterQueue'), arn('^ReplicateJobsCallbackDeadLetterQueue')],
          },
          {
            Action: 'sqs:SendMessage',
            Effect: 'Allow',
            Resource: [arn('^ReplicateJobsEventQueue'), arn('^ReplicateJobsCallbackQueue')],
          },
        ],
      },
    });
  });

  it('grantSetReplicateSecrets: put both Replicate secrets, read the webhook secret, never the callback key', () => {
    const { stack, jobs, reader } = stackWith();
    jobs.grantSetReplicateSecrets(reader);
    const template = Template.fromStack(stack);
    const ref = (part: string) => ({ Ref: Match.stringLikeRegexp(part) });
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: stack.getLogicalId(reader.node.defaultChild as iam.CfnRole) }],
      PolicyDocument: {
        Statement: [
          {
            Action: 'secretsmanager:PutSecretValue',
            Effect: 'Allow',
            Resource: [ref('^ReplicateJobsReplicateApiToken'), ref('^ReplicateJobsReplicateWebhookSecret')],
          },
          {
            Action: 'secretsmanager:GetSecretValue',
            Effect: 'Allow',
            Resource: ref('^ReplicateJobsReplicateWebhookSecret'),
          },
        ],
      },
    });
    expect(JSON.stringify(statementsOf(template, stack, reader))).not.toContain('CallbackSigningKey');
  });
});

describe('one metric factory for the dashboard and the alarms', () => {
  /** The dashboard's JSON body, with each token inside it written as its CloudFormation JSON. */
  const dashboardBody = (template: Template): string => {
    const [dashboard] = Object.values(template.findResources('AWS::CloudWatch::Dashboard'));
    const parts: unknown[] = dashboard.Properties.DashboardBody['Fn::Join'][1];
    return parts.map((part) => (typeof part === 'string' ? part : JSON.stringify(part))).join('');
  };

  it('the QueueBacklog alarm watches the metric metricOldestMessageAge gives, which the dashboard draws', () => {
    const { stack, jobs } = stackWith();
    const template = Template.fromStack(stack);
    const config = jobs.metricOldestMessageAge().toMetricConfig().metricStat!;
    const queueName = stack.resolve(config.dimensions![0].value);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmDescription: Match.stringLikeRegexp('Runbook: QueueBacklog'),
      Namespace: config.namespace,
      MetricName: config.metricName,
      Dimensions: [{ Name: 'QueueName', Value: queueName }],
      Period: config.period.toSeconds(),
      Statistic: config.statistic,
    });
    const line = `["${config.namespace}","${config.metricName}","QueueName","${JSON.stringify(queueName)}",`;
    expect(dashboardBody(template)).toContain(
      line + `{"period":${config.period.toSeconds()},"stat":"${config.statistic}"}]`,
    );
  });

  it.each([
    ['DeadLetters', 'metricDeadLetters', 'ReplicateJobsDeadLetterQueue'],
    ['CallbackDeadLetters', 'metricCallbackDeadLetters', 'ReplicateJobsCallbackDeadLetterQueue'],
    ['QueueBacklog', 'metricOldestMessageAge', 'ReplicateJobsEventQueue'],
  ] as const)('the %s alarm watches the queue %s reads, and only that queue', (name, method, queue) => {
    const { stack, jobs } = stackWith();
    const template = Template.fromStack(stack);
    const config = jobs[method]().toMetricConfig().metricStat!;
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')).filter((alarm) =>
      alarm.Properties.AlarmDescription.includes(`Runbook: ${name}"`),
    );
    expect(alarms).toHaveLength(1);
    const [{ Properties: alarm }] = alarms;
    expect(alarm).toMatchObject({ Namespace: config.namespace, MetricName: config.metricName });
    expect(alarm.Dimensions).toEqual([{ Name: 'QueueName', Value: stack.resolve(config.dimensions![0].value) }]);
    expect(alarm.Dimensions[0].Value['Fn::GetAtt'][0]).toMatch(new RegExp(`^${queue}[0-9A-F]{8}$`));
  });

  it("the job metrics the alarms watch are the factory's, on the dashboard too", () => {
    const { stack, jobs } = stackWith();
    const template = Template.fromStack(stack);
    const timedOut = jobs.metricJobsTimedOut();
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: timedOut.namespace,
      MetricName: timedOut.metricName,
      Dimensions: [{ Name: 'service', Value: timedOut.dimensions!.service }],
    });
    expect(dashboardBody(template)).toContain(
      `["${timedOut.namespace}","${timedOut.metricName}","service","${timedOut.dimensions!.service}",{"period":60`,
    );
  });

  it('puts the callback queue and its dead-letter queue on the dashboard', () => {
    const { stack } = stackWith();
    const template = Template.fromStack(stack);
    const body = dashboardBody(template);
    for (const queue of ['CallbackQueue', 'CallbackDeadLetterQueue']) {
      const [logicalId] = Object.keys(template.findResources('AWS::SQS::Queue')).filter((id) =>
        new RegExp(`^ReplicateJobs${queue}[0-9A-F]{8}$`).test(id),
      );
      expect(body).toContain(`"QueueName","{"Fn::GetAtt":["${logicalId}","QueueName"]}"`);
    }
    // The table's throttles sum every operation (an empty operation list drew an empty expression).
    expect(body).not.toContain('"expression":""');
    for (const title of ['Callback queue depth', 'Oldest callback age (s)', 'Callback dead-letter queue: messages']) {
      expect(body).toContain(title);
    }
  });
});

describe('alarm thresholds', () => {
  const alarm = (template: Template, name: string) =>
    Object.values(template.findResources('AWS::CloudWatch::Alarm')).find((a) =>
      a.Properties.AlarmDescription.includes(`Runbook: ${name}"`),
    )!.Properties;

  it('default to 15 minutes of backlog, 1 dead letter, 5 errors per function', () => {
    const template = Template.fromStack(stackWith().stack);
    expect(alarm(template, 'QueueBacklog').Threshold).toBe(900);
    expect(alarm(template, 'DeadLetters').Threshold).toBe(1);
    expect(alarm(template, 'ConsumerErrors').Threshold).toBe(5);
  });

  it('are props, maxMessageAge included', () => {
    const template = Template.fromStack(
      stackWith({
        alarmThresholds: {
          maxMessageAge: Duration.minutes(5),
          deadLetterMessages: 3,
          callbackDeadLetterMessages: 4,
          functionErrors: 2,
          functionThrottles: 6,
          apiServerErrorPercent: 10,
          webhookRejections: 50,
          webhookSecretInvalid: 7,
          jobTimeouts: 9,
        },
      }).stack,
    );
    expect(alarm(template, 'QueueBacklog').Threshold).toBe(300);
    expect(alarm(template, 'DeadLetters').Threshold).toBe(3);
    expect(alarm(template, 'CallbackDeadLetters').Threshold).toBe(4);
    expect(alarm(template, 'ConsumerErrors')).toMatchObject({
      Threshold: 2,
      AlarmDescription: expect.stringContaining('failed 2 or more times'),
    });
    expect(alarm(template, 'SubmitThrottles').Threshold).toBe(6);
    expect(alarm(template, 'ApiServerErrors')).toMatchObject({
      Threshold: 10,
      AlarmDescription: expect.stringContaining('More than 10%'),
    });
    expect(alarm(template, 'WebhookRejections').Threshold).toBe(50);
    expect(alarm(template, 'WebhookSecretInvalid').Threshold).toBe(7);
    expect(alarm(template, 'JobTimeouts').Threshold).toBe(9);
  });
});
