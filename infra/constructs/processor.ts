import { type CfnElement, Duration, Stack, Token, Validations } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { type DeploymentSettings, tuningEnvironment } from '../deployment-settings.js';
import type { BugTable } from './bug-table.js';
import { BugbotFunction } from './bugbot-function.js';
import type { FixRunner } from './fix-runner.js';
import { JOBS_MAX_RECEIVE_COUNT, type JobsQueue } from './jobs-queue.js';
import type { ServiceSecrets } from './service-secrets.js';

/**
 * Long enough for one batch of jobs: a triage call to Anthropic plus the Linear, PostHog and
 * Discord calls around it, each with its own timeout and retries.
 */
export const PROCESSOR_TIMEOUT = Duration.seconds(90);

/** AWS's rule for SQS-triggered Lambdas: the queue's visibility timeout ≥ 6 × the function's. */
export const VISIBILITY_TIMEOUT_FACTOR = 6;

export const PROCESSOR_BATCH_SIZE = 5;

export interface ProcessorProps {
  readonly jobsQueue: JobsQueue;
  readonly bugTable: BugTable;
  readonly serviceSecrets: ServiceSecrets;
  readonly settings: DeploymentSettings;
  /** The processor starts fix runs on it (`FIX_*` variables, RunTask and PassRole). */
  readonly fixRunner: FixRunner;
}

/**
 * The processor Lambda: consumes the jobs queue in small batches, reports failed jobs one by one
 * (the rest of the batch is not retried), runs the flows against the table and the outside
 * services, and enqueues follow-up jobs.
 */
export class Processor extends Construct {
  readonly handler: BugbotFunction;

  constructor(scope: Construct, id: string, props: ProcessorProps) {
    super(scope, id);
    const { jobsQueue, bugTable, serviceSecrets, settings, fixRunner } = props;

    this.handler = new BugbotFunction(this, 'Handler', {
      entry: 'lambdas/processor/handler.ts',
      description: 'Runs bugbot jobs from the jobs queue (triage, context, issues, fixes)',
      // Headroom for concurrent context fetches and the SDKs it loads; more memory is more CPU.
      memorySize: 1024,
      timeout: PROCESSOR_TIMEOUT,
      environment: {
        JOBS_QUEUE_URL: jobsQueue.queue.queueUrl,
        DEAD_LETTER_QUEUE_URL: jobsQueue.deadLetterQueue.queueUrl,
        TABLE_NAME: bugTable.table.tableName,
        SECRETS_ARN: serviceSecrets.secret.secretArn,
        DISCORD_APPLICATION_ID: settings.discordApplicationId,
        BUG_CHANNEL_ID: settings.bugChannelId,
        GITHUB_REPO: settings.githubRepo,
        LINEAR_TEAM_ID: settings.linearTeamId,
        POSTHOG_PROJECT_ID: settings.posthogProjectId,
        POSTHOG_HOST: settings.posthogHost,
        DISCORD_GUILD_ID: settings.guildId,
        // Contextualize looks people up in PostHog only for these roles (the fix roles by default).
        FIX_ALLOWED_ROLE_IDS: settings.fixAllowedRoleIds.join(','),
        PEOPLE_LOOKUP_ROLE_IDS: settings.peopleLookupRoleIds.join(','),
        FIX_ALLOWLIST: settings.allowlist.join(','),
        // Its whsec_ secret is read from the service secret's bugStatusWebhookSecret, never set here.
        BUG_STATUS_WEBHOOK_URL: settings.bugStatusWebhookUrl,
        FIX_MONTHLY_BUDGET_USD: settings.fixMonthlyBudgetUsd,
        FIX_PUSH_REPO: settings.fixPushRepo,
        // The processor dead-letters a job itself on its last receive: it must know the queue's count.
        MAX_RECEIVES: String(JOBS_MAX_RECEIVE_COUNT),
        // Issue tracker, model, verify command, fix limits: only those set (tuningEnvironment).
        ...tuningEnvironment(settings),
        ...fixRunner.launcherEnvironment,
      },
    });
    const fn = this.handler.function;

    // The mapping itself rather than SqsEventSource, so the grant is what the poller and the
    // processor call (JobsQueue.grantConsumeJobs), not CDK's broader consume set.
    fn.addEventSourceMapping('JobsQueueSource', {
      eventSourceArn: jobsQueue.queue.queueArn,
      batchSize: PROCESSOR_BATCH_SIZE,
      // Short: an interaction's follow-up should not wait for a batch to fill.
      maxBatchingWindow: Duration.seconds(1),
      reportBatchItemFailures: true,
      // Caps parallel batches so a burst of reports cannot trip Discord, Linear or GitHub
      // rate limits all at once.
      maxConcurrency: 5,
    });
    jobsQueue.grantConsumeJobs(fn);
    // Follow-up jobs: the coalesced refresh of a bug that reports were folded into, and the
    // product's status events (shared/use-cases/fold-reports.ts, product-status.ts).
    jobsQueue.grantSendJobs(fn);
    // A job that can never succeed (a 4xx, a malformed body) goes to the DLQ at once instead of
    // being received twice more for nothing.
    jobsQueue.grantDeadLetter(fn);
    bugTable.grantReadWriteItems(fn);
    serviceSecrets.grantReadValue(fn);
    fixRunner.grantLaunch(fn);
    // StopTask (a dismissed bug's fix) names tasks not known at deploy time: any task of the
    // fix cluster, and `ecs:cluster` pins that cluster again.
    const processorPolicy = fn.role?.node.tryFindChild('DefaultPolicy');
    if (!processorPolicy) throw new Error('the processor has no role policy to acknowledge');
    const stack = Stack.of(this);
    const clusterId = stack.resolve(
      stack.getLogicalId(fixRunner.cluster.node.defaultChild as CfnElement),
    ) as string;
    Validations.of(processorPolicy).acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ecs:<AWS::Region>:<AWS::AccountId>:task/<${clusterId}>/*]`,
      reason:
        'ecs:StopTask of the fix runner tasks (a dismissed bug stops its fix): their ids are known only at run time, so the resource is every task of the fix cluster, with the ecs:cluster condition on that cluster too.',
    });

    this.node.addValidation({ validate: () => checkVisibilityTimeout(jobsQueue.queue) });

    Validations.of(fn).acknowledge({
      id: 'Serverless-LambdaDLQ',
      reason:
        'Invoked only by the SQS event source mapping, never asynchronously; a job that keeps failing reaches the jobs DLQ through the queue redrive policy.',
    });
    const mapping = fn.node.children.find((child) => child instanceof lambda.EventSourceMapping);
    if (!mapping) throw new Error('the processor has no event source mapping to acknowledge');
    Validations.of(mapping).acknowledge({
      id: 'Serverless-LambdaEventSourceMappingDestination',
      reason:
        'SQS event source mappings do not support on-failure destinations; the jobs queue redrive policy moves a job to the DLQ after three receives.',
    });
  }
}

function checkVisibilityTimeout(queue: sqs.Queue): string[] {
  const cfn = queue.node.defaultChild as sqs.CfnQueue;
  const visibility = cfn.visibilityTimeout;
  const minimum = PROCESSOR_TIMEOUT.toSeconds() * VISIBILITY_TIMEOUT_FACTOR;
  if (visibility === undefined || Token.isUnresolved(visibility) || visibility < minimum) {
    return [
      `the jobs queue visibility timeout (${visibility ?? 'default 30'} s) must be at least ${VISIBILITY_TIMEOUT_FACTOR} × the processor timeout (${minimum} s)`,
    ];
  }
  return [];
}
