import { createHash } from 'node:crypto';
import { Routes, ThreadAutoArchiveDuration } from 'discord-api-types/v10';
import * as z from 'zod';
import type {
  ChatHistoryMessage,
  ChatPlatform,
  InteractionRef,
  OutgoingMessage,
  OwnPost,
} from '../../ports/chat-platform.js';
import { DiscordApiError, type DiscordRest } from './discord-rest.js';
import { DISCORD_LIMITS, renderMessage, truncateText } from './render-message.js';

/** "A thread has already been created for this message". */
const THREAD_ALREADY_CREATED = 160004;
const MAX_FETCH_LIMIT = 100;
const DISCORD_EPOCH_MS = 1_420_070_400_000n;

const snowflake = z.string().regex(/^\d{15,22}$/);

/**
 * The parts of Discord's message object bugbot reads. Validated, because a 200 that is JSON but
 * not a message (a proxy's `{}`) must not pass as "posted".
 */
const messageSchema = z.object({
  id: snowflake,
  content: z.string().default(''),
  timestamp: z.string(),
  author: z.object({
    id: snowflake,
    username: z.string(),
    global_name: z.string().nullish(),
    bot: z.boolean().optional(),
  }),
  attachments: z.array(z.unknown()).default([]),
  embeds: z
    .array(z.object({ title: z.string().optional(), description: z.string().optional() }).loose())
    .default([]),
  components: z
    .array(
      z
        .object({
          components: z.array(z.object({ custom_id: z.string().optional() }).loose()).default([]),
        })
        .loose(),
    )
    .default([]),
});
type DiscordMessage = z.infer<typeof messageSchema>;

const createdSchema = z.object({ id: snowflake });

export class DiscordChatPlatform implements ChatPlatform {
  private botUserId: Promise<string> | undefined;

  constructor(private readonly rest: DiscordRest) {}

  async fetchRecentMessages(channelId: string, limit: number): Promise<ChatHistoryMessage[]> {
    const count = Math.min(Math.floor(limit), MAX_FETCH_LIMIT);
    if (!(count > 0)) return [];
    const messages = parseMessages(
      await this.rest.get(Routes.channelMessages(channelId), {
        query: new URLSearchParams({ limit: String(count) }),
        operation: 'fetch recent messages',
      }),
      'fetch recent messages',
    );
    return messages
      .map(
        (message): ChatHistoryMessage => ({
          id: message.id,
          authorId: message.author.id,
          authorName: message.author.global_name ?? message.author.username,
          isBot: message.author.bot === true,
          content: message.content,
          attachments: message.attachments.length,
          embeds: message.embeds.length,
          timestamp: message.timestamp,
        }),
      )
      .sort((a, b) => compareSnowflakes(a.id, b.id));
  }

  /**
   * Reads back the channel after `since` for this bot's own messages. Discord does not keep a
   * message's `nonce`: it is echoed in the create answer and "will appear in the Message Create
   * event" (Create Message params), and reading the message back later never shows it
   * (Rapptz/discord.py#2451), so callers recognise their post by what it says. The bot's own
   * messages keep their content without the Message Content intent.
   */
  async listOwnPostsSince(channelId: string, since: Date): Promise<OwnPost[]> {
    const botUserId = await this.resolveBotUserId();
    const messages = parseMessages(
      await this.rest.get(Routes.channelMessages(channelId), {
        // With `after`, Discord answers the oldest messages after that id, up to `limit`.
        query: new URLSearchParams({ after: snowflakeAt(since.getTime()), limit: String(MAX_FETCH_LIMIT) }),
        operation: 'read back own posts',
      }),
      'read back own posts',
    );
    return messages
      .filter((message) => message.author.id === botUserId)
      .sort((a, b) => compareSnowflakes(a.id, b.id))
      .map((message) => ({
        id: message.id,
        content: message.content,
        embeds: message.embeds.map((embed) => ({ title: embed.title, description: embed.description })),
        buttonIds: message.components.flatMap((row) =>
          row.components.flatMap((component) => (component.custom_id ? [component.custom_id] : [])),
        ),
        timestamp: message.timestamp,
      }));
  }

  async postMessage(
    channelId: string,
    message: OutgoingMessage,
    options: { nonce?: string } = {},
  ): Promise<{ id: string }> {
    const body = {
      ...renderMessage(message, 'post'),
      // Discord: "If true and nonce is present, it will be checked for uniqueness in the past few
      // minutes. If another message was created by the same author with the same nonce, that
      // message will be returned and no new message will be created." (Create Message, JSON
      // params, discord/discord-api-docs developers/resources/message.mdx)
      ...(options.nonce ? { nonce: toDiscordNonce(options.nonce), enforce_nonce: true } : {}),
    };
    const created = await this.rest.post(Routes.channelMessages(channelId), {
      body,
      operation: 'post message',
    });
    return { id: parseCreated(created, 'post message') };
  }

  async editMessage(channelId: string, messageId: string, message: OutgoingMessage): Promise<void> {
    await this.rest.patch(Routes.channelMessage(channelId, messageId), {
      body: renderMessage(message, 'edit'),
      operation: 'edit message',
    });
  }

  async startThread(channelId: string, messageId: string, name: string): Promise<{ id: string }> {
    const threadName =
      truncateText(name.replace(/\s+/g, ' ').trim(), DISCORD_LIMITS.threadName) || 'Bug report';
    try {
      const thread = await this.rest.post(Routes.threads(channelId, messageId), {
        body: { name: threadName, auto_archive_duration: ThreadAutoArchiveDuration.OneWeek },
        operation: 'start thread',
      });
      return { id: parseCreated(thread, 'start thread') };
    } catch (error) {
      // A retry after a lost response: Discord gives a message's thread the message's id.
      if (error instanceof DiscordApiError && error.code === THREAD_ALREADY_CREATED) return { id: messageId };
      throw error;
    }
  }

  // Interaction webhooks authenticate by the token in the path (`auth: false`): the bot token
  // is not theirs to see.
  async editInteractionResponse(interaction: InteractionRef, message: OutgoingMessage): Promise<void> {
    await this.rest.patch(Routes.webhookMessage(interaction.applicationId, interaction.token, '@original'), {
      body: renderMessage(message, 'edit'),
      auth: false,
      operation: 'edit interaction response',
    });
  }

  async sendFollowup(interaction: InteractionRef, message: OutgoingMessage): Promise<{ id: string }> {
    const created = await this.rest.post(Routes.webhook(interaction.applicationId, interaction.token), {
      body: renderMessage(message, 'followup'),
      query: new URLSearchParams({ wait: 'true' }),
      auth: false,
      operation: 'send follow-up',
    });
    return { id: parseCreated(created, 'send follow-up') };
  }

  private resolveBotUserId(): Promise<string> {
    this.botUserId ??= this.rest
      .get(Routes.user('@me'), { operation: 'read the bot user' })
      .then((user) => parseCreated(user, 'read the bot user'))
      .catch((error: unknown) => {
        this.botUserId = undefined;
        throw error;
      });
    return this.botUserId;
  }
}

function parseMessages(body: unknown, operation: string): DiscordMessage[] {
  const parsed = z.array(messageSchema).safeParse(body);
  if (!parsed.success) throw unexpectedBody(operation);
  return parsed.data;
}

function parseCreated(body: unknown, operation: string): string {
  const parsed = createdSchema.safeParse(body);
  if (!parsed.success) throw unexpectedBody(operation);
  return parsed.data.id;
}

/** JSON, but not what Discord answers: a proxy or a cut-off body. Worth another try. */
function unexpectedBody(operation: string): DiscordApiError {
  return new DiscordApiError(`${operation}: the answer is not a Discord object`, {
    status: 502,
    retryable: true,
  });
}

/**
 * Discord caps nonces at 25 characters; longer idempotency keys (UUIDs) are hashed to a stable
 * 25-character nonce so a retried job still maps to the same one.
 */
export function toDiscordNonce(key: string): string {
  if (key.length <= DISCORD_LIMITS.nonce) return key;
  return createHash('sha256').update(key).digest('base64url').slice(0, DISCORD_LIMITS.nonce);
}

/** The smallest snowflake of a moment: `after` it means "created at or after that time". */
function snowflakeAt(ms: number): string {
  const since = BigInt(Math.max(0, Math.floor(ms))) - DISCORD_EPOCH_MS;
  return ((since > 0n ? since : 0n) << 22n).toString();
}

function compareSnowflakes(a: string, b: string): number {
  if (a.length !== b.length) return a.length - b.length;
  return a < b ? -1 : a > b ? 1 : 0;
}
