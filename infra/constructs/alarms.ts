import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import type * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import {
  BUSINESS_METRICS,
  type BusinessMetricName,
  METRICS_NAMESPACE,
} from '../../shared/observability/business-metric-catalog.js';

/** The bugbot Lambdas, by role: the alarms treat the processor apart (its duration). */
export interface MonitoredFunctions {
  readonly discordInteractions: lambda.IFunction;
  readonly bugReportWebhook: lambda.IFunction;
  readonly githubWebhook: lambda.IFunction;
  readonly linearWebhook: lambda.IFunction;
  readonly processor: lambda.IFunction;
}

export interface OperationsAlarmsProps {
  readonly api: apigwv2.IHttpApi;
  readonly functions: MonitoredFunctions;
  readonly jobsQueue: sqs.IQueue;
  readonly deadLetterQueue: sqs.IQueue;
  /** Subscribed to the alarm topic by e-mail when set (the deployment setting `alarmEmail`). */
  readonly alarmEmail?: string;
}

/**
 * Every threshold in one place; README "Operations" has a runbook entry per alarm and quotes
 * these numbers, and the infra tests pin them.
 */
export const ALARM_THRESHOLDS = {
  /** Percent of invocations that end in a Lambda error, per function, over 5 minutes. */
  lambdaErrorRatePercent: 5,
  /** Jobs waiting, sustained for 5 minutes (about 20 minutes of work for 5 concurrent batches). */
  jobsQueueDepth: 100,
  /** Seconds the oldest job has waited: beyond the interaction tokens' 15 minutes. */
  oldestJobAgeSeconds: 900,
  /** Any job in the DLQ needs an operator. */
  deadLetterJobs: 1,
  /**
   * Milliseconds: the processor's p90 duration, in three five-minute periods in a row, each with
   * at least `processorSlowMinInvocations` invocations (see the alarm for why not p99).
   */
  processorDurationP90Ms: 10_000,
  processorSlowMinInvocations: 10,
  /**
   * Failed fix tasks in an hour. One failure can be Claude Code giving up on a hard bug (the
   * requester is told); two in an hour point at the runner itself (image, token, budget).
   */
  fixFailuresPerHour: 2,
  /** Any 5xx answered by the API in 5 minutes: Discord or Supabase saw bugbot fail. */
  api5xx: 1,
} as const;

/** One alarm and what the README runbook calls it. */
export interface OperationsAlarm {
  readonly key: string;
  readonly alarm: cloudwatch.Alarm;
}

/**
 * bugbot's alarms and the SNS topic they notify (on alarm and on recovery). Missing data is
 * "not breaching": an idle bot publishes no Lambda, API or business datapoints, and idle is
 * healthy.
 *
 * The topic is encrypted with its own KMS key, not the AWS-managed `aws/sns` key: CloudWatch
 * can only publish to an encrypted topic whose key policy lets it use the key, which an AWS
 * managed key's policy cannot be changed to do.
 */
export class OperationsAlarms extends Construct {
  readonly topic: sns.Topic;
  readonly topicKey: kms.Key;
  readonly alarms: readonly OperationsAlarm[];

  constructor(scope: Construct, id: string, props: OperationsAlarmsProps) {
    super(scope, id);
    const { api, functions, jobsQueue, deadLetterQueue } = props;
    const stack = Stack.of(this);
    const prefix = stack.stackName;
    // Confused-deputy guard: CloudWatch may use the key and the topic only for this stack's alarms.
    const fromOurAlarms = {
      StringEquals: { 'aws:SourceAccount': stack.account },
      ArnLike: {
        'aws:SourceArn': `arn:${stack.partition}:cloudwatch:${stack.region}:${stack.account}:alarm:${prefix}-*`,
      },
    };

    this.topicKey = new kms.Key(this, 'TopicKey', {
      description: 'Encrypts the bugbot alarm topic',
      enableKeyRotation: true,
      // It protects notifications only; nothing stored depends on it once the stack is gone.
      removalPolicy: RemovalPolicy.DESTROY,
      pendingWindow: Duration.days(7),
    });
    this.topicKey.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudWatchAlarmsToPublish',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        // In a key policy "*" means this key.
        resources: ['*'],
        conditions: fromOurAlarms,
      }),
    );
    this.topic = new sns.Topic(this, 'Topic', {
      displayName: 'bugbot alarms',
      masterKey: this.topicKey,
      enforceSSL: true,
    });
    // The topic policy that enforces TLS replaces SNS's default one, so CloudWatch needs its own
    // allow statement to publish.
    this.topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudWatchAlarmsToPublish',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions: fromOurAlarms,
      }),
    );
    if (props.alarmEmail) {
      const subscription = this.topic.addSubscription(new subscriptions.EmailSubscription(props.alarmEmail));
      Validations.of(subscription).acknowledge({
        id: 'Serverless-SNSRedrivePolicy',
        reason:
          'An e-mail that cannot be delivered would wait in a queue nobody reads; the alarm state stays on the dashboard and in the CloudWatch console, and OK/ALARM notifications repeat on every change.',
      });
    }

    const alarms: OperationsAlarm[] = [];
    const add = (key: string, description: string, alarmProps: cloudwatch.AlarmProps) => {
      const alarm = new cloudwatch.Alarm(this, key, {
        alarmName: `${prefix}-${key}`,
        alarmDescription: `${description} Runbook: README.md, "Operations" → ${key}.`,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        ...alarmProps,
      });
      const action = new cloudwatchActions.SnsAction(this.topic);
      alarm.addAlarmAction(action);
      alarm.addOkAction(action);
      alarms.push({ key, alarm });
    };

    const fiveMinutes = Duration.minutes(5);
    const functionLabels: Record<keyof MonitoredFunctions, string> = {
      discordInteractions: 'DiscordInteractions',
      bugReportWebhook: 'BugReportWebhook',
      githubWebhook: 'GitHubWebhook',
      linearWebhook: 'LinearWebhook',
      processor: 'Processor',
    };
    for (const [role, label] of Object.entries(functionLabels) as [keyof MonitoredFunctions, string][]) {
      add(
        `${label}ErrorRate`,
        `More than ${ALARM_THRESHOLDS.lambdaErrorRatePercent}% of the ${label} Lambda's invocations failed in 5 minutes.`,
        {
          metric: lambdaErrorRate(functions[role], label),
          threshold: ALARM_THRESHOLDS.lambdaErrorRatePercent,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
          evaluationPeriods: 1,
        },
      );
    }

    add('JobsQueueDepth', `More than ${ALARM_THRESHOLDS.jobsQueueDepth} jobs have waited for 5 minutes.`, {
      metric: jobsQueue.metricApproximateNumberOfMessagesVisible({
        period: Duration.minutes(1),
        statistic: cloudwatch.Stats.MAXIMUM,
      }),
      threshold: ALARM_THRESHOLDS.jobsQueueDepth,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 5,
      datapointsToAlarm: 5,
    });

    add(
      'OldestJobAge',
      `A job has waited more than ${ALARM_THRESHOLDS.oldestJobAgeSeconds / 60} minutes (Discord interaction tokens expire after 15).`,
      {
        metric: jobsQueue.metricApproximateAgeOfOldestMessage({
          period: fiveMinutes,
          statistic: cloudwatch.Stats.MAXIMUM,
        }),
        threshold: ALARM_THRESHOLDS.oldestJobAgeSeconds,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
      },
    );

    add('DeadLetterJobs', 'A job is in the dead-letter queue: it failed three times or for good.', {
      metric: deadLetterQueue.metricApproximateNumberOfMessagesVisible({
        period: fiveMinutes,
        statistic: cloudwatch.Stats.MAXIMUM,
      }),
      threshold: ALARM_THRESHOLDS.deadLetterJobs,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
    });

    // Sustained slowness only. A triage that waits on Claude can take over 10 s, and an idle bot
    // runs a handful of invocations per five minutes, where p99 is simply the slowest one: two
    // ordinary slow triages used to fire it. So: p90 (at least one in ten invocations slow, not
    // one in a hundred), counted only in periods busy enough for a percentile to mean something
    // (a quieter period counts as 0: not breaching), and in three periods in a row — 15
    // minutes — which two slow triages cannot span. A slow but quiet processor backs nothing up;
    // JobsQueueDepth and OldestJobAge catch a backlog however few invocations there are.
    add(
      'ProcessorDurationP90',
      `The processor's p90 duration stayed above ${ALARM_THRESHOLDS.processorDurationP90Ms / 1000} s for 15 minutes (three five-minute periods of at least ${ALARM_THRESHOLDS.processorSlowMinInvocations} invocations).`,
      {
        metric: new cloudwatch.MathExpression({
          expression: `IF(invocations >= ${ALARM_THRESHOLDS.processorSlowMinInvocations}, duration, 0)`,
          usingMetrics: {
            duration: functions.processor.metricDuration({
              period: fiveMinutes,
              statistic: cloudwatch.Stats.p(90),
            }),
            invocations: functions.processor.metricInvocations({
              period: fiveMinutes,
              statistic: cloudwatch.Stats.SUM,
            }),
          },
          label: 'Processor p90 duration (ms) in busy periods',
          period: fiveMinutes,
        }),
        threshold: ALARM_THRESHOLDS.processorDurationP90Ms,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 3,
        datapointsToAlarm: 3,
      },
    );

    add('FixFailures', `${ALARM_THRESHOLDS.fixFailuresPerHour} or more fix tasks failed within an hour.`, {
      metric: businessMetric('FixesFailed', { period: Duration.hours(1), statistic: cloudwatch.Stats.SUM }),
      threshold: ALARM_THRESHOLDS.fixFailuresPerHour,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
    });

    add('Api5xx', 'The HTTP API answered a 5xx to Discord or one of the webhooks.', {
      metric: api.metricServerError({ period: fiveMinutes, statistic: cloudwatch.Stats.SUM }),
      threshold: ALARM_THRESHOLDS.api5xx,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
    });

    this.alarms = alarms;
  }

  /** The alarm the README runbook calls `key` (e.g. `DeadLetterJobs`). */
  alarm(key: string): cloudwatch.Alarm {
    const found = this.alarms.find((candidate) => candidate.key === key);
    if (!found) throw new Error(`no alarm ${key}`);
    return found.alarm;
  }
}

/**
 * Errors as a percentage of invocations; 0 while idle (no invocations is not a failure).
 * `suffix` keeps the variable names apart when several functions share one graph.
 */
export function lambdaErrorRate(fn: lambda.IFunction, label: string, suffix = ''): cloudwatch.MathExpression {
  const period = Duration.minutes(5);
  const [errors, invocations] = [`errors${suffix}`, `invocations${suffix}`];
  return new cloudwatch.MathExpression({
    expression: `IF(${invocations} > 0, 100 * ${errors} / ${invocations}, 0)`,
    usingMetrics: {
      [errors]: fn.metricErrors({ period, statistic: cloudwatch.Stats.SUM }),
      [invocations]: fn.metricInvocations({ period, statistic: cloudwatch.Stats.SUM }),
    },
    label: `${label} error rate (%)`,
    period,
  });
}

/**
 * A bugbot business metric without its extra dimension, as the emitting service publishes it
 * (EMF dimension `service`; see shared/observability/business-metric-catalog.ts).
 */
export function businessMetric(
  name: BusinessMetricName,
  options: cloudwatch.MetricOptions = {},
): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: METRICS_NAMESPACE,
    metricName: name,
    dimensionsMap: { service: BUSINESS_METRICS[name].service },
    period: Duration.minutes(5),
    statistic: cloudwatch.Stats.SUM,
    ...options,
  });
}
