import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { App, CfnElement, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { NagPack } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BugbotStack } from '../../infra/bugbot-stack.js';
import { REPOSITORY_ROOT } from '../../infra/constructs/bugbot-function.js';
import { addComplianceChecks } from '../../infra/constructs/compliance-checks.js';
import {
  FIX_RUNNER_CONTAINER_NAME,
  TASK_STOPPED_TEMPLATE,
  TASK_STOPPED_TEMPLATE_WITHOUT_REASON,
} from '../../infra/constructs/fix-runner.js';
import { readDeploymentSettings } from '../../infra/deployment-settings.js';
import { fixTaskStoppedJobSchema } from '../../shared/jobs/job-schemas.js';
import { SYNTH_TIMEOUT_MS } from '../support/cdk-synth.js';

type Resource = { Type: string; Properties: Record<string, unknown>; DependsOn?: unknown };
type Statement = {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Principal?: unknown;
  Condition?: Record<string, Record<string, unknown>>;
};

const cdkJson = JSON.parse(readFileSync(path.join(REPOSITORY_ROOT, 'cdk.json'), 'utf8')) as {
  context: Record<string, unknown>;
};
// These tests read the template, not the Lambda bundles. The image asset is only staged and
// hashed at synth (Docker builds it at deploy), so synth needs neither Docker nor a network.
const NO_BUNDLING = { 'aws:cdk:bundling-stacks': [] };

let outdir: string;
let app: App;
let stack: BugbotStack;
let packs: NagPack[];
let resources: Record<string, Resource>;

beforeAll(() => {
  outdir = mkdtempSync(path.join(tmpdir(), 'bugbot-fix-runner-'));
  app = new App({ outdir, context: { ...cdkJson.context, ...NO_BUNDLING } });
  stack = new BugbotStack(app, 'Bugbot', { settings: readDeploymentSettings(app.node) });
  packs = addComplianceChecks(app);
  // Runs the packs as validation plugins: an unacknowledged finding throws here.
  app.synth();
  resources = Template.fromStack(stack).toJSON().Resources as Record<string, Resource>;
}, SYNTH_TIMEOUT_MS);
afterAll(() => rmSync(outdir, { recursive: true, force: true }));

function logicalId(construct: IConstruct): string {
  const cfn = CfnElement.isCfnElement(construct) ? construct : construct.node.defaultChild;
  if (!cfn || !CfnElement.isCfnElement(cfn)) throw new Error(`${construct.node.path} has no resource`);
  return Stack.of(cfn).getLogicalId(cfn);
}

function resource(id: string): Resource {
  const found = resources[id];
  if (!found) throw new Error(`no resource ${id}`);
  return found;
}

function ofType(type: string): [string, Resource][] {
  return Object.entries(resources).filter(([, r]) => r.Type === type);
}

const getAtt = (construct: IConstruct, attribute = 'Arn') => ({
  'Fn::GetAtt': [logicalId(construct), attribute],
});
const ref = (construct: IConstruct) => ({ Ref: logicalId(construct) });

/** Every statement attached to a role through AWS::IAM::Policy resources. */
function statementsOf(roleId: string): Statement[] {
  const role = resource(roleId);
  expect(role.Properties.ManagedPolicyArns, `${roleId} has managed policies`).toBeUndefined();
  expect(role.Properties.Policies, `${roleId} has inline policies`).toBeUndefined();
  return ofType('AWS::IAM::Policy')
    .filter(([, policy]) => JSON.stringify(policy.Properties.Roles).includes(JSON.stringify({ Ref: roleId })))
    .flatMap(([, policy]) => (policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
}

/** One line per action: "Allow ecs:RunTask <resource json> <condition json>". */
function permissionsOf(roleId: string): string[] {
  return statementsOf(roleId)
    .flatMap((statement) =>
      [statement.Action]
        .flat()
        .flatMap((action) =>
          [statement.Resource]
            .flat()
            .map(
              (res) =>
                `${statement.Effect} ${action} ${JSON.stringify(res)}${statement.Condition ? ` ${JSON.stringify(statement.Condition)}` : ''}`,
            ),
        ),
    )
    .sort();
}

function taskDefinition() {
  return resource(logicalId(stack.fixRunner.taskDefinition));
}

function container() {
  const definitions = taskDefinition().Properties.ContainerDefinitions as Record<string, unknown>[];
  expect(definitions).toHaveLength(1);
  return definitions[0]!;
}

function roleIdOf(arnProperty: unknown): string {
  return (arnProperty as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
}

describe('task definition', () => {
  it('runs one Fargate task of 1 vCPU and 4 GB on ARM64 (like the Lambdas)', () => {
    expect(taskDefinition().Properties).toMatchObject({
      RequiresCompatibilities: ['FARGATE'],
      NetworkMode: 'awsvpc',
      Cpu: '1024',
      Memory: '4096',
      RuntimePlatform: { CpuArchitecture: 'ARM64', OperatingSystemFamily: 'LINUX' },
    });
  });

  it('runs the image built from fargate-runner/Dockerfile with the repository root as context', () => {
    expect(JSON.stringify(container().Image)).toContain('container-assets');
    const manifest = JSON.parse(readFileSync(path.join(outdir, 'Bugbot.assets.json'), 'utf8')) as {
      dockerImages: Record<
        string,
        {
          source: { directory: string; dockerFile?: string; platform?: string };
          destinations: Record<string, { imageTag: string }>;
        }
      >;
    };
    const images = Object.values(manifest.dockerImages);
    expect(images).toHaveLength(1);
    const [image] = images;
    expect(image!.source).toMatchObject({ dockerFile: 'fargate-runner/Dockerfile', platform: 'linux/arm64' });
    const tag = Object.values(image!.destinations)[0]!.imageTag;
    expect(JSON.stringify(container().Image)).toContain(tag);

    // The staged context is what `docker build` receives: the build stage's inputs and nothing else.
    const context = path.join(outdir, image!.source.directory);
    for (const present of [
      'package.json',
      'package-lock.json',
      'tsconfig.json',
      'fargate-runner/Dockerfile',
      'fargate-runner/build.ts',
      'fargate-runner/src/main.ts',
      'shared/jobs/fix-job-spec.ts',
    ]) {
      expect(existsSync(path.join(context, present)), present).toBe(true);
    }
    for (const absent of [
      'node_modules',
      'test',
      'infra',
      'local',
      'lambdas',
      '.local',
      'cdk.out',
      '.git',
      'fargate-runner/dist',
    ]) {
      expect(existsSync(path.join(context, absent)), absent).toBe(false);
    }
  });

  it('builds the image in two stages from the repository root, running as root with setpriv for the sandbox', () => {
    const dockerfile = readFileSync(path.join(REPOSITORY_ROOT, 'fargate-runner/Dockerfile'), 'utf8');
    const froms = dockerfile.match(/^FROM .*$/gm) ?? [];
    expect(froms).toHaveLength(2);
    expect(froms[0]).toMatch(/node:22-bookworm-slim AS build$/);
    expect(dockerfile).toMatch(/^RUN npm ci\b/m);
    expect(dockerfile).toMatch(/npx tsx fargate-runner\/build\.ts/);
    expect(dockerfile).toMatch(/^COPY --from=build \/src\/fargate-runner\/dist\/ \/app\/$/m);
    // Root on purpose: the runner switches to per-run unprivileged users (README "The sandbox").
    expect(dockerfile.match(/^USER .*$/gm)?.at(-1)).toBe('USER root');
    expect(dockerfile).toMatch(/apt-get install .*\butil-linux\b/);
    expect(dockerfile).toMatch(/find \/ -xdev -perm \/6000 -type f -exec chmod a-s/);
    expect(dockerfile).not.toMatch(/^(ENV|ARG)\b.*(TOKEN|KEY|SECRET)/im);
  });

  it('logs to its own log group with a retention', () => {
    const logging = container().LogConfiguration as { LogDriver: string; Options: Record<string, unknown> };
    expect(logging.LogDriver).toBe('awslogs');
    expect(logging.Options['awslogs-group']).toEqual(ref(stack.fixRunner.logGroup));
    expect(resource(logicalId(stack.fixRunner.logGroup)).Properties.RetentionInDays).toEqual(
      expect.any(Number),
    );
  });

  it('runs as root on a read-only root filesystem with a writable /tmp, keeping only the capabilities the sandbox needs', () => {
    expect(container()).toMatchObject({
      Name: FIX_RUNNER_CONTAINER_NAME,
      Essential: true,
      User: '0:0',
      ReadonlyRootFilesystem: true,
      Privileged: false,
      MountPoints: [{ SourceVolume: 'tmp', ContainerPath: '/tmp', ReadOnly: false }],
      LinuxParameters: { InitProcessEnabled: true },
    });
    const capabilities = (container().LinuxParameters as { Capabilities: { Add?: string[]; Drop: string[] } })
      .Capabilities;
    // Fargate can add none but SYS_PTRACE: the sandbox lives on what root keeps of Docker's defaults.
    expect(capabilities.Add).toBeUndefined();
    const dockerDefaults = [
      'AUDIT_WRITE',
      'CHOWN',
      'DAC_OVERRIDE',
      'FOWNER',
      'FSETID',
      'KILL',
      'MKNOD',
      'NET_BIND_SERVICE',
      'NET_RAW',
      'SETFCAP',
      'SETGID',
      'SETPCAP',
      'SETUID',
      'SYS_CHROOT',
    ];
    expect(dockerDefaults.filter((capability) => !capabilities.Drop.includes(capability))).toEqual([
      'CHOWN',
      'DAC_OVERRIDE',
      'KILL',
      'SETGID',
      'SETUID',
    ]);
    expect(capabilities.Drop).not.toContain('ALL');
    expect(capabilities.Drop).toEqual(expect.arrayContaining(['SYS_ADMIN', 'SYS_PTRACE', 'NET_ADMIN']));
    // A task-scoped bind mount on the task's ephemeral storage, nothing from a host.
    expect(taskDefinition().Properties.Volumes).toEqual([{ Name: 'tmp' }]);
  });

  it('injects the Anthropic key and GitHub token from the one service secret, and no other secret', () => {
    const secretArn = ref(stack.serviceSecrets.secret);
    expect(container().Secrets).toEqual([
      { Name: 'ANTHROPIC_API_KEY', ValueFrom: { 'Fn::Join': ['', [secretArn, ':anthropicApiKey::']] } },
      { Name: 'GITHUB_TOKEN', ValueFrom: { 'Fn::Join': ['', [secretArn, ':githubToken::']] } },
    ]);
    // JOB_ID comes from the launcher's container override, never the task definition.
    expect(container().Environment).toEqual([
      { Name: 'TABLE_NAME', Value: ref(stack.bugTable.table) },
      { Name: 'JOBS_QUEUE_URL', Value: ref(stack.jobsQueue.queue) },
    ]);
  });

  it('lets the task read only job specs and send only to the jobs queue', () => {
    const taskRole = roleIdOf(taskDefinition().Properties.TaskRoleArn);
    expect(permissionsOf(taskRole)).toEqual(
      [
        `Allow dynamodb:GetItem ${JSON.stringify(getAtt(stack.bugTable.table))} ${JSON.stringify({
          'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['JOB#*'] },
        })}`,
        `Allow sqs:SendMessage ${JSON.stringify(getAtt(stack.jobsQueue.queue))}`,
      ].sort(),
    );
  });

  it('lets ECS only pull the image, write the logs and read the service secret', () => {
    const executionRole = roleIdOf(taskDefinition().Properties.ExecutionRoleArn);
    const permissions = permissionsOf(executionRole);
    const logGroup = JSON.stringify(getAtt(stack.fixRunner.logGroup));
    const secret = JSON.stringify(ref(stack.serviceSecrets.secret));
    expect(permissions).toEqual(
      expect.arrayContaining([
        'Allow ecr:GetAuthorizationToken "*"',
        `Allow logs:CreateLogStream ${logGroup}`,
        `Allow logs:PutLogEvents ${logGroup}`,
        `Allow secretsmanager:GetSecretValue ${secret}`,
      ]),
    );
    for (const permission of permissions) {
      const [, action, resourceJson] = /^Allow (\S+) (\S+)/.exec(permission)!;
      if (action === 'ecr:GetAuthorizationToken') continue;
      if (action!.startsWith('ecr:')) expect(resourceJson, permission).toContain('container-assets');
      else if (action!.startsWith('logs:')) expect(resourceJson).toBe(logGroup);
      else
        expect(`${action} ${resourceJson}`).toMatch(
          // ECS injects secrets with GetSecretValue alone; DescribeSecret is not needed.
          new RegExp(`^secretsmanager:GetSecretValue ${escapeRegExp(secret)}$`),
        );
    }
  });

  it('sits in a cluster with Container Insights on', () => {
    expect(resource(logicalId(stack.fixRunner.cluster)).Properties.ClusterSettings).toEqual([
      { Name: 'containerInsights', Value: 'enabled' },
    ]);
  });
});

describe('network', () => {
  it('has public subnets only and no NAT gateway', () => {
    expect(ofType('AWS::EC2::NatGateway')).toEqual([]);
    expect(ofType('AWS::EC2::EIP')).toEqual([]);
    const subnets = ofType('AWS::EC2::Subnet');
    expect(subnets.length).toBeGreaterThanOrEqual(2);
    for (const [id, subnet] of subnets) expect(subnet.Properties.MapPublicIpOnLaunch, id).toBe(true);
    const routes = ofType('AWS::EC2::Route');
    expect(routes.length).toBe(subnets.length);
    for (const [id, route] of routes) {
      expect(route.Properties.DestinationCidrBlock, id).toBe('0.0.0.0/0');
      expect(route.Properties.GatewayId, id).toEqual(
        expect.objectContaining({ Ref: expect.stringMatching(/IGW/) }),
      );
    }
  });

  it('lets the tasks out on TCP 443 only and nothing in', () => {
    const group = resource(logicalId(stack.fixRunner.securityGroup));
    expect(group.Properties.SecurityGroupEgress).toEqual([
      expect.objectContaining({ CidrIp: '0.0.0.0/0', IpProtocol: 'tcp', FromPort: 443, ToPort: 443 }),
    ]);
    expect(group.Properties.SecurityGroupIngress).toBeUndefined();
    expect(ofType('AWS::EC2::SecurityGroupIngress')).toEqual([]);
    expect(ofType('AWS::EC2::SecurityGroupEgress')).toEqual([]);
  });

  it('reaches DynamoDB through a free gateway endpoint that only reads items of the bug table', () => {
    const endpoints = ofType('AWS::EC2::VPCEndpoint');
    expect(endpoints).toHaveLength(1);
    const [, endpoint] = endpoints[0]!;
    expect(endpoint.Properties.VpcEndpointType).toBe('Gateway');
    expect(JSON.stringify(endpoint.Properties.ServiceName)).toContain('.dynamodb');
    expect((endpoint.Properties.PolicyDocument as { Statement: Statement[] }).Statement).toEqual([
      {
        Effect: 'Allow',
        Principal: { AWS: '*' },
        Action: 'dynamodb:GetItem',
        Resource: getAtt(stack.bugTable.table),
      },
    ]);
  });

  it('records every flow of the VPC in a log group with a retention', () => {
    const flowLogs = ofType('AWS::EC2::FlowLog');
    expect(flowLogs).toHaveLength(1);
    const [, flowLog] = flowLogs[0]!;
    expect(flowLog.Properties).toMatchObject({
      ResourceType: 'VPC',
      ResourceId: ref(stack.fixRunner.vpc),
      TrafficType: 'ALL',
      LogGroupName: ref(stack.fixRunner.flowLogGroup),
    });
    expect(resource(logicalId(stack.fixRunner.flowLogGroup)).Properties.RetentionInDays).toEqual(
      expect.any(Number),
    );
  });
});

// ---------------------------------------------------------------------------------------------
// EventBridge, emulated: the pattern matching and input transformation the rules rely on.

const ACCOUNT = '123456789012';
const REGION = 'eu-west-1';
const CLUSTER_ARN = `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/bugbot-fix`;

/** Resolves the few intrinsics the rules use, with sample values for account, region and cluster. */
function resolveIntrinsics(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(resolveIntrinsics);
  if (value === null || typeof value !== 'object') return value;
  const object = value as Record<string, unknown>;
  if ('Ref' in object) {
    const pseudo: Record<string, string> = {
      'AWS::Partition': 'aws',
      'AWS::Region': REGION,
      'AWS::AccountId': ACCOUNT,
    };
    const resolved = pseudo[object.Ref as string];
    if (!resolved) throw new Error(`unexpected Ref ${String(object.Ref)}`);
    return resolved;
  }
  if ('Fn::GetAtt' in object) {
    expect(object['Fn::GetAtt']).toEqual(getAtt(stack.fixRunner.cluster)['Fn::GetAtt']);
    return CLUSTER_ARN;
  }
  if ('Fn::Join' in object) {
    const [separator, parts] = object['Fn::Join'] as [string, unknown[]];
    return parts.map(resolveIntrinsics).join(separator);
  }
  return Object.fromEntries(Object.entries(object).map(([key, inner]) => [key, resolveIntrinsics(inner)]));
}

/** EventBridge content filtering, for the operators the rules use: values, prefix, exists, $or. */
function matchesPattern(pattern: Record<string, unknown>, event: Record<string, unknown>): boolean {
  return Object.entries(pattern).every(([key, condition]) => {
    if (key === '$or') {
      return (condition as Record<string, unknown>[]).some((branch) => matchesPattern(branch, event));
    }
    const value = event[key];
    if (!Array.isArray(condition)) {
      return typeof value === 'object' && value !== null
        ? matchesPattern(condition as Record<string, unknown>, value as Record<string, unknown>)
        : false;
    }
    return condition.some((option) => {
      if (typeof option !== 'object' || option === null) return value === option;
      if ('exists' in option) return (value !== undefined) === option.exists;
      if ('prefix' in option) return typeof value === 'string' && value.startsWith(option.prefix as string);
      throw new Error(`unsupported pattern ${JSON.stringify(option)}`);
    });
  });
}

function readPath(event: unknown, jsonPath: string): unknown {
  const steps = jsonPath.replace(/^\$\.?/, '').match(/[^.[\]]+/g) ?? [];
  let current: unknown = event;
  for (const step of steps) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[step];
  }
  return current;
}

/**
 * EventBridge's input transformer (see the AWS guide, "Common issues with transforming input"):
 * a placeholder inside a JSON string gets the value's raw text, unescaped; one in value position
 * gets the value as JSON; a path missing from the event produces nothing at all.
 */
function transform(template: string, paths: Record<string, string>, event: unknown): string {
  let output = '';
  let inString = false;
  for (let i = 0; i < template.length; i++) {
    const char = template[i]!;
    if (char === '"' && template[i - 1] !== '\\') inString = !inString;
    if (char !== '<') {
      output += char;
      continue;
    }
    const end = template.indexOf('>', i);
    const name = template.slice(i + 1, end);
    const jsonPath = paths[name];
    if (!jsonPath) throw new Error(`placeholder <${name}> has no input path`);
    const value = readPath(event, jsonPath);
    if (value !== undefined) output += inString && typeof value === 'string' ? value : JSON.stringify(value);
    i = end;
  }
  return output;
}

type RuleTarget = {
  Arn: unknown;
  DeadLetterConfig?: { Arn: unknown };
  InputTransformer: { InputTemplate: string; InputPathsMap: Record<string, string> };
};

function rules() {
  return stack.fixRunner.taskStoppedRules.map((rule) => {
    const properties = resource(logicalId(rule)).Properties;
    const targets = properties.Targets as RuleTarget[];
    expect(targets).toHaveLength(1);
    return {
      id: logicalId(rule),
      pattern: resolveIntrinsics(properties.EventPattern) as Record<string, unknown>,
      target: targets[0]!,
    };
  });
}

const FAMILY = () => stack.fixRunner.taskDefinition.family;

function stoppedTaskEvent(detail: Record<string, unknown> = {}): Record<string, unknown> {
  const taskArn = `arn:aws:ecs:${REGION}:${ACCOUNT}:task/bugbot-fix/0123456789abcdef0123456789abcdef`;
  return {
    version: '0',
    id: 'a1b2c3d4-0000-0000-0000-000000000000',
    'detail-type': 'ECS Task State Change',
    source: 'aws.ecs',
    account: ACCOUNT,
    time: '2025-06-01T12:34:56Z',
    region: REGION,
    resources: [taskArn],
    detail: {
      clusterArn: CLUSTER_ARN,
      taskArn,
      // Revision 3 while the deployed one may be newer: a task outlives a deploy.
      taskDefinitionArn: `arn:aws:ecs:${REGION}:${ACCOUNT}:task-definition/${FAMILY()}:3`,
      lastStatus: 'STOPPED',
      desiredStatus: 'STOPPED',
      startedBy: 'job-01HZX3',
      stopCode: 'EssentialContainerExited',
      stoppedReason: 'Essential container in task exited',
      containers: [{ name: FIX_RUNNER_CONTAINER_NAME, lastStatus: 'STOPPED', exitCode: 1 }],
      ...detail,
    },
  };
}

/** Routes an event through the rules as EventBridge would: the matching rules' transformed inputs. */
function deliver(event: Record<string, unknown>): { rule: string; body: string }[] {
  return rules()
    .filter((rule) => matchesPattern(rule.pattern, event))
    .map((rule) => ({
      rule: rule.id,
      body: transform(
        rule.target.InputTransformer.InputTemplate,
        rule.target.InputTransformer.InputPathsMap,
        event,
      ),
    }));
}

function parseStoppedJob(body: string) {
  const parsed = fixTaskStoppedJobSchema.safeParse(JSON.parse(body));
  expect(parsed.success, JSON.stringify(parsed.error?.issues)).toBe(true);
  return parsed.data!;
}

describe('task-stopped rules', () => {
  it('match stopped ECS tasks of this cluster and task family that the launcher started', () => {
    for (const rule of rules()) {
      expect(rule.pattern).toMatchObject({
        source: ['aws.ecs'],
        'detail-type': ['ECS Task State Change'],
        detail: {
          clusterArn: [CLUSTER_ARN],
          taskDefinitionArn: [{ prefix: `arn:aws:ecs:${REGION}:${ACCOUNT}:task-definition/${FAMILY()}:` }],
          lastStatus: ['STOPPED'],
          startedBy: [{ exists: true }],
        },
      });
    }
    expect(deliver(stoppedTaskEvent())).toHaveLength(1);
    expect(deliver(stoppedTaskEvent({ lastStatus: 'RUNNING' }))).toEqual([]);
    expect(deliver(stoppedTaskEvent({ startedBy: undefined }))).toEqual([]);
    expect(deliver(stoppedTaskEvent({ clusterArn: `${CLUSTER_ARN}-other` }))).toEqual([]);
    expect(
      deliver(
        stoppedTaskEvent({
          taskDefinitionArn: `arn:aws:ecs:${REGION}:${ACCOUNT}:task-definition/${FAMILY()}x:1`,
        }),
      ),
    ).toEqual([]);
  });

  it('turn a runner that exited into exactly a fix.task-stopped job', () => {
    const [delivery, ...more] = deliver(stoppedTaskEvent());
    expect(more).toEqual([]);
    expect(delivery!.body).toBe(
      transform(TASK_STOPPED_TEMPLATE, rules()[0]!.target.InputTransformer.InputPathsMap, stoppedTaskEvent()),
    );
    const event = stoppedTaskEvent();
    const detail = event.detail as Record<string, string>;
    expect(parseStoppedJob(delivery!.body)).toEqual({
      v: 1,
      kind: 'fix.task-stopped',
      idempotencyKey: `task-stopped:${detail.taskArn}`,
      receivedAt: '2025-06-01T12:34:56Z',
      jobId: 'job-01HZX3',
      taskArn: detail.taskArn,
      stopCode: 'EssentialContainerExited',
      stoppedReason: 'Essential container in task exited',
      exitCode: 1,
    });
    expect(JSON.parse(delivery!.body)).toMatchObject({ exitCode: '1' });
  });

  it('keep a stop reason with quotes intact and report a container that never started as exit code null', () => {
    const reason =
      'CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref "123456789012.dkr.ecr.eu-west-1.amazonaws.com/cdk-assets:abc": not found';
    const event = stoppedTaskEvent({
      stopCode: 'TaskFailedToStart',
      stoppedReason: reason,
      containers: [{ name: FIX_RUNNER_CONTAINER_NAME, lastStatus: 'STOPPED' }],
    });
    const [delivery, ...more] = deliver(event);
    expect(more).toEqual([]);
    const job = parseStoppedJob(delivery!.body);
    expect(job).toMatchObject({ stopCode: 'TaskFailedToStart', stoppedReason: reason, exitCode: null });
  });

  it('send events lacking a stop code or reason through the second rule, still as a parseable job', () => {
    const [withReason, withoutReason] = rules();
    for (const missing of [
      { stoppedReason: undefined },
      { stopCode: undefined },
      { stopCode: undefined, stoppedReason: undefined },
    ]) {
      const event = stoppedTaskEvent(missing);
      const deliveries = deliver(event);
      expect(deliveries.map((delivery) => delivery.rule)).toEqual([withoutReason!.id]);
      const job = parseStoppedJob(deliveries[0]!.body);
      expect(job).toMatchObject({ jobId: 'job-01HZX3', exitCode: 1 });
      // Why the split: the first rule's unquoted placeholders would leave unparseable JSON.
      expect(() =>
        JSON.parse(
          transform(TASK_STOPPED_TEMPLATE, withReason!.target.InputTransformer.InputPathsMap, event),
        ),
      ).toThrow();
    }
    expect(withoutReason!.target.InputTransformer.InputTemplate).toBe(TASK_STOPPED_TEMPLATE_WITHOUT_REASON);
  });

  it('send to the jobs queue, with the jobs DLQ for undeliverable events', () => {
    for (const { target } of rules()) {
      expect(target.Arn).toEqual(getAtt(stack.jobsQueue.queue));
      expect(target.DeadLetterConfig).toEqual({ Arn: getAtt(stack.jobsQueue.deadLetterQueue) });
    }
  });

  it('are the only senders EventBridge is allowed, on the queue and the DLQ alike', () => {
    const ruleArns = stack.fixRunner.taskStoppedRules.map((rule) => getAtt(rule));
    for (const queue of [stack.jobsQueue.queue, stack.jobsQueue.deadLetterQueue]) {
      const policies = ofType('AWS::SQS::QueuePolicy').filter(
        ([, policy]) => JSON.stringify(policy.Properties.Queues) === JSON.stringify([ref(queue)]),
      );
      expect(policies).toHaveLength(1);
      const statements = (policies[0]![1].Properties.PolicyDocument as { Statement: Statement[] }).Statement;
      const forEvents = statements.filter(
        (statement) =>
          JSON.stringify(statement.Principal) === JSON.stringify({ Service: 'events.amazonaws.com' }),
      );
      expect(forEvents.length).toBeGreaterThan(0);
      for (const statement of forEvents) {
        expect(statement).toMatchObject({
          Effect: 'Allow',
          Action: 'sqs:SendMessage',
          Resource: getAtt(queue),
        });
        expect(Object.keys(statement.Condition ?? {})).toEqual(['ArnEquals']);
      }
      const sourceArns = forEvents.flatMap((statement) =>
        [statement.Condition!.ArnEquals!['aws:SourceArn']].flat(),
      );
      expect(sourceArns).toHaveLength(ruleArns.length);
      expect(sourceArns).toEqual(expect.arrayContaining(ruleArns));
    }
  });
});

describe('processor', () => {
  it('gets what EcsFixLauncher needs as FIX_* variables', () => {
    const fn = resource(logicalId(stack.processor.handler.function));
    const variables = (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(variables).toMatchObject({
      FIX_CLUSTER_ARN: getAtt(stack.fixRunner.cluster),
      FIX_TASK_DEFINITION_ARN: ref(stack.fixRunner.taskDefinition),
      FIX_SUBNET_IDS: {
        'Fn::Join': [
          '',
          stack.fixRunner.vpc.publicSubnets.flatMap((subnet, i) => [...(i ? [','] : []), ref(subnet)]),
        ],
      },
      FIX_SECURITY_GROUP_ID: getAtt(stack.fixRunner.securityGroup, 'GroupId'),
      FIX_CONTAINER_NAME: FIX_RUNNER_CONTAINER_NAME,
    });
  });

  it('gets the runner task role’s unique id, to tell the runner’s jobs by their SQS SenderId', () => {
    const fn = resource(logicalId(stack.processor.handler.function));
    const variables = (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
    const taskRole = roleIdOf(taskDefinition().Properties.TaskRoleArn);
    expect(resource(taskRole).Type).toBe('AWS::IAM::Role');
    // RoleId (AROA…), not the ARN or name: SenderId carries the unique id of the assumed role.
    expect(variables.FIX_TASK_ROLE_ID).toEqual({ 'Fn::GetAtt': [taskRole, 'RoleId'] });
  });

  it('may run only this task definition in this cluster, pass only its two roles to ECS tasks, and stop only tasks of this cluster', () => {
    const role = roleIdOf(resource(logicalId(stack.processor.handler.function)).Properties.Role);
    const statements = statementsOf(role).filter((statement) =>
      [statement.Action].flat().some((action) => /^(ecs|iam):/.test(action)),
    );
    const taskDefinitionProperties = taskDefinition().Properties;
    expect(statements).toHaveLength(3);
    expect(statements).toEqual(
      expect.arrayContaining([
        {
          Effect: 'Allow',
          Action: 'ecs:RunTask',
          Resource: ref(stack.fixRunner.taskDefinition),
          Condition: { ArnEquals: { 'ecs:cluster': getAtt(stack.fixRunner.cluster) } },
        },
        {
          Effect: 'Allow',
          Action: 'iam:PassRole',
          Resource: expect.arrayContaining([
            taskDefinitionProperties.TaskRoleArn,
            taskDefinitionProperties.ExecutionRoleArn,
          ]),
          Condition: { StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } },
        },
        {
          Effect: 'Allow',
          Action: 'ecs:StopTask',
          Resource: {
            'Fn::Join': [
              '',
              [
                'arn:',
                { Ref: 'AWS::Partition' },
                ':ecs:',
                { Ref: 'AWS::Region' },
                ':',
                { Ref: 'AWS::AccountId' },
                ':task/',
                ref(stack.fixRunner.cluster),
                '/*',
              ],
            ],
          },
          Condition: { ArnEquals: { 'ecs:cluster': getAtt(stack.fixRunner.cluster) } },
        },
      ]),
    );
    const passRole = statements.find((statement) => statement.Action === 'iam:PassRole')!;
    expect(passRole.Resource).toHaveLength(2);
  });
});

describe('cdk-nag', () => {
  it(
    'finds nothing in the fix runner, and the acknowledgements are the two expected ones',
    () => {
      for (const pack of packs) {
        const findings = pack
          .validateScope(stack.fixRunner)
          .violations.flatMap((violation) =>
            violation.violatingResources.map((at) => `${violation.ruleName} at ${at.constructPath}`),
          );
        expect(findings, pack.name).toEqual([]);
      }
      const template = JSON.parse(readFileSync(path.join(outdir, 'Bugbot.template.json'), 'utf8')) as {
        Resources: Record<string, { Metadata?: { cdk_nag?: { rules_to_suppress: { id: string }[] } } }>;
      };
      const acknowledged = (construct: IConstruct) =>
        (template.Resources[logicalId(construct)]?.Metadata?.cdk_nag?.rules_to_suppress ?? [])
          .map((rule) => rule.id)
          .filter((id) => !id.startsWith('CloudFormation-Validate::'));
      const fixRunnerResources = stack.fixRunner.node
        .findAll()
        .filter(
          (construct) => CfnElement.isCfnElement(construct) && logicalId(construct) in template.Resources,
        );
      const byResource = Object.fromEntries(
        fixRunnerResources
          .map((construct) => [construct.node.path, acknowledged(construct)] as const)
          .filter(([, ids]) => ids.length > 0),
      );
      expect(byResource).toEqual({
        'Bugbot/FixRunner/TaskDefinition/Resource': ['AwsSolutions-ECS2'],
        'Bugbot/FixRunner/TaskDefinition/ExecutionRole/DefaultPolicy/Resource': [
          'AwsSolutions-IAM5[Resource::*]',
        ],
      });
    },
    SYNTH_TIMEOUT_MS,
  );
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
