import Anthropic from '@anthropic-ai/sdk';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ClaudeAnalyst } from '../../shared/adapters/anthropic/claude-analyst.js';
import { readServiceSecrets } from '../../shared/adapters/aws-secrets/secrets-manager-service-secrets.js';
import { DiscordChatPlatform } from '../../shared/adapters/discord/discord-chat-platform.js';
import { createDiscordRest } from '../../shared/adapters/discord/discord-rest.js';
import { createDocumentClient } from '../../shared/adapters/dynamodb/document-client.js';
import { DynamoDbBugRecords } from '../../shared/adapters/dynamodb/dynamodb-bug-records.js';
import { DynamoDbBugStore } from '../../shared/adapters/dynamodb/dynamodb-bug-store.js';
import { createGitHubClient } from '../../shared/adapters/github/create-github-client.js';
import { GitHubCodeHost } from '../../shared/adapters/github/github-code-host.js';
import { createLinearClient } from '../../shared/adapters/linear/create-linear-client.js';
import { LinearIssueTracker } from '../../shared/adapters/linear/linear-issue-tracker.js';
import {
  createPostHogHttpClient,
  PostHogSessionReplay,
} from '../../shared/adapters/posthog/posthog-session-replay.js';
import type { ProcessorConfig } from '../../shared/config/processor-config.js';
import type { ConfiguredServiceSecrets } from '../../shared/config/service-secrets.js';
import { ConfigError, PermanentJobError } from '../../shared/domain/errors.js';
import type { Analyst } from '../../shared/ports/analyst.js';
import type { CodeHost, RepositoryRef } from '../../shared/ports/code-host.js';
import { createBugCardFlow, createBugReportFlow } from '../../shared/processing/flows/bug-flows.js';
import { createDiscordCommandFlow } from '../../shared/processing/flows/discord-command-flow.js';
import type { JobFlows } from '../../shared/processing/job-runner.js';
import { handleBugCardAction } from '../../shared/use-cases/bug-card-actions.js';
import { showBugStatus, showDashboard } from '../../shared/use-cases/bug-queries.js';
import { contextualize } from '../../shared/use-cases/contextualize.js';
import { triageBugReport } from '../../shared/use-cases/triage-bug-report.js';

/**
 * The processor's composition root: the only place its adapters are built. Tokens come from the
 * environment when set (local stack, tests), else from the service secret, read once per
 * container.
 */
export async function composeProcessorFlows(config: ProcessorConfig): Promise<JobFlows> {
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
          timeout: 60_000,
          maxRetries: 2,
        }),
        { model: config.ANTHROPIC_MODEL },
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
  const context = { records, store, chat, now };
  const bugChannelId = config.BUG_CHANNEL_ID;

  return {
    'discord.command': createDiscordCommandFlow({
      chat,
      contextualize: (job) => contextualize(job, { tracker, chat, replay, store, now }),
      status: (job) => showBugStatus(job, { records, now, guildId: config.DISCORD_GUILD_ID }),
      dashboard: () => showDashboard({ records, now, guildId: config.DISCORD_GUILD_ID }),
    }),
    'discord.component': createBugCardFlow({
      chat,
      handle: (job) =>
        handleBugCardAction(job, {
          ...context,
          tracker,
          codeHost,
          settings: { issueTracker: config.ISSUE_TRACKER, githubRepo, guildId: config.DISCORD_GUILD_ID },
        }),
    }),
    'bug.report': createBugReportFlow({
      context,
      bugChannelId: bugChannelId ?? '',
      triage: (job) => {
        if (!bugChannelId) throw new PermanentJobError('no bug channel is configured (BUG_CHANNEL_ID)');
        return triageBugReport(job, { ...context, analyst, replay, settings: { bugChannelId } });
      },
    }),
    // Until the fix pipeline is deployed these jobs are kept, not dropped: the DLQ holds them
    // for a redrive once their flow exists.
    'fix.result': { run: async () => notYet('fix results') },
    'fix.task-stopped': { run: async () => notYet('fix task events') },
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

interface ProcessorSecrets {
  readonly discordBotToken: string;
  readonly linearApiKey: string;
  readonly posthogApiKey: string;
  readonly anthropicApiKey?: string;
  readonly githubToken?: string;
}

async function resolveSecrets(config: ProcessorConfig): Promise<ProcessorSecrets> {
  const fromEnv = {
    discordBotToken: config.DISCORD_BOT_TOKEN,
    linearApiKey: config.LINEAR_API_KEY,
    posthogApiKey: config.POSTHOG_API_KEY,
    anthropicApiKey: config.ANTHROPIC_API_KEY,
    githubToken: config.GITHUB_TOKEN,
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
  };
}
