import Anthropic from '@anthropic-ai/sdk';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ECSClient } from '@aws-sdk/client-ecs';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import { Webhook } from 'standardwebhooks';
import { ClaudeAnalyst } from '../../shared/adapters/anthropic/claude-analyst.js';
import { EcsFixLauncher } from '../../shared/adapters/aws-ecs/ecs-fix-launcher.js';
import { readServiceSecrets } from '../../shared/adapters/aws-secrets/secrets-manager-service-secrets.js';
import { SqsJobQueue } from '../../shared/adapters/aws-sqs/sqs-job-queue.js';
import { DiscordChatPlatform } from '../../shared/adapters/discord/discord-chat-platform.js';
import { createDiscordRest } from '../../shared/adapters/discord/discord-rest.js';
import { createDocumentClient } from '../../shared/adapters/dynamodb/document-client.js';
import { DynamoDbBugRecords } from '../../shared/adapters/dynamodb/dynamodb-bug-records.js';
import { DynamoDbBugStore } from '../../shared/adapters/dynamodb/dynamodb-bug-store.js';
import { DynamoDbFixJobs } from '../../shared/adapters/dynamodb/dynamodb-fix-jobs.js';
import { DynamoDbFoldLedger } from '../../shared/adapters/dynamodb/dynamodb-fold-ledger.js';
import { createGitHubClient } from '../../shared/adapters/github/create-github-client.js';
import { GitHubCodeHost } from '../../shared/adapters/github/github-code-host.js';
import { createLinearClient } from '../../shared/adapters/linear/create-linear-client.js';
import { LinearIssueTracker } from '../../shared/adapters/linear/linear-issue-tracker.js';
import {
  createPostHogHttpClient,
  PostHogSessionReplay,
} from '../../shared/adapters/posthog/posthog-session-replay.js';
import { StandardWebhooksBugStatusSender } from '../../shared/adapters/standard-webhooks/standard-webhooks-bug-status-sender.js';
import type { ProcessorConfig } from '../../shared/config/processor-config.js';
import type { ConfiguredServiceSecrets } from '../../shared/config/service-secrets.js';
import { isStandardWebhookSecret } from '../../shared/config/webhook-ingress-config.js';
import { ConfigError, PermanentJobError } from '../../shared/domain/errors.js';
import type { DiscordCommandJob, DiscordComponentJob, Job } from '../../shared/jobs/job-schemas.js';
import type { Analyst } from '../../shared/ports/analyst.js';
import type { BusinessMetrics } from '../../shared/ports/business-metrics.js';
import type { CodeHost, RepositoryRef } from '../../shared/ports/code-host.js';
import {
  createBugCardFlow,
  createBugRefreshFlow,
  createBugReportFlow,
} from '../../shared/processing/flows/bug-flows.js';
import { createDiscordCommandFlow } from '../../shared/processing/flows/discord-command-flow.js';
import {
  authorizeFixRunnerSender,
  type JobFailureRecord,
  type JobFlow,
  type JobFlows,
} from '../../shared/processing/job-runner.js';
import { handleBugCardAction } from '../../shared/use-cases/bug-card-actions.js';
import { showBugStatus, showDashboard } from '../../shared/use-cases/bug-queries.js';
import { handleGitHubEvent, handleLinearEvent } from '../../shared/use-cases/close-the-loop.js';
import { contextualize } from '../../shared/use-cases/contextualize.js';
import {
  type Maintainer,
  mergeBugs,
  refreshFoldedBug,
  splitFoldedReport,
} from '../../shared/use-cases/fold-reports.js';
import { createProductAnnouncer, deliverBugStatus } from '../../shared/use-cases/product-status.js';
import { recordBugFailure } from '../../shared/use-cases/record-bug-failure.js';
import { recordDiscordReporter } from '../../shared/use-cases/record-discord-reporter.js';
import {
  giveUpFixResult,
  reportFixResult,
  reportFixTaskStopped,
} from '../../shared/use-cases/report-fix-result.js';
import {
  abandonFixRequest,
  fixJobIdFor,
  type RequestFixDeps,
  requestFix,
} from '../../shared/use-cases/request-fix.js';
import {
  type TriageDeps,
  triageBugReport,
  triageOnItsOwn,
} from '../../shared/use-cases/triage-bug-report.js';

export interface ProcessorParts {
  readonly flows: JobFlows;
  /** Puts a job's final failure on its bug (`lastFailure`), for the job runner. */
  readonly recordFailure: (job: Job, failure: JobFailureRecord) => Promise<void>;
}

/**
 * The processor's composition root: the only place its adapters are built. Tokens come from the
 * environment when set (local stack, tests), else from the service secret, read once per
 * container.
 */
export async function composeProcessor(
  config: ProcessorConfig,
  observability: { metrics: BusinessMetrics },
): Promise<ProcessorParts> {
  const secrets = await resolveSecrets(config);
  const chat = new DiscordChatPlatform(
    createDiscordRest({
      botToken: secrets.discordBotToken,
      api: config.DISCORD_API_URL,
      timeoutMs: config.HTTP_TIMEOUT_MS,
    }),
  );
  const tracker = new LinearIssueTracker(
    createLinearClient({
      apiKey: secrets.linearApiKey,
      apiUrl: config.LINEAR_API_URL,
      timeoutMs: config.HTTP_TIMEOUT_MS,
    }),
    { teamId: config.LINEAR_TEAM_ID },
  );
  const replay = new PostHogSessionReplay(
    createPostHogHttpClient({
      apiHost: config.POSTHOG_API_URL ?? config.POSTHOG_HOST,
      personalApiKey: secrets.posthogApiKey,
      timeoutMs: config.HTTP_TIMEOUT_MS,
    }),
    { projectId: config.POSTHOG_PROJECT_ID, appHost: config.POSTHOG_HOST },
  );
  // Every outside call has a deadline, AWS's included.
  const dynamo = createDocumentClient(
    new DynamoDBClient({ requestHandler: { connectionTimeout: 1000, requestTimeout: 3000 } }),
  );
  const store = new DynamoDbBugStore(dynamo, config.TABLE_NAME);
  const records = new DynamoDbBugRecords(dynamo, config.TABLE_NAME);
  const analyst: Analyst = secrets.anthropicApiKey
    ? new ClaudeAnalyst(
        new Anthropic({
          apiKey: secrets.anthropicApiKey,
          baseURL: config.ANTHROPIC_BASE_URL,
          // Kept well inside the processor's 90 s: a model call must not outlive the Lambda (and
          // the analyst cuts it further to the invocation's remaining budget).
          timeout: config.ANTHROPIC_TIMEOUT_MS,
          maxRetries: 1,
        }),
        { model: config.ANTHROPIC_MODEL, timeoutMs: config.ANTHROPIC_TIMEOUT_MS },
      )
    : {
        analyzeBug: async () => {
          throw new PermanentJobError(
            'the Anthropic API key is not configured (service secret anthropicApiKey)',
          );
        },
      };
  const codeHost: CodeHost | undefined = secrets.githubToken
    ? new GitHubCodeHost(
        createGitHubClient({
          token: secrets.githubToken,
          baseUrl: config.GITHUB_API_URL,
          timeoutMs: config.HTTP_TIMEOUT_MS,
        }),
      )
    : undefined;
  const githubRepo = parseRepo(config.GITHUB_REPO);
  const now = () => new Date();
  // The product's status webhook: announced through the jobs queue, delivered by `bug.status` jobs.
  const statusSender = config.BUG_STATUS_WEBHOOK_URL
    ? new StandardWebhooksBugStatusSender(new Webhook(requireStatusSecret(secrets.bugStatusWebhookSecret)), {
        url: config.BUG_STATUS_WEBHOOK_URL,
        timeoutMs: config.HTTP_TIMEOUT_MS,
      })
    : undefined;
  // Follow-up jobs (the delayed refresh of a bug that reports were folded into, the product's
  // status events) go back to the queue. The configured endpoint (AWS_ENDPOINT_URL_SQS) wins over
  // the queue URL's host.
  const queue = new SqsJobQueue(
    new SQSClient({
      useQueueUrlAsEndpoint: false,
      requestHandler: { connectionTimeout: 1000, requestTimeout: 3000 },
    }),
    config.JOBS_QUEUE_URL,
  );
  const announce = statusSender ? createProductAnnouncer({ queue, now }) : undefined;
  const context = { records, store, chat, now, metrics: observability.metrics, announce };
  const bugChannelId = config.BUG_CHANNEL_ID;
  const folds = new DynamoDbFoldLedger(dynamo, config.TABLE_NAME);
  // Per container, as the memo must be (see FoldDeps.scheduledRefreshes).
  const foldDeps = { ...context, folds, queue, scheduledRefreshes: new Map<string, number>() };
  const triageDeps = (channelId: string): TriageDeps => ({
    ...foldDeps,
    analyst,
    replay,
    settings: { bugChannelId: channelId },
  });
  const split = (bugId: string, by: Maintainer) => {
    if (!bugChannelId) throw new PermanentJobError('no bug channel is configured (BUG_CHANNEL_ID)');
    const deps = triageDeps(bugChannelId);
    return splitFoldedReport(bugId, by, {
      ...deps,
      triageOnItsOwn: (bug) => triageOnItsOwn(bug, now().toISOString(), deps),
    });
  };
  const maintainerOf = (job: DiscordCommandJob): Maintainer => ({
    userId: job.interaction.member.userId,
    username: job.interaction.member.username,
  });
  const fixJobs = new DynamoDbFixJobs(dynamo, config.TABLE_NAME);
  const fixes = composeFixes(config, { ...context, tracker, codeHost, githubRepo, fixJobs });

  const commandFlow = giveUpFixesWith(
    fixes,
    (job: DiscordCommandJob) => job.command.name === 'fix',
    createDiscordCommandFlow({
      chat,
      contextualize: (job) =>
        contextualize(job, {
          tracker,
          chat,
          replay,
          store,
          allowances: fixJobs,
          now,
          settings: {
            peopleLookupRoleIds:
              config.PEOPLE_LOOKUP_ROLE_IDS.length > 0
                ? config.PEOPLE_LOOKUP_ROLE_IDS
                : config.FIX_ALLOWED_ROLE_IDS,
            perUserPerHour: config.CONTEXTUALIZE_PER_USER_PER_HOUR,
          },
        }),
      status: (job) => showBugStatus(job, { records, now, guildId: config.DISCORD_GUILD_ID }),
      dashboard: () =>
        showDashboard({
          records,
          now,
          guildId: config.DISCORD_GUILD_ID,
          ...(fixes
            ? {
                fixBudget: {
                  readMonthSpend: (month: string) => fixJobs.readMonthSpend(month),
                  monthlyBudgetUsd: config.FIX_MONTHLY_BUDGET_USD,
                },
              }
            : {}),
        }),
      fix: fixes && ((job) => requestFix(job, {}, fixes)),
      split: (job) => split(job.command.bug ?? '', maintainerOf(job)),
      merge: (job) => mergeBugs(job.command.bug ?? '', job.command.into ?? '', maintainerOf(job), foldDeps),
    }),
  );
  const flows: JobFlows = {
    'discord.command': {
      async run(job) {
        // A message command reports a message: its author is told when the bug is resolved.
        if (job.command.source === 'message') await recordDiscordReporter(job, { records });
        await commandFlow.run(job);
      },
      tellFailure: commandFlow.tellFailure,
    },
    'discord.component': giveUpFixesWith(
      fixes,
      (job) => job.action === 'draft_fix',
      createBugCardFlow({
        chat,
        handle: (job) =>
          handleBugCardAction(job, {
            ...context,
            tracker,
            codeHost,
            settings: { issueTracker: config.ISSUE_TRACKER, githubRepo, guildId: config.DISCORD_GUILD_ID },
            requestFix: fixes && ((job, bug) => requestFix(job, { bug }, fixes)),
            folds,
            split,
            fixes: fixes && {
              fixJobs: fixes.fixJobs,
              launcher: fixes.launcher,
              codeHost: fixes.codeHost,
              repo: fixes.settings.repo,
            },
          }),
      }),
    ),
    'bug.report': createBugReportFlow({
      context,
      bugChannelId: bugChannelId ?? '',
      triage: (job) => {
        if (!bugChannelId) throw new PermanentJobError('no bug channel is configured (BUG_CHANNEL_ID)');
        return triageBugReport(job, triageDeps(bugChannelId));
      },
    }),
    'bug.refresh': createBugRefreshFlow({ refresh: (job) => refreshFoldedBug(job, foldDeps) }),
    // Without a fix pipeline these jobs are kept, not dropped: the DLQ holds them for a redrive.
    'fix.result': {
      run: async (job) =>
        fixes ? reportFixResult(job, fixResultDeps(fixes, config)) : notYet('fix results'),
      // A result that could not become a pull request for good: the thread names the branch and
      // the bug goes back, rather than waiting in fix_requested for ever.
      tellFailure: async (job, description) => {
        if (fixes) await giveUpFixResult(job, fixResultDeps(fixes, config), description);
      },
    },
    'fix.task-stopped': {
      run: async (job) =>
        fixes ? reportFixTaskStopped(job, fixResultDeps(fixes, config)) : notYet('fix task events'),
    },
    'github.event': {
      run: async (job) => void (await handleGitHubEvent(job, { ...context, repo: githubRepo })),
    },
    'linear.event': { run: async (job) => void (await handleLinearEvent(job, context)) },
    'bug.status': {
      async run(job) {
        // Without a status webhook (unset since it was enqueued) the event is kept for a redrive.
        if (!statusSender) throw new PermanentJobError('BUG_STATUS_WEBHOOK_URL is not set on this bugbot');
        if ((await deliverBugStatus(job, { sender: statusSender, store, now })) === 'sent')
          observability.metrics.record('StatusEventsDelivered', 1);
      },
    },
  };
  return {
    flows,
    recordFailure: (job, failure) => recordBugFailure(job, failure, { records, fixJobs, now }),
  };
}

/**
 * Who may send which job (see `authorizeFixRunnerSender`): a result sent by a runner task must
 * come from the task launched for its job, read from the job's record.
 */
export function composeSenderCheck(config: ProcessorConfig) {
  if (!config.FIX_TASK_ROLE_ID) return authorizeFixRunnerSender(undefined);
  const fixJobs = new DynamoDbFixJobs(
    createDocumentClient(
      new DynamoDBClient({ requestHandler: { connectionTimeout: 1000, requestTimeout: 3000 } }),
    ),
    config.TABLE_NAME,
  );
  return authorizeFixRunnerSender(
    config.FIX_TASK_ROLE_ID,
    async (jobId) => (await fixJobs.getFixJob(jobId))?.taskId,
  );
}

/** The fix pipeline, when this deployment has one: a repository, a GitHub token and a runner to launch. */
function composeFixes(
  config: ProcessorConfig,
  parts: Omit<RequestFixDeps, 'launcher' | 'settings' | 'codeHost'> & {
    codeHost?: CodeHost;
    githubRepo?: RepositoryRef;
  },
): RequestFixDeps | undefined {
  const { codeHost, githubRepo } = parts;
  if (
    !codeHost ||
    !githubRepo ||
    !config.FIX_CLUSTER_ARN ||
    !config.FIX_TASK_DEFINITION_ARN ||
    !config.FIX_SUBNET_IDS
  )
    return undefined;
  const launcher = new EcsFixLauncher(
    new ECSClient({ requestHandler: { connectionTimeout: 1000, requestTimeout: 5000 } }),
    {
      clusterArn: config.FIX_CLUSTER_ARN,
      taskDefinitionArn: config.FIX_TASK_DEFINITION_ARN,
      subnetIds: config.FIX_SUBNET_IDS.split(',')
        .map((id) => id.trim())
        .filter(Boolean),
      securityGroupId: config.FIX_SECURITY_GROUP_ID ?? '',
      containerName: config.FIX_CONTAINER_NAME,
    },
  );
  return {
    ...parts,
    codeHost,
    launcher,
    settings: {
      repo: githubRepo,
      cloneUrl: config.FIX_CLONE_URL,
      allowlist: config.FIX_ALLOWLIST.split(',')
        .map((entry) => entry.trim())
        .filter(Boolean),
      limits: {
        maxTurns: config.FIX_MAX_TURNS,
        maxBudgetUsd: config.FIX_MAX_BUDGET_USD,
        timeoutSeconds: config.FIX_TIMEOUT_SECONDS,
        maxChangedFiles: config.FIX_MAX_CHANGED_FILES,
        maxDiffLines: config.FIX_MAX_DIFF_LINES,
      },
      verifyCommand: config.FIX_VERIFY_COMMAND,
      perUserPerHour: config.FIX_PER_USER_PER_HOUR,
      monthlyBudgetUsd: config.FIX_MONTHLY_BUDGET_USD,
      pushRepo: parseRepo(config.FIX_PUSH_REPO),
      pushUrl: config.FIX_PUSH_URL,
    },
  };
}

function fixResultDeps(fixes: RequestFixDeps, config: ProcessorConfig) {
  return { ...fixes, repo: fixes.settings.repo, resultGraceSeconds: config.FIX_RESULT_GRACE_SECONDS };
}

/**
 * When a fix request has failed for good, its bug must not stay `fix_requested`: abandon the
 * request (job failed, bug back, thread told) before telling the person who asked.
 */
function giveUpFixesWith<J extends DiscordCommandJob | DiscordComponentJob>(
  fixes: RequestFixDeps | undefined,
  isFixRequest: (job: J) => boolean,
  flow: JobFlow<J>,
): JobFlow<J> {
  return {
    run: (job) => flow.run(job),
    async tellFailure(job, description) {
      if (fixes && isFixRequest(job))
        await abandonFixRequest(fixJobIdFor(job.idempotencyKey), fixes, description);
      await flow.tellFailure?.(job, description);
    },
  };
}

function notYet(what: string): never {
  throw new PermanentJobError(`${what} are not processed by this bugbot yet`);
}

function parseRepo(value: string | undefined): RepositoryRef | undefined {
  if (!value) return undefined;
  const [owner, repo] = value.split('/');
  return owner && repo ? { owner, repo } : undefined;
}

function requireStatusSecret(secret: string | undefined): string {
  if (!secret) {
    throw new ConfigError([
      'BUG_STATUS_WEBHOOK_SECRET: is required when BUG_STATUS_WEBHOOK_URL is set (or bugStatusWebhookSecret in the service secret)',
    ]);
  }
  if (!isStandardWebhookSecret(secret)) {
    throw new ConfigError(['service secret bugStatusWebhookSecret: must be whsec_ followed by base64']);
  }
  return secret;
}

interface ProcessorSecrets {
  readonly discordBotToken: string;
  readonly linearApiKey: string;
  readonly posthogApiKey: string;
  readonly anthropicApiKey?: string;
  readonly githubToken?: string;
  readonly bugStatusWebhookSecret?: string;
}

async function resolveSecrets(config: ProcessorConfig): Promise<ProcessorSecrets> {
  const fromEnv = {
    discordBotToken: config.DISCORD_BOT_TOKEN,
    linearApiKey: config.LINEAR_API_KEY,
    posthogApiKey: config.POSTHOG_API_KEY,
    anthropicApiKey: config.ANTHROPIC_API_KEY,
    githubToken: config.GITHUB_TOKEN,
    bugStatusWebhookSecret: config.BUG_STATUS_WEBHOOK_URL ? config.BUG_STATUS_WEBHOOK_SECRET : '',
  };
  let stored: ConfiguredServiceSecrets = {};
  if (config.SECRETS_ARN && Object.values(fromEnv).some((value) => value === undefined)) {
    stored = await readServiceSecrets(new SecretsManagerClient({}), config.SECRETS_ARN);
  }
  const resolved = {
    discordBotToken: fromEnv.discordBotToken ?? stored.discordBotToken,
    linearApiKey: fromEnv.linearApiKey ?? stored.linearApiKey,
    posthogApiKey: fromEnv.posthogApiKey ?? stored.posthogApiKey,
  };
  const missing = Object.entries(resolved)
    .filter(([, value]) => !value)
    .map(([field]) => `service secret ${field}: is empty; fill it in (see README, "First deploy")`);
  if (missing.length > 0) throw new ConfigError(missing);
  return {
    ...(resolved as { discordBotToken: string; linearApiKey: string; posthogApiKey: string }),
    anthropicApiKey: fromEnv.anthropicApiKey ?? stored.anthropicApiKey,
    githubToken: fromEnv.githubToken ?? stored.githubToken,
    bugStatusWebhookSecret: fromEnv.bugStatusWebhookSecret || stored.bugStatusWebhookSecret,
  };
}
