import type { DiscordCommandJob } from '../../shared/jobs/job-schemas.js';

let sequence = 0;

/** A valid `discord.command` job; override any part. Ids are unique per call. */
export function buildCommandJob(
  overrides: {
    command?: Partial<DiscordCommandJob['command']>;
    interaction?: Partial<DiscordCommandJob['interaction']>;
    idempotencyKey?: string;
  } = {},
): DiscordCommandJob {
  sequence += 1;
  const interactionId = `${1_300_000_000_000_000_000n + BigInt(sequence)}`;
  return {
    v: 1,
    kind: 'discord.command',
    idempotencyKey: overrides.idempotencyKey ?? `interaction:${interactionId}`,
    receivedAt: '2026-11-20T10:00:00.000Z',
    interaction: {
      id: interactionId,
      token: `token-${sequence}`,
      applicationId: '1100000000000000001',
      guildId: '1100000000000000002',
      channelId: '1100000000000000003',
      member: { userId: '1100000000000000004', username: 'maya', roles: [] },
      ...overrides.interaction,
    },
    command: { name: 'contextualize', source: 'slash', ...overrides.command },
  };
}
