import { describe, expect, it, vi } from 'vitest';

// The handler module is the Lambda's composition root: importing it loads the configuration.
// These tests drive the handler factory with injected parts; the root has its own test.
vi.hoisted(() => {
  process.env.DISCORD_PUBLIC_KEY = '11'.repeat(32);
  process.env.DISCORD_APPLICATION_ID = '1180000000000000001';
  process.env.JOBS_QUEUE_URL = 'https://sqs.eu-west-1.amazonaws.com/123456789012/bugbot-jobs';
});

import {
  createDiscordInteractionsHandler,
  type IngressLogEntry,
} from '../../lambdas/discord-interactions/handler.js';
import { refusals } from '../../shared/discord/parse-interaction.js';
import { createDiscordVerifier } from '../../shared/discord/verify-signature.js';
import { ServiceError } from '../../shared/domain/errors.js';
import type { HttpResult } from '../../shared/http/api-gateway.js';
import {
  type DiscordCommandJob,
  type DiscordComponentJob,
  discordCommandJobSchema,
  discordComponentJobSchema,
  type Job,
} from '../../shared/jobs/job-schemas.js';
import type { JobQueue } from '../../shared/ports/job-queue.js';
import {
  APPLICATION_ID,
  BUG_CARD_MESSAGE_ID,
  buildButtonClick,
  buildMessageCommand,
  buildModalSubmit,
  buildPing,
  buildSignedEvent,
  buildSlashCommand,
  buildTargetMessage,
  buildUser,
  CHANNEL_ID,
  createDiscordTestKeys,
  FIXER_ROLE_ID,
  GUILD_ID,
  MEMBER_ROLE_ID,
  moveToDirectMessage,
  type SignedEventOptions,
  THREAD_ID,
} from '../factories/discord-interactions.js';

const KEYS = createDiscordTestKeys(7);
const OTHER_KEYS = createDiscordTestKeys(9);
const NOW = Date.parse('2026-11-20T10:00:00.000Z');

class RecordingJobQueue implements JobQueue {
  readonly jobs: Job[] = [];
  failure: Error | undefined;

  async send(job: Job): Promise<void> {
    if (this.failure) throw this.failure;
    this.jobs.push(structuredClone(job));
  }
}

function createHarness(allowedRoleIds: readonly string[] = [FIXER_ROLE_ID]) {
  const queue = new RecordingJobQueue();
  const logs: IngressLogEntry[] = [];
  const handle = createDiscordInteractionsHandler({
    verifier: createDiscordVerifier(KEYS.publicKeyHex),
    queue,
    allowedRoleIds,
    clock: () => NOW,
    applicationId: APPLICATION_ID,
    log: (entry) => logs.push(entry),
  });
  return {
    queue,
    logs,
    handle,
    send: (payload: unknown, options: Partial<SignedEventOptions> = {}) =>
      handle(buildSignedEvent(payload, { keys: KEYS, ...options })),
  };
}

function readBody(result: HttpResult): Record<string, unknown> {
  expect(result.headers['content-type']).toBe('application/json');
  return JSON.parse(result.body) as Record<string, unknown>;
}

function expectRefusal(result: HttpResult, content: string): void {
  expect(result.statusCode).toBe(200);
  expect(readBody(result)).toEqual({
    type: 4,
    data: { flags: 64, content, allowed_mentions: { parse: [] } },
  });
}

function onlyCommandJob(queue: RecordingJobQueue): DiscordCommandJob {
  expect(queue.jobs).toHaveLength(1);
  return discordCommandJobSchema.parse(queue.jobs[0]);
}

function onlyComponentJob(queue: RecordingJobQueue): DiscordComponentJob {
  expect(queue.jobs).toHaveLength(1);
  return discordComponentJobSchema.parse(queue.jobs[0]);
}

describe('discord interactions ingress: signature', () => {
  it('answers a signed PING with PONG and queues nothing', async () => {
    const { send, queue } = createHarness();
    const result = await send(buildPing());
    expect(result.statusCode).toBe(200);
    expect(readBody(result)).toEqual({ type: 1 });
    expect(queue.jobs).toEqual([]);
  });

  it('verifies base64-encoded bodies over their decoded bytes', async () => {
    const { send, queue } = createHarness();
    expect(readBody(await send(buildPing(), { base64: true }))).toEqual({ type: 1 });
    // Non-ASCII content makes a wrong decoding (or none) change the signed bytes.
    const target = buildTargetMessage({ content: 'Le bouton « Payer » ne répond plus 🐛' });
    const result = await send(buildMessageCommand('Contextualize bug', target), { base64: true });
    expect(readBody(result)).toEqual({ type: 5 });
    expect(onlyCommandJob(queue).command.targetMessage?.content).toBe(
      'Le bouton « Payer » ne répond plus 🐛',
    );
  });

  const unsigned: Array<[string, Partial<SignedEventOptions>]> = [
    ['the signature header is missing', { headers: { 'x-signature-ed25519': undefined } }],
    ['the timestamp header is missing', { headers: { 'x-signature-timestamp': undefined } }],
    [
      'both headers are missing',
      { headers: { 'x-signature-ed25519': undefined, 'x-signature-timestamp': undefined } },
    ],
    ['the signature header is empty', { headers: { 'x-signature-ed25519': '' } }],
    ['the signature is not hex', { headers: { 'x-signature-ed25519': 'z'.repeat(128) } }],
    ['the signature is truncated', { headers: { 'x-signature-ed25519': 'ab'.repeat(32) } }],
    ['the body was signed with another key', { keys: OTHER_KEYS }],
    [
      'the timestamp was changed after signing',
      { timestamp: '1763632800', headers: { 'x-signature-timestamp': '1763632801' } },
    ],
  ];
  it.each(unsigned)('answers 401 and queues nothing when %s', async (_case, options) => {
    const { send, queue } = createHarness();
    const result = await send(buildSlashCommand('contextualize', { issue: 'ENG-1' }), options);
    expect(result.statusCode).toBe(401);
    expect(queue.jobs).toEqual([]);
  });

  it('answers 401 when the body was changed after signing', async () => {
    const { send, queue } = createHarness();
    const signed = buildSlashCommand('fix', {}, { roles: [MEMBER_ROLE_ID] });
    const forged = JSON.stringify({ ...signed, member: { ...signed.member, roles: [FIXER_ROLE_ID] } });
    const result = await send(signed, { deliveredBody: forged });
    expect(result.statusCode).toBe(401);
    expect(queue.jobs).toEqual([]);
  });

  it('checks the signature before parsing: unsigned garbage is a 401, not a 400', async () => {
    const { send } = createHarness();
    expect((await send('{not json', { keys: OTHER_KEYS })).statusCode).toBe(401);
  });

  it('answers 400 to a validly signed body that is not JSON', async () => {
    const { send, queue } = createHarness();
    const result = await send('{"type": 1,');
    expect(result.statusCode).toBe(400);
    expect(readBody(result)).toEqual({ error: 'malformed interaction' });
    expect(queue.jobs).toEqual([]);
  });

  it.each([
    ['an object without a type', '{"hello":"world"}'],
    ['an array', '[1,2,3]'],
    ['a string', '"ping"'],
    ['null', 'null'],
    ['a type that is not a number', JSON.stringify({ ...buildPing(), type: '1' })],
    ['an id that is not a snowflake', JSON.stringify({ ...buildPing(), id: 'abc' })],
    ['a command without data', JSON.stringify({ ...buildSlashCommand('dashboard'), data: undefined })],
    ['a command without a token', JSON.stringify({ ...buildSlashCommand('dashboard'), token: undefined })],
    [
      'a message command without its resolved message',
      JSON.stringify({
        ...buildMessageCommand('Contextualize bug'),
        data: { type: 3, name: 'Contextualize bug', target_id: '1180000000000000300' },
      }),
    ],
  ])('answers 400 to validly signed JSON that is %s', async (_case, body) => {
    const { send, queue, logs } = createHarness();
    const result = await send(body);
    expect(result.statusCode).toBe(400);
    expect(queue.jobs).toEqual([]);
    expect(logs.some((entry) => entry.level === 'warn')).toBe(true);
  });

  it('answers 400 to an interaction addressed to another application', async () => {
    const { send, queue } = createHarness();
    const result = await send({ ...buildSlashCommand('dashboard'), application_id: '1180000000000009999' });
    expect(result.statusCode).toBe(400);
    expect(queue.jobs).toEqual([]);
  });
});

describe('discord interactions ingress: slash commands', () => {
  it('queues /bugbot contextualize with its options and answers deferred', async () => {
    const { send, queue } = createHarness();
    const interaction = buildSlashCommand('contextualize', { issue: 'ENG-421', repo: 'acme/web' });
    const result = await send(interaction);
    expect(result.statusCode).toBe(200);
    expect(readBody(result)).toEqual({ type: 5 });
    const job = onlyCommandJob(queue);
    expect(job).toEqual({
      v: 1,
      kind: 'discord.command',
      idempotencyKey: interaction.id,
      receivedAt: '2026-11-20T10:00:00.000Z',
      interaction: {
        id: interaction.id,
        token: interaction.token,
        applicationId: APPLICATION_ID,
        guildId: GUILD_ID,
        channelId: CHANNEL_ID,
        member: { userId: '1180000000000000100', username: 'maya.dev', roles: [MEMBER_ROLE_ID] },
      },
      command: { name: 'contextualize', source: 'slash', issue: 'ENG-421', repo: 'acme/web' },
    });
  });

  it('queues /bugbot fix with issue, repo and instructions for a member with a fix role', async () => {
    const { send, queue } = createHarness();
    const interaction = buildSlashCommand(
      'fix',
      {
        issue: 'https://linear.app/acme/issue/ENG-421',
        repo: 'acme/web',
        instructions: '  Only touch the checkout form.  ',
      },
      { roles: [MEMBER_ROLE_ID, FIXER_ROLE_ID] },
    );
    expect(readBody(await send(interaction))).toEqual({ type: 5 });
    const job = onlyCommandJob(queue);
    expect(job.command).toEqual({
      name: 'fix',
      source: 'slash',
      issue: 'https://linear.app/acme/issue/ENG-421',
      repo: 'acme/web',
      instructions: 'Only touch the checkout form.',
    });
    expect(job.interaction.member.roles).toEqual([MEMBER_ROLE_ID, FIXER_ROLE_ID]);
  });

  it('answers /bugbot status and /bugbot dashboard with an ephemeral deferral', async () => {
    const status = createHarness();
    expect(readBody(await status.send(buildSlashCommand('status', { issue: 'ENG-9' })))).toEqual({
      type: 5,
      data: { flags: 64 },
    });
    expect(onlyCommandJob(status.queue).command).toEqual({ name: 'status', source: 'slash', issue: 'ENG-9' });

    const dashboard = createHarness();
    expect(readBody(await dashboard.send(buildSlashCommand('dashboard')))).toEqual({
      type: 5,
      data: { flags: 64 },
    });
    expect(onlyCommandJob(dashboard.queue).command).toEqual({ name: 'dashboard', source: 'slash' });
  });

  it('drops options that are only whitespace', async () => {
    const { send, queue } = createHarness();
    await send(buildSlashCommand('contextualize', { issue: '   ', repo: 'acme/web' }));
    expect(onlyCommandJob(queue).command).toEqual({
      name: 'contextualize',
      source: 'slash',
      repo: 'acme/web',
    });
  });

  it('records the thread when the command is used inside one', async () => {
    const { send, queue } = createHarness();
    await send(buildSlashCommand('contextualize', {}, { inThread: true }));
    const job = onlyCommandJob(queue);
    expect(job.interaction.threadId).toBe(THREAD_ID);
    expect(job.interaction.channelId).toBe(THREAD_ID);
  });

  it('leaves threadId unset in an ordinary channel', async () => {
    const { send, queue } = createHarness();
    await send(buildSlashCommand('dashboard'));
    expect(onlyCommandJob(queue).interaction).not.toHaveProperty('threadId');
  });
});

describe('discord interactions ingress: split and merge (maintainers)', () => {
  it('queues /bugbot split and /bugbot merge for a maintainer, answered ephemerally', async () => {
    const split = createHarness();
    const splitResult = await split.send(
      buildSlashCommand('split', { bug: 'bug_7QK2M4XN9PAT3C5R8D1F' }, { roles: [FIXER_ROLE_ID] }),
    );
    expect(readBody(splitResult)).toEqual({ type: 5, data: { flags: 64 } });
    expect(onlyCommandJob(split.queue).command).toEqual({
      name: 'split',
      source: 'slash',
      bug: 'bug_7QK2M4XN9PAT3C5R8D1F',
    });

    const merge = createHarness();
    await merge.send(buildSlashCommand('merge', { bug: 'bug_A', into: 'bug_B' }, { roles: [FIXER_ROLE_ID] }));
    expect(onlyCommandJob(merge.queue).command).toEqual({
      name: 'merge',
      source: 'slash',
      bug: 'bug_A',
      into: 'bug_B',
    });
  });

  it('queues the Split button of View Details for a maintainer', async () => {
    const { send, queue } = createHarness();
    const result = await send(buildButtonClick('bug:split:bug_dup1', { roles: [FIXER_ROLE_ID] }));
    expect(readBody(result)).toEqual({ type: 5, data: { flags: 64 } });
    expect(onlyComponentJob(queue)).toMatchObject({ action: 'split', bugId: 'bug_dup1' });
  });

  it.each([
    [
      '/bugbot split without a maintainer role',
      () => buildSlashCommand('split', { bug: 'bug_A' }),
      refusals.notAllowedToTriage,
    ],
    [
      '/bugbot merge without a maintainer role',
      () => buildSlashCommand('merge', { bug: 'bug_A', into: 'bug_B' }),
      refusals.notAllowedToTriage,
    ],
    [
      'the Split button without a maintainer role',
      () => buildButtonClick('bug:split:bug_A'),
      refusals.notAllowedToTriage,
    ],
    [
      '/bugbot merge without `into`',
      () => buildSlashCommand('merge', { bug: 'bug_A' }, { roles: [FIXER_ROLE_ID] }),
      refusals.optionMissing('into'),
    ],
    [
      '/bugbot split naming something that is not a bug id',
      () => buildSlashCommand('split', { bug: '<@123> ENG-12' }, { roles: [FIXER_ROLE_ID] }),
      refusals.notABugId('bug'),
    ],
  ] as const)('refuses %s and queues nothing', async (_name, build, content) => {
    const { send, queue } = createHarness();
    expectRefusal(await send(build()), content);
    expect(queue.jobs).toEqual([]);
  });
});

describe('discord interactions ingress: message commands', () => {
  it('queues "Contextualize bug" with the target message, for any member', async () => {
    const { send, queue } = createHarness();
    const target = buildTargetMessage();
    const interaction = buildMessageCommand('Contextualize bug', target, { inThread: true });
    expect(readBody(await send(interaction))).toEqual({ type: 5 });
    const job = onlyCommandJob(queue);
    expect(job.idempotencyKey).toBe(interaction.id);
    expect(job.interaction.threadId).toBe(THREAD_ID);
    expect(job.command).toEqual({
      name: 'contextualize',
      source: 'message',
      targetMessage: {
        id: target.id,
        channelId: CHANNEL_ID,
        authorId: '1180000000000000101',
        authorName: 'sam.reporter',
        content: target.content,
        timestamp: target.timestamp,
      },
    });
  });

  it('queues "Draft fix" for a member with a fix role', async () => {
    const { send, queue } = createHarness();
    const target = buildTargetMessage({ content: 'Broken since v2.3 <@&1180000000000000010> @everyone' });
    expect(
      readBody(await send(buildMessageCommand('Draft fix', target, { roles: [FIXER_ROLE_ID] }))),
    ).toEqual({
      type: 5,
    });
    const job = onlyCommandJob(queue);
    expect(job.command.name).toBe('fix');
    expect(job.command.source).toBe('message');
    expect(job.command.targetMessage?.content).toBe(target.content);
  });
});

describe('discord interactions ingress: bug card buttons', () => {
  it.each(['create_issue', 'details'] as const)(
    'queues %s and answers with an ephemeral deferral',
    async (action) => {
      const { send, queue } = createHarness();
      const interaction = buildButtonClick(`bug:${action}:bug_01HZX-7k`);
      const result = await send(interaction);
      expect(readBody(result)).toEqual({ type: 5, data: { flags: 64 } });
      expect(onlyComponentJob(queue)).toEqual({
        v: 1,
        kind: 'discord.component',
        idempotencyKey: interaction.id,
        receivedAt: '2026-11-20T10:00:00.000Z',
        interaction: {
          id: interaction.id,
          token: interaction.token,
          applicationId: APPLICATION_ID,
          guildId: GUILD_ID,
          channelId: CHANNEL_ID,
          member: { userId: '1180000000000000100', username: 'maya.dev', roles: [MEMBER_ROLE_ID] },
        },
        action,
        bugId: 'bug_01HZX-7k',
        messageId: BUG_CARD_MESSAGE_ID,
      });
    },
  );

  it('queues draft_fix for a member with a fix role', async () => {
    const { send, queue } = createHarness();
    const result = await send(
      buildButtonClick('bug:draft_fix:b42', { roles: [FIXER_ROLE_ID], inThread: true }),
    );
    expect(readBody(result)).toEqual({ type: 5, data: { flags: 64 } });
    const job = onlyComponentJob(queue);
    expect(job.action).toBe('draft_fix');
    expect(job.bugId).toBe('b42');
    expect(job.interaction.threadId).toBe(THREAD_ID);
  });

  it('answers dismiss with a modal asking for a reason, and queues nothing', async () => {
    const { send, queue } = createHarness();
    const result = await send(buildButtonClick('bug:dismiss:b42'));
    expect(readBody(result)).toEqual({
      type: 9,
      data: {
        custom_id: 'bug:dismiss:b42',
        title: 'Dismiss bug',
        components: [
          {
            type: 18,
            label: 'Why dismiss it?',
            description: 'Saved with the bug and shown on its card.',
            component: {
              type: 4,
              custom_id: 'reason',
              style: 2,
              required: true,
              min_length: 1,
              max_length: 1000,
            },
          },
        ],
      },
    });
    expect(queue.jobs).toEqual([]);
  });

  it.each(['label', 'action-row'] as const)(
    'queues the dismiss modal submit (%s layout) with its reason',
    async (layout) => {
      const { send, queue } = createHarness();
      const interaction = buildModalSubmit('bug:dismiss:b42', '  Duplicate of the Safari coupon bug.  ', {
        layout,
      });
      expect(readBody(await send(interaction))).toEqual({ type: 5, data: { flags: 64 } });
      const job = onlyComponentJob(queue);
      expect(job).toMatchObject({
        kind: 'discord.component',
        idempotencyKey: interaction.id,
        action: 'dismiss',
        bugId: 'b42',
        reason: 'Duplicate of the Safari coupon bug.',
        messageId: BUG_CARD_MESSAGE_ID,
      });
    },
  );

  it('accepts a bug id of 80 characters, the longest custom id that fits in 100', async () => {
    const { send, queue } = createHarness();
    const bugId = 'b'.repeat(80);
    await send(buildButtonClick(`bug:create_issue:${bugId}`));
    expect(onlyComponentJob(queue).bugId).toBe(bugId);
  });
});

describe('discord interactions ingress: refusals queue nothing', () => {
  const cases: Array<[string, () => unknown, string, (readonly string[])?]> = [
    [
      '/bugbot fix without a fix role',
      () => buildSlashCommand('fix', { issue: 'ENG-1' }),
      refusals.notAllowedToFix,
    ],
    [
      '/bugbot fix when no role is allowed (empty list = nobody)',
      () => buildSlashCommand('fix', {}, { roles: [FIXER_ROLE_ID] }),
      refusals.notAllowedToFix,
      [],
    ],
    ['"Draft fix" without a fix role', () => buildMessageCommand('Draft fix'), refusals.notAllowedToFix],
    [
      'the draft_fix button without a fix role',
      () => buildButtonClick('bug:draft_fix:b42'),
      refusals.notAllowedToFix,
    ],
    [
      'a slash command in a DM',
      () => moveToDirectMessage(buildSlashCommand('dashboard')),
      refusals.notInGuild,
    ],
    [
      'a fix from a DM, even by a fixer',
      () => moveToDirectMessage(buildSlashCommand('fix', {}, { roles: [FIXER_ROLE_ID] })),
      refusals.notInGuild,
    ],
    ['a button in a DM', () => moveToDirectMessage(buildButtonClick('bug:details:b42')), refusals.notInGuild],
    ['an unknown subcommand', () => buildSlashCommand('deploy'), refusals.unknownSubcommand],
    [
      'a subcommand name from Object.prototype',
      () => buildSlashCommand('constructor'),
      refusals.unknownSubcommand,
    ],
    [
      'an unknown slash command',
      () => ({ ...buildSlashCommand('status'), data: { id: '1', type: 1, name: 'otherbot' } }),
      refusals.unknownCommand,
    ],
    ['an unknown message command', () => buildMessageCommand('Translate'), refusals.unknownCommand],
    [
      'a user command',
      () => ({
        ...buildSlashCommand('status'),
        data: { id: '1', type: 2, name: 'Contextualize bug', target_id: '1180000000000000100' },
      }),
      refusals.unknownCommand,
    ],
    [
      'an option the subcommand does not declare',
      () => buildSlashCommand('status', { repo: 'acme/web' }),
      refusals.unknownOption,
    ],
    [
      'an issue longer than the command allows',
      () => buildSlashCommand('contextualize', { issue: 'E'.repeat(201) }),
      refusals.optionTooLong('issue'),
    ],
    ['an unknown button action', () => buildButtonClick('bug:explode:b42'), refusals.unknownAction],
    ['a custom id without a bug id', () => buildButtonClick('bug:create_issue'), refusals.malformedCustomId],
    [
      'a custom id with another prefix',
      () => buildButtonClick('ticket:create_issue:b42'),
      refusals.malformedCustomId,
    ],
    [
      'a custom id with extra parts',
      () => buildButtonClick('bug:create_issue:b42:x'),
      refusals.malformedCustomId,
    ],
    [
      'a bug id outside the charset',
      () => buildButtonClick('bug:create_issue:<@&1180000000000000010>'),
      refusals.malformedCustomId,
    ],
    [
      'a bug id of 81 characters',
      () => buildButtonClick(`bug:create_issue:${'b'.repeat(81)}`),
      refusals.malformedCustomId,
    ],
    [
      'a custom id over 100 characters',
      () => buildButtonClick(`bug:details:${'b'.repeat(89)}`),
      refusals.malformedCustomId,
    ],
    [
      'a select menu instead of a button',
      () => ({
        ...buildButtonClick('bug:details:b42'),
        data: { component_type: 3, custom_id: 'bug:details:b42', values: ['x'] },
      }),
      refusals.unknownAction,
    ],
    [
      'a modal submit with an empty reason',
      () => buildModalSubmit('bug:dismiss:b42', '   '),
      refusals.missingReason,
    ],
    [
      'a modal submit with a reason over 1000 characters',
      () => buildModalSubmit('bug:dismiss:b42', 'r'.repeat(1001)),
      refusals.reasonTooLong,
    ],
    [
      'a modal submit for another action',
      () => buildModalSubmit('bug:create_issue:b42', 'why'),
      refusals.unknownAction,
    ],
    [
      'a modal submit with a malformed custom id',
      () => buildModalSubmit('dismiss-b42', 'why'),
      refusals.malformedCustomId,
    ],
  ];

  it.each(cases)('refuses %s', async (_case, build, content, allowedRoleIds) => {
    const { send, queue } = createHarness(allowedRoleIds);
    const result = await send(build());
    expectRefusal(result, content);
    expect(queue.jobs).toEqual([]);
  });

  it('never echoes what the user typed', async () => {
    const { send } = createHarness();
    const hostile = '@everyone <@&1180000000000000010> **pwned**';
    const results = await Promise.all([
      send(buildSlashCommand(hostile)),
      send(buildMessageCommand(hostile)),
      send(buildButtonClick(`bug:${hostile}:b42`)),
      send(buildSlashCommand('contextualize', { issue: `${hostile}${'x'.repeat(200)}` })),
    ]);
    for (const result of results) {
      expect(result.statusCode).toBe(200);
      expect(result.body).not.toContain('@everyone');
      expect(result.body).not.toContain('pwned');
    }
  });

  it('answers autocomplete requests with no choices', async () => {
    const { send, queue } = createHarness();
    const result = await send({ ...buildSlashCommand('status'), type: 4 });
    expect(readBody(result)).toEqual({ type: 8, data: { choices: [] } });
    expect(queue.jobs).toEqual([]);
  });

  it('refuses a DM interaction whose user would otherwise pass', async () => {
    const { send, queue } = createHarness();
    const dm = moveToDirectMessage(
      buildSlashCommand('fix', {}, { roles: [FIXER_ROLE_ID], user: buildUser() }),
    );
    expect(dm).not.toHaveProperty('member');
    expectRefusal(await send(dm), refusals.notInGuild);
    expect(queue.jobs).toEqual([]);
  });
});

describe('discord interactions ingress: logs', () => {
  it('logs a queued button job with its correlation keys and none of the user text', async () => {
    const { send, logs } = createHarness();
    const reason = 'Duplicate of the Safari coupon bug, see my notes';
    const interaction = buildModalSubmit('bug:dismiss:b42', reason);
    await send(interaction);
    expect(logs).toEqual([
      {
        level: 'info',
        message: 'interaction job queued',
        jobKind: 'discord.component',
        idempotencyKey: interaction.id,
        interactionId: interaction.id,
        bugId: 'b42',
      },
    ]);
    expect(JSON.stringify(logs)).not.toContain('Safari');
    expect(JSON.stringify(logs)).not.toContain(interaction.token);
  });

  it('names a rejected interaction by its id only when the id is a snowflake', async () => {
    const { send, logs } = createHarness();
    const wrongApplication = { ...buildSlashCommand('dashboard'), application_id: '1180000000000009999' };
    await send(wrongApplication);
    await send({ type: 2, id: 'not a snowflake <@everyone>', application_id: APPLICATION_ID });
    expect(logs.map((entry) => entry.interactionId)).toEqual([wrongApplication.id, undefined]);
    expect(JSON.stringify(logs)).not.toContain('everyone');
  });
});

describe('discord interactions ingress: queue failures', () => {
  it('answers 500 with a generic message when the job cannot be queued, and logs it', async () => {
    const { send, queue, logs } = createHarness();
    queue.failure = new ServiceError('sqs', 'could not enqueue the job', {
      status: 503,
      cause: new Error('secret-ish SDK detail'),
    });
    const interaction = buildSlashCommand('contextualize');
    const result = await send(interaction);
    expect(result.statusCode).toBe(500);
    expect(readBody(result)).toEqual({ error: 'internal error' });
    expect(result.body).not.toContain('sqs');
    const failure = logs.find((entry) => entry.level === 'error');
    expect(failure).toMatchObject({
      jobKind: 'discord.command',
      idempotencyKey: interaction.id,
      interactionId: interaction.id,
    });
  });
});
