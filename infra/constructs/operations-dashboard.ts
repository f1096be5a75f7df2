import { Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';
import {
  BUSINESS_METRICS,
  type BusinessMetricName,
  METRICS_NAMESPACE,
} from '../../shared/observability/business-metric-catalog.js';
import {
  ALARM_THRESHOLDS,
  businessMetric,
  lambdaErrorRate,
  type MonitoredFunctions,
  OperationsAlarms,
  type OperationsAlarmsProps,
} from './alarms.js';

/** The fix runner's ECS side, when the stack has one (Container Insights metrics). */
export interface MonitoredFixRunner {
  readonly clusterName: string;
  readonly taskDefinitionFamily: string;
}

export interface OperationsDashboardProps extends OperationsAlarmsProps {
  readonly fixRunner?: MonitoredFixRunner;
}

const FUNCTION_LABELS: Record<keyof MonitoredFunctions, string> = {
  discordInteractions: 'Discord ingress',
  bugReportWebhook: 'Webhook ingress',
  githubWebhook: 'GitHub ingress',
  linearWebhook: 'Linear ingress',
  processor: 'Processor',
};

const WIDTH = 24;
const FIVE_MINUTES = Duration.minutes(5);

/**
 * One screen that says whether bugbot is healthy, top to bottom in the order a request travels:
 * alarms, the API, the Lambdas, the jobs queue and DLQ, the fix tasks, then the business metrics.
 * It owns the alarms (and their SNS topic) so the two cannot disagree.
 *
 * Plain `aws-cdk-lib/aws-cloudwatch` rather than cdk-monitoring-constructs: bugbot has a dozen
 * graphs and nine alarms, each with a threshold the README's runbook explains; writing them out
 * keeps every number reviewable in one file, adds no dependency (and no cdk-nag surface of its
 * own), and lets the infra tests pin each widget and alarm exactly.
 */
export class OperationsDashboard extends Construct {
  readonly dashboard: cloudwatch.Dashboard;
  readonly alarms: OperationsAlarms;

  constructor(scope: Construct, id: string, props: OperationsDashboardProps) {
    super(scope, id);
    const { api, functions, jobsQueue, deadLetterQueue, fixRunner } = props;
    this.alarms = new OperationsAlarms(this, 'Alarms', props);

    const roles = Object.keys(FUNCTION_LABELS) as (keyof MonitoredFunctions)[];
    const perFunction = (metric: (role: keyof MonitoredFunctions) => cloudwatch.IMetric) =>
      roles.map((role) => metric(role));

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: `${Stack.of(this).stackName}-operations`,
      defaultInterval: Duration.hours(6),
    });

    this.dashboard.addWidgets(
      new cloudwatch.TextWidget({
        markdown:
          '# bugbot operations\nEach alarm has a runbook entry in README.md, section "Operations". DLQ chores: `npm run dlq -- list|redrive`.',
        width: WIDTH,
        height: 2,
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.AlarmStatusWidget({
        title: 'Alarms',
        alarms: this.alarms.alarms.map(({ alarm }) => alarm),
        width: WIDTH,
        height: 3,
      }),
    );

    this.dashboard.addWidgets(
      graph('API requests', [
        api.metricCount({ period: FIVE_MINUTES, statistic: cloudwatch.Stats.SUM, label: 'requests' }),
      ]),
      graph('API 4xx and 5xx', [
        api.metricClientError({ period: FIVE_MINUTES, statistic: cloudwatch.Stats.SUM, label: '4xx' }),
        api.metricServerError({ period: FIVE_MINUTES, statistic: cloudwatch.Stats.SUM, label: '5xx' }),
      ]),
      graph('API latency (ms)', [
        api.metricLatency({ period: FIVE_MINUTES, statistic: cloudwatch.Stats.p(50), label: 'p50' }),
        api.metricLatency({ period: FIVE_MINUTES, statistic: cloudwatch.Stats.p(99), label: 'p99' }),
        api.metricIntegrationLatency({
          period: FIVE_MINUTES,
          statistic: cloudwatch.Stats.p(99),
          label: 'integration p99',
        }),
      ]),
    );

    this.dashboard.addWidgets(
      graph(
        'Lambda invocations',
        perFunction((role) =>
          functions[role].metricInvocations({
            period: FIVE_MINUTES,
            statistic: cloudwatch.Stats.SUM,
            label: FUNCTION_LABELS[role],
          }),
        ),
        6,
      ),
      graph(
        'Lambda errors',
        perFunction((role) =>
          functions[role].metricErrors({
            period: FIVE_MINUTES,
            statistic: cloudwatch.Stats.SUM,
            label: FUNCTION_LABELS[role],
          }),
        ),
        6,
      ),
      graph(
        'Lambda throttles',
        perFunction((role) =>
          functions[role].metricThrottles({
            period: FIVE_MINUTES,
            statistic: cloudwatch.Stats.SUM,
            label: FUNCTION_LABELS[role],
          }),
        ),
        6,
      ),
      graph(
        'Lambda duration p99 (ms)',
        perFunction((role) =>
          functions[role].metricDuration({
            period: FIVE_MINUTES,
            statistic: cloudwatch.Stats.p(99),
            label: FUNCTION_LABELS[role],
          }),
        ),
        6,
        [{ value: ALARM_THRESHOLDS.processorDurationP90Ms, label: 'processor alarm (p90, 15 min)' }],
      ),
    );
    this.dashboard.addWidgets(
      graph(
        'Lambda error rate (%)',
        perFunction((role) => lambdaErrorRate(functions[role], FUNCTION_LABELS[role], role)),
        WIDTH,
        [{ value: ALARM_THRESHOLDS.lambdaErrorRatePercent, label: 'alarm' }],
      ),
    );

    this.dashboard.addWidgets(
      graph(
        'Jobs queue depth',
        [
          jobsQueue.metricApproximateNumberOfMessagesVisible({
            period: Duration.minutes(1),
            statistic: cloudwatch.Stats.MAXIMUM,
            label: 'waiting',
          }),
          jobsQueue.metricApproximateNumberOfMessagesNotVisible({
            period: Duration.minutes(1),
            statistic: cloudwatch.Stats.MAXIMUM,
            label: 'in flight',
          }),
        ],
        8,
        [{ value: ALARM_THRESHOLDS.jobsQueueDepth, label: 'alarm' }],
      ),
      graph(
        'Oldest job (s)',
        [
          jobsQueue.metricApproximateAgeOfOldestMessage({
            period: FIVE_MINUTES,
            statistic: cloudwatch.Stats.MAXIMUM,
            label: 'age of oldest job',
          }),
        ],
        8,
        [{ value: ALARM_THRESHOLDS.oldestJobAgeSeconds, label: 'alarm' }],
      ),
      graph(
        'DLQ depth',
        [
          deadLetterQueue.metricApproximateNumberOfMessagesVisible({
            period: FIVE_MINUTES,
            statistic: cloudwatch.Stats.MAXIMUM,
            label: 'dead-lettered jobs',
          }),
        ],
        8,
        [{ value: ALARM_THRESHOLDS.deadLetterJobs, label: 'alarm' }],
      ),
    );

    const fixWidgets: cloudwatch.IWidget[] = [
      graph(
        'Fix tasks',
        (['FixesRequested', 'FixesPushed', 'FixesRejected', 'FixesFailed'] as const).map((name) =>
          businessMetric(name, { period: Duration.hours(1) }),
        ),
        8,
      ),
      graph(
        'Fix duration (s)',
        [
          businessMetric('FixDuration', { statistic: cloudwatch.Stats.p(50), label: 'p50' }),
          businessMetric('FixDuration', { statistic: cloudwatch.Stats.MAXIMUM, label: 'max' }),
        ],
        8,
      ),
      graph(
        'Fix cost (USD)',
        [businessMetric('FixCostUsd', { period: Duration.hours(1), label: 'spend' })],
        8,
      ),
    ];
    this.dashboard.addWidgets(...fixWidgets);
    if (fixRunner) {
      const insights = (metricName: string, label: string, statistic: string) =>
        new cloudwatch.Metric({
          namespace: 'ECS/ContainerInsights',
          metricName,
          dimensionsMap: {
            ClusterName: fixRunner.clusterName,
            TaskDefinitionFamily: fixRunner.taskDefinitionFamily,
          },
          period: FIVE_MINUTES,
          statistic,
          label,
        });
      this.dashboard.addWidgets(
        graph(
          'Fix runner tasks (Container Insights)',
          [
            new cloudwatch.Metric({
              namespace: 'ECS/ContainerInsights',
              metricName: 'TaskCount',
              dimensionsMap: { ClusterName: fixRunner.clusterName },
              period: FIVE_MINUTES,
              statistic: cloudwatch.Stats.MAXIMUM,
              label: 'tasks running',
            }),
          ],
          12,
        ),
        graph(
          'Fix runner CPU and memory',
          [
            insights('CpuUtilized', 'CPU units used', cloudwatch.Stats.MAXIMUM),
            insights('MemoryUtilized', 'memory MiB used', cloudwatch.Stats.MAXIMUM),
          ],
          12,
        ),
      );
    }

    this.dashboard.addWidgets(
      graph('Commands by kind', [searchByDimension('CommandsReceived', 'Sum')], 8),
      graph(
        'Reports and duplicates',
        [businessMetric('ReportsReceived'), businessMetric('DuplicatesFound')],
        8,
      ),
      graph(
        'Triage latency (ms)',
        [
          businessMetric('TriageLatency', { statistic: cloudwatch.Stats.p(50), label: 'p50' }),
          businessMetric('TriageLatency', { statistic: cloudwatch.Stats.p(90), label: 'p90' }),
        ],
        8,
      ),
    );
    this.dashboard.addWidgets(
      graph(
        'Bugs resolved and regressed',
        [
          businessMetric('BugsResolved', { period: Duration.hours(1), label: 'resolved' }),
          businessMetric('BugsRegressed', { period: Duration.hours(1), label: 'regressed' }),
        ],
        12,
      ),
      graph(
        'Product status events delivered',
        [businessMetric('StatusEventsDelivered', { period: Duration.hours(1), label: 'delivered' })],
        12,
      ),
    );
    this.dashboard.addWidgets(
      graph('Jobs processed by kind', [searchByDimension('JobsProcessed', 'Sum')], 12),
      graph('Job failures by kind', [searchByDimension('JobFailures', 'Sum')], 12),
    );
  }

  get topic() {
    return this.alarms.topic;
  }
}

function graph(
  title: string,
  metrics: cloudwatch.IMetric[],
  width = 8,
  thresholds: { value: number; label: string }[] = [],
): cloudwatch.GraphWidget {
  return new cloudwatch.GraphWidget({
    title,
    left: metrics,
    width,
    height: 6,
    leftAnnotations: thresholds.map(({ value, label }) => ({ value, label, color: cloudwatch.Color.RED })),
  });
}

/**
 * One line per value of a business metric's dimension (command, job kind). A search expression
 * finds the values as they appear, so a new command or job kind needs no dashboard change.
 */
function searchByDimension(name: BusinessMetricName, statistic: 'Sum'): cloudwatch.SearchExpression {
  const definition: { service: string; dimension?: string } = BUSINESS_METRICS[name];
  if (!definition.dimension) throw new Error(`${name} has no dimension to search by`);
  return new cloudwatch.SearchExpression({
    expression: `SEARCH('{${METRICS_NAMESPACE},${definition.dimension},service} MetricName="${name}" service="${definition.service}"', '${statistic}', ${FIVE_MINUTES.toSeconds()})`,
    period: FIVE_MINUTES,
  });
}
