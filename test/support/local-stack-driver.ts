import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type BuiltInteraction,
  buildInteraction,
  buildMember,
  type InteractionOptions,
  type Sandbox,
  signInteraction,
} from '../../local/discord-interaction-builder.js';
import { type LocalStack, SANDBOX_MAINTAINER_ROLE_ID, startLocalStack } from '../../local/local-stack.js';
import { signReport } from '../../local/report-sender.js';
import type { Fault } from '../../local/stand-ins/stand-in.js';

/**
 * Drives a whole local stack (same handlers, dynalite, local SQS, stand-ins) the way a person
 * would: signed interactions in, `/_local/state` out. One stack per test file: the handlers
 * read their environment at import, as Lambdas do at cold start.
 */
export interface StackDriver {
  readonly stack: LocalStack;
  readonly sandbox: Sandbox;
  sendCommand(
    command: string,
    args?: string[],
    options?: InteractionOptions & {
      thread?: boolean;
      as?: 'maintainer' | 'member';
      /** Where the interaction happens, instead of the sandbox's #bug-reports. */
      place?: Sandbox;
      /** The member's roles, instead of the maintainer's or none. */
      roles?: string[];
    },
  ): Promise<{ status: number; body: string; interaction: BuiltInteraction }>;
  sendReport(report: Record<string, unknown>): Promise<{ status: number; body: Record<string, unknown> }>;
  setFault(service: Fault & { service: string }): Promise<void>;
  clearFaults(): Promise<void>;
  state(): Promise<StackState>;
  waitFor<T>(
    what: string,
    probe: (state: StackState) => T | undefined | null | false,
    timeoutMs?: number,
  ): Promise<T>;
  waitForIdle(timeoutMs?: number): Promise<StackState>;
  close(): Promise<void>;
}

export interface StackState {
  queues: { jobs: { visible: number; inFlight: number }; dlq: { visible: number } };
  bugs: StateBug[];
  sandbox: {
    discord: {
      messages: SentMessage[];
      channels: { id: string; guildId: string; name: string }[];
      threads: { id: string; parentId: string }[];
    };
    linear: {
      issues: { id: string; identifier: string; title: string }[];
      comments: { id: string; issueId: string; body: string }[];
      attachments: unknown[];
    };
    [service: string]: unknown;
  };
}

export interface StateBug {
  id: string;
  bugId: string;
  status: string;
  priority: number | null;
  duplicateOf?: string;
  reportCount: number;
  reporterCount?: number;
  distinctReporters: string[];
  recentReporters?: string[];
  notDuplicateOf?: string[];
  foldReason?: { kind: string };
  issue?: { identifier: string; url: string };
  card?: { channelId: string; messageId: string; threadId?: string };
  analysis?: { state: string };
}

export interface SentMessage {
  id: string;
  kind: string;
  channelId?: string;
  threadId?: string;
  interactionToken?: string;
  content: string;
  embeds: { title?: string; description?: string; fields?: { name: string; value: string }[] }[];
  components: { components: { custom_id?: string; label?: string; disabled?: boolean }[] }[];
  allowedMentions: { parse?: string[] } | null;
  flags: number;
  editCount: number;
}

export interface StackDriverOptions {
  /** The stack's environment (its settings win over the sandbox's, local/local-settings.ts). */
  readonly env?: Record<string, string>;
  /** Signs interactions with this key instead of the stack's own (a team's DISCORD_PUBLIC_KEY). */
  readonly discordPrivateKeyPem?: string;
  readonly maxMessageBytes?: number;
  readonly onListening?: (url: string) => void;
}

export async function startStackDriver(
  handlerEnv: Record<string, string> = {},
  options: StackDriverOptions = {},
): Promise<StackDriver> {
  const dataDir = mkdtempSync(join(tmpdir(), 'bugbot-stack-'));
  const stack = await startLocalStack({
    port: 0,
    dataDir,
    inMemory: true,
    env: options.env ?? {},
    ...(options.maxMessageBytes ? { maxMessageBytes: options.maxMessageBytes } : {}),
    ...(options.onListening ? { onListening: options.onListening } : {}),
    // Long enough for the slowest flow (GitHub writes are paced a second apart).
    visibilityTimeoutSeconds: 30,
    handlerEnv: {
      RETRY_BASE_DELAY_SECONDS: '0',
      POWERTOOLS_LOG_LEVEL: 'ERROR',
      // Quiet by default; operator-local-metrics.test.ts turns them on to check them.
      POWERTOOLS_METRICS_DISABLED: 'true',
      FIX_RESULT_GRACE_SECONDS: '1',
      ...handlerEnv,
    },
  });
  const state = async () => (await (await fetch(`${stack.url}/_local/state`)).json()) as StackState;
  const initial = await state();
  const channel = initial.sandbox.discord.channels.find((candidate) => candidate.name === 'bug-reports');
  if (!channel) throw new Error('sandbox has no #bug-reports');
  const sandbox: Sandbox = { guildId: channel.guildId, channelId: channel.id };
  const thread = initial.sandbox.discord.threads.find((candidate) => candidate.parentId === channel.id);
  // Sign as the stack expects: its own key pair and application, or the ones its environment set.
  const signer = {
    discordPrivateKeyPem: options.discordPrivateKeyPem ?? stack.keys.discordPrivateKeyPem,
    discordApplicationId: stack.settings.values.DISCORD_APPLICATION_ID ?? stack.keys.discordApplicationId,
  };
  const webhookSecret = stack.settings.values.BUG_REPORT_WEBHOOK_SECRET ?? stack.keys.webhookSecret;

  const driver: StackDriver = {
    stack,
    sandbox,
    async sendCommand(command, args = [], options = {}) {
      const member =
        options.as === 'member'
          ? buildMember('1300000000000000043', 'sam', options.roles ?? [])
          : buildMember('1300000000000000042', 'maya', options.roles ?? [SANDBOX_MAINTAINER_ROLE_ID]);
      const placement = options.place ?? (options.thread ? { ...sandbox, threadId: thread?.id } : sandbox);
      const interaction = buildInteraction(command, args, options, {
        keys: signer,
        sandbox: placement,
        member,
      });
      if (!interaction) throw new Error(`cannot build ${command}`);
      const body = JSON.stringify(interaction);
      const response = await fetch(`${stack.url}/discord/interactions`, {
        method: 'POST',
        headers: signInteraction(signer, body),
        body,
      });
      return { status: response.status, body: await response.text(), interaction };
    },
    async sendReport(report) {
      const signed = signReport(webhookSecret, report);
      const response = await fetch(`${stack.url}/webhooks/bug-report`, {
        method: 'POST',
        headers: signed.headers,
        body: signed.body,
      });
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    },
    async setFault(fault) {
      const response = await fetch(`${stack.url}/_local/faults`, {
        method: 'POST',
        body: JSON.stringify(fault),
      });
      if (!response.ok) throw new Error(`fault refused: ${await response.text()}`);
    },
    async clearFaults() {
      for (const service of ['discord', 'linear', 'posthog', 'anthropic', 'github']) {
        await fetch(`${stack.url}/_local/faults`, {
          method: 'POST',
          body: JSON.stringify({ service, clear: true }),
        });
      }
    },
    state,
    async waitFor(what, probe, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      let last: StackState | undefined;
      while (Date.now() < deadline) {
        last = await state();
        const result = probe(last);
        if (result !== undefined && result !== null && result !== false) return result as never;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      throw new Error(`timed out waiting for ${what}; last queues: ${JSON.stringify(last?.queues)}`);
    },
    async waitForIdle(timeoutMs = 30_000) {
      return driver.waitFor(
        'the jobs queue to drain',
        (current) =>
          current.queues.jobs.visible === 0 && current.queues.jobs.inFlight === 0 ? current : undefined,
        timeoutMs,
      );
    },
    async close() {
      await stack.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return driver;
}

/** What bugbot answered to one interaction (its deferred response, edited), if anything yet. */
export function replyTo(state: StackState, interaction: BuiltInteraction): SentMessage | undefined {
  return state.sandbox.discord.messages
    .filter((message) => message.interactionToken === interaction.token)
    .at(-1);
}
