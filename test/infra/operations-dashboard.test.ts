import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { App, CfnElement, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks, type NagPack, ServerlessChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BugbotStack } from '../../infra/bugbot-stack.js';
import { ALARM_THRESHOLDS } from '../../infra/constructs/alarms.js';
import { REPOSITORY_ROOT } from '../../infra/constructs/bugbot-function.js';
import { OperationsDashboard } from '../../infra/constructs/operations-dashboard.js';
import { readDeploymentSettings } from '../../infra/deployment-settings.js';
import { SYNTH_TIMEOUT_MS } from '../support/cdk-synth.js';

type Resource = { Type: string; Properties: Record<string, unknown> };
type Widget = { type: string; width: number; height: number; properties: Record<string, unknown> };

const cdkJson = JSON.parse(readFileSync(path.join(REPOSITORY_ROOT, 'cdk.json'), 'utf8')) as {
  context: Record<string, unknown>;
};
// The dashboard and alarms read the template, not the bundles: skip esbuild.
const NO_BUNDLING = { 'aws:cdk:bundling-stacks': [] };

let outdir: string;
let stack: BugbotStack;
let resources: Record<string, Resource>;
let widgets: Widget[];

beforeAll(() => {
  outdir = mkdtempSync(path.join(tmpdir(), 'bugbot-ops-'));
  const app = new App({
    outdir,
    context: { ...cdkJson.context, ...NO_BUNDLING, alarmEmail: 'ops@example.com' },
  });
  stack = new BugbotStack(app, 'Bugbot', { settings: readDeploymentSettings(app.node) });
  resources = Template.fromStack(stack).toJSON().Resources as Record<string, Resource>;
  widgets = readDashboard(resources, logicalId(stack.operations.dashboard)).widgets;
}, SYNTH_TIMEOUT_MS);
afterAll(() => rmSync(outdir, { recursive: true, force: true }));

function logicalId(construct: IConstruct): string {
  const cfn = CfnElement.isCfnElement(construct) ? construct : construct.node.defaultChild;
  if (!cfn || !CfnElement.isCfnElement(cfn))
    throw new Error(`${construct.node.path} has no CloudFormation element`);
  return Stack.of(cfn).getLogicalId(cfn);
}

/** CloudFormation references, written the way the parsed dashboard shows them. */
const ref = (construct: IConstruct) => `{Ref:${logicalId(construct)}}`;
const att = (construct: IConstruct, attribute: string) => `{GetAtt:${logicalId(construct)}.${attribute}}`;

/**
 * The dashboard body is an Fn::Join of JSON text and references; put each reference back as a
 * readable placeholder string, then parse the JSON.
 */
function readDashboard(all: Record<string, Resource>, id: string): { widgets: Widget[] } {
  const body = all[id]?.Properties.DashboardBody as { 'Fn::Join': [string, unknown[]] } | string;
  const text =
    typeof body === 'string'
      ? body
      : body['Fn::Join'][1]
          .map((part) => {
            if (typeof part === 'string') return part;
            const token = part as { Ref?: string; 'Fn::GetAtt'?: [string, string] };
            if (token.Ref) return `{Ref:${token.Ref}}`;
            if (token['Fn::GetAtt']) return `{GetAtt:${token['Fn::GetAtt'].join('.')}}`;
            throw new Error(`unexpected token in the dashboard body: ${JSON.stringify(part)}`);
          })
          .join('');
  return JSON.parse(text) as { widgets: Widget[] };
}

function widget(title: string): Widget {
  const found = widgets.find((candidate) => candidate.properties.title === title);
  if (!found)
    throw new Error(`no widget "${title}"; have ${widgets.map((w) => w.properties.title).join(', ')}`);
  return found;
}

type MetricRow = (string | Record<string, unknown>)[];
const metricsOf = (title: string) => widget(title).properties.metrics as MetricRow[];
/** A metric row without its rendering options: [namespace, name, ...dimension pairs]. */
const identity = (row: MetricRow) => row.filter((cell) => typeof cell === 'string');
const optionsOf = (row: MetricRow) =>
  (row.find((cell) => typeof cell === 'object') ?? {}) as Record<string, unknown>;

describe('operations dashboard', () => {
  it('lays out alarms, API, Lambdas, queues, fix tasks and business metrics, in that order', () => {
    expect(widgets[0]?.type).toBe('text');
    expect(widgets.map((w) => w.properties.title).filter(Boolean)).toEqual([
      'Alarms',
      'API requests',
      'API 4xx and 5xx',
      'API latency (ms)',
      'Lambda invocations',
      'Lambda errors',
      'Lambda throttles',
      'Lambda duration p99 (ms)',
      'Lambda error rate (%)',
      'Jobs queue depth',
      'Oldest job (s)',
      'DLQ depth',
      'Fix tasks',
      'Fix duration (s)',
      'Fix cost (USD)',
      'Fix runner tasks (Container Insights)',
      'Fix runner CPU and memory',
      'Commands by kind',
      'Reports and duplicates',
      'Triage latency (ms)',
      'Bugs resolved and regressed',
      'Product status events delivered',
      'Jobs processed by kind',
      'Job failures by kind',
    ]);
    expect(resources[logicalId(stack.operations.dashboard)]?.Properties.DashboardName).toBe(
      'Bugbot-operations',
    );
  });

  it('shows the state of every alarm', () => {
    const alarms = widget('Alarms').properties.alarms as string[];
    expect([...alarms].sort()).toEqual(
      stack.operations.alarms.alarms.map(({ alarm }) => att(alarm, 'Arn')).sort(),
    );
    expect(alarms).toHaveLength(11);
  });

  it('graphs the HTTP API: requests, 4xx, 5xx and latency', () => {
    const api = ref(stack.httpIngress.api);
    expect(metricsOf('API requests').map(identity)).toEqual([['AWS/ApiGateway', 'Count', 'ApiId', api]]);
    expect(metricsOf('API 4xx and 5xx').map(identity)).toEqual([
      ['AWS/ApiGateway', '4xx', 'ApiId', api],
      ['AWS/ApiGateway', '5xx', 'ApiId', api],
    ]);
    const latency = metricsOf('API latency (ms)');
    expect(latency.map(identity)).toEqual([
      ['AWS/ApiGateway', 'Latency', 'ApiId', api],
      ['AWS/ApiGateway', 'Latency', 'ApiId', api],
      ['AWS/ApiGateway', 'IntegrationLatency', 'ApiId', api],
    ]);
    expect(latency.map((row) => optionsOf(row).stat)).toEqual(['p50', 'p99', 'p99']);
  });

  it("graphs each Lambda's invocations, errors, throttles and p99 duration, and its error rate", () => {
    const functions = [
      stack.httpIngress.discordInteractions.function,
      stack.httpIngress.bugReportWebhook.function,
      stack.httpIngress.githubWebhook.function,
      stack.httpIngress.linearWebhook.function,
      stack.processor.handler.function,
    ].map(ref);
    const expected = { Invocations: 'Sum', Errors: 'Sum', Throttles: 'Sum', Duration: 'p99' };
    const titles = {
      Invocations: 'Lambda invocations',
      Errors: 'Lambda errors',
      Throttles: 'Lambda throttles',
      Duration: 'Lambda duration p99 (ms)',
    } as const;
    for (const [metric, stat] of Object.entries(expected)) {
      const rows = metricsOf(titles[metric as keyof typeof titles]);
      expect(rows.map(identity)).toEqual(functions.map((fn) => ['AWS/Lambda', metric, 'FunctionName', fn]));
      expect(rows.map((row) => optionsOf(row).stat)).toEqual(functions.map(() => stat));
    }
    const errorRate = metricsOf('Lambda error rate (%)');
    const expressions = errorRate.filter((row) => 'expression' in optionsOf(row));
    expect(expressions.map((row) => optionsOf(row).expression)).toEqual(
      ['discordInteractions', 'bugReportWebhook', 'githubWebhook', 'linearWebhook', 'processor'].map(
        (role) => `IF(invocations${role} > 0, 100 * errors${role} / invocations${role}, 0)`,
      ),
    );
    const errorRows = errorRate.filter((row) => identity(row)[1] === 'Errors').map(identity);
    expect(errorRows).toEqual(functions.map((fn) => ['AWS/Lambda', 'Errors', 'FunctionName', fn]));
    expect(widget('Lambda error rate (%)').properties.annotations).toEqual({
      horizontal: [expect.objectContaining({ value: 5 })],
    });
  });

  it('graphs the jobs queue depth, the age of its oldest job, and the DLQ depth', () => {
    const queue = att(stack.jobsQueue.queue, 'QueueName');
    const dlq = att(stack.jobsQueue.deadLetterQueue, 'QueueName');
    expect(metricsOf('Jobs queue depth').map(identity)).toEqual([
      ['AWS/SQS', 'ApproximateNumberOfMessagesVisible', 'QueueName', queue],
      ['AWS/SQS', 'ApproximateNumberOfMessagesNotVisible', 'QueueName', queue],
    ]);
    expect(metricsOf('Oldest job (s)').map(identity)).toEqual([
      ['AWS/SQS', 'ApproximateAgeOfOldestMessage', 'QueueName', queue],
    ]);
    expect(metricsOf('DLQ depth').map(identity)).toEqual([
      ['AWS/SQS', 'ApproximateNumberOfMessagesVisible', 'QueueName', dlq],
    ]);
    expect(widget('Oldest job (s)').properties.annotations).toEqual({
      horizontal: [expect.objectContaining({ value: 900 })],
    });
  });

  it('graphs fix tasks started, pushed, rejected and failed, their duration and cost, and the runner containers', () => {
    const processor = ['service', 'bugbot-processor'];
    expect(metricsOf('Fix tasks').map(identity)).toEqual(
      ['FixesRequested', 'FixesPushed', 'FixesRejected', 'FixesFailed'].map((name) => [
        'Bugbot',
        name,
        ...processor,
      ]),
    );
    expect(metricsOf('Fix duration (s)').map(identity)).toEqual([
      ['Bugbot', 'FixDuration', ...processor],
      ['Bugbot', 'FixDuration', ...processor],
    ]);
    expect(metricsOf('Fix cost (USD)').map(identity)).toEqual([['Bugbot', 'FixCostUsd', ...processor]]);

    const cluster = ref(stack.fixRunner.cluster);
    expect(metricsOf('Fix runner tasks (Container Insights)').map(identity)).toEqual([
      ['ECS/ContainerInsights', 'TaskCount', 'ClusterName', cluster],
    ]);
    const usage = metricsOf('Fix runner CPU and memory').map(identity);
    expect(usage.map((row) => row.slice(0, 4))).toEqual([
      ['ECS/ContainerInsights', 'CpuUtilized', 'ClusterName', cluster],
      ['ECS/ContainerInsights', 'MemoryUtilized', 'ClusterName', cluster],
    ]);
    for (const row of usage) expect(row[4]).toBe('TaskDefinitionFamily');
  });

  it('graphs the business metrics: commands by kind, reports, duplicates, triage latency, jobs by kind', () => {
    const search = (title: string) => metricsOf(title).map((row) => optionsOf(row).expression);
    expect(search('Commands by kind')).toEqual([
      `SEARCH('{Bugbot,command,service} MetricName="CommandsReceived" service="bugbot-discord-interactions"', 'Sum', 300)`,
    ]);
    expect(search('Jobs processed by kind')).toEqual([
      `SEARCH('{Bugbot,kind,service} MetricName="JobsProcessed" service="bugbot-processor"', 'Sum', 300)`,
    ]);
    expect(search('Job failures by kind')).toEqual([
      `SEARCH('{Bugbot,kind,service} MetricName="JobFailures" service="bugbot-processor"', 'Sum', 300)`,
    ]);
    expect(metricsOf('Reports and duplicates').map(identity)).toEqual([
      ['Bugbot', 'ReportsReceived', 'service', 'bugbot-webhook-ingress'],
      ['Bugbot', 'DuplicatesFound', 'service', 'bugbot-processor'],
    ]);
    expect(metricsOf('Triage latency (ms)').map((row) => [...identity(row), optionsOf(row).stat])).toEqual([
      ['Bugbot', 'TriageLatency', 'service', 'bugbot-processor', 'p50'],
      ['Bugbot', 'TriageLatency', 'service', 'bugbot-processor', 'p90'],
    ]);
  });
});

type AlarmProperties = {
  AlarmName: string;
  Threshold: number;
  ComparisonOperator: string;
  EvaluationPeriods: number;
  DatapointsToAlarm?: number;
  TreatMissingData: string;
  Namespace?: string;
  MetricName?: string;
  Dimensions?: { Name: string; Value: unknown }[];
  Statistic?: string;
  ExtendedStatistic?: string;
  Period?: number;
  Metrics?: {
    Id: string;
    Expression?: string;
    MetricStat?: { Metric: Record<string, unknown>; Stat: string };
  }[];
  AlarmActions: unknown[];
  OKActions: unknown[];
};

describe('alarms', () => {
  const alarms = () =>
    Object.entries(resources)
      .filter(([, resource]) => resource.Type === 'AWS::CloudWatch::Alarm')
      .map(([id, resource]) => ({ id, ...(resource.Properties as AlarmProperties) }));
  const alarm = (key: string) => {
    const found = alarms().find((candidate) => candidate.AlarmName === `Bugbot-${key}`);
    if (!found) throw new Error(`no alarm Bugbot-${key}`);
    return found;
  };
  const topic = () => ({ Ref: logicalId(stack.operations.topic) });

  it('are exactly the eleven of the runbook, each telling the SNS topic on alarm and on recovery, idle = OK', () => {
    expect(
      alarms()
        .map((a) => a.AlarmName)
        .sort(),
    ).toEqual(
      [
        'Api5xx',
        'BugReportWebhookErrorRate',
        'DeadLetterJobs',
        'DiscordInteractionsErrorRate',
        'FixFailures',
        'GitHubWebhookErrorRate',
        'JobsQueueDepth',
        'LinearWebhookErrorRate',
        'OldestJobAge',
        'ProcessorDurationP90',
        'ProcessorErrorRate',
      ].map((key) => `Bugbot-${key}`),
    );
    for (const a of alarms()) {
      expect(a.AlarmActions, a.AlarmName).toEqual([topic()]);
      expect(a.OKActions, a.AlarmName).toEqual([topic()]);
      expect(a.TreatMissingData, a.AlarmName).toBe('notBreaching');
      expect(
        (resources[a.id]!.Properties as { AlarmDescription: string }).AlarmDescription,
        a.AlarmName,
      ).toMatch(/Runbook: README\.md/);
    }
  });

  it('fires when more than 5% of any Lambda’s invocations fail in 5 minutes', () => {
    const functions = {
      DiscordInteractionsErrorRate: stack.httpIngress.discordInteractions.function,
      BugReportWebhookErrorRate: stack.httpIngress.bugReportWebhook.function,
      GitHubWebhookErrorRate: stack.httpIngress.githubWebhook.function,
      LinearWebhookErrorRate: stack.httpIngress.linearWebhook.function,
      ProcessorErrorRate: stack.processor.handler.function,
    };
    for (const [key, fn] of Object.entries(functions)) {
      const a = alarm(key);
      expect(a).toMatchObject({
        Threshold: 5,
        ComparisonOperator: 'GreaterThanThreshold',
        EvaluationPeriods: 1,
      });
      const byId = Object.fromEntries((a.Metrics ?? []).map((metric) => [metric.Id, metric]));
      expect(Object.values(byId).find((metric) => metric.Expression)?.Expression).toBe(
        'IF(invocations > 0, 100 * errors / invocations, 0)',
      );
      for (const [id, name] of [
        ['errors', 'Errors'],
        ['invocations', 'Invocations'],
      ] as const) {
        expect(byId[id]?.MetricStat, `${key} ${id}`).toEqual({
          Metric: {
            Namespace: 'AWS/Lambda',
            MetricName: name,
            Dimensions: [{ Name: 'FunctionName', Value: { Ref: logicalId(fn) } }],
          },
          Period: 300,
          Stat: 'Sum',
        });
      }
    }
    expect(ALARM_THRESHOLDS.lambdaErrorRatePercent).toBe(5);
  });

  it('fires when more than 100 jobs wait for five minutes straight', () => {
    expect(alarm('JobsQueueDepth')).toMatchObject({
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [
        { Name: 'QueueName', Value: { 'Fn::GetAtt': [logicalId(stack.jobsQueue.queue), 'QueueName'] } },
      ],
      Statistic: 'Maximum',
      Period: 60,
      Threshold: 100,
      ComparisonOperator: 'GreaterThanThreshold',
      EvaluationPeriods: 5,
      DatapointsToAlarm: 5,
    });
  });

  it('fires when the oldest job is older than 15 minutes', () => {
    expect(alarm('OldestJobAge')).toMatchObject({
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateAgeOfOldestMessage',
      Dimensions: [
        { Name: 'QueueName', Value: { 'Fn::GetAtt': [logicalId(stack.jobsQueue.queue), 'QueueName'] } },
      ],
      Statistic: 'Maximum',
      Period: 300,
      Threshold: 900,
      ComparisonOperator: 'GreaterThanThreshold',
      EvaluationPeriods: 1,
    });
  });

  it('fires on any message in the DLQ', () => {
    expect(alarm('DeadLetterJobs')).toMatchObject({
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [
        {
          Name: 'QueueName',
          Value: { 'Fn::GetAtt': [logicalId(stack.jobsQueue.deadLetterQueue), 'QueueName'] },
        },
      ],
      Statistic: 'Maximum',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      EvaluationPeriods: 1,
    });
  });

  it("fires when the processor's p90 duration stays above 10 s for 15 busy minutes", () => {
    const processor = { Ref: logicalId(stack.processor.handler.function) };
    expect(alarm('ProcessorDurationP90')).toMatchObject({
      Threshold: 10_000,
      ComparisonOperator: 'GreaterThanThreshold',
      EvaluationPeriods: 3,
      DatapointsToAlarm: 3,
      Metrics: [
        {
          Expression: 'IF(invocations >= 10, duration, 0)',
          Id: expect.any(String),
          ReturnData: true,
        },
        {
          Id: 'duration',
          MetricStat: {
            Metric: {
              Namespace: 'AWS/Lambda',
              MetricName: 'Duration',
              Dimensions: [{ Name: 'FunctionName', Value: processor }],
            },
            Period: 300,
            Stat: 'p90',
          },
          ReturnData: false,
        },
        {
          Id: 'invocations',
          MetricStat: {
            Metric: {
              Namespace: 'AWS/Lambda',
              MetricName: 'Invocations',
              Dimensions: [{ Name: 'FunctionName', Value: processor }],
            },
            Period: 300,
            Stat: 'Sum',
          },
          ReturnData: false,
        },
      ],
    });
  });

  describe('the processor duration alarm, evaluated on traffic (as synthesized)', () => {
    /**
     * Evaluates the synthesized alarm the way CloudWatch does: per five-minute period the
     * percentile of the durations (nearest rank) and the invocation count feed the expression;
     * the alarm fires when the last `EvaluationPeriods` results hold `DatapointsToAlarm` values
     * over the threshold. Read from the template, so changing the alarm changes these answers.
     */
    function fires(periods: number[][]): boolean {
      const properties = alarm('ProcessorDurationP90') as unknown as {
        Threshold: number;
        EvaluationPeriods: number;
        DatapointsToAlarm: number;
        Metrics: { Expression?: string; Id: string; MetricStat?: { Stat: string } }[];
      };
      const expression = properties.Metrics.find((metric) => metric.Expression)?.Expression ?? '';
      const minimum = Number(/invocations >= (\d+)/.exec(expression)?.[1]);
      const stat = properties.Metrics.find((metric) => metric.Id === 'duration')?.MetricStat?.Stat ?? '';
      const percentile = Number(/^p(\d+)$/.exec(stat)?.[1]);
      expect(minimum).toBeGreaterThan(0);
      expect(percentile).toBeGreaterThan(0);
      const values = periods.map((durations) => {
        if (durations.length === 0) return undefined; // no datapoint: missing, not breaching
        if (durations.length < minimum) return 0;
        const sorted = [...durations].sort((a, b) => a - b);
        return sorted[Math.ceil((percentile / 100) * sorted.length) - 1] ?? 0;
      });
      for (let end = properties.EvaluationPeriods; end <= values.length; end += 1) {
        const window = values.slice(end - properties.EvaluationPeriods, end);
        const breaching = window.filter((value) => value !== undefined && value > properties.Threshold);
        if (breaching.length >= properties.DatapointsToAlarm) return true;
      }
      return false;
    }
    const ordinary = (count: number) => Array.from({ length: count }, (_, index) => 1_500 + index * 10);

    it('does not fire on two ordinary slow triages, whether the bot is quiet or busy', () => {
      // Quiet: three invocations per period, one slow triage in each of two periods.
      expect(fires([[...ordinary(2), 14_000], [...ordinary(2), 12_500], ordinary(3)])).toBe(false);
      // Busy: twenty per period, the two slow ones in two periods in a row.
      expect(fires([[...ordinary(19), 14_000], [...ordinary(19), 12_500], ordinary(20)])).toBe(false);
      // Two slow ones in one busy period.
      expect(fires([ordinary(20), [...ordinary(18), 14_000, 12_500], ordinary(20)])).toBe(false);
    });

    it('fires when the processor is slow for fifteen minutes', () => {
      const slow = (count: number) => Array.from({ length: count }, (_, index) => 11_000 + index * 100);
      expect(fires([slow(12), slow(15), slow(12)])).toBe(true);
      // One in four jobs slow, sustained, is a vendor in trouble too.
      const mixed = [...ordinary(15), ...slow(5)];
      expect(fires([mixed, mixed, mixed])).toBe(true);
    });

    it('stays quiet while idle', () => {
      expect(fires([[], [], []])).toBe(false);
    });
  });

  it('fires when two fix tasks fail within an hour', () => {
    expect(alarm('FixFailures')).toMatchObject({
      Namespace: 'Bugbot',
      MetricName: 'FixesFailed',
      Dimensions: [{ Name: 'service', Value: 'bugbot-processor' }],
      Statistic: 'Sum',
      Period: 3600,
      Threshold: 2,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      EvaluationPeriods: 1,
    });
  });

  it('fires on any 5xx the API answers in 5 minutes', () => {
    expect(alarm('Api5xx')).toMatchObject({
      Namespace: 'AWS/ApiGateway',
      MetricName: '5xx',
      Dimensions: [{ Name: 'ApiId', Value: { Ref: logicalId(stack.httpIngress.api) } }],
      Statistic: 'Sum',
      Period: 300,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      EvaluationPeriods: 1,
    });
  });
});

describe('alarm topic', () => {
  it('is encrypted with a rotated key CloudWatch may use, refuses plain HTTP, and lets only our alarms publish', () => {
    const topic = resources[logicalId(stack.operations.topic)];
    const keyId = logicalId(stack.operations.alarms.topicKey);
    expect(topic?.Properties.KmsMasterKeyId).toEqual({ 'Fn::GetAtt': [keyId, 'Arn'] });
    const key = resources[keyId]?.Properties as {
      EnableKeyRotation: boolean;
      KeyPolicy: { Statement: { Principal?: { Service?: string }; Action: string[]; Condition?: unknown }[] };
    };
    expect(key.EnableKeyRotation).toBe(true);
    const forCloudWatch = key.KeyPolicy.Statement.find(
      (s) => s.Principal?.Service === 'cloudwatch.amazonaws.com',
    );
    expect(forCloudWatch?.Action).toEqual(['kms:Decrypt', 'kms:GenerateDataKey*']);
    expect(JSON.stringify(forCloudWatch?.Condition)).toContain(':alarm:Bugbot-*');

    const policy = Object.values(resources).find(
      (resource) =>
        resource.Type === 'AWS::SNS::TopicPolicy' &&
        JSON.stringify(resource.Properties.Topics) ===
          JSON.stringify([{ Ref: logicalId(stack.operations.topic) }]),
    );
    expect(policy).toBeDefined();
    const statements = (policy!.Properties.PolicyDocument as { Statement: Record<string, unknown>[] })
      .Statement;
    expect(statements).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          Effect: 'Deny',
          Condition: { Bool: { 'aws:SecureTransport': 'false' } },
        }),
        expect.objectContaining({
          Effect: 'Allow',
          Principal: { Service: 'cloudwatch.amazonaws.com' },
          Action: 'sns:Publish',
        }),
      ]),
    );
  });

  it('mails the deployment’s alarmEmail', () => {
    const subscriptions = Object.values(resources).filter((r) => r.Type === 'AWS::SNS::Subscription');
    expect(subscriptions.map((s) => s.Properties)).toEqual([
      {
        Protocol: 'email',
        Endpoint: 'ops@example.com',
        TopicArn: { Ref: logicalId(stack.operations.topic) },
      },
    ]);
  });

  it(
    'raises no cdk-nag finding in the operations constructs',
    () => {
      const packs: NagPack[] = [new AwsSolutionsChecks(), new ServerlessChecks()];
      for (const pack of packs) {
        const violations = pack
          .validateScope(stack.operations)
          .violations.flatMap((v) => v.violatingResources.map((r) => `${v.ruleName} at ${r.constructPath}`));
        expect(violations, pack.name).toEqual([]);
      }
    },
    SYNTH_TIMEOUT_MS,
  );
});

describe('OperationsDashboard on its own', () => {
  it('leaves out the Container Insights graphs and the e-mail subscription when not given a runner or address', () => {
    const app = new App({ outdir: path.join(outdir, 'bare'), context: NO_BUNDLING });
    const bare = new Stack(app, 'Bare');
    const fn = (id: string) =>
      new lambda.Function(bare, id, {
        runtime: lambda.Runtime.NODEJS_22_X,
        handler: 'index.handler',
        code: lambda.Code.fromInline('export const handler = async () => ({});'),
      });
    const dlq = new sqs.Queue(bare, 'Dlq');
    const operations = new OperationsDashboard(bare, 'Operations', {
      api: new apigwv2.HttpApi(bare, 'Api'),
      functions: {
        discordInteractions: fn('A'),
        bugReportWebhook: fn('B'),
        githubWebhook: fn('D'),
        linearWebhook: fn('E'),
        processor: fn('C'),
      },
      jobsQueue: new sqs.Queue(bare, 'Jobs', { deadLetterQueue: { queue: dlq, maxReceiveCount: 3 } }),
      deadLetterQueue: dlq,
    });
    const template = Template.fromStack(bare);
    template.resourceCountIs('AWS::SNS::Subscription', 0);
    template.resourceCountIs('AWS::CloudWatch::Alarm', 11);
    const bareResources = template.toJSON().Resources as Record<string, Resource>;
    const titles = readDashboard(bareResources, logicalId(operations.dashboard)).widgets.map(
      (w) => w.properties.title,
    );
    expect(titles).not.toContain('Fix runner tasks (Container Insights)');
    expect(titles).toContain('Fix tasks');
    expect(bareResources[logicalId(operations.dashboard)]?.Properties.DashboardName).toBe('Bare-operations');
  });
});
