import { describe, expect, it, vi } from 'vitest';

// Importing the handler module runs its composition root, which loads the configuration.
vi.hoisted(() => {
  process.env.DISCORD_PUBLIC_KEY = '11'.repeat(32);
  process.env.DISCORD_APPLICATION_ID = '1180000000000000001';
  process.env.JOBS_QUEUE_URL = 'https://sqs.eu-west-1.amazonaws.com/123456789012/bugbot-jobs';
});

import { createDiscordInteractionsHandler } from '../../lambdas/discord-interactions/handler.js';
import { parseInteraction, refusals } from '../../shared/discord/parse-interaction.js';
import { createDiscordVerifier } from '../../shared/discord/verify-signature.js';
import type { HttpResult } from '../../shared/http/api-gateway.js';
import {
  discordCommandJobSchema,
  discordComponentJobSchema,
  type Job,
} from '../../shared/jobs/job-schemas.js';
import type { JobQueue } from '../../shared/ports/job-queue.js';
import {
  APPLICATION_ID,
  buildButtonClick,
  buildMessageCommand,
  buildModalSubmit,
  buildPing,
  buildSignedEvent,
  buildSlashCommand,
  createDiscordTestKeys,
  FIXER_ROLE_ID,
  GUILD_ID,
  moveToGuild,
  OTHER_GUILD_ID,
} from '../factories/discord-interactions.js';

const KEYS = createDiscordTestKeys(7);
const NOW = Date.parse('2026-11-20T10:00:00.000Z');

function createHarness(guildId: string | undefined) {
  const jobs: Job[] = [];
  const queue: JobQueue = {
    send: async (job) => {
      jobs.push(structuredClone(job));
    },
  };
  const handle = createDiscordInteractionsHandler({
    verifier: createDiscordVerifier(KEYS.publicKeyHex),
    queue,
    allowedRoleIds: [FIXER_ROLE_ID],
    clock: () => NOW,
    applicationId: APPLICATION_ID,
    guildId,
    log: () => undefined,
  });
  return { jobs, send: (payload: unknown) => handle(buildSignedEvent(payload, { keys: KEYS })) };
}

function readBody(result: HttpResult): unknown {
  expect(result.statusCode).toBe(200);
  return JSON.parse(result.body);
}

const OTHER_GUILD_REFUSAL = {
  type: 4,
  data: { flags: 64, content: refusals.otherGuild, allowed_mentions: { parse: [] } },
};

// One of each interaction that would queue a job in the served guild, including a fixer's.
const queueingInteractions = [
  ['/bugbot contextualize', () => buildSlashCommand('contextualize', { issue: 'ENG-421' })],
  [
    '/bugbot fix by a fixer',
    () => buildSlashCommand('fix', { issue: 'ENG-421' }, { roles: [FIXER_ROLE_ID] }),
  ],
  ['the "Contextualize bug" message command', () => buildMessageCommand('Contextualize bug')],
  ['a bug card button', () => buildButtonClick('bug:details:b42')],
  ['the dismiss modal submit', () => buildModalSubmit('bug:dismiss:b42', 'Duplicate of ENG-400')],
] as const;

describe('DISCORD_GUILD_ID set: only the served guild', () => {
  it.each(queueingInteractions)(
    'refuses %s from another guild, ephemerally, and queues nothing',
    async (_, build) => {
      const { send, jobs } = createHarness(GUILD_ID);
      const result = await send(moveToGuild(build(), OTHER_GUILD_ID));
      expect(readBody(result)).toEqual(OTHER_GUILD_REFUSAL);
      expect(jobs).toEqual([]);
    },
  );

  it('refuses the dismiss button of another guild before opening the modal', async () => {
    const { send, jobs } = createHarness(GUILD_ID);
    expect(readBody(await send(moveToGuild(buildButtonClick('bug:dismiss:b42'), OTHER_GUILD_ID)))).toEqual(
      OTHER_GUILD_REFUSAL,
    );
    expect(jobs).toEqual([]);
  });

  it.each(queueingInteractions)('accepts %s from the served guild and queues its job', async (_, build) => {
    const { send, jobs } = createHarness(GUILD_ID);
    expect(readBody(await send(build()))).toEqual(expect.objectContaining({ type: 5 }));
    expect(jobs).toHaveLength(1);
    const job = jobs[0]!;
    const parsed =
      job.kind === 'discord.command'
        ? discordCommandJobSchema.parse(job)
        : discordComponentJobSchema.parse(job);
    expect(parsed.interaction.guildId).toBe(GUILD_ID);
  });

  it('still answers PING, which carries no guild', async () => {
    const { send } = createHarness(GUILD_ID);
    expect(readBody(await send(buildPing()))).toEqual({ type: 1 });
  });
});

describe('DISCORD_GUILD_ID unset: any guild', () => {
  it.each(queueingInteractions)('accepts %s from any guild', async (_, build) => {
    const { send, jobs } = createHarness(undefined);
    expect(readBody(await send(moveToGuild(build(), OTHER_GUILD_ID)))).toEqual(
      expect.objectContaining({ type: 5 }),
    );
    expect(jobs).toHaveLength(1);
    expect((jobs[0] as { interaction: { guildId: string } }).interaction.guildId).toBe(OTHER_GUILD_ID);
  });
});

describe('parseInteraction guild check', () => {
  it('decides on the guild before the roles: a fixer of another guild is refused as from another guild', () => {
    const interaction = moveToGuild(
      buildSlashCommand('fix', { issue: 'ENG-1' }, { roles: [FIXER_ROLE_ID] }),
      OTHER_GUILD_ID,
    );
    expect(
      parseInteraction(interaction, { allowedRoleIds: [FIXER_ROLE_ID], now: NOW, guildId: GUILD_ID }),
    ).toEqual({ kind: 'respond', response: OTHER_GUILD_REFUSAL });
  });

  it('compares the whole id, not a prefix', () => {
    const interaction = moveToGuild(buildSlashCommand('dashboard'), `${GUILD_ID}0`);
    expect(parseInteraction(interaction, { allowedRoleIds: [], now: NOW, guildId: GUILD_ID }).kind).toBe(
      'respond',
    );
  });
});
