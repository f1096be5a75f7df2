import { createHash } from 'node:crypto';
import { DiscordAPIError, type REST } from '@discordjs/rest';
import {
  type APIMessage,
  type RESTPostAPIChannelThreadsResult,
  Routes,
  ThreadAutoArchiveDuration,
} from 'discord-api-types/v10';
import type {
  ChatHistoryMessage,
  ChatPlatform,
  InteractionRef,
  OutgoingMessage,
} from '../../ports/chat-platform.js';
import { toDiscordServiceError } from './discord-rest.js';
import { DISCORD_LIMITS, renderMessage, truncateText } from './render-message.js';

export interface DiscordChatPlatformOptions {
  /**
   * Upper bound for one call including @discordjs/rest's own retries and rate-limit waits,
   * which on their own can loop for as long as Discord keeps answering 429.
   */
  readonly deadlineMs?: number;
}

/** "A thread has already been created for this message". */
const THREAD_ALREADY_CREATED = 160004;
const MAX_FETCH_LIMIT = 100;

export class DiscordChatPlatform implements ChatPlatform {
  private readonly deadlineMs: number;

  constructor(
    private readonly rest: REST,
    options: DiscordChatPlatformOptions = {},
  ) {
    this.deadlineMs = options.deadlineMs ?? 30_000;
  }

  async fetchRecentMessages(channelId: string, limit: number): Promise<ChatHistoryMessage[]> {
    const count = Math.min(Math.floor(limit), MAX_FETCH_LIMIT);
    if (!(count > 0)) return [];
    const messages = (await this.call('fetch recent messages', () =>
      this.rest.get(Routes.channelMessages(channelId), {
        query: new URLSearchParams({ limit: String(count) }),
        signal: this.deadline(),
      }),
    )) as APIMessage[];
    return messages
      .map(
        (message): ChatHistoryMessage => ({
          id: message.id,
          authorId: message.author.id,
          authorName: message.author.global_name ?? message.author.username,
          isBot: message.author.bot === true,
          content: message.content,
          timestamp: message.timestamp,
        }),
      )
      .sort((a, b) => compareSnowflakes(a.id, b.id));
  }

  async postMessage(
    channelId: string,
    message: OutgoingMessage,
    options: { nonce?: string } = {},
  ): Promise<{ id: string }> {
    const body = {
      ...renderMessage(message, 'post'),
      ...(options.nonce ? { nonce: toDiscordNonce(options.nonce), enforce_nonce: true } : {}),
    };
    const created = (await this.call('post message', () =>
      this.rest.post(Routes.channelMessages(channelId), { body, signal: this.deadline() }),
    )) as APIMessage;
    return { id: created.id };
  }

  async editMessage(channelId: string, messageId: string, message: OutgoingMessage): Promise<void> {
    await this.call('edit message', () =>
      this.rest.patch(Routes.channelMessage(channelId, messageId), {
        body: renderMessage(message, 'edit'),
        signal: this.deadline(),
      }),
    );
  }

  async startThread(channelId: string, messageId: string, name: string): Promise<{ id: string }> {
    const threadName =
      truncateText(name.replace(/\s+/g, ' ').trim(), DISCORD_LIMITS.threadName) || 'Bug report';
    try {
      const thread = (await this.rest.post(Routes.threads(channelId, messageId), {
        body: { name: threadName, auto_archive_duration: ThreadAutoArchiveDuration.OneWeek },
        signal: this.deadline(),
      })) as RESTPostAPIChannelThreadsResult;
      return { id: thread.id };
    } catch (error) {
      // A retry after a lost response: Discord gives a message's thread the message's id.
      if (error instanceof DiscordAPIError && error.code === THREAD_ALREADY_CREATED) return { id: messageId };
      throw toDiscordServiceError(error, 'start thread');
    }
  }

  // Interaction webhooks authenticate by the token in the path (`auth: false`): the bot token
  // is not theirs to see.
  async editInteractionResponse(interaction: InteractionRef, message: OutgoingMessage): Promise<void> {
    await this.call(
      'edit interaction response',
      () =>
        this.rest.patch(Routes.webhookMessage(interaction.applicationId, interaction.token, '@original'), {
          body: renderMessage(message, 'edit'),
          auth: false,
          signal: this.deadline(),
        }),
      interaction.token,
    );
  }

  async sendFollowup(interaction: InteractionRef, message: OutgoingMessage): Promise<{ id: string }> {
    const created = (await this.call(
      'send follow-up',
      () =>
        this.rest.post(Routes.webhook(interaction.applicationId, interaction.token), {
          body: renderMessage(message, 'followup'),
          query: new URLSearchParams({ wait: 'true' }),
          auth: false,
          signal: this.deadline(),
        }),
      interaction.token,
    )) as APIMessage;
    return { id: created.id };
  }

  private deadline(): AbortSignal {
    return AbortSignal.timeout(this.deadlineMs);
  }

  private async call<T>(operation: string, request: () => Promise<T>, secret?: string): Promise<T> {
    try {
      return await request();
    } catch (error) {
      throw toDiscordServiceError(error, operation, secret);
    }
  }
}

/**
 * Discord caps nonces at 25 characters; longer idempotency keys (UUIDs) are hashed to a stable
 * 25-character nonce so a retried job still maps to the same one.
 */
export function toDiscordNonce(key: string): string {
  if (key.length <= DISCORD_LIMITS.nonce) return key;
  return createHash('sha256').update(key).digest('base64url').slice(0, DISCORD_LIMITS.nonce);
}

function compareSnowflakes(a: string, b: string): number {
  if (a.length !== b.length) return a.length - b.length;
  return a < b ? -1 : a > b ? 1 : 0;
}
