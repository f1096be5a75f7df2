import { Routes } from 'discord-api-types/v10';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createDiscordStandIn,
  type DiscordStandIn,
  type DiscordStandInOptions,
} from '../../local/stand-ins/discord-stand-in.js';
import { DiscordChatPlatform } from '../../shared/adapters/discord/discord-chat-platform.js';
import {
  createDiscordRest,
  type DiscordRest,
  type DiscordRestOptions,
} from '../../shared/adapters/discord/discord-rest.js';
import { ServiceError } from '../../shared/domain/errors.js';
import { runWithDeadline } from '../../shared/runtime/invocation-deadline.js';
import { type ServedStandIn, serveStandIn } from '../support/serve-stand-in.js';

const BOT_TOKEN = 'local-bot-token';
const INTERACTION_TOKEN = 'aW50ZXJhY3Rpb246MTIzNDU2Nzg5MDEyMzQ1Njc4OTA6c2VjcmV0';

let standIn: DiscordStandIn;
let served: ServedStandIn;

async function start(options: DiscordStandInOptions = {}): Promise<void> {
  standIn = createDiscordStandIn({ botToken: BOT_TOKEN, ...options });
  served = await serveStandIn(standIn);
}

function connect(options: Partial<DiscordRestOptions> = {}): {
  rest: DiscordRest;
  platform: DiscordChatPlatform;
} {
  const rest = createDiscordRest({
    botToken: BOT_TOKEN,
    api: `${served.baseUrl}/api`,
    timeoutMs: 2_000,
    baseDelayMs: 20,
    ...options,
  });
  return { rest, platform: new DiscordChatPlatform(rest) };
}

async function captureError(promise: Promise<unknown>): Promise<ServiceError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(ServiceError);
  return error as ServiceError;
}

beforeEach(async () => {
  await start();
});

afterEach(async () => {
  await served.close();
});

describe('DiscordChatPlatform against the Discord stand-in', () => {
  it('fetches recent messages newest last, with their authors', async () => {
    const { platform } = connect();
    const all = await platform.fetchRecentMessages(standIn.ids.generalChannelId, 50);
    expect(all.length).toBeGreaterThanOrEqual(4);
    const times = all.map((message) => Date.parse(message.timestamp));
    expect(times).toEqual([...times].sort((a, b) => a - b));

    const recent = await platform.fetchRecentMessages(standIn.ids.generalChannelId, 2);
    expect(recent).toEqual(all.slice(-2));
    expect(new Set(all.map((message) => message.authorId)).size).toBeGreaterThanOrEqual(2);
    expect(all.every((message) => !message.isBot && message.authorName.length > 0)).toBe(true);
  });

  it('posts once for a repeated nonce, even one longer than Discord allows', async () => {
    const { platform } = connect();
    const channelId = standIn.ids.bugReportsChannelId;
    const nonce = 'job-6f1c2a4e-93b1-4d0f-a7f5-0c9d2b8e1a77';
    const first = await platform.postMessage(channelId, { content: 'New bug: upload crash' }, { nonce });
    const second = await platform.postMessage(channelId, { content: 'New bug: upload crash' }, { nonce });
    expect(second.id).toBe(first.id);

    const posts = standIn.calls.filter((call) => call.method === 'POST');
    expect(posts).toHaveLength(2);
    const sentBody = posts[0]?.body as { nonce: string; enforce_nonce: boolean };
    expect(sentBody.enforce_nonce).toBe(true);
    expect(sentBody.nonce.length).toBeLessThanOrEqual(25);
    expect(standIn.snapshot().messages.map((message) => message.id)).toEqual([first.id]);
  });

  it('posts twice without a nonce', async () => {
    const { platform } = connect();
    const a = await platform.postMessage(standIn.ids.bugReportsChannelId, { content: 'same' });
    const b = await platform.postMessage(standIn.ids.bugReportsChannelId, { content: 'same' });
    expect(a.id).not.toBe(b.id);
    expect(BigInt(b.id) > BigInt(a.id)).toBe(true);
    expect(standIn.snapshot().messages).toHaveLength(2);
  });

  it('edits a message in place, replacing its parts', async () => {
    const { platform } = connect();
    const channelId = standIn.ids.bugReportsChannelId;
    const { id } = await platform.postMessage(channelId, {
      embeds: [{ title: 'Upload crash', description: 'Android 14' }],
      buttonRows: [[{ id: 'bug:dismiss:b1', label: 'Dismiss', style: 'danger' }]],
    });
    await platform.editMessage(channelId, id, { embeds: [{ title: 'Upload crash (dismissed)' }] });

    const [message] = standIn.snapshot().messages;
    expect(message).toMatchObject({
      id,
      kind: 'channel',
      channelId,
      embeds: [{ title: 'Upload crash (dismissed)' }],
      components: [],
      editCount: 1,
    });
    expect(message?.editedAt).toBeDefined();
  });

  it('starts a thread on a message, idempotently, and posts into it', async () => {
    const { platform } = connect();
    const channelId = standIn.ids.bugReportsChannelId;
    const card = await platform.postMessage(channelId, { content: 'Bug card' });
    const longName = `Upload crash on Android 14 ${'x'.repeat(200)}`;
    const thread = await platform.startThread(channelId, card.id, longName);
    expect(thread.id).toBe(card.id);
    // A retried job starts the same thread again: same answer, no error.
    expect(await platform.startThread(channelId, card.id, longName)).toEqual(thread);

    await platform.postMessage(thread.id, { content: 'Linear issue ENG-12 created' });
    const snapshot = standIn.snapshot();
    const created = snapshot.threads.find((entry) => entry.id === thread.id);
    expect(created).toMatchObject({ parentId: channelId, createdByBot: true, messageCount: 1 });
    expect(created?.name.length).toBeLessThanOrEqual(100);
    expect(created?.name.startsWith('Upload crash on Android 14')).toBe(true);
    expect(snapshot.messages.at(-1)).toMatchObject({ kind: 'channel', channelId, threadId: thread.id });
  });

  it('edits the deferred interaction response without the bot token', async () => {
    // A wrong bot token proves the webhook route needs none.
    const { platform } = connect({ botToken: 'not-the-bot-token' });
    const interaction = { applicationId: standIn.ids.applicationId, token: INTERACTION_TOKEN };
    await platform.editInteractionResponse(interaction, { content: 'Looking into it…' });
    await platform.editInteractionResponse(interaction, { content: 'Linked to ENG-12' });

    const messages = standIn.snapshot().messages;
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatchObject({
      kind: 'interaction-original',
      interactionToken: INTERACTION_TOKEN,
      content: 'Linked to ENG-12',
      editCount: 2,
    });
  });

  it('sends follow-ups, ephemeral ones with flag 64', async () => {
    const { platform } = connect();
    const interaction = { applicationId: standIn.ids.applicationId, token: INTERACTION_TOKEN };
    const hidden = await platform.sendFollowup(interaction, {
      content: 'Only you see this',
      ephemeral: true,
    });
    const shown = await platform.sendFollowup(interaction, { content: 'Everyone sees this' });
    const byId = new Map(standIn.snapshot().messages.map((message) => [message.id, message]));
    expect(byId.get(hidden.id)).toMatchObject({
      kind: 'followup',
      flags: 64,
      interactionToken: INTERACTION_TOKEN,
    });
    expect(byId.get(shown.id)?.flags).toBe(0);
  });

  it('sends every message with mentions disabled', async () => {
    const { platform } = connect();
    const channelId = standIn.ids.bugReportsChannelId;
    const interaction = { applicationId: standIn.ids.applicationId, token: INTERACTION_TOKEN };
    const { id } = await platform.postMessage(channelId, { content: '@everyone the app is down <@123>' });
    await platform.editMessage(channelId, id, { content: '@here still down' });
    await platform.startThread(channelId, id, 'App down');
    await platform.postMessage(id, { content: 'thread @everyone' });
    await platform.editInteractionResponse(interaction, { content: '@here done' });
    await platform.sendFollowup(interaction, { content: '@everyone', ephemeral: true });

    const messages = standIn.snapshot().messages;
    expect(messages).toHaveLength(4);
    for (const message of messages) {
      expect(message.allowedMentions).toEqual({ parse: [] });
      expect(message.content).not.toMatch(/@(everyone|here)/);
    }
  });

  it('records a message sent without allowed_mentions, so the check above can fail', async () => {
    const response = await fetch(
      `${served.baseUrl}/api/v10${Routes.channelMessages(standIn.ids.generalChannelId)}`,
      {
        method: 'POST',
        headers: { authorization: `Bot ${BOT_TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ content: 'raw' }),
      },
    );
    expect(response.status).toBe(200);
    expect(standIn.snapshot().messages[0]?.allowedMentions).toBeNull();
  });

  it('accepts what the renderer makes of oversized input', async () => {
    const { platform } = connect();
    const fields = Array.from({ length: 30 }, (_, index) => ({
      name: `Field ${index}`,
      value: 'v'.repeat(1500),
    }));
    await platform.postMessage(standIn.ids.bugReportsChannelId, {
      content: 'c'.repeat(5000),
      embeds: [{ title: 't'.repeat(500), description: 'd'.repeat(9000), fields, footer: 'f'.repeat(3000) }],
    });
    expect(standIn.snapshot().messages).toHaveLength(1);
  });

  it('rejects oversized bodies with Discord form errors', async () => {
    const response = await fetch(
      `${served.baseUrl}/api/v10${Routes.channelMessages(standIn.ids.generalChannelId)}`,
      {
        method: 'POST',
        headers: { authorization: `Bot ${BOT_TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          content: 'x'.repeat(2001),
          embeds: [
            {
              title: 't'.repeat(257),
              description: 'd'.repeat(4000),
              fields: [{ name: 'n', value: 'v'.repeat(3000) }],
            },
          ],
          allowed_mentions: { parse: [] },
        }),
      },
    );
    expect(response.status).toBe(400);
    const body = (await response.json()) as {
      code: number;
      message: string;
      errors: Record<string, unknown>;
    };
    expect(body.code).toBe(50035);
    expect(body.message).toBe('Invalid Form Body');
    expect(body.errors).toMatchObject({
      content: { _errors: [{ code: 'BASE_TYPE_MAX_LENGTH' }] },
      embeds: {
        _errors: [{ code: 'MAX_EMBED_SIZE_EXCEEDED' }],
        0: { title: { _errors: [{ code: 'BASE_TYPE_MAX_LENGTH' }] } },
      },
    });
    expect(standIn.snapshot().messages).toHaveLength(0);
  });
});

describe('failures and rate limits', () => {
  it('waits out an injected 429 with retry-after, then succeeds', async () => {
    const { platform } = connect();
    standIn.setFault({ failRate: 0, status: 429, latencyMs: 0, failNext: 1 });
    const started = Date.now();
    const { id } = await platform.postMessage(standIn.ids.bugReportsChannelId, { content: 'after a 429' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(standIn.calls.map((call) => call.status)).toEqual([429, 200]);
    expect(standIn.snapshot().messages.map((message) => message.id)).toEqual([id]);
  });

  it('keeps within the rate-limit headers it is sent', async () => {
    await served.close();
    await start({ rateLimit: { limit: 2, windowMs: 400 } });
    const { platform } = connect();
    const started = Date.now();
    await Promise.all(
      [1, 2, 3, 4, 5].map((n) => platform.postMessage(standIn.ids.bugReportsChannelId, { content: `#${n}` })),
    );
    expect(Date.now() - started).toBeGreaterThanOrEqual(700);
    expect(standIn.calls.map((call) => call.status)).toEqual([200, 200, 200, 200, 200]);
    expect(standIn.snapshot().messages).toHaveLength(5);
  });

  it('gives up on a 500 that does not go away: retryable, after the configured retries', async () => {
    const { platform } = connect({ retries: 2 });
    standIn.setFault({ failRate: 1, status: 500, latencyMs: 0 });
    const error = await captureError(platform.postMessage(standIn.ids.bugReportsChannelId, { content: 'x' }));
    expect(error).toMatchObject({ service: 'discord', status: 500, retryable: true });
    expect(standIn.calls).toHaveLength(3);
  });

  it('treats a timeout as retryable', async () => {
    const { platform } = connect({ timeoutMs: 150, retries: 1 });
    standIn.setFault({ failRate: 0, status: 500, latencyMs: 400 });
    const error = await captureError(platform.fetchRecentMessages(standIn.ids.generalChannelId, 5));
    expect(error).toMatchObject({ service: 'discord', status: undefined, retryable: true });
    expect(error.message).toMatch(/timed out/);
  });

  it('maps an unknown channel to a non-retryable 404', async () => {
    const { platform } = connect();
    const error = await captureError(platform.postMessage('1234567890123456789', { content: 'x' }));
    expect(error).toMatchObject({ service: 'discord', status: 404, retryable: false });
    expect(error.message).toMatch(/10003/);
  });

  it('answers 401 to a wrong or missing bot token', async () => {
    const { platform } = connect({ botToken: 'not-the-bot-token' });
    const error = await captureError(platform.fetchRecentMessages(standIn.ids.generalChannelId, 5));
    expect(error).toMatchObject({ service: 'discord', status: 401, retryable: false });

    const bare = await fetch(
      `${served.baseUrl}/api/v10${Routes.channelMessages(standIn.ids.generalChannelId)}`,
    );
    expect(bare.status).toBe(401);
    expect(standIn.calls.map((call) => call.status)).toEqual([401, 401]);
  });

  it('keeps the interaction token out of the error it raises', async () => {
    const { platform } = connect();
    const error = await captureError(
      platform.sendFollowup(
        { applicationId: '1234567890123456789', token: INTERACTION_TOKEN },
        { content: 'x' },
      ),
    );
    expect(error).toMatchObject({ status: 404, retryable: false });
    const cause = error.cause as (Error & { url?: string }) | undefined;
    expect(`${error.message} ${error.stack} ${cause?.message} ${cause?.url} ${cause?.stack}`).not.toContain(
      INTERACTION_TOKEN,
    );
  });
});

describe('answers that are not what Discord sends', () => {
  it('does not take a 200 with an HTML page for a posted message: retries, then fails retryably', async () => {
    const { platform } = connect({ retries: 1 });
    standIn.setFault({ failRate: 1, status: 200, latencyMs: 0, body: 'html' });
    const error = await captureError(platform.postMessage(standIn.ids.bugReportsChannelId, { content: 'x' }));
    expect(error).toMatchObject({ service: 'discord', retryable: true });
    expect(error.message).toMatch(/not JSON/);
    expect(standIn.calls).toHaveLength(2);
    expect(standIn.snapshot().messages).toHaveLength(0);
  });

  it('retries an HTML 502 from the edge and succeeds once Discord answers', async () => {
    const { platform } = connect();
    standIn.setFault({ failRate: 0, status: 502, latencyMs: 0, body: 'html', failNext: 1 });
    const { id } = await platform.postMessage(standIn.ids.bugReportsChannelId, { content: 'after a 502' });
    expect(standIn.calls.map((call) => call.status)).toEqual([502, 200]);
    expect(standIn.snapshot().messages.map((message) => message.id)).toEqual([id]);
  });

  it('posts once when the answer to a nonce post is cut off: the retry returns the same message', async () => {
    const { platform } = connect();
    standIn.setFault({ failRate: 0, status: 200, latencyMs: 0, body: 'truncated', failNext: 1 });
    const { id } = await platform.postMessage(
      standIn.ids.bugReportsChannelId,
      { content: 'card' },
      { nonce: 'card:bug_cut' },
    );
    expect(standIn.calls.filter((call) => call.method === 'POST')).toHaveLength(2);
    expect(standIn.snapshot().messages.map((message) => message.id)).toEqual([id]);
  });

  it('treats a cut-off list of messages as a failure, not as an empty thread', async () => {
    const { platform } = connect({ retries: 0 });
    standIn.setFault({ failRate: 1, status: 200, latencyMs: 0, body: 'truncated' });
    const error = await captureError(platform.fetchRecentMessages(standIn.ids.generalChannelId, 10));
    expect(error).toMatchObject({ retryable: true });
  });

  it('reads back its own posts since a moment, to find a post whose answer was lost', async () => {
    const { platform } = connect();
    const channelId = standIn.ids.bugReportsChannelId;
    const before = await platform.postMessage(channelId, { content: 'earlier post' });
    const since = new Date(Date.now() + 5);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const card = await platform.postMessage(channelId, {
      embeds: [{ title: 'Checkout crash' }],
      buttonRows: [[{ id: 'bug:details:bug_1', label: 'View Details', style: 'secondary' }]],
    });
    const posts = await platform.listOwnPostsSince(channelId, since);
    expect(posts.map((post) => post.id)).toEqual([card.id]);
    expect(posts[0]).toMatchObject({
      embeds: [{ title: 'Checkout crash' }],
      buttonIds: ['bug:details:bug_1'],
    });
    expect(posts.some((post) => post.id === before.id)).toBe(false);
  });
});

describe('rate limits and the invocation deadline', () => {
  it('does not sleep through a 429 longer than it may wait: fails at once with retryAfterMs', async () => {
    const { platform } = connect({ maxRateLimitWaitMs: 20_000 });
    standIn.setFault({ failRate: 1, status: 429, latencyMs: 0, retryAfterSeconds: 60 });
    const started = Date.now();
    const error = await captureError(platform.postMessage(standIn.ids.bugReportsChannelId, { content: 'x' }));
    // Neither the 60 s asked for nor up to the 20 s it may wait: at once (room for a busy machine).
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(error).toMatchObject({ status: 429, retryable: true, retryAfterMs: 60_000 });
    expect(standIn.calls).toHaveLength(1);
  });

  it('reads retry_after from the JSON body, in seconds with decimals', async () => {
    // The waits are recorded, not timed: a busy machine adds its own delay to any sleep.
    const waits: number[] = [];
    const { platform } = connect({
      sleep: async (ms) => {
        waits.push(ms);
      },
    });
    standIn.setFault({ failRate: 0, status: 429, latencyMs: 0, retryAfterSeconds: 0.3, failNext: 1 });
    await platform.postMessage(standIn.ids.bugReportsChannelId, { content: 'x' });
    // 300 ms, not the 1 s the Retry-After header rounds it up to (a second, shorter wait is the
    // bucket's own block running out, as this sleep returns at once).
    expect(waits[0]).toBe(300);
    expect(Math.max(...waits)).toBe(300);
    expect(standIn.calls.filter((call) => call.method === 'POST')).toHaveLength(2);
  });

  it('does not wait out a 429 that the invocation has no time for', async () => {
    // It may wait a minute, but the invocation has 10 s of work left for a 30 s wait.
    const { platform } = connect({ maxRateLimitWaitMs: 60_000 });
    standIn.setFault({ failRate: 1, status: 429, latencyMs: 0, retryAfterSeconds: 30 });
    const started = Date.now();
    const error = await runWithDeadline(
      { workUntil: Date.now() + 10_000, hardEnd: Date.now() + 12_000 },
      () => captureError(platform.postMessage(standIn.ids.bugReportsChannelId, { content: 'x' })),
    );
    // Not waiting out the budget either: at once.
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(error).toMatchObject({ status: 429, retryable: true, retryAfterMs: 30_000 });
    expect(standIn.calls).toHaveLength(1);
  });

  it('cuts an attempt short at the end of the invocation budget', async () => {
    const { platform } = connect({ timeoutMs: 60_000 });
    standIn.setFault({ failRate: 0, status: 500, latencyMs: 10_000 });
    const started = Date.now();
    const error = await runWithDeadline({ workUntil: Date.now() + 2_000, hardEnd: Date.now() + 4_000 }, () =>
      captureError(platform.fetchRecentMessages(standIn.ids.generalChannelId, 5)),
    );
    // Cut at the budget (2 s), not after the 10 s the answer takes; room for a busy machine.
    expect(Date.now() - started).toBeLessThan(8_000);
    expect(error).toMatchObject({ retryable: true, status: undefined });
  });

  it('does not ask a bucket Discord said is spent: the next post waits for the reset', async () => {
    await served.close();
    await start({ rateLimit: { limit: 1, windowMs: 300 } });
    const { platform } = connect();
    await platform.postMessage(standIn.ids.bugReportsChannelId, { content: 'one' });
    await platform.postMessage(standIn.ids.bugReportsChannelId, { content: 'two' });
    expect(standIn.calls.map((call) => call.status)).toEqual([200, 200]);
  });
});

describe('without the Message Content intent', () => {
  it("reads other people's messages with blank text, and its own in full", async () => {
    await served.close();
    await start({ messageContentIntent: false });
    const { platform } = connect();
    const channelId = standIn.ids.generalChannelId;
    await platform.postMessage(channelId, { content: 'from the bot' });
    const messages = await platform.fetchRecentMessages(channelId, 50);
    const human = messages.filter((message) => !message.isBot);
    expect(human.length).toBeGreaterThan(0);
    expect(human.every((message) => message.content === '' && message.embeds === 0)).toBe(true);
    expect(messages.find((message) => message.isBot)?.content).toBe('from the bot');
  });
});

describe('application commands', () => {
  const commands = [
    {
      name: 'bugbot',
      description: 'Bug triage',
      options: [{ type: 1, name: 'dashboard', description: 'Open it' }],
    },
    { type: 3, name: 'Contextualize bug' },
  ];

  it('bulk-overwrites guild commands, keeping ids by name', async () => {
    const { rest } = connect();
    const route = Routes.applicationGuildCommands(standIn.ids.applicationId, standIn.ids.guildId);
    const first = (await rest.put(route, { body: commands })) as {
      id: string;
      name: string;
      guild_id: string;
    }[];
    expect(first.map((command) => command.name)).toEqual(['bugbot', 'Contextualize bug']);
    expect(first.every((command) => command.guild_id === standIn.ids.guildId)).toBe(true);

    const second = (await rest.put(route, { body: [commands[0]] })) as { id: string }[];
    expect(second.map((command) => command.id)).toEqual([first[0]?.id]);
    expect(await rest.get(route)).toEqual(second);
    expect(standIn.snapshot().commands).toEqual(second);
  });

  it('rejects a context-menu command with a description', async () => {
    const { rest } = connect();
    const error = await rest
      .put(Routes.applicationCommands(standIn.ids.applicationId), {
        body: [{ type: 2, name: 'Draft fix', description: 'not allowed' }],
      })
      .then(
        () => undefined,
        (caught: unknown) => caught as { status: number; code: number },
      );
    expect(error).toMatchObject({ status: 400, code: 50035 });
  });
});
