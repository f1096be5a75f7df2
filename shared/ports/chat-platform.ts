/**
 * The chat platform people use (Discord). Messages are described in neutral terms; the adapter
 * renders them and disables mentions (except the user ids a message names in `mentionUserIds`),
 * so reported text never pings anyone.
 */

export interface ChatHistoryMessage {
  readonly id: string;
  readonly authorId: string;
  readonly authorName: string;
  readonly isBot: boolean;
  /**
   * The text. Empty for an image-only message, and for every message of other people when the
   * bot lacks Discord's Message Content intent: then `attachments` and `embeds` are 0 as well.
   */
  readonly content: string;
  /** Attachments and embeds the message carries besides its text. */
  readonly attachments?: number;
  readonly embeds?: number;
  readonly timestamp: string;
}

/** A message this bot posted, as read back from the channel (to find a post whose answer was lost). */
export interface OwnPost {
  readonly id: string;
  readonly content: string;
  readonly embeds: readonly { readonly title?: string; readonly description?: string }[];
  /** The `id`s of its buttons (`bug:<action>:<bugId>`). */
  readonly buttonIds: readonly string[];
  readonly timestamp: string;
}

export interface MessageField {
  readonly name: string;
  readonly value: string;
  readonly inline?: boolean;
}

export interface MessageEmbed {
  readonly title?: string;
  readonly description?: string;
  readonly url?: string;
  /** 0xRRGGBB */
  readonly color?: number;
  readonly fields?: readonly MessageField[];
  readonly footer?: string;
  readonly timestamp?: string;
}

export interface MessageButton {
  /** `bug:<action>:<bugId>` for bug-card buttons; ignored for link buttons. */
  readonly id?: string;
  readonly label: string;
  readonly style: 'primary' | 'secondary' | 'success' | 'danger' | 'link';
  readonly url?: string;
  readonly disabled?: boolean;
}

export interface OutgoingMessage {
  readonly content?: string;
  readonly embeds?: readonly MessageEmbed[];
  /** One row of up to five buttons per inner array. */
  readonly buttonRows?: readonly (readonly MessageButton[])[];
  /** Only for interaction follow-ups: visible to the invoking user alone. */
  readonly ephemeral?: boolean;
  /**
   * Discord user ids this message may ping (`allowed_mentions.users`); nobody else ever is.
   * Only the "resolved" note sets it, for the people who reported the bug.
   */
  readonly mentionUserIds?: readonly string[];
}

export interface InteractionRef {
  readonly applicationId: string;
  readonly token: string;
}

export interface ChatPlatform {
  /** Newest last; at most `limit` messages. */
  fetchRecentMessages(channelId: string, limit: number): Promise<ChatHistoryMessage[]>;
  /**
   * Posts to a channel or thread. `nonce` (≤ 25 characters) is enforced by the platform for a
   * few minutes only, so a retried post with the same nonce does not appear twice within them;
   * beyond, see `postOnce` (use-cases/bug-context.ts), which finds the earlier post itself.
   */
  postMessage(
    channelId: string,
    message: OutgoingMessage,
    options?: { nonce?: string },
  ): Promise<{ id: string }>;
  /** What this bot posted in a channel or thread since `since` (oldest first, at most 100). */
  listOwnPostsSince(channelId: string, since: Date): Promise<OwnPost[]>;
  editMessage(channelId: string, messageId: string, message: OutgoingMessage): Promise<void>;
  /** A thread attached to an existing message; returns the thread's channel id. */
  startThread(channelId: string, messageId: string, name: string): Promise<{ id: string }>;
  /** Replaces the deferred "thinking…" response of an interaction (idempotent by nature). */
  editInteractionResponse(interaction: InteractionRef, message: OutgoingMessage): Promise<void>;
  sendFollowup(interaction: InteractionRef, message: OutgoingMessage): Promise<{ id: string }>;
}
