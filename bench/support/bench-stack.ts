import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  buildInteraction,
  buildMember,
  type Sandbox,
  signInteraction,
} from '../../local/discord-interaction-builder.js';
import { type LocalStack, SANDBOX_MAINTAINER_ROLE_ID, startLocalStack } from '../../local/local-stack.js';
import type { StandIn } from '../../local/stand-ins/stand-in.js';

/**
 * The local stack as `npm start` runs it (60-second visibility timeout, so a batch slowed by a
 * rate limit is not redelivered mid-flight), in memory, with every service sandboxed. The test
 * driver is not used because it shortens the visibility timeout to 2 seconds for its retry tests.
 */
export interface BenchStack {
  readonly stack: LocalStack;
  /** The sandbox guild's #bug-reports. */
  readonly sandbox: Sandbox;
  standIn(service: 'discord' | 'linear' | 'posthog'): StandIn;
  /** Signs and posts a "Contextualize bug" message command, as Discord would; returns its token. */
  sendMessageCommand(text: string): Promise<{ status: number; token: string }>;
  setLatency(services: readonly string[], latencyMs: number): Promise<void>;
  close(): Promise<void>;
}

export async function startBenchStack(): Promise<BenchStack> {
  const dataDir = mkdtempSync(join(tmpdir(), 'bugbot-bench-stack-'));
  const stack = await startLocalStack({
    port: 0,
    dataDir,
    inMemory: true,
    env: {},
    // Logs at ERROR keep the bench output readable; RETRY_BASE_DELAY 0 as in the integration tests.
    // Metric lines would bury the tables; the tests check that the stack prints them.
    handlerEnv: {
      RETRY_BASE_DELAY_SECONDS: '0',
      POWERTOOLS_LOG_LEVEL: 'ERROR',
      POWERTOOLS_METRICS_DISABLED: 'true',
    },
  });
  const state = (await (await fetch(`${stack.url}/_local/state`)).json()) as {
    sandbox: { discord: { channels: { id: string; guildId: string; name: string }[] } };
  };
  const channel = state.sandbox.discord.channels.find((candidate) => candidate.name === 'bug-reports');
  if (!channel) {
    await stack.close();
    throw new Error('the sandbox has no #bug-reports');
  }
  const sandbox: Sandbox = { guildId: channel.guildId, channelId: channel.id };
  const member = buildMember('1300000000000000042', 'maya', [SANDBOX_MAINTAINER_ROLE_ID]);

  return {
    stack,
    sandbox,
    standIn(service) {
      const found = stack.sandbox.standIns.find((candidate) => candidate.service === service);
      if (!found) throw new Error(`${service} is not sandboxed`);
      return found;
    },
    async sendMessageCommand(text) {
      const interaction = buildInteraction(
        'contextualize-message',
        [text],
        {},
        { keys: stack.keys, sandbox, member },
      );
      if (!interaction) throw new Error('could not build the message command');
      const body = JSON.stringify(interaction);
      const response = await fetch(`${stack.url}/discord/interactions`, {
        method: 'POST',
        headers: signInteraction(stack.keys, body),
        body,
      });
      await response.arrayBuffer();
      return { status: response.status, token: interaction.token };
    },
    async setLatency(services, latencyMs) {
      for (const service of services) {
        const response = await fetch(`${stack.url}/_local/faults`, {
          method: 'POST',
          body: JSON.stringify({ service, failRate: 0, status: 500, latencyMs }),
        });
        if (!response.ok) throw new Error(`fault refused: ${await response.text()}`);
      }
    },
    async close() {
      await stack.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
