import { Duration, Validations } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { DeploymentSettings } from '../deployment-settings.js';
import { BugbotFunction } from './bugbot-function.js';
import type { JobsQueue } from './jobs-queue.js';
import type { ServiceSecrets } from './service-secrets.js';

export const DISCORD_INTERACTIONS_PATH = '/discord/interactions';
export const BUG_REPORT_WEBHOOK_PATH = '/webhooks/bug-report';
export const GITHUB_WEBHOOK_PATH = '/webhooks/github';
export const LINEAR_WEBHOOK_PATH = '/webhooks/linear';

/**
 * Stage-wide throttling. Discord and the Supabase webhook together send a handful of requests a
 * second at most; anything far above that is abuse, refused before it costs a Lambda run.
 */
export const INGRESS_THROTTLE = { rateLimit: 25, burstLimit: 50 } as const;

export interface HttpIngressProps {
  readonly jobsQueue: JobsQueue;
  readonly serviceSecrets: ServiceSecrets;
  readonly settings: DeploymentSettings;
}

/**
 * The public edge: an HTTP API (payload format 2.0) with the two routes of DESIGN.md and the
 * ingress Lambdas behind them. The Lambdas verify, parse, authorize and enqueue; the only thing
 * they may do in AWS is send to the jobs queue (the webhook may also read its own secret).
 */
export class HttpIngress extends Construct {
  readonly api: apigwv2.HttpApi;
  readonly stage: apigwv2.HttpStage;
  readonly accessLogs: logs.LogGroup;
  readonly discordInteractions: BugbotFunction;
  readonly bugReportWebhook: BugbotFunction;
  readonly githubWebhook: BugbotFunction;
  readonly linearWebhook: BugbotFunction;

  constructor(scope: Construct, id: string, props: HttpIngressProps) {
    super(scope, id);
    const { jobsQueue, serviceSecrets, settings } = props;

    this.discordInteractions = new BugbotFunction(this, 'DiscordInteractions', {
      entry: 'lambdas/discord-interactions/handler.ts',
      description: 'Verifies Discord interactions, enqueues jobs, answers within the 3 s Discord allows',
      // More memory is more CPU: a shorter cold start on Discord's 3-second clock.
      memorySize: 512,
      // Discord gives up after 3 s; running longer only wastes the invocation.
      timeout: Duration.seconds(3),
      environment: {
        DISCORD_PUBLIC_KEY: settings.discordPublicKey,
        DISCORD_APPLICATION_ID: settings.discordApplicationId,
        // Empty (the setting unset) accepts interactions from any guild.
        DISCORD_GUILD_ID: settings.guildId,
        FIX_ALLOWED_ROLE_IDS: settings.fixAllowedRoleIds.join(','),
        JOBS_QUEUE_URL: jobsQueue.queue.queueUrl,
      },
    });
    jobsQueue.grantSendJobs(this.discordInteractions.function);

    this.bugReportWebhook = new BugbotFunction(this, 'BugReportWebhook', {
      entry: 'lambdas/bug-report-webhook/handler.ts',
      description: 'Verifies signed bug-report webhooks (Standard Webhooks or bearer) and enqueues them',
      memorySize: 512,
      // Supabase waits 1 s by default; a few seconds covers a cold start plus the secret read.
      timeout: Duration.seconds(5),
      environment: {
        JOBS_QUEUE_URL: jobsQueue.queue.queueUrl,
        // The webhook's own secret, not the service tokens: this function is public.
        SECRETS_ARN: serviceSecrets.webhookSecret.secretArn,
      },
    });
    jobsQueue.grantSendJobs(this.bugReportWebhook.function);
    // BUG_REPORT_WEBHOOK_SECRET is deliberately not set as an environment variable (it would sit
    // in plain text in the function configuration), so the webhook reads its signing secret
    // and bearer token from the webhook secret at cold start; it cannot read the service tokens.
    serviceSecrets.grantReadWebhookValue(this.bugReportWebhook.function);

    // Hearing back (DESIGN): GitHub and Linear webhooks, each verified by its own Lambda with its
    // own signing secret; like the other ingresses they may only send jobs to the queue.
    this.githubWebhook = new BugbotFunction(this, 'GitHubWebhook', {
      entry: 'lambdas/github-webhook/handler.ts',
      description: 'Verifies signed GitHub webhooks (pull requests, deployments) and enqueues them',
      memorySize: 512,
      // GitHub waits 10 s for a hook; a few seconds covers a cold start plus the secret read.
      timeout: Duration.seconds(5),
      environment: {
        JOBS_QUEUE_URL: jobsQueue.queue.queueUrl,
        SECRETS_ARN: serviceSecrets.githubWebhookSecret.secretArn,
      },
    });
    jobsQueue.grantSendJobs(this.githubWebhook.function);
    serviceSecrets.grantReadGitHubWebhookValue(this.githubWebhook.function);

    this.linearWebhook = new BugbotFunction(this, 'LinearWebhook', {
      entry: 'lambdas/linear-webhook/handler.ts',
      description: 'Verifies signed Linear webhooks (issue state changes) and enqueues them',
      memorySize: 512,
      // Linear expects an answer within 5 s and retries otherwise.
      timeout: Duration.seconds(5),
      environment: {
        JOBS_QUEUE_URL: jobsQueue.queue.queueUrl,
        SECRETS_ARN: serviceSecrets.linearWebhookSecret.secretArn,
      },
    });
    jobsQueue.grantSendJobs(this.linearWebhook.function);
    serviceSecrets.grantReadLinearWebhookValue(this.linearWebhook.function);

    this.accessLogs = new logs.LogGroup(this, 'AccessLogs', { retention: logs.RetentionDays.ONE_MONTH });

    this.api = new apigwv2.HttpApi(this, 'Api', {
      description: 'bugbot ingress: Discord interactions, bug-report, GitHub and Linear webhooks',
      // Our own $default stage below, to give it throttling and access logs.
      createDefaultStage: false,
    });
    this.stage = this.api.addStage('DefaultStage', {
      stageName: '$default',
      autoDeploy: true,
      throttle: INGRESS_THROTTLE,
      accessLogSettings: {
        destination: new apigwv2.LogGroupLogDestination(this.accessLogs),
        // JSON for Logs Insights. No headers or bodies: they carry signatures and report text.
        format: apigateway.AccessLogFormat.custom(
          JSON.stringify({
            requestId: '$context.requestId',
            requestTime: '$context.requestTime',
            sourceIp: '$context.identity.sourceIp',
            userAgent: '$context.identity.userAgent',
            routeKey: '$context.routeKey',
            status: '$context.status',
            responseLength: '$context.responseLength',
            responseLatency: '$context.responseLatency',
            integrationStatus: '$context.integrationStatus',
            integrationLatency: '$context.integrationLatency',
            integrationError: '$context.integrationErrorMessage',
          }),
        ),
      },
    });

    const routes = [
      {
        path: DISCORD_INTERACTIONS_PATH,
        fn: this.discordInteractions,
        reason:
          'Discord authenticates every interaction with an Ed25519 signature over the raw body, which the handler verifies before parsing; an API Gateway authorizer cannot see the body to check it.',
      },
      {
        path: BUG_REPORT_WEBHOOK_PATH,
        fn: this.bugReportWebhook,
        reason:
          'The webhook is authenticated by a Standard Webhooks HMAC over the raw body (or a bearer secret compared in constant time), checked by the handler before parsing; an API Gateway authorizer cannot see the body to check the HMAC.',
      },
      {
        path: GITHUB_WEBHOOK_PATH,
        fn: this.githubWebhook,
        reason:
          "GitHub authenticates every delivery with X-Hub-Signature-256, an HMAC-SHA256 of the raw body with the hook's secret, which the handler verifies before parsing; an API Gateway authorizer cannot see the body to check it.",
      },
      {
        path: LINEAR_WEBHOOK_PATH,
        fn: this.linearWebhook,
        reason:
          'Linear authenticates every delivery with Linear-Signature, an HMAC-SHA256 of the raw body, and a signed timestamp, which the handler verifies before parsing; an API Gateway authorizer cannot see the body to check it.',
      },
    ];
    for (const { path, fn, reason } of routes) {
      const [route] = this.api.addRoutes({
        path,
        methods: [apigwv2.HttpMethod.POST],
        integration: new HttpLambdaIntegration(`${fn.node.id}Integration`, fn.function, {
          payloadFormatVersion: apigwv2.PayloadFormatVersion.VERSION_2_0,
        }),
      });
      if (route) Validations.of(route).acknowledge({ id: 'AwsSolutions-APIG4', reason });
    }

    // Synchronous invocations: a failure is answered to Discord or Supabase (which retries the
    // webhook); there is no asynchronous event for a dead-letter target to keep.
    for (const fn of [
      this.discordInteractions,
      this.bugReportWebhook,
      this.githubWebhook,
      this.linearWebhook,
    ]) {
      Validations.of(fn.function).acknowledge({
        id: 'Serverless-LambdaDLQ',
        reason:
          'Invoked synchronously by API Gateway only; errors go back to the caller, so a dead-letter target would never receive anything.',
      });
    }
  }

  /** The base URL of the API (the $default stage). */
  get url(): string {
    return this.stage.url;
  }
}
