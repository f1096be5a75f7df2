/**
 * bugbot's business metrics, in one place: the Lambdas emit them (EMF, namespace `Bugbot`) and the
 * CDK dashboard and alarms read them by the same names, so a renamed metric cannot leave a graph
 * or an alarm silently empty. Pure data: no SDK, no environment.
 */

/** The CloudWatch namespace every bugbot metric is published under. */
export const METRICS_NAMESPACE = 'Bugbot';

/**
 * The `service` dimension (and the logger's service name) of each process. CloudWatch identifies
 * a metric by namespace, name and its full set of dimensions, so the dashboard must know which
 * service emits which metric.
 */
export const SERVICE_NAMES = {
  discordIngress: 'bugbot-discord-interactions',
  webhookIngress: 'bugbot-webhook-ingress',
  githubWebhook: 'bugbot-github-webhook',
  linearWebhook: 'bugbot-linear-webhook',
  processor: 'bugbot-processor',
  fixRunner: 'bugbot-fix-runner',
} as const;

export type ServiceName = (typeof SERVICE_NAMES)[keyof typeof SERVICE_NAMES];

/** The CloudWatch units bugbot uses (a subset of EMF's). */
export type BusinessMetricUnit = 'Count' | 'Milliseconds' | 'Seconds' | 'None';

export interface BusinessMetricDefinition {
  readonly unit: BusinessMetricUnit;
  /** The service whose `service` dimension the metric carries. */
  readonly service: ServiceName;
  /** At most one extra dimension, always with a small, fixed set of values. */
  readonly dimension?: string;
  readonly description: string;
}

export const BUSINESS_METRICS = {
  CommandsReceived: {
    unit: 'Count',
    service: SERVICE_NAMES.discordIngress,
    dimension: 'command',
    description:
      'Commands and bug-card buttons accepted and queued, by command (`fix`, `button:draft_fix`, …)',
  },
  ReportsReceived: {
    unit: 'Count',
    service: SERVICE_NAMES.webhookIngress,
    description: 'Bug reports accepted by the webhook and queued',
  },
  DuplicatesFound: {
    unit: 'Count',
    service: SERVICE_NAMES.processor,
    description: 'Reports triaged as duplicates of an open bug',
  },
  TriageLatency: {
    unit: 'Milliseconds',
    service: SERVICE_NAMES.processor,
    description: 'From the report being received to its bug card being posted',
  },
  FixesRequested: {
    unit: 'Count',
    service: SERVICE_NAMES.processor,
    description: 'Fix tasks started',
  },
  FixesPushed: {
    unit: 'Count',
    service: SERVICE_NAMES.processor,
    description: 'Fixes pushed as a branch / pull request',
  },
  FixesRejected: {
    unit: 'Count',
    service: SERVICE_NAMES.processor,
    description: 'Fixes the allowlist gate refused (nothing pushed)',
  },
  FixesFailed: {
    unit: 'Count',
    service: SERVICE_NAMES.processor,
    description: 'Fix tasks that failed or stopped without a result',
  },
  FixCostUsd: {
    unit: 'None',
    service: SERVICE_NAMES.processor,
    description: 'Claude Code spend of one fix, in US dollars',
  },
  FixDuration: {
    unit: 'Seconds',
    service: SERVICE_NAMES.processor,
    description: 'From a fix being requested to its result arriving',
  },
  BugsResolved: {
    unit: 'Count',
    service: SERVICE_NAMES.processor,
    description: 'Bugs resolved: their fix pull request merged, or their Linear issue completed',
  },
  BugsRegressed: {
    unit: 'Count',
    service: SERVICE_NAMES.processor,
    description: 'Resolved bugs reopened because the same crash was reported again',
  },
  StatusEventsDelivered: {
    unit: 'Count',
    service: SERVICE_NAMES.processor,
    description: "Bug status events the product's status webhook accepted",
  },
  JobsProcessed: {
    unit: 'Count',
    service: SERVICE_NAMES.processor,
    dimension: 'kind',
    description: 'Jobs finished, by job kind',
  },
  JobFailures: {
    unit: 'Count',
    service: SERVICE_NAMES.processor,
    dimension: 'kind',
    description:
      'Failed job attempts, by job kind (a retried job counts once per failed receive; `invalid` for messages that are not jobs)',
  },
} as const satisfies Record<string, BusinessMetricDefinition>;

export type BusinessMetricName = keyof typeof BUSINESS_METRICS;

/** The metrics that take a dimension, and its name. */
type DimensionOf<N extends BusinessMetricName> = (typeof BUSINESS_METRICS)[N] extends {
  readonly dimension: infer D extends string;
}
  ? D
  : never;

/**
 * What `record` takes after the value: the dimension when the metric has one (required), nothing
 * otherwise — so `record('JobsProcessed', 1)` and `record('ReportsReceived', 1, {kind})` do not compile.
 */
export type BusinessMetricDimensions<N extends BusinessMetricName> = [DimensionOf<N>] extends [never]
  ? []
  : [dimensions: Readonly<Record<DimensionOf<N>, string>>];

export const BUSINESS_METRIC_NAMES = Object.keys(BUSINESS_METRICS) as BusinessMetricName[];
