import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { readServiceSecrets } from '../../shared/adapters/aws-secrets/secrets-manager-service-secrets.js';
import { DiscordChatPlatform } from '../../shared/adapters/discord/discord-chat-platform.js';
import { createDiscordRest } from '../../shared/adapters/discord/discord-rest.js';
import { createDocumentClient } from '../../shared/adapters/dynamodb/document-client.js';
import { DynamoDbBugStore } from '../../shared/adapters/dynamodb/dynamodb-bug-store.js';
import { createLinearClient } from '../../shared/adapters/linear/create-linear-client.js';
import { LinearIssueTracker } from '../../shared/adapters/linear/linear-issue-tracker.js';
import {
  createPostHogHttpClient,
  PostHogSessionReplay,
} from '../../shared/adapters/posthog/posthog-session-replay.js';
import type { ProcessorConfig } from '../../shared/config/processor-config.js';
import type { ConfiguredServiceSecrets } from '../../shared/config/service-secrets.js';
import { ConfigError, PermanentJobError } from '../../shared/domain/errors.js';
import type { ChatPlatform } from '../../shared/ports/chat-platform.js';
import { createDiscordCommandFlow } from '../../shared/processing/flows/discord-command-flow.js';
import type { JobFlows } from '../../shared/processing/job-runner.js';
import { contextualize } from '../../shared/use-cases/contextualize.js';

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
  const now = () => new Date();

  return {
    'discord.command': createDiscordCommandFlow({
      chat,
      contextualize: (job) => contextualize(job, { tracker, chat, replay, store, now }),
    }),
    'discord.component': notYetAvailableComponentFlow(chat),
    // Until triage and the fix pipeline are deployed these jobs are kept, not dropped: the DLQ
    // holds them for a redrive once their flows exist.
    'bug.report': { run: async () => notYet('bug reports') },
    'fix.result': { run: async () => notYet('fix results') },
    'fix.task-stopped': { run: async () => notYet('fix task events') },
  };
}

function notYet(what: string): never {
  throw new PermanentJobError(`${what} are not processed by this bugbot yet`);
}

function notYetAvailableComponentFlow(chat: ChatPlatform): JobFlows['discord.component'] {
  return {
    async run(job) {
      await chat.editInteractionResponse(
        { applicationId: job.interaction.applicationId, token: job.interaction.token },
        { content: 'Bug card buttons are not handled by this bugbot yet; nothing was changed.' },
      );
    },
  };
}

interface ProcessorSecrets {
  readonly discordBotToken: string;
  readonly linearApiKey: string;
  readonly posthogApiKey: string;
}

async function resolveSecrets(config: ProcessorConfig): Promise<ProcessorSecrets> {
  let stored: ConfiguredServiceSecrets = {};
  const fromEnv = {
    discordBotToken: config.DISCORD_BOT_TOKEN,
    linearApiKey: config.LINEAR_API_KEY,
    posthogApiKey: config.POSTHOG_API_KEY,
  };
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
    .map(([field]) => `service secret ${field}: is empty; fill it in (see README, "Filling the secret")`);
  if (missing.length > 0) throw new ConfigError(missing);
  return resolved as ProcessorSecrets;
}
