import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import type {
  APIChatInputApplicationCommandGuildInteraction,
  APIInteractionGuildMember,
  APIMessage,
  APIMessageApplicationCommandGuildInteraction,
  APIMessageComponentButtonInteraction,
  APIModalSubmitGuildInteraction,
  APIPingInteraction,
  APIUser,
  GuildMemberFlags,
  Locale,
} from 'discord-api-types/v10';
import nacl from 'tweetnacl';

/**
 * Discord interactions as Discord sends them: realistic payloads (guild member with roles, channel
 * object, resolved target message, bug-card message, modal components), serialized once and signed
 * with tweetnacl — an Ed25519 implementation independent of the `node:crypto` one under test —
 * over `timestamp + body`, then wrapped in the API Gateway HTTP API (v2) event the Lambda receives.
 */

export const APPLICATION_ID = '1180000000000000001';
export const GUILD_ID = '1180000000000000002';
export const CHANNEL_ID = '1180000000000000003';
export const THREAD_ID = '1180000000000000004';
export const FIXER_ROLE_ID = '1180000000000000010';
export const MEMBER_ROLE_ID = '1180000000000000011';
export const BUG_CARD_MESSAGE_ID = '1180000000000000020';

export interface DiscordTestKeys {
  publicKeyHex: string;
  secretKey: Uint8Array;
}

/** A deterministic key pair from a one-byte seed: different seeds give unrelated keys. */
export function createDiscordTestKeys(seedByte = 7): DiscordTestKeys {
  const pair = nacl.sign.keyPair.fromSeed(new Uint8Array(32).fill(seedByte));
  return { publicKeyHex: Buffer.from(pair.publicKey).toString('hex'), secretKey: pair.secretKey };
}

/** Exactly what Discord sends in `x-signature-ed25519`: hex Ed25519 over timestamp + raw body. */
export function signDiscordBody(body: string | Buffer, timestamp: string, keys: DiscordTestKeys): string {
  const message = Buffer.concat([
    Buffer.from(timestamp, 'utf8'),
    Buffer.isBuffer(body) ? body : Buffer.from(body),
  ]);
  return Buffer.from(nacl.sign.detached(message, keys.secretKey)).toString('hex');
}

export interface SignedEventOptions {
  keys: DiscordTestKeys;
  /** Unix seconds, as Discord sends them. Default: now. */
  timestamp?: string;
  /** Hand the body over base64-encoded, as API Gateway may. */
  base64?: boolean;
  /** Applied after signing: lets a test tamper with or drop headers (undefined removes one). */
  headers?: Record<string, string | undefined>;
  /** Applied after signing: the body API Gateway delivers instead of the signed one. */
  deliveredBody?: string;
}

/** Serializes `payload` (or takes a raw string), signs it, and builds the Lambda's event. */
export function buildSignedEvent(payload: unknown, options: SignedEventOptions): APIGatewayProxyEventV2 {
  const body = typeof payload === 'string' ? payload : JSON.stringify(payload);
  const timestamp = options.timestamp ?? String(Math.floor(Date.now() / 1000));
  const signature = signDiscordBody(body, timestamp, options.keys);
  const headers: Record<string, string | undefined> = {
    'content-type': 'application/json',
    'user-agent': 'Discord-Interactions/1.0 (+https://discord.com)',
    host: 'abc123.execute-api.eu-west-1.amazonaws.com',
    'x-signature-ed25519': signature,
    'x-signature-timestamp': timestamp,
    ...options.headers,
  };
  const delivered = options.deliveredBody ?? body;
  return buildHttpEvent(delivered, headers, options.base64 ?? false);
}

export function buildHttpEvent(
  body: string,
  headers: Record<string, string | undefined>,
  base64 = false,
): APIGatewayProxyEventV2 {
  const present: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) present[name.toLowerCase()] = value;
  }
  present['content-length'] = String(Buffer.byteLength(body));
  const now = Date.now();
  return {
    version: '2.0',
    routeKey: 'POST /discord/interactions',
    rawPath: '/discord/interactions',
    rawQueryString: '',
    headers: present,
    requestContext: {
      accountId: '123456789012',
      apiId: 'abc123',
      domainName: 'abc123.execute-api.eu-west-1.amazonaws.com',
      domainPrefix: 'abc123',
      http: {
        method: 'POST',
        path: '/discord/interactions',
        protocol: 'HTTP/1.1',
        sourceIp: '162.159.135.232',
        userAgent: present['user-agent'] ?? '',
      },
      requestId: `req-${now}`,
      routeKey: 'POST /discord/interactions',
      stage: '$default',
      time: new Date(now).toUTCString(),
      timeEpoch: now,
    },
    body: base64 ? Buffer.from(body, 'utf8').toString('base64') : body,
    isBase64Encoded: base64,
  };
}

let sequence = 0;

/** A fresh snowflake per call, so every interaction has its own id (= idempotency key). */
export function nextSnowflake(): string {
  sequence += 1;
  return `${1_310_000_000_000_000_000n + BigInt(sequence)}`;
}

export function buildUser(overrides: Partial<APIUser> = {}): APIUser {
  return {
    id: '1180000000000000100',
    username: 'maya.dev',
    global_name: 'Maya',
    discriminator: '0',
    avatar: null,
    ...overrides,
  };
}

export function buildMember(
  roles: string[] = [MEMBER_ROLE_ID],
  user: APIUser = buildUser(),
): APIInteractionGuildMember {
  return {
    user,
    roles,
    permissions: '2248473465835073',
    joined_at: '2024-03-01T09:30:00.000000+00:00',
    deaf: false,
    mute: false,
    flags: 0 as GuildMemberFlags,
    pending: false,
    avatar: null,
    banner: null,
  };
}

export interface InteractionPlacement {
  /** Roles of the member who interacts. Default: a plain member role (may not launch fixes). */
  roles?: string[];
  user?: APIUser;
  /** Inside a public thread (channel type 11) instead of a text channel. */
  inThread?: boolean;
}

const EN_US = 'en-US' as Locale.EnglishUS;

/** The fields every guild interaction carries. */
function buildGuildBase(placement: InteractionPlacement) {
  const inThread = placement.inThread ?? false;
  const channelId = inThread ? THREAD_ID : CHANNEL_ID;
  return {
    id: nextSnowflake(),
    application_id: APPLICATION_ID,
    token: `aW50ZXJhY3Rpb246${Buffer.from(`token-${sequence}-${'x'.repeat(120)}`).toString('base64url')}`,
    version: 1 as const,
    guild_id: GUILD_ID,
    guild: { id: GUILD_ID, locale: EN_US, features: [] },
    guild_locale: EN_US,
    channel_id: channelId,
    channel: inThread
      ? {
          id: THREAD_ID,
          type: 11 as const,
          name: 'Checkout button does nothing',
          guild_id: GUILD_ID,
          parent_id: CHANNEL_ID,
        }
      : { id: CHANNEL_ID, type: 0 as const, name: 'bug-reports', guild_id: GUILD_ID },
    member: buildMember(placement.roles, placement.user),
    app_permissions: '2248473465835073',
    locale: EN_US,
    entitlements: [],
    authorizing_integration_owners: { '0': GUILD_ID },
    context: 0 as const,
    attachment_size_limit: 10_485_760,
  };
}

export function buildPing(): APIPingInteraction {
  return {
    id: nextSnowflake(),
    application_id: APPLICATION_ID,
    type: 1,
    token: 'aW50ZXJhY3Rpb246cGluZw',
    version: 1,
    app_permissions: '0',
    entitlements: [],
    authorizing_integration_owners: {},
    attachment_size_limit: 10_485_760,
  };
}

/** `/bugbot <subcommand> option:value …` as Discord delivers it (options only when given). */
export function buildSlashCommand(
  subcommand: string,
  options: Record<string, string> = {},
  placement: InteractionPlacement = {},
): APIChatInputApplicationCommandGuildInteraction {
  const given = Object.entries(options).map(([name, value]) => ({ type: 3 as const, name, value }));
  return {
    ...buildGuildBase(placement),
    type: 2,
    data: {
      id: '1180000000000000200',
      type: 1,
      name: 'bugbot',
      options: [{ type: 1, name: subcommand, ...(given.length > 0 ? { options: given } : {}) }],
    },
  };
}

export function buildTargetMessage(overrides: Partial<APIMessage> = {}): APIMessage {
  return {
    id: '1180000000000000300',
    channel_id: CHANNEL_ID,
    author: buildUser({ id: '1180000000000000101', username: 'sam.reporter', global_name: 'Sam' }),
    content: 'Checkout button does nothing on Safari 17 after adding a coupon. See ENG-421.',
    timestamp: '2026-11-20T09:58:12.345000+00:00',
    edited_timestamp: null,
    tts: false,
    mention_everyone: false,
    mentions: [],
    mention_roles: [],
    attachments: [],
    embeds: [],
    pinned: false,
    type: 0,
    ...overrides,
  };
}

/** A message context-menu command ("Contextualize bug", "Draft fix") on `target`. */
export function buildMessageCommand(
  name: string,
  target: APIMessage = buildTargetMessage(),
  placement: InteractionPlacement = {},
): APIMessageApplicationCommandGuildInteraction {
  return {
    ...buildGuildBase(placement),
    type: 2,
    data: {
      id: name === 'Draft fix' ? '1180000000000000202' : '1180000000000000201',
      type: 3,
      name,
      target_id: target.id,
      resolved: { messages: { [target.id]: target } },
    },
  };
}

/** The bug card a button sits on. */
function buildBugCardMessage(): APIMessage {
  return buildTargetMessage({
    id: BUG_CARD_MESSAGE_ID,
    author: buildUser({ id: APPLICATION_ID, username: 'bugbot', global_name: null, bot: true }),
    content: '',
    embeds: [{ title: 'Checkout button does nothing', description: 'Priority: high' }],
  });
}

export function buildButtonClick(
  customId: string,
  placement: InteractionPlacement = {},
): APIMessageComponentButtonInteraction {
  return {
    ...buildGuildBase(placement),
    type: 3,
    message: buildBugCardMessage(),
    data: { component_type: 2, custom_id: customId },
  };
}

/**
 * The submit of the dismiss modal. `layout: 'label'` is what bugbot's modal produces today;
 * `'action-row'` is the older layout.
 */
export function buildModalSubmit(
  customId: string,
  reason: string,
  placement: InteractionPlacement & { layout?: 'label' | 'action-row' } = {},
): APIModalSubmitGuildInteraction {
  const input = { type: 4 as const, id: 2, custom_id: 'reason', value: reason };
  const components =
    (placement.layout ?? 'label') === 'label'
      ? [{ type: 18 as const, id: 1, component: input }]
      : [{ type: 1 as const, id: 1, components: [input] }];
  return {
    ...buildGuildBase(placement),
    type: 5,
    message: buildBugCardMessage(),
    data: { custom_id: customId, components },
  };
}

/** The same interaction as sent from a DM with the bot: `user` instead of `member`, no guild. */
export function moveToDirectMessage<T extends { member?: APIInteractionGuildMember }>(
  interaction: T,
): unknown {
  const {
    member,
    guild_id: _guildId,
    guild: _guild,
    guild_locale: _locale,
    ...rest
  } = interaction as T & {
    guild_id?: string;
    guild?: unknown;
    guild_locale?: string;
  };
  return {
    ...rest,
    user: member?.user ?? buildUser(),
    channel_id: '1180000000000000500',
    channel: { id: '1180000000000000500', type: 1, recipients: [member?.user ?? buildUser()] },
    context: 1,
  };
}

/** Another server than the one bugbot serves (GUILD_ID). */
export const OTHER_GUILD_ID = '1180000000000000900';

/** The same guild interaction as sent from another server where the application is installed. */
export function moveToGuild<T extends { guild_id?: string }>(interaction: T, guildId: string): T {
  const moved = structuredClone(interaction) as T & {
    guild?: { id: string };
    channel?: { guild_id?: string };
    authorizing_integration_owners?: Record<string, string>;
  };
  moved.guild_id = guildId;
  if (moved.guild) moved.guild.id = guildId;
  if (moved.channel?.guild_id !== undefined) moved.channel.guild_id = guildId;
  if (moved.authorizing_integration_owners) moved.authorizing_integration_owners['0'] = guildId;
  return moved;
}
