import { IgnoreMode, SecretValue, Size, Stack, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Platform } from 'aws-cdk-lib/aws-ecr-assets';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { ServiceTokenField } from '../../shared/config/service-secret-fields.js';
import type { BugTable } from './bug-table.js';
import { REPOSITORY_ROOT } from './bugbot-function.js';
import type { JobsQueue } from './jobs-queue.js';
import type { ServiceSecrets } from './service-secrets.js';

/** The runner's container; the launcher names it in its container override (`JOB_ID`). */
export const FIX_RUNNER_CONTAINER_NAME = 'fix-runner';

/**
 * Graviton, like the Lambdas: about 20% cheaper per vCPU-hour than x86, and the base image,
 * git and the Claude Code CLI (`@anthropic-ai/claude-code-linux-arm64`) all ship for it. The
 * Dockerfile's build stage runs on the builder's own platform (the bundle is plain JavaScript),
 * so only the runtime stage needs emulation (QEMU/binfmt, built into Docker Desktop) when
 * `cdk deploy` runs on an x86 machine.
 */
export const FIX_RUNNER_CPU_ARCHITECTURE = ecs.CpuArchitecture.ARM64;
const IMAGE_PLATFORM = Platform.LINUX_ARM64;

/**
 * One vCPU is plenty for git and the CLI (the model does the thinking); 4 GB leaves room for
 * `verify.command`, typically the repository's own test suite, beside the CLI.
 */
export const FIX_RUNNER_CPU = 1024;
export const FIX_RUNNER_MEMORY_MIB = 4096;

/**
 * Root, named numerically: the runner must switch users (fargate-runner/README.md, "The
 * sandbox"). It is root only towards the container: it holds the secrets, and runs the Claude Code
 * CLI and any code the agent wrote as per-run unprivileged users that cannot read its /proc.
 */
export const FIX_RUNNER_USER = '0:0';

/**
 * What root keeps of Docker's default capabilities (Fargate cannot add any but SYS_PTRACE, and
 * this needs none added): CHOWN to hand the workspace and checkouts to the sandbox users,
 * DAC_OVERRIDE to read and remove what they wrote, KILL to stop their process groups, SETUID and
 * SETGID to become them. Everything else is dropped, NET_RAW, SETPCAP, SETFCAP and MKNOD included.
 */
export const FIX_RUNNER_KEPT_CAPABILITIES: readonly ecs.Capability[] = [
  ecs.Capability.CHOWN,
  ecs.Capability.DAC_OVERRIDE,
  ecs.Capability.KILL,
  ecs.Capability.SETUID,
  ecs.Capability.SETGID,
];

/**
 * The only item the runner reads: its own job spec, `pk=JOB#<jobId>, sk=JOB`. IAM cannot tie a
 * task to one job id, so the prefix is the narrowest scope the key condition allows.
 */
export const FIX_JOB_KEY_PATTERN = 'JOB#*';

/**
 * What the EventBridge rule takes from an ECS "Task State Change" event. The launcher sets
 * `startedBy` to the fix job id; the task has one container, the runner.
 */
export const TASK_STOPPED_INPUT_PATHS = {
  time: '$.time',
  taskArn: '$.detail.taskArn',
  startedBy: '$.detail.startedBy',
  stopCode: '$.detail.stopCode',
  stoppedReason: '$.detail.stoppedReason',
  exitCode: '$.detail.containers[0].exitCode',
} as const;

/**
 * Input templates producing a `fix.task-stopped` job (`fixTaskStoppedJobSchema`). EventBridge
 * fills an unquoted placeholder with the value as JSON (a string arrives quoted and escaped) and a
 * quoted one with the raw text, unescaped, so:
 * - `stopCode` and `stoppedReason` stay unquoted: a reason such as `CannotPullContainerError:
 *   … "repo:tag" …` carries quotes that would break a quoted placeholder;
 * - `exitCode` is quoted: a container that never started has no exit code, and a path missing
 *   from the event leaves its placeholder empty (`"exitCode":` would not parse, `""` does). The
 *   schema reads `""` as null and a numeric string as the number;
 * - for the same reason, events without `stopCode` or `stoppedReason` go through a second rule
 *   whose template leaves those two out, so every stopped task becomes exactly one parseable job.
 */
export const TASK_STOPPED_TEMPLATE =
  '{"v":1,"kind":"fix.task-stopped","idempotencyKey":"task-stopped:<taskArn>","receivedAt":<time>,' +
  '"jobId":<startedBy>,"taskArn":<taskArn>,"stopCode":<stopCode>,"stoppedReason":<stoppedReason>,' +
  '"exitCode":"<exitCode>"}';
export const TASK_STOPPED_TEMPLATE_WITHOUT_REASON =
  '{"v":1,"kind":"fix.task-stopped","idempotencyKey":"task-stopped:<taskArn>","receivedAt":<time>,' +
  '"jobId":<startedBy>,"taskArn":<taskArn>,"exitCode":"<exitCode>"}';

const FLOW_LOG_RETENTION = logs.RetentionDays.ONE_MONTH;

export interface FixRunnerProps {
  readonly jobsQueue: JobsQueue;
  readonly bugTable: BugTable;
  readonly serviceSecrets: ServiceSecrets;
  /**
   * `owner/name` of the fork fix branches are pushed to (deployment setting `fixPushRepo`). The
   * runner then gets its GitHub token from a secret of its own (`pushTokenSecret`,
   * `githubPushToken`): a token of the fork's owner, which can push to the fork and only read the
   * repository, so nothing the runner holds can write to the repository itself.
   */
  readonly pushRepo?: string;
  /** The model Claude Code uses (the `anthropicModel` setting); unset, the runner's default. */
  readonly anthropicModel?: string;
}

/**
 * The fix runner on ECS Fargate: the image built from `fargate-runner/Dockerfile`, the network
 * it runs in, and the EventBridge rules that turn a stopped task into a `fix.task-stopped` job.
 *
 * Networking and its cost. The task must reach GitHub and Anthropic, which are on the internet.
 * - Public subnets and a public IP per task instead of private subnets behind a NAT gateway: a
 *   NAT gateway is about $32 a month per AZ plus $0.045 per GB, for a task that runs a few
 *   minutes per fix. Nothing can connect in: the security group has no ingress rule.
 * - Egress is TCP 443 only. Security groups filter by address and port, not by hostname, and
 *   GitHub's and Anthropic's addresses are not a stable list, so "GitHub and Anthropic only" is
 *   out of their reach. True hostname filtering needs AWS Network Firewall (about $290 a month
 *   per AZ, plus $0.065 per GB) or a self-run egress proxy (an instance to patch and keep up).
 *   We accept HTTPS to anywhere: the agent has no shell or web tools, the runner's gate decides
 *   what is pushed, the flow logs below record every connection, and the task's own AWS
 *   permissions are two actions on two resources.
 * - DynamoDB through a gateway endpoint (free), whose policy allows only reading items of the
 *   bug table; SQS, Secrets Manager, ECR and CloudWatch Logs over the internet on 443 (their
 *   interface endpoints would cost about $7 a month each per AZ).
 * - Amazon-provided DNS is not subject to security groups; the VPC's default security group is
 *   left as AWS creates it (restricting it needs a custom-resource Lambda) and nothing uses it:
 *   the launcher always names the group below.
 */
export class FixRunner extends Construct {
  readonly vpc: ec2.Vpc;
  readonly securityGroup: ec2.SecurityGroup;
  readonly cluster: ecs.Cluster;
  readonly taskDefinition: ecs.FargateTaskDefinition;
  readonly container: ecs.ContainerDefinition;
  readonly logGroup: logs.LogGroup;
  readonly flowLogGroup: logs.LogGroup;
  /** The rule for stopped tasks with a stop code and reason, and the one for the rest. */
  readonly taskStoppedRules: readonly [events.Rule, events.Rule];
  /** With a fork: the runner's own GitHub token (`{"githubPushToken": "…"}`), filled by the deployer. */
  readonly pushTokenSecret?: secretsmanager.Secret;

  constructor(scope: Construct, id: string, props: FixRunnerProps) {
    super(scope, id);
    const { jobsQueue, bugTable, serviceSecrets } = props;

    this.vpc = new ec2.Vpc(this, 'Vpc', {
      maxAzs: 2,
      natGateways: 0,
      subnetConfiguration: [{ name: 'Public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 }],
      restrictDefaultSecurityGroup: false,
    });
    const dynamoDbEndpoint = this.vpc.addGatewayEndpoint('DynamoDbEndpoint', {
      service: ec2.GatewayVpcEndpointAwsService.DYNAMODB,
    });
    // Replaces the endpoint's allow-all default: from this VPC, DynamoDB is one action on one table.
    dynamoDbEndpoint.addToPolicy(
      new iam.PolicyStatement({
        principals: [new iam.AnyPrincipal()],
        actions: ['dynamodb:GetItem'],
        resources: [bugTable.table.tableArn],
      }),
    );

    this.flowLogGroup = new logs.LogGroup(this, 'FlowLogs', { retention: FLOW_LOG_RETENTION });
    this.vpc.addFlowLog('FlowLog', {
      destination: ec2.FlowLogDestination.toCloudWatchLogs(this.flowLogGroup),
      trafficType: ec2.FlowLogTrafficType.ALL,
    });

    this.securityGroup = new ec2.SecurityGroup(this, 'TaskSecurityGroup', {
      vpc: this.vpc,
      description: 'bugbot fix runner tasks: no inbound, outbound HTTPS only',
      allowAllOutbound: false,
    });
    this.securityGroup.addEgressRule(
      ec2.Peer.anyIpv4(),
      ec2.Port.tcp(443),
      'HTTPS: GitHub, Anthropic and the AWS APIs (security groups cannot filter by hostname)',
    );

    // Container Insights: per-task CPU and memory, to size the task from real runs. Billed as
    // CloudWatch metrics and performance log events, a few dollars a month at our volume.
    this.cluster = new ecs.Cluster(this, 'Cluster', {
      vpc: this.vpc,
      containerInsightsV2: ecs.ContainerInsights.ENABLED,
    });

    this.taskDefinition = new ecs.FargateTaskDefinition(this, 'TaskDefinition', {
      cpu: FIX_RUNNER_CPU,
      memoryLimitMiB: FIX_RUNNER_MEMORY_MIB,
      runtimePlatform: {
        cpuArchitecture: FIX_RUNNER_CPU_ARCHITECTURE,
        operatingSystemFamily: ecs.OperatingSystemFamily.LINUX,
      },
    });
    // The task's ephemeral storage: the only writable place, as the root filesystem is read-only.
    this.taskDefinition.addVolume({ name: 'tmp' });

    this.logGroup = new logs.LogGroup(this, 'Logs', { retention: logs.RetentionDays.ONE_MONTH });

    const linuxParameters = new ecs.LinuxParameters(this, 'LinuxParameters', {
      // An init process reaps the CLI's and verify command's orphans and forwards SIGTERM.
      initProcessEnabled: true,
    });
    // Every capability but the five the sandbox needs (a drop list, since Fargate can add none).
    // The sandbox users get none of them, and run with no-new-privs (setpriv) in an image with no
    // setuid programs (ECS on Fargate offers no `no-new-privileges` switch of its own).
    linuxParameters.dropCapabilities(
      ...Object.values(ecs.Capability).filter(
        (capability) =>
          capability !== ecs.Capability.ALL && !FIX_RUNNER_KEPT_CAPABILITIES.includes(capability),
      ),
    );

    // As ecs.Secret.fromSecretsManager, but granting the execution role GetSecretValue alone: ECS
    // injects a secret with that one call ("Required IAM permissions for Amazon ECS secrets" in
    // the ECS developer guide); fromSecretsManager's grantRead adds DescribeSecret, which nothing calls.
    const getValueOnly = (source: secretsmanager.ISecret, field: string): ecs.Secret => ({
      arn: `${source.secretArn}:${field}::`,
      hasField: true,
      grantRead: (grantee) =>
        iam.Grant.addToPrincipal({
          grantee,
          actions: ['secretsmanager:GetSecretValue'],
          resourceArns: [source.secretArn],
        }),
    });
    const secret = (field: ServiceTokenField) => getValueOnly(serviceSecrets.secret, field);
    if (props.pushRepo) {
      this.pushTokenSecret = new secretsmanager.Secret(this, 'PushTokenSecret', {
        description: `bugbot fix runner: GitHub token that may push to the fork ${props.pushRepo}`,
        // Only an empty placeholder for the deployer to replace.
        secretStringValue: SecretValue.unsafePlainText(JSON.stringify({ githubPushToken: '' })),
      });
      Validations.of(this.pushTokenSecret).acknowledge({
        id: 'AwsSolutions-SMG4',
        reason:
          "A GitHub token issued by GitHub; it is rotated in GitHub's settings, which a rotation Lambda cannot do.",
      });
    }
    const githubToken = this.pushTokenSecret
      ? getValueOnly(this.pushTokenSecret, 'githubPushToken')
      : secret('githubToken');

    this.container = this.taskDefinition.addContainer('Runner', {
      containerName: FIX_RUNNER_CONTAINER_NAME,
      image: ecs.ContainerImage.fromAsset(REPOSITORY_ROOT, {
        file: 'fargate-runner/Dockerfile',
        platform: IMAGE_PLATFORM,
        // The root .dockerignore decides both what Docker receives and what the asset hash covers.
        ignoreMode: IgnoreMode.DOCKER,
      }),
      essential: true,
      user: FIX_RUNNER_USER,
      readonlyRootFilesystem: true,
      privileged: false,
      linuxParameters,
      // JOB_ID comes from the launcher's container override.
      environment: {
        TABLE_NAME: bugTable.table.tableName,
        JOBS_QUEUE_URL: jobsQueue.queue.queueUrl,
        ...(props.anthropicModel ? { ANTHROPIC_MODEL: props.anthropicModel } : {}),
      },
      // Injected by ECS at start from the one service secret; never in the image or the template.
      secrets: {
        ANTHROPIC_API_KEY: secret('anthropicApiKey'),
        GITHUB_TOKEN: githubToken,
      },
      logging: ecs.LogDrivers.awsLogs({
        logGroup: this.logGroup,
        streamPrefix: 'fix-runner',
        // A CloudWatch hiccup must not stall a run mid-push; the buffer covers a run's output.
        mode: ecs.AwsLogDriverMode.NON_BLOCKING,
        maxBufferSize: Size.mebibytes(25),
      }),
    });
    this.container.addMountPoints({ sourceVolume: 'tmp', containerPath: '/tmp', readOnly: false });

    // The task role: read its job spec, send its result. Nothing else.
    const taskRole = this.taskDefinition.taskRole;
    taskRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['dynamodb:GetItem'],
        resources: [bugTable.table.tableArn],
        conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [FIX_JOB_KEY_PATTERN] } },
      }),
    );
    jobsQueue.grantSendJobs(taskRole);

    this.taskStoppedRules = this.addTaskStoppedRules(jobsQueue);

    // On the task definition resource alone, not its roles.
    const taskDefinitionResource = this.taskDefinition.node.defaultChild;
    if (!taskDefinitionResource) throw new Error('the fix runner task definition has no resource');
    Validations.of(taskDefinitionResource).acknowledge({
      id: 'AwsSolutions-ECS2',
      reason:
        'The plain environment holds only the table name and the jobs queue URL, which are not secret; the API keys come from Secrets Manager through `secrets`.',
    });
    const executionPolicy = this.taskDefinition.executionRole?.node.tryFindChild('DefaultPolicy');
    if (!executionPolicy) throw new Error('the fix runner task definition has no execution role policy');
    Validations.of(executionPolicy).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'ecr:GetAuthorizationToken (pulling the runner image) supports no resource-level permissions; the layer and image pulls are scoped to the asset repository.',
    });
  }

  /**
   * What the processor needs to start a run (DESIGN.md "Configuration" additions), as
   * environment variables for `EcsFixLauncher`.
   */
  get launcherEnvironment(): Record<string, string> {
    const { taskRole } = this.taskDefinition;
    if (!(taskRole instanceof iam.Role))
      throw new Error('the fix runner task role is not a role of this stack');
    return {
      FIX_CLUSTER_ARN: this.cluster.clusterArn,
      FIX_TASK_DEFINITION_ARN: this.taskDefinition.taskDefinitionArn,
      FIX_SUBNET_IDS: this.vpc.publicSubnets.map((subnet) => subnet.subnetId).join(','),
      FIX_SECURITY_GROUP_ID: this.securityGroup.securityGroupId,
      FIX_CONTAINER_NAME: FIX_RUNNER_CONTAINER_NAME,
      // The task role's unique id (AROA…): SQS reports it in a message's SenderId, so the
      // processor can accept runner-only jobs (fix.result, fix.task-stopped) from this role alone.
      FIX_TASK_ROLE_ID: taskRole.roleId,
    };
  }

  /**
   * Lets the processor start the runner: RunTask of this task definition in this cluster only,
   * passing exactly the task's two roles to ECS tasks; and stop a run whose bug was dismissed:
   * StopTask on tasks of this cluster only (task ids are not known at deploy time, hence the
   * wildcard after the cluster name; `ecs:cluster` pins the cluster too).
   */
  grantLaunch(grantee: iam.IGrantable): iam.Grant {
    const executionRole = this.taskDefinition.executionRole;
    if (!executionRole) throw new Error('the fix runner task definition has no execution role');
    const runTask = iam.Grant.addToPrincipal({
      grantee,
      actions: ['ecs:RunTask'],
      resourceArns: [this.taskDefinition.taskDefinitionArn],
      conditions: { ArnEquals: { 'ecs:cluster': this.cluster.clusterArn } },
    });
    const passRoles = iam.Grant.addToPrincipal({
      grantee,
      actions: ['iam:PassRole'],
      resourceArns: [this.taskDefinition.taskRole.roleArn, executionRole.roleArn],
      conditions: { StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } },
    });
    const stopTask = iam.Grant.addToPrincipal({
      grantee,
      actions: ['ecs:StopTask'],
      resourceArns: [
        Stack.of(this).formatArn({
          service: 'ecs',
          resource: 'task',
          resourceName: `${this.cluster.clusterName}/*`,
        }),
      ],
      conditions: { ArnEquals: { 'ecs:cluster': this.cluster.clusterArn } },
    });
    return runTask.combine(passRoles).combine(stopTask);
  }

  private addTaskStoppedRules(jobsQueue: JobsQueue): [events.Rule, events.Rule] {
    // A prefix without the revision: a task started before a deploy stops under the old revision.
    const familyArnPrefix = Stack.of(this).formatArn({
      service: 'ecs',
      resource: 'task-definition',
      resourceName: `${this.taskDefinition.family}:`,
    });
    const stoppedRunnerTask = {
      clusterArn: [this.cluster.clusterArn],
      taskDefinitionArn: [{ prefix: familyArnPrefix }],
      lastStatus: ['STOPPED'],
      // Only tasks the launcher started (it sets startedBy to the job id).
      startedBy: [{ exists: true }],
    };
    const source = ['aws.ecs'];
    const detailType = ['ECS Task State Change'];

    const withReason = new events.Rule(this, 'TaskStoppedRule', {
      description: 'Stopped fix runner tasks → fix.task-stopped jobs on the jobs queue',
      eventPattern: {
        source,
        detailType,
        detail: { ...stoppedRunnerTask, stopCode: [{ exists: true }], stoppedReason: [{ exists: true }] },
      },
      targets: [new JobsQueueTarget(jobsQueue, TASK_STOPPED_TEMPLATE)],
    });
    const withoutReason = new events.Rule(this, 'TaskStoppedWithoutReasonRule', {
      description: 'Stopped fix runner tasks lacking a stop code or reason → fix.task-stopped jobs',
      eventPattern: {
        source,
        detailType,
        detail: {
          ...stoppedRunnerTask,
          $or: [{ stopCode: [{ exists: false }] }, { stoppedReason: [{ exists: false }] }],
        },
      },
      targets: [new JobsQueueTarget(jobsQueue, TASK_STOPPED_TEMPLATE_WITHOUT_REASON)],
    });
    return [withReason, withoutReason];
  }
}

/** An input transformer given as the exact template EventBridge receives. */
class TemplateInput extends events.RuleTargetInput {
  constructor(private readonly template: string) {
    super();
  }

  bind(): events.RuleTargetInputProperties {
    const used = new Set([...this.template.matchAll(/<([^>]+)>/g)].map((match) => match[1]));
    const paths = Object.fromEntries(
      Object.entries(TASK_STOPPED_INPUT_PATHS).filter(([name]) => used.has(name)),
    );
    return { inputTemplate: this.template, inputPathsMap: paths };
  }
}

/**
 * Delivers to the jobs queue, with the jobs DLQ for events EventBridge cannot deliver. Unlike
 * `targets.SqsQueue`, it grants EventBridge `sqs:SendMessage` alone (no GetQueueAttributes or
 * GetQueueUrl), and only for this rule (`aws:SourceArn`).
 */
class JobsQueueTarget implements events.IRuleTarget {
  constructor(
    private readonly jobsQueue: JobsQueue,
    private readonly template: string,
  ) {}

  bind(rule: events.IRuleRef): events.RuleTargetConfig {
    const ruleArn = events.CfnRule.arnForRule(rule);
    for (const queue of [this.jobsQueue.queue, this.jobsQueue.deadLetterQueue]) {
      allowRuleToSend(queue, ruleArn);
    }
    return {
      arn: this.jobsQueue.queue.queueArn,
      input: new TemplateInput(this.template),
      deadLetterConfig: { arn: this.jobsQueue.deadLetterQueue.queueArn },
    };
  }
}

function allowRuleToSend(queue: sqs.Queue, ruleArn: string): void {
  queue.addToResourcePolicy(
    new iam.PolicyStatement({
      principals: [new iam.ServicePrincipal('events.amazonaws.com')],
      actions: ['sqs:SendMessage'],
      resources: [queue.queueArn],
      conditions: { ArnEquals: { 'aws:SourceArn': ruleArn } },
    }),
  );
}
