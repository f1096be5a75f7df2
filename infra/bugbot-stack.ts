import { Annotations, CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { BugTable } from './constructs/bug-table.js';
import { FixRunner } from './constructs/fix-runner.js';
import { HttpIngress } from './constructs/http-ingress.js';
import { JobsQueue } from './constructs/jobs-queue.js';
import { OperationsDashboard } from './constructs/operations-dashboard.js';
import { PROCESSOR_TIMEOUT, Processor, VISIBILITY_TIMEOUT_FACTOR } from './constructs/processor.js';
import { ServiceSecrets } from './constructs/service-secrets.js';
import { type DeploymentSettings, listUnsetSettings } from './deployment-settings.js';

export interface BugbotStackProps extends StackProps {
  readonly settings: DeploymentSettings;
}

/**
 * bugbot on AWS, one construct per part of DESIGN.md's picture. The parts are public so the
 * ones still to come (the fix runner on ECS, the operations dashboard and alarms) can wire to
 * the queue, table, secret and functions without reaching inside.
 */
export class BugbotStack extends Stack {
  readonly settings: DeploymentSettings;
  readonly jobsQueue: JobsQueue;
  readonly bugTable: BugTable;
  readonly serviceSecrets: ServiceSecrets;
  readonly httpIngress: HttpIngress;
  readonly processor: Processor;
  readonly fixRunner: FixRunner;
  readonly operations: OperationsDashboard;

  constructor(scope: Construct, id: string, props: BugbotStackProps) {
    super(scope, id, props);
    const { settings } = props;
    this.settings = settings;

    this.jobsQueue = new JobsQueue(this, 'JobsQueue', {
      visibilityTimeout: Duration.seconds(PROCESSOR_TIMEOUT.toSeconds() * VISIBILITY_TIMEOUT_FACTOR),
    });
    this.bugTable = new BugTable(this, 'BugTable');
    this.serviceSecrets = new ServiceSecrets(this, 'ServiceSecrets');
    this.httpIngress = new HttpIngress(this, 'HttpIngress', {
      jobsQueue: this.jobsQueue,
      serviceSecrets: this.serviceSecrets,
      settings,
    });
    this.fixRunner = new FixRunner(this, 'FixRunner', {
      jobsQueue: this.jobsQueue,
      bugTable: this.bugTable,
      serviceSecrets: this.serviceSecrets,
      pushRepo: settings.fixPushRepo || undefined,
      ...(settings.anthropicModel ? { anthropicModel: settings.anthropicModel } : {}),
    });
    this.processor = new Processor(this, 'Processor', {
      fixRunner: this.fixRunner,
      jobsQueue: this.jobsQueue,
      bugTable: this.bugTable,
      serviceSecrets: this.serviceSecrets,
      settings,
    });

    this.operations = new OperationsDashboard(this, 'Operations', {
      api: this.httpIngress.api,
      functions: {
        discordInteractions: this.httpIngress.discordInteractions.function,
        bugReportWebhook: this.httpIngress.bugReportWebhook.function,
        githubWebhook: this.httpIngress.githubWebhook.function,
        linearWebhook: this.httpIngress.linearWebhook.function,
        processor: this.processor.handler.function,
      },
      jobsQueue: this.jobsQueue.queue,
      deadLetterQueue: this.jobsQueue.deadLetterQueue,
      fixRunner: {
        clusterName: this.fixRunner.cluster.clusterName,
        taskDefinitionFamily: this.fixRunner.taskDefinition.family,
      },
      alarmEmail: settings.alarmEmail || undefined,
    });

    new CfnOutput(this, 'DiscordInteractionsEndpoint', {
      description: 'Interactions Endpoint URL for the Discord developer portal',
      value: `${this.httpIngress.url}discord/interactions`,
    });
    new CfnOutput(this, 'BugReportWebhookEndpoint', {
      description: 'Supabase database webhook URL',
      value: `${this.httpIngress.url}webhooks/bug-report`,
    });
    new CfnOutput(this, 'GitHubWebhookEndpoint', {
      description: "Payload URL of the repository's GitHub webhook (pull requests, deployment statuses)",
      value: `${this.httpIngress.url}webhooks/github`,
    });
    new CfnOutput(this, 'LinearWebhookEndpoint', {
      description: 'URL of the Linear webhook (issues)',
      value: `${this.httpIngress.url}webhooks/linear`,
    });
    new CfnOutput(this, 'GitHubWebhookSecretArn', {
      description: "Put the GitHub hook's secret here as githubWebhookSecret",
      value: this.serviceSecrets.githubWebhookSecret.secretArn,
    });
    new CfnOutput(this, 'LinearWebhookSecretArn', {
      description: "Put the Linear webhook's signing secret here as linearWebhookSecret",
      value: this.serviceSecrets.linearWebhookSecret.secretArn,
    });
    new CfnOutput(this, 'OperationsDashboardUrl', {
      description: 'The CloudWatch dashboard (README, "Operations")',
      value: `https://console.aws.amazon.com/cloudwatch/home?region=${this.region}#dashboards:name=${this.operations.dashboard.dashboardName}`,
    });
    new CfnOutput(this, 'JobsQueueUrl', {
      description: 'JOBS_QUEUE_URL for `npm run dlq -- redrive`',
      value: this.jobsQueue.queue.queueUrl,
    });
    new CfnOutput(this, 'DeadLetterQueueUrl', {
      description: 'DEAD_LETTER_QUEUE_URL for `npm run dlq -- list|redrive`',
      value: this.jobsQueue.deadLetterQueue.queueUrl,
    });
    new CfnOutput(this, 'AlarmTopicArn', {
      description: 'SNS topic of the alarms; subscribe more endpoints to it',
      value: this.operations.topic.topicArn,
    });
    new CfnOutput(this, 'ServiceSecretsArn', {
      description: 'Fill in the service tokens here before the first bug report',
      value: this.serviceSecrets.secret.secretArn,
    });
    new CfnOutput(this, 'WebhookSecretArn', {
      description:
        'Fill in the bug-report webhook credentials here (bugReportWebhookSecret, bugReportBearerToken)',
      value: this.serviceSecrets.webhookSecret.secretArn,
    });

    if (this.fixRunner.pushTokenSecret) {
      new CfnOutput(this, 'FixPushTokenSecretArn', {
        description: `Fill in githubPushToken: a token that may push to the fork ${settings.fixPushRepo}`,
        value: this.fixRunner.pushTokenSecret.secretArn,
      });
    }

    const unset = listUnsetSettings(settings);
    if (unset.length > 0) {
      Annotations.of(this).addInfo(
        `deployment settings not set (pass -c key=value or cdk.json context): ${unset.join(', ')}`,
      );
    }
  }
}
