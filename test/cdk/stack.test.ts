/**
 * The CDK stack, asserted resource by resource on the synthesized template:
 * the table's schema, the functions and their wiring (Function URL, stream
 * mappings with their filters and failure handling, the resync schedule),
 * least-privilege IAM, alarms, the tokens, the node pool and the outputs.
 * Bundling is skipped here (test/cdk/synth.test.ts runs the real `cdk synth`).
 */
import { App } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { KumoStack, type KumoStackProps } from '../../cdk/kumo-stack.js';
import { parsePodSecurityConfig } from '#lib/apiserver/podsecurity/config';
import { STACK_OUTPUTS } from '#lib/cloud/stack-outputs';
import { CONTROLLER_FILTERS, SCHEDULER_FILTERS } from '#lib/cloud/stream-filters';
import { STORE_TABLE_SCHEMA } from '#lib/store/dynamodb-table';

type Resources = Record<string, { Type: string; Properties: Record<string, unknown>; DeletionPolicy?: string }>;

function synth(props: KumoStackProps = {}): { template: Template; stack: KumoStack } {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new KumoStack(app, 'Kumo', props);
  return { template: Template.fromStack(stack), stack };
}

const { template, stack } = synth();
const resources = template.toJSON().Resources as Resources;

function logicalId(construct: { node: { defaultChild?: unknown } } | unknown): string {
  return stack.getLogicalId((construct as { node: { defaultChild: never } }).node.defaultChild);
}

function ofType(type: string): [string, Resources[string]][] {
  return Object.entries(resources).filter(([, r]) => r.Type === type);
}

/** Every action a role's policies allow, with their resources, as JSON text for searching. */
function policyOf(roleRef: unknown): { actions: string[]; statements: { Action: string | string[]; Resource: unknown; Condition?: unknown }[] } {
  const statements = ofType('AWS::IAM::Policy')
    .filter(([, p]) => JSON.stringify(p.Properties.Roles) === JSON.stringify([roleRef]))
    .flatMap(([, p]) => (p.Properties.PolicyDocument as { Statement: { Action: string | string[]; Resource: unknown; Condition?: unknown }[] }).Statement);
  return { statements, actions: statements.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action])).sort() };
}

function roleOfFunction(fnLogicalId: string): unknown {
  return { Ref: (resources[fnLogicalId]!.Properties.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0] };
}

const tableId = logicalId(stack.table.table);
const apiFnId = logicalId(stack.api.fn);
const controllersFnId = logicalId(stack.controllers.fn);
const schedulerFnId = logicalId(stack.scheduler.fn);
const adminSecretId = logicalId(stack.adminToken.secret);
const bootstrapSecretId = logicalId(stack.bootstrapToken.secret);
const tokenKeyId = logicalId(stack.api.tokenKey);
const serviceAccountKeyId = logicalId(stack.api.serviceAccountKey);

describe('the store table', () => {
  it('is built from STORE_TABLE_SCHEMA: keys, on-demand, stream with both images, TTL, the byNode index', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      BillingMode: 'PAY_PER_REQUEST',
      StreamSpecification: { StreamViewType: 'NEW_AND_OLD_IMAGES' },
      TimeToLiveSpecification: { AttributeName: STORE_TABLE_SCHEMA.timeToLiveAttribute, Enabled: true },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      GlobalSecondaryIndexes: [
        {
          IndexName: 'byNode',
          KeySchema: [
            { AttributeName: 'gsi1pk', KeyType: 'HASH' },
            { AttributeName: 'gsi1sk', KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        },
      ],
    });
    template.resourceCountIs('AWS::DynamoDB::Table', 1);
  });

  it('is protected from deletion unless told otherwise', () => {
    expect(resources[tableId]!.Properties.DeletionProtectionEnabled).toBe(true);
    expect(resources[tableId]!.DeletionPolicy).toBe('Retain');
    const open = synth({ deletionProtection: false });
    const t = Object.values(open.template.toJSON().Resources as Resources).find((r) => r.Type === 'AWS::DynamoDB::Table')!;
    expect(t.Properties.DeletionProtectionEnabled).toBe(false);
    expect(t.DeletionPolicy).toBe('Delete');
  });
});

describe('the functions', () => {
  it('are Node.js 22 on arm64, each given the table by name', () => {
    for (const id of [apiFnId, controllersFnId, schedulerFnId]) {
      const p = resources[id]!.Properties;
      expect(p.Runtime).toBe('nodejs22.x');
      expect(p.Architectures).toEqual(['arm64']);
      expect((p.Environment as { Variables: Record<string, unknown> }).Variables.KUMO_TABLE).toEqual({ Ref: tableId });
    }
    expect(resources[apiFnId]!.Properties.Handler).toBe('index.streamingHandler');
    expect(resources[controllersFnId]!.Properties.Handler).toBe('index.handler');
    expect(resources[schedulerFnId]!.Properties.Handler).toBe('index.handler');
  });

  it('give the API and the control loops one Pod Security configuration: enforce baseline, warn restricted, the admin token exempt', () => {
    const configs = [apiFnId, controllersFnId, schedulerFnId].map(
      (id) => (resources[id]!.Properties.Environment as { Variables: Record<string, string> }).Variables.KUMO_POD_SECURITY,
    );
    expect(new Set(configs).size).toBe(1);
    const config = parsePodSecurityConfig(JSON.parse(configs[0]!));
    expect(config.defaults.enforce.level).toBe('baseline');
    expect(config.defaults.warn.level).toBe('restricted');
    expect(config.exemptions.usernames).toEqual(['kumo:token:admin']);
    const open = synth({ podSecurity: { defaults: { enforce: 'privileged' } } }).template.toJSON().Resources as Resources;
    const apis = Object.values(open).filter(
      (r) =>
        r.Type === 'AWS::Lambda::Function' &&
        (r.Properties.Environment as { Variables?: Record<string, string> } | undefined)?.Variables?.KUMO_AUTH === 'tokens',
    );
    expect(apis.map((r) => JSON.parse((r.Properties.Environment as { Variables: Record<string, string> }).Variables.KUMO_POD_SECURITY!))).toEqual([
      { defaults: { enforce: 'privileged' } },
    ]);
  });

  it('serves the API through a Function URL with response streaming and kumo tokens (no AWS signature)', () => {
    template.resourceCountIs('AWS::Lambda::Url', 1);
    template.hasResourceProperties('AWS::Lambda::Url', {
      AuthType: 'NONE',
      InvokeMode: 'RESPONSE_STREAM',
      TargetFunctionArn: { 'Fn::GetAtt': [apiFnId, 'Arn'] },
    });
    const env = (resources[apiFnId]!.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(env).toMatchObject({
      KUMO_AUTH: 'tokens',
      KUMO_ADMIN_TOKEN_SECRET_ARN: { Ref: adminSecretId },
      KUMO_BOOTSTRAP_TOKEN_SECRET_ARN: { Ref: bootstrapSecretId },
      KUMO_TOKEN_KEY_SECRET_ARN: { Ref: tokenKeyId },
      KUMO_SERVICE_ACCOUNT_KEY_SECRET_ARN: { Ref: serviceAccountKeyId },
    });
    // Watches end before the invocation does: the longest Lambda allows.
    expect(resources[apiFnId]!.Properties.Timeout).toBe(900);
  });

  it('feeds controllers and scheduler from the stream: two mappings (the per-shard reader limit), filtered, with partial batch failures, bisecting, bounded retries and a dead-letter queue each', () => {
    const mappings = ofType('AWS::Lambda::EventSourceMapping');
    expect(mappings).toHaveLength(2);
    for (const [fnId, consumer, filters] of [
      [controllersFnId, stack.controllers, CONTROLLER_FILTERS],
      [schedulerFnId, stack.scheduler, SCHEDULER_FILTERS],
    ] as const) {
      const [, m] = mappings.find(([, r]) => JSON.stringify(r.Properties.FunctionName) === JSON.stringify({ Ref: fnId }))!;
      expect(m.Properties).toMatchObject({
        EventSourceArn: { 'Fn::GetAtt': [tableId, 'StreamArn'] },
        StartingPosition: 'TRIM_HORIZON',
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        BisectBatchOnFunctionError: true,
        MaximumRetryAttempts: 5,
        MaximumRecordAgeInSeconds: 3600,
        DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [logicalId(consumer.deadLetterQueue), 'Arn'] } } },
      });
      const patterns = (m.Properties.FilterCriteria as { Filters: { Pattern: string }[] }).Filters.map((f) => JSON.parse(f.Pattern));
      expect(patterns).toEqual(filters);
      for (const f of (m.Properties.FilterCriteria as { Filters: { Pattern: string }[] }).Filters) expect(f.Pattern.length).toBeLessThanOrEqual(4096);
    }
  });

  it('reserves concurrency for the controllers and the scheduler, so no flood can starve them, and caps the API (cdk/concurrency.ts)', () => {
    expect(resources[controllersFnId]!.Properties.ReservedConcurrentExecutions).toBe(10);
    expect(resources[schedulerFnId]!.Properties.ReservedConcurrentExecutions).toBe(5);
    expect(resources[apiFnId]!.Properties.ReservedConcurrentExecutions).toBe(50);
    expect(Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('concurrent executions'))).toEqual([]);
  });

  it('runs the resync (and compaction) every minute through both control-loop functions', () => {
    // (The node pool's event rules are the cloud provider's: test/cloudprovider/stack.test.ts.)
    const rules = ofType('AWS::Events::Rule').filter(([, r]) => r.Properties.ScheduleExpression);
    expect(rules).toHaveLength(1);
    const rule = rules[0]![1].Properties;
    expect(rule.ScheduleExpression).toBe('rate(1 minute)');
    const targets = (rule.Targets as { Arn: unknown; RetryPolicy?: { MaximumRetryAttempts: number } }[]).map((t) => t.Arn);
    expect(targets).toEqual(expect.arrayContaining([{ 'Fn::GetAtt': [controllersFnId, 'Arn'] }, { 'Fn::GetAtt': [schedulerFnId, 'Arn'] }]));
    expect(targets).toHaveLength(2);
    for (const fnId of [controllersFnId, schedulerFnId]) {
      template.hasResourceProperties('AWS::Lambda::Permission', { FunctionName: { 'Fn::GetAtt': [fnId, 'Arn'] }, Principal: 'events.amazonaws.com' });
    }
  });
});

describe('least privilege', () => {
  const storeActions = ['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:UpdateItem'];
  const tableResources = [{ 'Fn::GetAtt': [tableId, 'Arn'] }, { 'Fn::Join': ['', [{ 'Fn::GetAtt': [tableId, 'Arn'] }, '/index/*']] }];

  it('gives the API the store actions on the table and its indexes, the admin and bootstrap tokens, the token MAC key and the ServiceAccount key, nothing else', () => {
    const p = policyOf(roleOfFunction(apiFnId));
    expect(p.actions).toEqual([...storeActions, 'secretsmanager:GetSecretValue'].sort());
    expect(p.statements.find((s) => JSON.stringify(s.Action).includes('dynamodb'))!.Resource).toEqual(tableResources);
    expect(p.statements.find((s) => s.Action === 'secretsmanager:GetSecretValue')!.Resource).toEqual([
      { Ref: adminSecretId },
      { Ref: bootstrapSecretId },
      { Ref: tokenKeyId },
      { Ref: serviceAccountKeyId },
    ]);
  });

  it('gives the controllers compaction and their stream and dead-letter queue; the scheduler no compaction', () => {
    const c = policyOf(roleOfFunction(controllersFnId));
    expect(c.actions).toEqual(
      [
        ...storeActions,
        'dynamodb:BatchWriteItem',
        'dynamodb:DescribeStream',
        'dynamodb:GetRecords',
        'dynamodb:GetShardIterator',
        'dynamodb:ListStreams',
        'sqs:GetQueueAttributes',
        'sqs:GetQueueUrl',
        'sqs:SendMessage',
        // The cloud provider's, scoped in test/cloudprovider/stack.test.ts.
        'autoscaling:CompleteLifecycleAction',
        'autoscaling:DescribeAutoScalingGroups',
        'autoscaling:SetDesiredCapacity',
        'autoscaling:TerminateInstanceInAutoScalingGroup',
        'ec2:DescribeInstances',
        'ecs:DescribeContainerInstances',
        'ecs:ListContainerInstances',
        // The CronJobs' wake-up, scoped below.
        'iam:PassRole',
        'scheduler:CreateSchedule',
        'scheduler:DeleteSchedule',
        'scheduler:GetSchedule',
        'scheduler:ListSchedules',
        'scheduler:UpdateSchedule',
      ].sort(),
    );
    expect(c.statements.find((s) => JSON.stringify(s.Action).includes('GetRecords'))!.Resource).toEqual({ 'Fn::GetAtt': [tableId, 'StreamArn'] });
    expect(c.statements.find((s) => JSON.stringify(s.Action).includes('sqs:SendMessage'))!.Resource).toEqual({
      'Fn::GetAtt': [logicalId(stack.controllers.deadLetterQueue), 'Arn'],
    });
    const s = policyOf(roleOfFunction(schedulerFnId));
    expect(s.actions).not.toContain('dynamodb:BatchWriteItem');
    expect(s.actions).not.toContain('secretsmanager:GetSecretValue');
  });

  it("lets the controllers arm schedules in the CronJobs' group only and pass its role only, which only Scheduler of this account assumes to invoke them", () => {
    const groupId = logicalId(stack.cronWakeup.group);
    const roleId = logicalId(stack.cronWakeup.role);
    const groupName = resources[groupId]!.Properties.Name as string;
    const c = policyOf(roleOfFunction(controllersFnId));
    const schedules = c.statements.filter((s) => JSON.stringify(s.Action).includes('scheduler:'));
    expect(schedules.length).toBeGreaterThan(0);
    for (const s of schedules) expect(JSON.stringify(s.Resource)).toContain(`:schedule/${groupName}/*`);
    expect(c.statements.find((s) => s.Action === 'iam:PassRole')!.Resource).toEqual({ 'Fn::GetAtt': [roleId, 'Arn'] });
    expect(policyOf({ Ref: roleId }).statements).toEqual([
      { Action: 'lambda:InvokeFunction', Effect: 'Allow', Resource: expect.arrayContaining([{ 'Fn::GetAtt': [controllersFnId, 'Arn'] }]) },
    ]);
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [
          {
            Action: 'sts:AssumeRole',
            Effect: 'Allow',
            Principal: { Service: 'scheduler.amazonaws.com' },
            Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
          },
        ],
      },
    });
    const env = (resources[controllersFnId]!.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(env.KUMO_CRON_SCHEDULE_GROUP).toEqual(groupName);
    expect(env.KUMO_CRON_SCHEDULER_ROLE_ARN).toEqual({ 'Fn::GetAtt': [roleId, 'Arn'] });
  });

  it('grants no wildcard actions, no Scan and no table management to anyone', () => {
    const all = ofType('AWS::IAM::Policy').flatMap(([, p]) =>
      (p.Properties.PolicyDocument as { Statement: { Action: string | string[] }[] }).Statement.flatMap((s) =>
        Array.isArray(s.Action) ? s.Action : [s.Action],
      ),
    );
    expect(all.filter((a) => a.endsWith(':*') || a === '*')).toEqual([]);
    expect(all).not.toContain('dynamodb:Scan');
    expect(all.filter((a) => /^dynamodb:(Create|Delete|Update)Table/.test(a))).toEqual([]);
  });

  it('lets only the API read the admin token, the token MAC key and the ServiceAccount key', () => {
    for (const secret of [adminSecretId, tokenKeyId, serviceAccountKeyId]) {
      const readers = ofType('AWS::IAM::Policy').filter(([, p]) => JSON.stringify(p.Properties.PolicyDocument).includes(`"Ref":"${secret}"`));
      expect(readers.map(([, p]) => p.Properties.Roles)).toEqual([[roleOfFunction(apiFnId)]]);
    }
    // Nor does ECS hand the key to the agents.
    expect(JSON.stringify(ofType('AWS::ECS::TaskDefinition'))).not.toContain(tokenKeyId);
    expect(JSON.stringify(ofType('AWS::ECS::TaskDefinition'))).not.toContain(serviceAccountKeyId);
  });
});

describe('alarms', () => {
  it('watch errors and throttles of every function, iterator age and dead letters of each stream consumer, and notify one topic', () => {
    const alarms = ofType('AWS::CloudWatch::Alarm').map(([, a]) => a.Properties);
    const topic = { Ref: logicalId(stack.alarmTopic) };
    for (const a of alarms) expect(a.AlarmActions).toEqual([topic]);
    const on = (metric: string, fnId: string) => alarms.filter((a) => a.MetricName === metric && JSON.stringify(a.Dimensions).includes(fnId));
    for (const fnId of [apiFnId, controllersFnId, schedulerFnId]) {
      expect(on('Errors', fnId)).toHaveLength(1);
      expect(on('Throttles', fnId)).toHaveLength(1);
    }
    for (const fnId of [controllersFnId, schedulerFnId]) expect(on('IteratorAge', fnId)).toMatchObject([{ Statistic: 'Maximum', Threshold: 120_000 }]);
    for (const c of [stack.controllers, stack.scheduler]) {
      const dlq = alarms.filter(
        (a) => a.MetricName === 'ApproximateNumberOfMessagesVisible' && JSON.stringify(a.Dimensions).includes(logicalId(c.deadLetterQueue)),
      );
      expect(dlq).toMatchObject([{ Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold' }]);
    }
    expect(alarms).toHaveLength(10);
  });
});

describe('tokens', () => {
  it('are generated at deploy time as {"id","secret"} of letters and digits', () => {
    for (const [id, tokenId] of [
      [adminSecretId, 'admin'],
      [bootstrapSecretId, 'bootstrap'],
    ] as const) {
      expect(resources[id]!.Properties.GenerateSecretString).toMatchObject({
        SecretStringTemplate: JSON.stringify({ id: tokenId }),
        GenerateStringKey: 'secret',
        ExcludePunctuation: true,
        IncludeSpace: false,
        PasswordLength: 48,
      });
    }
  });

  it("keep the key of stored tokens' MACs beside them: 64 letters and digits generated at deploy time", () => {
    expect(resources[tokenKeyId]!.Properties.GenerateSecretString).toEqual({ ExcludePunctuation: true, IncludeSpace: false, PasswordLength: 64 });
  });

  it('keep what the ServiceAccount signing key is derived from: 64 letters and digits generated at deploy time', () => {
    expect(resources[serviceAccountKeyId]!.Properties.GenerateSecretString).toEqual({ ExcludePunctuation: true, IncludeSpace: false, PasswordLength: 64 });
  });
});

describe('the node pool', () => {
  const pool = stack.nodes!;

  it('is an ECS cluster on an Auto Scaling group of ECS-optimized Amazon Linux 2023 (arm64 for Graviton) instances, IMDSv2 only', () => {
    template.resourceCountIs('AWS::ECS::Cluster', 1);
    template.hasResourceProperties('AWS::AutoScaling::AutoScalingGroup', { MinSize: '1', MaxSize: '3' });
    const lt = ofType('AWS::EC2::LaunchTemplate')[0]![1].Properties.LaunchTemplateData as Record<string, unknown>;
    expect(lt.InstanceType).toBe('t4g.small');
    expect(lt.MetadataOptions).toMatchObject({ HttpTokens: 'required', HttpPutResponseHopLimit: 1 });
    const params = template.toJSON().Parameters as Record<string, { Default?: string }>;
    expect(JSON.stringify(lt.ImageId)).toMatch(/SsmParameterValue.*amazonlinux2023.*arm64/i);
    expect(Object.values(params).some((p) => /\/aws\/service\/ecs\/optimized-ami\/amazon-linux-2023\/arm64\/recommended/.test(p.Default ?? ''))).toBe(true);
    const x86 = synth({ nodeInstanceType: 't3.small' }).template.toJSON().Parameters as Record<string, { Default?: string }>;
    expect(Object.values(x86).some((p) => /amazon-linux-2023\/recommended/.test(p.Default ?? ''))).toBe(true);
  });

  it('runs the agent as a DAEMON with the Docker socket and a data directory from the host, on the host network', () => {
    template.hasResourceProperties('AWS::ECS::Service', { SchedulingStrategy: 'DAEMON', Cluster: { Ref: logicalId(pool.cluster) } });
    const td = resources[logicalId(pool.taskDefinition)]!.Properties;
    expect(td.NetworkMode).toBe('host');
    expect(td.Volumes).toEqual(
      expect.arrayContaining([
        { Name: 'docker-socket', Host: { SourcePath: '/var/run/docker.sock' } },
        { Name: 'agent-data', Host: { SourcePath: '/var/lib/kumo' } },
      ]),
    );
    const [c] = td.ContainerDefinitions as Record<string, unknown>[];
    expect(c!.MountPoints).toEqual(expect.arrayContaining([expect.objectContaining({ ContainerPath: '/var/run/docker.sock', SourceVolume: 'docker-socket' })]));
    // The image is the repository's agent Dockerfile, built as a CDK asset.
    expect(JSON.stringify(c!.Image)).toContain('container-assets');
    const env = Object.fromEntries((c!.Environment as { Name: string; Value: unknown }[]).map((e) => [e.Name, e.Value]));
    expect(env.KUMO_SERVER).toEqual({ 'Fn::GetAtt': [logicalId(stack.api.url), 'FunctionUrl'] });
    expect(env.KUMO_RUNTIME).toBe('docker');
    // Node credentials from Secrets Manager: the bootstrap token, injected by ECS, never the admin token.
    expect(c!.Secrets).toEqual([{ Name: 'KUMO_BOOTSTRAP_TOKEN_SECRET', ValueFrom: { Ref: bootstrapSecretId } }]);
  });

  it('lets the agent read only its own cluster through the ECS API', () => {
    const task = policyOf({ Ref: stack.getLogicalId(pool.taskDefinition.taskRole.node.defaultChild as never) });
    expect(task.actions).toEqual(['ecs:DescribeContainerInstances', 'ecs:DescribeTasks']);
    expect(task.statements[0]!.Condition).toEqual({ ArnEquals: { 'ecs:cluster': { 'Fn::GetAtt': [logicalId(pool.cluster), 'Arn'] } } });
  });

  it("drains through ECS and kumo's own lifecycle hook: no lifecycle-hook function besides the three of kumo", () => {
    template.resourceCountIs('AWS::AutoScaling::LifecycleHook', 1);
    template.hasResourceProperties('AWS::AutoScaling::LifecycleHook', {
      LifecycleHookName: 'kumo-drain',
      LifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING',
      DefaultResult: 'CONTINUE',
    });
    template.resourceCountIs('AWS::Lambda::Function', 3);
    template.hasResourceProperties('AWS::ECS::CapacityProvider', {
      AutoScalingGroupProvider: { ManagedDraining: 'ENABLED', ManagedTerminationProtection: 'DISABLED' },
    });
  });

  it('opens no port to the world', () => {
    const sg = resources[logicalId(pool.securityGroup)]!.Properties;
    expect(sg.SecurityGroupIngress ?? []).toEqual([]);
    template.resourceCountIs('AWS::EC2::SecurityGroupIngress', 0);
    template.resourceCountIs('AWS::EC2::NatGateway', 0);
  });
});

describe('options', () => {
  it('with podLogs, puts the API in the VPC (endpoints, no NAT), admits it to the agents and shares the logs token', () => {
    const { template: t, stack: s } = synth({ podLogs: true });
    const r = t.toJSON().Resources as Resources;
    const fn = r[s.getLogicalId(s.api.fn.node.defaultChild as never)]!.Properties;
    expect(fn.VpcConfig).toBeDefined();
    expect((fn.Environment as { Variables: Record<string, unknown> }).Variables.KUMO_AGENT_TOKEN_SECRET_ARN).toEqual({
      Ref: s.getLogicalId(s.agentToken!.secret.node.defaultChild as never),
    });
    const endpoints = Object.values(r)
      .filter((x) => x.Type === 'AWS::EC2::VPCEndpoint')
      .map((x) => `${x.Properties.VpcEndpointType} ${JSON.stringify(x.Properties.ServiceName)}`);
    expect(endpoints).toHaveLength(2);
    expect(endpoints.find((e) => e.startsWith('Gateway'))).toMatch(/dynamodb/);
    expect(endpoints.find((e) => e.startsWith('Interface'))).toMatch(/secretsmanager/);
    t.resourceCountIs('AWS::EC2::NatGateway', 0);
    t.hasResourceProperties('AWS::EC2::SecurityGroupIngress', { IpProtocol: 'tcp', FromPort: 10250, ToPort: 10250 });
    const td = Object.values(r).find((x) => x.Type === 'AWS::ECS::TaskDefinition')!.Properties;
    const secrets = ((td.ContainerDefinitions as Record<string, unknown>[])[0]!.Secrets as { Name: string }[]).map((x) => x.Name);
    expect(secrets.sort()).toEqual(['KUMO_AGENT_TOKEN_SECRET', 'KUMO_BOOTSTRAP_TOKEN_SECRET']);
  });

  it('with secretsEncryption, gives every function a rotating KMS key for Secrets, usable only for this store', () => {
    expect(stack.secretsKey).toBeUndefined();
    template.resourceCountIs('AWS::KMS::Key', 0);
    const { template: t, stack: s } = synth({ secretsEncryption: true, podLogs: true });
    const r = t.toJSON().Resources as Resources;
    const keyId = s.getLogicalId(s.secretsKey!.node.defaultChild as never);
    expect(r[keyId]!.Properties.EnableKeyRotation).toBe(true);
    expect(r[keyId]!.DeletionPolicy).toBe('Retain');
    const table = s.getLogicalId(s.table.table.node.defaultChild as never);
    for (const fn of [s.api.fn, s.controllers.fn, s.scheduler.fn]) {
      const props = r[s.getLogicalId(fn.node.defaultChild as never)]!.Properties;
      expect((props.Environment as { Variables: Record<string, unknown> }).Variables.KUMO_SECRETS_KMS_KEY).toEqual({ 'Fn::GetAtt': [keyId, 'Arn'] });
      const role = { Ref: (props.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0] };
      const statements = Object.values(r)
        .filter((x) => x.Type === 'AWS::IAM::Policy' && JSON.stringify(x.Properties.Roles) === JSON.stringify([role]))
        .flatMap((x) => (x.Properties.PolicyDocument as { Statement: { Action: unknown; Condition?: unknown }[] }).Statement);
      expect(statements).toContainEqual(
        expect.objectContaining({
          Action: ['kms:GenerateDataKey', 'kms:Decrypt'],
          Condition: { StringEquals: { 'kms:EncryptionContext:kumo.io/store': { Ref: table } } },
        }),
      );
    }
    // The API in the VPC reaches KMS through an endpoint.
    expect(Object.values(r).filter((x) => x.Type === 'AWS::EC2::VPCEndpoint' && JSON.stringify(x.Properties.ServiceName).includes('kms'))).toHaveLength(1);
  });

  it("publishes the control loops' metrics in a namespace per stack, one service per function (none for the API, served by GET /metrics), unless told not to", () => {
    const variables = (r: Resources, id: string) => (r[id]!.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(variables(resources, controllersFnId)).toMatchObject({ POWERTOOLS_METRICS_NAMESPACE: 'kumo/Kumo', POWERTOOLS_SERVICE_NAME: 'controllers' });
    expect(variables(resources, schedulerFnId)).toMatchObject({ POWERTOOLS_METRICS_NAMESPACE: 'kumo/Kumo', POWERTOOLS_SERVICE_NAME: 'scheduler' });
    expect(variables(resources, apiFnId)).not.toHaveProperty('POWERTOOLS_METRICS_NAMESPACE');
    const { template: t, stack: s } = synth({ controlLoopMetrics: false, nodePool: false });
    const r = t.toJSON().Resources as Resources;
    for (const fn of [s.controllers.fn, s.scheduler.fn])
      expect(variables(r, s.getLogicalId(fn.node.defaultChild as never))).not.toHaveProperty('POWERTOOLS_METRICS_NAMESPACE');
  });

  it('takes other concurrency numbers, warning when they exceed what an account with the default quota may reserve, or none', () => {
    const reservedOf = (s: KumoStack) => {
      const r = Template.fromStack(s).toJSON().Resources as Resources;
      return [s.api.fn, s.controllers.fn, s.scheduler.fn].map(
        (fn) => r[s.getLogicalId(fn.node.defaultChild as never)]!.Properties.ReservedConcurrentExecutions,
      );
    };
    const big = synth({ nodePool: false, apiConcurrency: 900, controllersConcurrency: 4, schedulerConcurrency: 2 }).stack;
    expect(reservedOf(big)).toEqual([900, 4, 2]);
    Annotations.fromStack(big).hasWarning(
      '*',
      Match.stringLikeRegexp('reserve 906 concurrent executions: more than an account with the default quota of 1,000 may reserve \\(900\\)'),
    );
    expect(reservedOf(synth({ nodePool: false, reservedConcurrency: false }).stack)).toEqual([undefined, undefined, undefined]);
    expect(reservedOf(synth({ cadence: 'kubernetes', maxNodes: 10 }).stack)[0]).toBe(50 + 4 * 10);
  });

  it('without a node pool, is the control plane alone: no VPC, no ECS', () => {
    const { template: t } = synth({ nodePool: false });
    t.resourceCountIs('AWS::EC2::VPC', 0);
    t.resourceCountIs('AWS::ECS::Cluster', 0);
    t.resourceCountIs('AWS::Lambda::Function', 3);
  });
});

describe('outputs', () => {
  it('name the API URL and the admin token secret, as `kumo kubeconfig --stack` reads them', () => {
    const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;
    expect(outputs[STACK_OUTPUTS.apiUrl]!.Value).toEqual({ 'Fn::GetAtt': [logicalId(stack.api.url), 'FunctionUrl'] });
    expect(outputs[STACK_OUTPUTS.adminTokenSecretArn]!.Value).toEqual({ Ref: adminSecretId });
    expect(Object.keys(outputs).sort()).toEqual(Object.values(STACK_OUTPUTS).sort());
  });
});
