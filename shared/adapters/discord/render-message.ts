import {
  type APIActionRowComponent,
  type APIButtonComponent,
  type APIEmbed,
  type APIEmbedField,
  ButtonStyle,
  ComponentType,
  MessageFlags,
} from 'discord-api-types/v10';
import { BugbotError } from '../../domain/errors.js';
import type { MessageButton, MessageEmbed, OutgoingMessage } from '../../ports/chat-platform.js';

/** Discord's documented limits; exceeding any of them is a 400 for the whole message. */
export const DISCORD_LIMITS = {
  content: 2000,
  embeds: 10,
  embedTitle: 256,
  embedDescription: 4096,
  embedFields: 25,
  embedFieldName: 256,
  embedFieldValue: 1024,
  embedFooter: 2048,
  embedAuthorName: 256,
  /** Summed over every embed of one message. */
  embedTotal: 6000,
  actionRows: 5,
  buttonsPerRow: 5,
  buttonLabel: 80,
  customId: 100,
  threadName: 100,
  nonce: 25,
} as const;

/** The mention policy bugbot sends by default: nothing in the text may ping anyone. */
export const NO_MENTIONS = Object.freeze({ parse: [] as never[] });

/** Discord caps `allowed_mentions.users` at 100 ids. */
const MAX_ALLOWED_USERS = 100;
const SNOWFLAKE = /^\d{15,22}$/;

export interface DiscordMessageBody {
  /** `null` clears the content on an edit. */
  content?: string | null;
  embeds?: APIEmbed[];
  components?: APIActionRowComponent<APIButtonComponent>[];
  /**
   * `parse: []` always: no text may ping (no @everyone, no role, no user by parsing). `users`
   * only when the message names whom it may ping (DESIGN: the reporters of a resolved bug).
   */
  allowed_mentions: { parse: never[]; users?: string[] };
  flags?: number;
}

/**
 * - `post`: a new channel message; absent parts are left out.
 * - `edit`: replaces a message (or an interaction's deferred response) completely, so parts the
 *   neutral message lacks are cleared rather than left over from the previous version.
 * - `followup`: like `post`, and `ephemeral` becomes the EPHEMERAL flag.
 */
export type RenderPurpose = 'post' | 'edit' | 'followup';

const ELLIPSIS = '…';
const ZERO_WIDTH_SPACE = '\u200b';

const BUTTON_STYLES: Record<
  Exclude<MessageButton['style'], 'link'>,
  ButtonStyle.Primary | ButtonStyle.Secondary | ButtonStyle.Success | ButtonStyle.Danger
> = {
  primary: ButtonStyle.Primary,
  secondary: ButtonStyle.Secondary,
  success: ButtonStyle.Success,
  danger: ButtonStyle.Danger,
};

export function renderMessage(message: OutgoingMessage, purpose: RenderPurpose = 'post'): DiscordMessageBody {
  const users = [...new Set((message.mentionUserIds ?? []).filter((id) => SNOWFLAKE.test(id)))].slice(
    0,
    MAX_ALLOWED_USERS,
  );
  const body: DiscordMessageBody = {
    allowed_mentions: users.length > 0 ? { parse: [], users } : { parse: [] },
  };
  const content = message.content
    ? truncateText(neutralizeMentions(message.content), DISCORD_LIMITS.content)
    : '';
  const embeds = fitEmbedsToTotal((message.embeds ?? []).slice(0, DISCORD_LIMITS.embeds).map(renderEmbed));
  const components = renderButtonRows(message.buttonRows ?? []);

  if (purpose === 'edit') {
    body.content = content === '' ? null : content;
    body.embeds = embeds;
    body.components = components;
    return body;
  }
  if (content !== '') body.content = content;
  if (embeds.length > 0) body.embeds = embeds;
  if (components.length > 0) body.components = components;
  if (purpose === 'followup' && message.ephemeral) body.flags = MessageFlags.Ephemeral;
  return body;
}

/**
 * `allowed_mentions` already stops pings; breaking `@everyone`/`@here` textually as well keeps
 * them inert if the text is ever copied somewhere that parses mentions.
 */
export function neutralizeMentions(text: string): string {
  return text.replace(/@(everyone|here)/gi, `@${ZERO_WIDTH_SPACE}$1`);
}

/** Cuts to at most `max` UTF-16 units, ending with an ellipsis, never splitting a surrogate pair. */
export function truncateText(text: string, max: number): string {
  if (text.length <= max) return text;
  if (max <= 0) return '';
  if (max === 1) return ELLIPSIS;
  let cut = max - 1;
  const last = text.charCodeAt(cut - 1);
  if (last >= 0xd800 && last <= 0xdbff) cut -= 1;
  return `${text.slice(0, cut).trimEnd()}${ELLIPSIS}`;
}

/** Characters Discord counts towards the 6000 total of a message's embeds. */
export function measureEmbed(embed: APIEmbed): number {
  let total = (embed.title?.length ?? 0) + (embed.description?.length ?? 0);
  total += (embed.footer?.text.length ?? 0) + (embed.author?.name.length ?? 0);
  for (const field of embed.fields ?? []) total += field.name.length + field.value.length;
  return total;
}

function renderEmbed(embed: MessageEmbed): APIEmbed {
  const out: APIEmbed = {};
  if (embed.title) out.title = truncateText(neutralizeMentions(embed.title), DISCORD_LIMITS.embedTitle);
  if (embed.description) {
    out.description = truncateText(neutralizeMentions(embed.description), DISCORD_LIMITS.embedDescription);
  }
  if (embed.url) out.url = embed.url;
  if (embed.color !== undefined) out.color = embed.color;
  const fields = (embed.fields ?? []).slice(0, DISCORD_LIMITS.embedFields).map(
    (field): APIEmbedField => ({
      // Discord rejects empty names and values outright.
      name: truncateText(neutralizeMentions(field.name), DISCORD_LIMITS.embedFieldName) || ZERO_WIDTH_SPACE,
      value:
        truncateText(neutralizeMentions(field.value), DISCORD_LIMITS.embedFieldValue) || ZERO_WIDTH_SPACE,
      ...(field.inline !== undefined ? { inline: field.inline } : {}),
    }),
  );
  if (fields.length > 0) out.fields = fields;
  if (embed.footer)
    out.footer = { text: truncateText(neutralizeMentions(embed.footer), DISCORD_LIMITS.embedFooter) };
  if (embed.timestamp) out.timestamp = embed.timestamp;
  return out;
}

/** Later embeds get what earlier ones leave of the shared 6000-character budget. */
function fitEmbedsToTotal(embeds: APIEmbed[]): APIEmbed[] {
  const fitted: APIEmbed[] = [];
  let remaining: number = DISCORD_LIMITS.embedTotal;
  for (const embed of embeds) {
    const result = fitEmbed(embed, remaining);
    if (!result) break;
    fitted.push(result);
    remaining -= measureEmbed(result);
  }
  return fitted;
}

/** The description stays readable down to this size before fields are dropped for it. */
const DESCRIPTION_FLOOR = 1024;

function fitEmbed(embed: APIEmbed, budget: number): APIEmbed | undefined {
  if (measureEmbed(embed) <= budget) return embed;
  const hadText = measureEmbed(embed) > 0;
  const out: APIEmbed = { ...embed, ...(embed.fields ? { fields: [...embed.fields] } : {}) };

  if (out.description) {
    const over = measureEmbed(out) - budget;
    const keep = Math.max(Math.min(out.description.length, DESCRIPTION_FLOOR), out.description.length - over);
    out.description = truncateText(out.description, keep);
  }
  while (measureEmbed(out) > budget && out.fields && out.fields.length > 0) out.fields.pop();
  if (out.fields?.length === 0) delete out.fields;

  shrink(out, budget, 'description');
  shrink(out, budget, 'footer');
  shrink(out, budget, 'title');
  if (measureEmbed(out) > budget) return undefined;
  // An embed stripped of all its text says nothing; better to leave it out.
  if (hadText && measureEmbed(out) === 0) return undefined;
  return out;
}

function shrink(embed: APIEmbed, budget: number, part: 'description' | 'footer' | 'title'): void {
  const over = measureEmbed(embed) - budget;
  if (over <= 0) return;
  const current = part === 'footer' ? embed.footer?.text : embed[part];
  if (!current) return;
  const next = truncateText(current, current.length - over);
  if (part === 'footer') {
    if (next) embed.footer = { ...embed.footer, text: next };
    else delete embed.footer;
  } else if (next) {
    embed[part] = next;
  } else {
    delete embed[part];
  }
}

function renderButtonRows(
  rows: readonly (readonly MessageButton[])[],
): APIActionRowComponent<APIButtonComponent>[] {
  return rows
    .filter((row) => row.length > 0)
    .slice(0, DISCORD_LIMITS.actionRows)
    .map((row) => ({
      type: ComponentType.ActionRow,
      components: row.slice(0, DISCORD_LIMITS.buttonsPerRow).map(renderButton),
    }));
}

function renderButton(button: MessageButton): APIButtonComponent {
  const label = truncateText(button.label, DISCORD_LIMITS.buttonLabel);
  const disabled = button.disabled !== undefined ? { disabled: button.disabled } : {};
  if (button.style === 'link') {
    // A programming error, not a Discord fault: fail loudly before anything is sent.
    if (!button.url) throw new BugbotError(`link button "${label}" has no url`);
    return { type: ComponentType.Button, style: ButtonStyle.Link, label, url: button.url, ...disabled };
  }
  if (!button.id) throw new BugbotError(`button "${label}" has no id`);
  // Truncating an id would route clicks to the wrong handler, so refuse instead.
  if (button.id.length > DISCORD_LIMITS.customId) {
    throw new BugbotError(`button id longer than ${DISCORD_LIMITS.customId} characters`);
  }
  return {
    type: ComponentType.Button,
    style: BUTTON_STYLES[button.style],
    label,
    custom_id: button.id,
    ...disabled,
  };
}
