import { createPrivateKey, randomBytes, sign } from 'node:crypto';
import type { LocalKeys } from './local-keys.js';

/**
 * Interactions shaped and signed as Discord sends them, for the local stack: used by
 * `npm run discord` and by the integration tests that drive the stack.
 */

export interface Sandbox {
  readonly guildId: string;
  readonly channelId: string;
  readonly threadId?: string;
}

export interface InteractionOptions {
  readonly issue?: string;
  readonly repo?: string;
  readonly instructions?: string;
  readonly author?: string;
  readonly reason?: string;
}

export interface InteractionContext {
  readonly keys: Pick<LocalKeys, 'discordApplicationId'>;
  readonly sandbox: Sandbox;
  readonly member: Record<string, unknown>;
}

export interface BuiltInteraction {
  readonly id: string;
  readonly token: string;
  readonly [key: string]: unknown;
}

export function buildMember(userId: string, username: string, roles: readonly string[]) {
  return {
    user: { id: userId, username, discriminator: '0', global_name: null, avatar: null },
    roles: [...roles],
    joined_at: '2026-01-01T00:00:00.000Z',
    deaf: false,
    mute: false,
    flags: 0,
    permissions: '0',
  };
}

/** Signs like Discord: Ed25519 over timestamp + body, hex. */
export function signInteraction(
  keys: Pick<LocalKeys, 'discordPrivateKeyPem'>,
  body: string,
  timestamp = String(Math.floor(Date.now() / 1000)),
) {
  const signature = sign(
    null,
    Buffer.from(timestamp + body),
    createPrivateKey(keys.discordPrivateKeyPem),
  ).toString('hex');
  return {
    'content-type': 'application/json',
    'x-signature-ed25519': signature,
    'x-signature-timestamp': timestamp,
  };
}

export function buildInteraction(
  command: string,
  rest: string[],
  values: InteractionOptions,
  context: InteractionContext,
): BuiltInteraction | null {
  const channelId = context.sandbox.threadId ?? context.sandbox.channelId;
  const option = (name: 'issue' | 'repo' | 'instructions') =>
    typeof values[name] === 'string' ? [{ type: 3, name, value: values[name] }] : [];
  switch (command) {
    case 'contextualize':
    case 'fix':
    case 'status':
    case 'dashboard': {
      const names = (
        {
          contextualize: ['issue', 'repo'],
          fix: ['issue', 'repo', 'instructions'],
          status: ['issue'],
          dashboard: [],
        } satisfies Record<string, ('issue' | 'repo' | 'instructions')[]>
      )[command];
      return {
        ...buildBase(context),
        type: 2,
        data: {
          id: snowflake(),
          name: 'bugbot',
          type: 1,
          options: [{ type: 1, name: command, options: names.flatMap(option) }],
        },
      };
    }
    case 'split':
    case 'merge': {
      // `split <bugId>` / `merge <bugId> <intoId>`: the folded report, and the bug it duplicates.
      const [bug, into] = rest;
      if (!bug || (command === 'merge' && !into)) return null;
      const options = [
        { type: 3, name: 'bug', value: bug },
        ...(command === 'merge' ? [{ type: 3, name: 'into', value: into }] : []),
      ];
      return {
        ...buildBase(context),
        type: 2,
        data: { id: snowflake(), name: 'bugbot', type: 1, options: [{ type: 1, name: command, options }] },
      };
    }
    case 'contextualize-message':
    case 'fix-message': {
      const text = rest.join(' ');
      if (!text) return null;
      const target = {
        id: snowflake(),
        channel_id: channelId,
        author: {
          id: '1300000000000000099',
          username: values.author ?? 'devon',
          discriminator: '0',
          global_name: null,
          avatar: null,
        },
        content: text,
        timestamp: new Date().toISOString(),
        edited_timestamp: null,
        tts: false,
        mention_everyone: false,
        mentions: [],
        mention_roles: [],
        attachments: [],
        embeds: [],
        pinned: false,
        type: 0,
      };
      return buildMessageCommand(
        command === 'fix-message' ? 'Draft fix' : 'Contextualize bug',
        target,
        context,
      );
    }
    case 'button': {
      const [action, bugId] = rest;
      if (!action || !bugId) return null;
      const message = {
        id: snowflake(),
        channel_id: channelId,
        content: '',
        components: [],
        embeds: [],
        timestamp: new Date().toISOString(),
      };
      return buildButtonClick(`bug:${action}:${bugId}`, message, context);
    }
    case 'dismiss': {
      const [bugId] = rest;
      if (!bugId || typeof values.reason !== 'string') return null;
      return buildModalSubmit(
        `bug:dismiss:${bugId}`,
        [{ customId: 'reason', value: values.reason }],
        context,
      );
    }
    default:
      return null;
  }
}

/** What every interaction carries: who, where, and the token its answers are sent with. */
function buildBase(context: InteractionContext) {
  const { keys, sandbox, member } = context;
  const channelId = sandbox.threadId ?? sandbox.channelId;
  return {
    id: snowflake(),
    application_id: keys.discordApplicationId,
    token: `local-${randomBytes(24).toString('hex')}`,
    version: 1,
    guild_id: sandbox.guildId,
    channel_id: channelId,
    // Discord's partial channel: a thread names its parent.
    channel: sandbox.threadId
      ? { id: channelId, type: 11, guild_id: sandbox.guildId, parent_id: sandbox.channelId }
      : { id: channelId, type: 0, guild_id: sandbox.guildId },
    member,
    locale: 'en-US',
    guild_locale: 'en-US',
    app_permissions: '0',
    entitlements: [],
    authorizing_integration_owners: { 0: sandbox.guildId },
    context: 0,
  };
}

/**
 * A message command ("Contextualize bug", "Draft fix") on `target`: Discord sends the target
 * message itself in `data.resolved.messages`, keyed by `data.target_id`.
 */
export function buildMessageCommand(
  name: string,
  target: { readonly id: string } & Record<string, unknown>,
  context: InteractionContext,
): BuiltInteraction {
  return {
    ...buildBase(context),
    type: 2,
    data: {
      id: snowflake(),
      name,
      type: 3,
      target_id: target.id,
      resolved: { messages: { [target.id]: target } },
    },
  };
}

/** A click on a button (`component_type` 2) of `message`, which Discord sends along whole. */
export function buildButtonClick(
  customId: string,
  message: Record<string, unknown>,
  context: InteractionContext,
): BuiltInteraction {
  return {
    ...buildBase(context),
    type: 3,
    message,
    data: { custom_id: customId, component_type: 2 },
  };
}

/**
 * A modal's submit (type 5). Discord sends each text input inside the Label (type 18) that held
 * it, with its value; modals built from action rows (type 1) come back as action rows.
 */
export function buildModalSubmit(
  customId: string,
  inputs: readonly { customId: string; value: string; inActionRow?: boolean }[],
  context: InteractionContext,
): BuiltInteraction {
  let id = 0;
  const components = inputs.map((input) => {
    id += 2;
    const textInput = { type: 4, id, custom_id: input.customId, value: input.value };
    return input.inActionRow
      ? { type: 1, id: id - 1, components: [textInput] }
      : { type: 18, id: id - 1, component: textInput };
  });
  return { ...buildBase(context), type: 5, data: { custom_id: customId, components } };
}

let counter = 0n;
export function snowflake(): string {
  counter += 1n;
  return String(((BigInt(Date.now()) - 1_420_070_400_000n) << 22n) + counter);
}
