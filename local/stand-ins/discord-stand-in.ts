import { createHash } from 'node:crypto';
import { type IncomingMessage, type ServerResponse, STATUS_CODES } from 'node:http';
import {
  cutResponseBody,
  FaultInjector,
  type RecordedCall,
  readBody,
  type StandIn,
  sendHtmlFault,
  sendJson,
} from './stand-in.js';

/**
 * Discord's v10 REST API, as far as bugbot uses it, for the local stack and integration tests.
 * Mounted under a prefix (e.g. `/_sandbox/discord`); the REST client's `api` base is
 * `<prefix>/api`, so request paths look like `/api/v10/channels/:id/messages`.
 */

export interface DiscordStandInOptions {
  /** When set, only `Bot <botToken>` is accepted; otherwise any non-empty bot token. */
  readonly botToken?: string;
  /** The bot's application (and user) id; webhook and command routes for other ids are refused. */
  readonly applicationId?: string;
  readonly guildId?: string;
  readonly bugReportsChannelId?: string;
  readonly generalChannelId?: string;
  readonly now?: () => number;
  /** Feeds the fault injector's `failRate`. */
  readonly random?: () => number;
  /** Per route bucket (route and major parameter), like Discord's per-channel message limit. */
  readonly rateLimit?: { readonly limit: number; readonly windowMs: number };
  /** How long `enforce_nonce` remembers a nonce; Discord says "a few minutes". */
  readonly nonceWindowMs?: number;
  /** `retry-after` of an injected 429, in seconds. */
  readonly faultRetryAfterSeconds?: number;
  /**
   * Whether the application has the privileged Message Content intent (default true). Without
   * it, other users' messages are read back with their text blanked, as Discord does.
   */
  readonly messageContentIntent?: boolean;
  /**
   * Treat a channel id it has never seen as an existing text channel of the guild, as Discord
   * does for a server the bot is really in (the local stack: a team's own channel ids). Off, an
   * unknown channel is a 404 (10003), as Discord answers for a channel that does not exist.
   */
  readonly adoptUnknownChannels?: boolean;
}

/** What an interaction says about where it happened (`guild_id`, `channel`), as Discord sends it. */
export interface InteractionPlace {
  readonly guildId?: string;
  readonly channel: {
    readonly id: string;
    readonly type?: number;
    readonly parentId?: string;
    readonly name?: string;
  };
}

export interface DiscordStandInIds {
  readonly applicationId: string;
  readonly botUserId: string;
  readonly guildId: string;
  readonly bugReportsChannelId: string;
  readonly generalChannelId: string;
  /** A thread in #bug-reports, started from one of its messages (so it has that message's id). */
  readonly existingThreadId: string;
}

export interface DiscordStandIn extends StandIn {
  readonly service: 'discord';
  readonly ids: DiscordStandInIds;
  snapshot(): DiscordStandInSnapshot;
  /**
   * Every message of a channel or thread, people's included, oldest first, as the REST API
   * shapes them (author, thread, flags): what a member scrolling the channel sees. For the
   * console; unlike `GET /channels/:id/messages` it is neither paged nor rate-limited.
   */
  channelHistory(channelId: string): Record<string, unknown>[];
  /**
   * An interaction arrived from this guild and channel: Discord knows both, so the sandbox takes
   * them as existing (a thread with its parent, a text channel otherwise).
   */
  learnPlace(place: InteractionPlace): void;
}

/** A `type` (not an interface) so that it stays assignable to `Record<string, unknown>`. */
export type DiscordStandInSnapshot = {
  /** Everything bugbot sent, oldest first; seeded human messages are not in it. */
  messages: SentMessage[];
  channels: { id: string; guildId: string; name: string; type: 0; messageCount: number }[];
  threads: {
    id: string;
    guildId: string;
    parentId: string;
    name: string;
    createdByBot: boolean;
    createdAt: string;
    messageCount: number;
  }[];
  /** Registered commands as Discord returns them (`guild_id` set for guild commands). */
  commands: Record<string, unknown>[];
};

export type SentMessageKind = 'channel' | 'interaction-original' | 'followup';

/** One entry of `snapshot().messages`: something bugbot sent, in its latest version. */
export interface SentMessage {
  readonly id: string;
  readonly kind: SentMessageKind;
  /** The text channel; for a thread message, the thread's parent. */
  readonly channelId?: string;
  readonly threadId?: string;
  readonly applicationId?: string;
  readonly interactionToken?: string;
  readonly content: string;
  readonly embeds: unknown[];
  readonly components: unknown[];
  /** As sent with the latest write; `null` when that write had none. */
  readonly allowedMentions: unknown;
  readonly flags: number;
  readonly nonce?: string | number;
  readonly createdAt: string;
  readonly editedAt?: string;
  readonly editCount: number;
}

const DISCORD_EPOCH = 1_420_070_400_000n;
const FLAG_HAS_THREAD = 1 << 5;
const FLAG_EPHEMERAL = 1 << 6;
/** SUPPRESS_EMBEDS, SUPPRESS_NOTIFICATIONS, IS_COMPONENTS_V2: what a sender may set. */
const SETTABLE_FLAGS = (1 << 2) | (1 << 12) | (1 << 15);
const MINUTE = 60_000;

/** A snowflake for a moment; `increment` tells apart ids made in the same millisecond. */
export function snowflakeAt(ms: number, increment = 0): string {
  return (((BigInt(Math.floor(ms)) - DISCORD_EPOCH) << 22n) | BigInt(increment & 0xfff)).toString();
}

/** The sandbox guild's id when none is configured (fixed, so a local `.env` stays valid). */
export const DISCORD_SANDBOX_GUILD_ID = snowflakeAt(Date.UTC(2024, 0, 15, 12), 2);
/** The sandbox's #bug-reports when no other id is configured. */
export const DISCORD_SANDBOX_BUG_CHANNEL_ID = snowflakeAt(Date.UTC(2024, 0, 15, 12), 4);

export function createDiscordStandIn(options: DiscordStandInOptions = {}): DiscordStandIn {
  const state = new DiscordState(options);
  return {
    service: 'discord',
    ids: state.ids,
    calls: state.calls,
    handle: (req, res, path) => state.handle(req, res, path),
    setFault: (fault) => state.faults.set(fault),
    snapshot: () => state.snapshot(),
    channelHistory: (channelId) => state.channelHistory(channelId),
    learnPlace: (place) => state.learnPlace(place),
  };
}

interface UserRecord {
  readonly id: string;
  readonly username: string;
  readonly globalName: string;
  readonly bot: boolean;
}

interface ChannelRecord {
  readonly id: string;
  readonly type: 0 | 11;
  readonly guildId: string;
  readonly name: string;
  readonly parentId?: string;
  readonly topic?: string;
  readonly ownerId?: string;
  readonly createdAt: number;
  readonly createdByBot: boolean;
  readonly autoArchiveDuration?: number;
  readonly messageIds: string[];
}

interface MessageRecord {
  readonly id: string;
  readonly author: UserRecord;
  /** Absent for interaction responses: the stand-in never sees the interaction itself. */
  readonly channelId?: string;
  readonly kind?: SentMessageKind;
  readonly applicationId?: string;
  readonly interactionToken?: string;
  content: string;
  embeds: unknown[];
  components: unknown[];
  flags: number;
  allowedMentions: unknown;
  readonly nonce?: string | number;
  readonly createdAt: number;
  editedAt?: number;
  editCount: number;
  threadId?: string;
}

interface CommandRecord {
  readonly id: string;
  readonly guildId?: string;
  readonly body: Record<string, unknown>;
}

interface Reply {
  readonly status: number;
  readonly body?: unknown;
}

/** An answer in Discord's error shape: `{ message, code, errors? }`. */
class DiscordApiFailure extends Error {
  constructor(
    readonly status: number,
    readonly code: number,
    message: string,
    readonly errors?: FormErrors,
  ) {
    super(message);
  }

  toBody(): Record<string, unknown> {
    return { message: this.message, code: this.code, ...(this.errors ? { errors: this.errors } : {}) };
  }
}

/** Discord's nested form errors: `{ embeds: { 0: { title: { _errors: [{ code, message }] } } } }`. */
type FormErrors = { [key: string]: unknown };

class FormErrorCollector {
  readonly errors: FormErrors = {};
  private count = 0;

  add(path: readonly (string | number)[], code: string, message: string): void {
    let node = this.errors;
    for (const key of path) {
      const next = (node[String(key)] as FormErrors | undefined) ?? {};
      node[String(key)] = next;
      node = next;
    }
    node._errors = [...((node._errors as unknown[] | undefined) ?? []), { code, message }];
    this.count += 1;
  }

  throwIfAny(): void {
    if (this.count > 0) throw new DiscordApiFailure(400, 50035, 'Invalid Form Body', this.errors);
  }
}

interface RequestContext {
  readonly params: readonly string[];
  readonly query: URLSearchParams;
  readonly body: unknown;
  readonly now: number;
}

interface Route {
  readonly method: string;
  readonly pattern: RegExp;
  /** The bucket route, as Discord groups rate limits. */
  readonly template: string;
  readonly auth: 'bot' | 'none';
  readonly major: (params: readonly string[]) => string;
  readonly handle: (context: RequestContext) => Reply;
}

const ID = '([0-9]{1,20})';
const TOKEN = '([^/]+)';
const byFirst = (params: readonly string[]): string => params[0] ?? 'global';
const noMajor = (): string => 'global';

class DiscordState {
  readonly ids: DiscordStandInIds;
  readonly calls: RecordedCall[] = [];
  readonly faults: FaultInjector;

  private readonly now: () => number;
  private readonly rateLimit: { limit: number; windowMs: number };
  private readonly nonceWindowMs: number;
  private readonly faultRetryAfterSeconds: number;
  private readonly messageContentIntent: boolean;
  private readonly botToken: string | undefined;
  private readonly adoptUnknownChannels: boolean;
  /** Guilds interactions came from besides the sandbox's own (their channels are adopted). */
  private readonly knownGuilds = new Set<string>();

  private readonly bot: UserRecord;
  private readonly guild: { id: string; name: string };
  private readonly channels = new Map<string, ChannelRecord>();
  private readonly messages = new Map<string, MessageRecord>();
  /** Ids of what bugbot sent, in order. */
  private readonly sent: string[] = [];
  private readonly nonces = new Map<string, { messageId: string; at: number }>();
  private readonly originals = new Map<string, string>();
  private readonly commands = new Map<string, CommandRecord[]>();
  private readonly buckets = new Map<string, { remaining: number; resetAt: number }>();
  private increment = 0;
  private readonly routes: Route[];

  constructor(options: DiscordStandInOptions) {
    this.now = options.now ?? Date.now;
    this.faults = new FaultInjector(options.random);
    this.rateLimit = options.rateLimit ?? { limit: 10, windowMs: 5_000 };
    this.nonceWindowMs = options.nonceWindowMs ?? 5 * MINUTE;
    this.faultRetryAfterSeconds = options.faultRetryAfterSeconds ?? 1;
    this.messageContentIntent = options.messageContentIntent ?? true;
    this.botToken = options.botToken;
    this.adoptUnknownChannels = options.adoptUnknownChannels ?? false;

    // Fixed ids keep a local `.env` valid across restarts of the stack.
    const created = Date.UTC(2024, 0, 15, 12);
    const applicationId = options.applicationId ?? snowflakeAt(created, 1);
    this.bot = { id: applicationId, username: 'bugbot', globalName: 'bugbot', bot: true };
    this.guild = { id: options.guildId ?? DISCORD_SANDBOX_GUILD_ID, name: 'Acme App Community' };
    const generalChannelId = options.generalChannelId ?? snowflakeAt(created, 3);
    const bugReportsChannelId = options.bugReportsChannelId ?? DISCORD_SANDBOX_BUG_CHANNEL_ID;
    const existingThreadId = this.seed(generalChannelId, bugReportsChannelId, created);
    this.ids = {
      applicationId,
      botUserId: applicationId,
      guildId: this.guild.id,
      bugReportsChannelId,
      generalChannelId,
      existingThreadId,
    };
    this.routes = this.buildRoutes();
  }

  async handle(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    const raw = await readBody(req);
    const method = (req.method ?? 'GET').toUpperCase();
    let parsed: unknown;
    let parseFailed = false;
    if (raw.length > 0) {
      try {
        parsed = JSON.parse(raw.toString('utf8'));
      } catch {
        parseFailed = true;
      }
    }
    const answer = (status: number, body: unknown, headers: Record<string, string> = {}): void => {
      this.calls.push({
        at: new Date(this.now()).toISOString(),
        method,
        path,
        ...(parsed !== undefined ? { body: parsed } : {}),
        status,
      });
      if (res.destroyed) return;
      if (status === 204) {
        res.writeHead(204, headers);
        res.end();
        return;
      }
      sendJson(res, status, body, headers);
    };

    try {
      const fault = await this.faults.apply();
      if (fault?.kind === 'html') {
        this.calls.push({ at: new Date(this.now()).toISOString(), method, path, status: fault.status });
        if (!res.destroyed) sendHtmlFault(res, fault.status);
        return;
      }
      if (fault?.kind === 'truncate') cutResponseBody(res);
      if (fault?.kind === 'status') {
        const failWith = fault.status;
        if (failWith === 429) {
          const seconds = fault.retryAfterSeconds ?? this.faultRetryAfterSeconds;
          answer(
            429,
            { message: 'You are being rate limited.', retry_after: seconds, global: false },
            {
              'retry-after': String(Math.ceil(seconds)),
              'x-ratelimit-scope': 'user',
              'x-ratelimit-limit': String(this.rateLimit.limit),
              'x-ratelimit-remaining': '0',
              'x-ratelimit-reset': ((this.now() + seconds * 1000) / 1000).toFixed(3),
              'x-ratelimit-reset-after': seconds.toFixed(3),
            },
          );
        } else {
          answer(failWith, { message: `${failWith}: ${STATUS_CODES[failWith] ?? 'Error'}`, code: 0 });
        }
        return;
      }

      const url = new URL(path, 'http://stand-in.invalid');
      const versioned = /^(?:\/api)?\/v10(\/.*)$/.exec(url.pathname);
      const match = versioned?.[1] ? this.matchRoute(method, versioned[1]) : undefined;
      if (!match) {
        answer(404, { message: '404: Not Found', code: 0 });
        return;
      }
      const { route, params } = match;
      if (route.auth === 'bot' && !this.isBotAuthorized(req.headers.authorization)) {
        answer(401, { message: '401: Unauthorized', code: 0 });
        return;
      }
      if (parseFailed) {
        answer(400, { message: 'The request body contains invalid JSON.', code: 50109 });
        return;
      }
      const limit = this.takeRateLimit(route, params);
      if (!limit.allowed) {
        answer(
          429,
          { message: 'You are being rate limited.', retry_after: limit.retryAfterSeconds, global: false },
          {
            ...limit.headers,
            'retry-after': String(Math.ceil(limit.retryAfterSeconds)),
            'x-ratelimit-scope': 'user',
          },
        );
        return;
      }
      try {
        const reply = route.handle({ params, query: url.searchParams, body: parsed, now: this.now() });
        answer(reply.status, reply.body, limit.headers);
      } catch (error) {
        if (!(error instanceof DiscordApiFailure)) throw error;
        answer(error.status, error.toBody(), limit.headers);
      }
    } catch {
      answer(500, { message: '500: Internal Server Error', code: 0 });
    }
  }

  snapshot(): DiscordStandInSnapshot {
    const messages: SentMessage[] = [];
    for (const id of this.sent) {
      const message = this.messages.get(id);
      if (message) messages.push(this.toSentMessage(message));
    }
    const channels = [...this.channels.values()];
    return structuredClone({
      messages,
      channels: channels
        .filter((channel) => channel.type === 0)
        .map((channel) => ({
          id: channel.id,
          guildId: channel.guildId,
          name: channel.name,
          type: 0 as const,
          messageCount: channel.messageIds.length,
        })),
      threads: channels
        .filter((channel) => channel.type === 11)
        .map((thread) => ({
          id: thread.id,
          guildId: thread.guildId,
          parentId: thread.parentId ?? '',
          name: thread.name,
          createdByBot: thread.createdByBot,
          createdAt: new Date(thread.createdAt).toISOString(),
          messageCount: thread.messageIds.length,
        })),
      commands: [...this.commands.values()].flat().map((command) => this.toApiCommand(command)),
    });
  }

  channelHistory(channelId: string): Record<string, unknown>[] {
    const channel = this.channels.get(channelId);
    if (!channel) return [];
    return structuredClone(
      channel.messageIds.flatMap((id) => {
        const message = this.messages.get(id);
        return message ? [this.toApiMessage(message)] : [];
      }),
    );
  }

  // --- routing ---------------------------------------------------------------------------------

  private buildRoutes(): Route[] {
    const channel = (rest: string) => new RegExp(`^/channels/${ID}${rest}$`);
    const webhook = (rest: string) => new RegExp(`^/webhooks/${ID}/${TOKEN}${rest}$`);
    const webhookMajor = (params: readonly string[]) => `${params[0]}/${params[1]}`;
    return [
      {
        method: 'GET',
        pattern: /^\/users\/(?:@|%40)me$/,
        template: '/users/@me',
        auth: 'bot',
        major: noMajor,
        handle: () => ({ status: 200, body: this.toApiUser(this.bot) }),
      },
      {
        method: 'GET',
        pattern: channel(''),
        template: '/channels/:id',
        auth: 'bot',
        major: byFirst,
        handle: (c) => ({ status: 200, body: this.toApiChannel(this.requireChannel(c.params[0])) }),
      },
      {
        method: 'GET',
        pattern: channel('/messages'),
        template: '/channels/:id/messages',
        auth: 'bot',
        major: byFirst,
        handle: (c) => this.listMessages(c),
      },
      {
        method: 'POST',
        pattern: channel('/messages'),
        template: '/channels/:id/messages',
        auth: 'bot',
        major: byFirst,
        handle: (c) => this.createChannelMessage(c),
      },
      {
        method: 'GET',
        pattern: channel(`/messages/${ID}`),
        template: '/channels/:id/messages/:id',
        auth: 'bot',
        major: byFirst,
        handle: (c) => ({
          status: 200,
          body: this.toApiMessage(this.requireChannelMessage(c.params[0], c.params[1])),
        }),
      },
      {
        method: 'PATCH',
        pattern: channel(`/messages/${ID}`),
        template: '/channels/:id/messages/:id',
        auth: 'bot',
        major: byFirst,
        handle: (c) => this.editChannelMessage(c),
      },
      {
        method: 'POST',
        pattern: channel(`/messages/${ID}/threads`),
        template: '/channels/:id/messages/:id/threads',
        auth: 'bot',
        major: byFirst,
        handle: (c) => this.startThread(c),
      },
      {
        method: 'GET',
        pattern: new RegExp(`^/guilds/${ID}/channels$`),
        template: '/guilds/:id/channels',
        auth: 'bot',
        major: byFirst,
        handle: (c) => this.listGuildChannels(c),
      },
      {
        method: 'GET',
        pattern: new RegExp(`^/applications/${ID}/commands$`),
        template: '/applications/:id/commands',
        auth: 'bot',
        major: noMajor,
        handle: (c) => this.listCommands(c.params[0], undefined),
      },
      {
        method: 'PUT',
        pattern: new RegExp(`^/applications/${ID}/commands$`),
        template: '/applications/:id/commands',
        auth: 'bot',
        major: noMajor,
        handle: (c) => this.overwriteCommands(c, undefined),
      },
      {
        method: 'GET',
        pattern: new RegExp(`^/applications/${ID}/guilds/${ID}/commands$`),
        template: '/applications/:id/guilds/:id/commands',
        auth: 'bot',
        major: noMajor,
        handle: (c) => this.listCommands(c.params[0], c.params[1]),
      },
      {
        method: 'PUT',
        pattern: new RegExp(`^/applications/${ID}/guilds/${ID}/commands$`),
        template: '/applications/:id/guilds/:id/commands',
        auth: 'bot',
        major: noMajor,
        handle: (c) => this.overwriteCommands(c, c.params[1]),
      },
      {
        method: 'POST',
        pattern: webhook(''),
        template: '/webhooks/:id/:token',
        auth: 'none',
        major: webhookMajor,
        handle: (c) => this.createFollowup(c),
      },
      {
        method: 'GET',
        pattern: webhook('/messages/(?:@|%40)original'),
        template: '/webhooks/:id/:token/messages/@original',
        auth: 'none',
        major: webhookMajor,
        handle: (c) => this.getOriginal(c),
      },
      {
        method: 'PATCH',
        pattern: webhook('/messages/(?:@|%40)original'),
        template: '/webhooks/:id/:token/messages/@original',
        auth: 'none',
        major: webhookMajor,
        handle: (c) => this.editOriginal(c),
      },
      {
        method: 'GET',
        pattern: webhook(`/messages/${ID}`),
        template: '/webhooks/:id/:token/messages/:id',
        auth: 'none',
        major: webhookMajor,
        handle: (c) => ({ status: 200, body: this.toApiMessage(this.requireFollowup(c)) }),
      },
      {
        method: 'PATCH',
        pattern: webhook(`/messages/${ID}`),
        template: '/webhooks/:id/:token/messages/:id',
        auth: 'none',
        major: webhookMajor,
        handle: (c) => this.editFollowup(c),
      },
    ];
  }

  private matchRoute(method: string, pathname: string): { route: Route; params: string[] } | undefined {
    for (const route of this.routes) {
      if (route.method !== method) continue;
      const found = route.pattern.exec(pathname);
      if (found) return { route, params: found.slice(1).map((part) => decodeURIComponent(part ?? '')) };
    }
    return undefined;
  }

  private isBotAuthorized(header: string | undefined): boolean {
    const token = /^Bot (.+)$/.exec(header ?? '')?.[1];
    if (!token) return false;
    return this.botToken === undefined || token === this.botToken;
  }

  private takeRateLimit(
    route: Route,
    params: readonly string[],
  ): { allowed: boolean; retryAfterSeconds: number; headers: Record<string, string> } {
    const bucketHash = createHash('sha1')
      .update(`${route.method} ${route.template}`)
      .digest('hex')
      .slice(0, 32);
    const key = `${bucketHash}:${route.major(params)}`;
    const now = this.now();
    let bucket = this.buckets.get(key);
    if (!bucket || bucket.resetAt <= now) {
      bucket = { remaining: this.rateLimit.limit, resetAt: now + this.rateLimit.windowMs };
      this.buckets.set(key, bucket);
    }
    const allowed = bucket.remaining > 0;
    if (allowed) bucket.remaining -= 1;
    const resetAfterSeconds = Math.max(0, bucket.resetAt - now) / 1000;
    return {
      allowed,
      retryAfterSeconds: resetAfterSeconds,
      headers: {
        'x-ratelimit-limit': String(this.rateLimit.limit),
        'x-ratelimit-remaining': String(bucket.remaining),
        'x-ratelimit-reset': (bucket.resetAt / 1000).toFixed(3),
        'x-ratelimit-reset-after': resetAfterSeconds.toFixed(3),
        'x-ratelimit-bucket': bucketHash,
      },
    };
  }

  // --- channels and messages -------------------------------------------------------------------

  private listMessages(context: RequestContext): Reply {
    const channel = this.requireChannel(context.params[0]);
    const limitText = context.query.get('limit');
    const limit = limitText === null ? 50 : Number(limitText);
    if (!Number.isInteger(limit) || limit < 1 || limit > 100) {
      const form = new FormErrorCollector();
      form.add(['limit'], 'NUMBER_TYPE_MAX', 'int value should be between 1 and 100.');
      form.throwIfAny();
    }
    const before = context.query.get('before');
    const after = context.query.get('after');
    let ids = channel.messageIds;
    if (before) ids = ids.filter((id) => BigInt(id) < BigInt(before));
    if (after) ids = ids.filter((id) => BigInt(id) > BigInt(after));
    // Newest first, as Discord answers.
    const page = after ? ids.slice(0, limit).reverse() : ids.slice(-limit).reverse();
    return { status: 200, body: page.map((id) => this.toApiMessage(this.messages.get(id)!)) };
  }

  private createChannelMessage(context: RequestContext): Reply {
    const channel = this.requireChannel(context.params[0]);
    const body = asObject(context.body);
    const parsed = parseMessageBody(body, 'create');
    const nonce = body.nonce as string | number | undefined;
    const nonceKey = nonce !== undefined ? `${channel.id}:${this.bot.id}:${String(nonce)}` : undefined;
    if (nonceKey && body.enforce_nonce === true) {
      const seen = this.nonces.get(nonceKey);
      const existing =
        seen && context.now - seen.at < this.nonceWindowMs ? this.messages.get(seen.messageId) : undefined;
      if (existing) return { status: 200, body: this.toApiMessage(existing, true) };
    }
    const message: MessageRecord = {
      id: this.nextId(context.now),
      author: this.bot,
      channelId: channel.id,
      kind: 'channel',
      content: parsed.content ?? '',
      embeds: parsed.embeds ?? [],
      components: parsed.components ?? [],
      flags: (parsed.flags ?? 0) & SETTABLE_FLAGS,
      allowedMentions: body.allowed_mentions ?? null,
      ...(nonce !== undefined ? { nonce } : {}),
      createdAt: context.now,
      editCount: 0,
    };
    requireNotEmpty(message);
    this.store(message, channel, true);
    if (nonceKey) this.nonces.set(nonceKey, { messageId: message.id, at: context.now });
    return { status: 200, body: this.toApiMessage(message, true) };
  }

  private editChannelMessage(context: RequestContext): Reply {
    const message = this.requireChannelMessage(context.params[0], context.params[1]);
    if (message.author.id !== this.bot.id) {
      throw new DiscordApiFailure(403, 50005, 'Cannot edit a message authored by another user');
    }
    this.applyEdit(message, asObject(context.body), context.now);
    return { status: 200, body: this.toApiMessage(message) };
  }

  private startThread(context: RequestContext): Reply {
    const channel = this.requireChannel(context.params[0]);
    if (channel.type !== 0)
      throw new DiscordApiFailure(400, 50024, 'Cannot execute action on this channel type');
    const message = this.requireChannelMessage(channel.id, context.params[1]);
    if (message.threadId) {
      throw new DiscordApiFailure(400, 160004, 'A thread has already been created for this message');
    }
    const body = asObject(context.body);
    const form = new FormErrorCollector();
    const name = typeof body.name === 'string' ? body.name.trim() : '';
    if (name.length < 1 || name.length > 100) {
      form.add(['name'], 'BASE_TYPE_BAD_LENGTH', 'Must be between 1 and 100 in length.');
    }
    const duration = body.auto_archive_duration ?? 4320;
    if (![60, 1440, 4320, 10080].includes(duration as number)) {
      form.add(
        ['auto_archive_duration'],
        'BASE_TYPE_CHOICES',
        'Value must be one of {60, 1440, 4320, 10080}.',
      );
    }
    form.throwIfAny();
    // Discord gives a thread started from a message the message's id.
    const thread: ChannelRecord = {
      id: message.id,
      type: 11,
      guildId: channel.guildId,
      name,
      parentId: channel.id,
      ownerId: this.bot.id,
      createdAt: context.now,
      createdByBot: true,
      autoArchiveDuration: duration as number,
      messageIds: [],
    };
    this.channels.set(thread.id, thread);
    message.threadId = thread.id;
    message.flags |= FLAG_HAS_THREAD;
    return { status: 201, body: this.toApiChannel(thread) };
  }

  private listGuildChannels(context: RequestContext): Reply {
    const guildId = context.params[0] ?? '';
    if (guildId !== this.guild.id && !this.knownGuilds.has(guildId))
      throw new DiscordApiFailure(404, 10004, 'Unknown Guild');
    const channels = [...this.channels.values()].filter(
      (channel) => channel.type === 0 && channel.guildId === guildId,
    );
    return { status: 200, body: channels.map((channel) => this.toApiChannel(channel)) };
  }

  // --- interaction webhooks --------------------------------------------------------------------

  private createFollowup(context: RequestContext): Reply {
    const [applicationId, token] = this.requireWebhook(context);
    const body = asObject(context.body);
    const parsed = parseMessageBody(body, 'create');
    const message: MessageRecord = {
      id: this.nextId(context.now),
      author: this.bot,
      kind: 'followup',
      applicationId,
      interactionToken: token,
      content: parsed.content ?? '',
      embeds: parsed.embeds ?? [],
      components: parsed.components ?? [],
      flags: (parsed.flags ?? 0) & (SETTABLE_FLAGS | FLAG_EPHEMERAL),
      allowedMentions: body.allowed_mentions ?? null,
      createdAt: context.now,
      editCount: 0,
    };
    requireNotEmpty(message);
    this.store(message, undefined, true);
    return { status: 200, body: this.toApiMessage(message) };
  }

  private getOriginal(context: RequestContext): Reply {
    const [applicationId, token] = this.requireWebhook(context);
    const id = this.originals.get(`${applicationId}/${token}`);
    const message = id ? this.messages.get(id) : undefined;
    if (!message) throw new DiscordApiFailure(404, 10008, 'Unknown Message');
    return { status: 200, body: this.toApiMessage(message) };
  }

  /**
   * The stand-in never sees the interaction (ingress answers it), so the deferred "thinking…"
   * response is taken to exist and the first edit gives it its content.
   */
  private editOriginal(context: RequestContext): Reply {
    const [applicationId, token] = this.requireWebhook(context);
    const key = `${applicationId}/${token}`;
    const id = this.originals.get(key);
    let message = id ? this.messages.get(id) : undefined;
    if (!message) {
      message = {
        id: this.nextId(context.now),
        author: this.bot,
        kind: 'interaction-original',
        applicationId,
        interactionToken: token,
        content: '',
        embeds: [],
        components: [],
        flags: 0,
        allowedMentions: null,
        createdAt: context.now,
        editCount: 0,
      };
      const body = asObject(context.body);
      this.applyEdit(message, body, context.now);
      this.store(message, undefined, true);
      this.originals.set(key, message.id);
    } else {
      this.applyEdit(message, asObject(context.body), context.now);
    }
    return { status: 200, body: this.toApiMessage(message) };
  }

  private editFollowup(context: RequestContext): Reply {
    const message = this.requireFollowup(context);
    this.applyEdit(message, asObject(context.body), context.now);
    return { status: 200, body: this.toApiMessage(message) };
  }

  private requireWebhook(context: RequestContext): [string, string] {
    const [applicationId = '', token = ''] = context.params;
    if (applicationId !== this.ids.applicationId || token.length === 0) {
      throw new DiscordApiFailure(404, 10015, 'Unknown Webhook');
    }
    return [applicationId, token];
  }

  private requireFollowup(context: RequestContext): MessageRecord {
    const [applicationId, token] = this.requireWebhook(context);
    const message = this.messages.get(context.params[2] ?? '');
    if (!message || message.applicationId !== applicationId || message.interactionToken !== token) {
      throw new DiscordApiFailure(404, 10008, 'Unknown Message');
    }
    return message;
  }

  // --- application commands --------------------------------------------------------------------

  private listCommands(applicationId: string | undefined, guildId: string | undefined): Reply {
    this.requireOwnApplication(applicationId, guildId);
    const commands = this.commands.get(guildId ?? 'global') ?? [];
    return { status: 200, body: commands.map((command) => this.toApiCommand(command)) };
  }

  /** Bulk overwrite: what is not in the body is deleted; a command keeps its id by name and type. */
  private overwriteCommands(context: RequestContext, guildId: string | undefined): Reply {
    this.requireOwnApplication(context.params[0], guildId);
    const form = new FormErrorCollector();
    if (!Array.isArray(context.body)) {
      form.add([], 'BASE_TYPE_ARRAY', 'Must be an array.');
      form.throwIfAny();
    }
    const bodies = context.body as unknown[];
    if (bodies.length > 100) form.add([], 'BASE_TYPE_MAX_LENGTH', 'Must be 100 or fewer in length.');
    const seen = new Set<string>();
    bodies.forEach((item, index) => {
      const command = asObject(item);
      validateCommand(command, index, form);
      const identity = `${command.type ?? 1}:${String(command.name)}`;
      if (seen.has(identity)) {
        form.add(
          [index, 'name'],
          'APPLICATION_COMMANDS_DUPLICATE_NAME',
          'Application command names must be unique',
        );
      }
      seen.add(identity);
    });
    form.throwIfAny();
    const scope = guildId ?? 'global';
    const previous = this.commands.get(scope) ?? [];
    const next = bodies.map((item): CommandRecord => {
      const body = asObject(item);
      const type = (body.type as number | undefined) ?? 1;
      const kept = previous.find((command) => command.body.name === body.name && command.body.type === type);
      return {
        id: kept?.id ?? this.nextId(context.now),
        ...(guildId ? { guildId } : {}),
        body: { ...body, type, description: body.description ?? '' },
      };
    });
    this.commands.set(scope, next);
    return { status: 200, body: next.map((command) => this.toApiCommand(command)) };
  }

  private requireOwnApplication(applicationId: string | undefined, guildId: string | undefined): void {
    if (applicationId !== this.ids.applicationId) throw new DiscordApiFailure(403, 50001, 'Missing Access');
    if (guildId !== undefined && guildId !== this.guild.id)
      throw new DiscordApiFailure(403, 50001, 'Missing Access');
  }

  // --- state helpers ---------------------------------------------------------------------------

  private nextId(at: number): string {
    this.increment = (this.increment + 1) & 0xfff;
    return snowflakeAt(at, this.increment);
  }

  private requireChannel(id: string | undefined): ChannelRecord {
    const channel = id ? this.channels.get(id) : undefined;
    if (channel) return channel;
    if (id && this.adoptUnknownChannels && /^\d{15,22}$/.test(id)) {
      return this.adoptChannel({ id, type: 0, guildId: this.guild.id });
    }
    throw new DiscordApiFailure(404, 10003, 'Unknown Channel');
  }

  learnPlace(place: InteractionPlace): void {
    const guildId = place.guildId ?? this.guild.id;
    if (guildId !== this.guild.id) this.knownGuilds.add(guildId);
    const { channel } = place;
    if (!/^\d{15,22}$/.test(channel.id) || this.channels.has(channel.id)) return;
    // Discord's thread types: 10 announcement, 11 public, 12 private.
    const isThread = channel.type === 10 || channel.type === 11 || channel.type === 12;
    if (isThread && channel.parentId && /^\d{15,22}$/.test(channel.parentId)) {
      if (!this.channels.has(channel.parentId)) {
        this.adoptChannel({ id: channel.parentId, type: 0, guildId });
      }
      this.adoptChannel({
        id: channel.id,
        type: 11,
        guildId,
        parentId: channel.parentId,
        name: channel.name,
      });
      return;
    }
    this.adoptChannel({ id: channel.id, type: 0, guildId, name: channel.name });
  }

  private adoptChannel(init: {
    id: string;
    type: 0 | 11;
    guildId: string;
    parentId?: string;
    name?: string;
  }): ChannelRecord {
    const channel: ChannelRecord = {
      id: init.id,
      type: init.type,
      guildId: init.guildId,
      name: init.name ?? (init.type === 11 ? `thread-${init.id}` : `channel-${init.id}`),
      ...(init.parentId ? { parentId: init.parentId } : {}),
      createdAt: this.now(),
      createdByBot: false,
      messageIds: [],
    };
    this.channels.set(channel.id, channel);
    return channel;
  }

  private requireChannelMessage(channelId: string | undefined, messageId: string | undefined): MessageRecord {
    const channel = this.requireChannel(channelId);
    const message = messageId ? this.messages.get(messageId) : undefined;
    if (!message || message.channelId !== channel.id)
      throw new DiscordApiFailure(404, 10008, 'Unknown Message');
    return message;
  }

  private store(message: MessageRecord, channel: ChannelRecord | undefined, sentByBot: boolean): void {
    this.messages.set(message.id, message);
    channel?.messageIds.push(message.id);
    if (sentByBot) this.sent.push(message.id);
  }

  private applyEdit(message: MessageRecord, body: Record<string, unknown>, now: number): void {
    const parsed = parseMessageBody(body, 'edit');
    const next = {
      content: 'content' in body ? (parsed.content ?? '') : message.content,
      embeds: 'embeds' in body ? (parsed.embeds ?? []) : message.embeds,
      components: 'components' in body ? (parsed.components ?? []) : message.components,
    };
    requireNotEmpty(next);
    message.content = next.content;
    message.embeds = next.embeds;
    message.components = next.components;
    message.allowedMentions = body.allowed_mentions ?? null;
    message.editedAt = now;
    message.editCount += 1;
  }

  private seed(generalChannelId: string, bugReportsChannelId: string, created: number): string {
    const maya: UserRecord = {
      id: snowflakeAt(created, 11),
      username: 'maya.chen',
      globalName: 'Maya',
      bot: false,
    };
    const devon: UserRecord = {
      id: snowflakeAt(created, 12),
      username: 'devonp',
      globalName: 'Devon Park',
      bot: false,
    };
    const priya: UserRecord = {
      id: snowflakeAt(created, 13),
      username: 'priya_r',
      globalName: 'Priya',
      bot: false,
    };
    const addChannel = (id: string, name: string, topic: string): ChannelRecord => {
      const channel: ChannelRecord = {
        id,
        type: 0,
        guildId: this.guild.id,
        name,
        topic,
        createdAt: created,
        createdByBot: false,
        messageIds: [],
      };
      this.channels.set(id, channel);
      return channel;
    };
    const general = addChannel(generalChannelId, 'general', 'Anything about the Acme app');
    const bugReports = addChannel(bugReportsChannelId, 'bug-reports', 'Something broken? Tell us here.');

    const now = this.now();
    const say = (
      channel: ChannelRecord,
      author: UserRecord,
      minutesAgo: number,
      content: string,
    ): MessageRecord => {
      const at = now - minutesAgo * MINUTE;
      const message: MessageRecord = {
        id: this.nextId(at),
        author,
        channelId: channel.id,
        content,
        embeds: [],
        components: [],
        flags: 0,
        allowedMentions: null,
        createdAt: at,
        editCount: 0,
      };
      this.store(message, channel, false);
      return message;
    };

    const starter = say(
      bugReports,
      devon,
      26 * 60,
      'Checkout button does nothing on iOS 17.4. Add anything to the cart, tap Checkout: spinner for a second, then back to the cart. Build 2.8.1 (412).',
    );
    const thread: ChannelRecord = {
      id: starter.id,
      type: 11,
      guildId: this.guild.id,
      name: 'Checkout button does nothing on iOS',
      parentId: bugReports.id,
      ownerId: devon.id,
      createdAt: starter.createdAt,
      createdByBot: false,
      autoArchiveDuration: 4320,
      messageIds: [],
    };
    this.channels.set(thread.id, thread);
    starter.threadId = thread.id;
    starter.flags |= FLAG_HAS_THREAD;
    say(thread, priya, 25 * 60, 'Can repro on an iPad too. Web checkout still works.');
    say(thread, devon, 24 * 60, 'Console shows `PaymentSheet init failed: missing merchantIdentifier`');
    say(general, maya, 180, 'morning! anyone else seeing the app crash when uploading a profile photo?');
    say(general, devon, 172, 'yep, Android 14 on a Pixel 7. it just closes, no error');
    say(general, priya, 165, 'same on my Galaxy S23. photos under 1 MB seem fine though');
    say(
      bugReports,
      priya,
      120,
      'Dark mode: the Settings screen text is black on dark grey, basically unreadable (2.8.1, Android).',
    );
    say(general, maya, 30, 'should I post the photo crash in #bug-reports or is someone on it already?');
    return thread.id;
  }

  // --- wire format -----------------------------------------------------------------------------

  private toApiUser(user: UserRecord): Record<string, unknown> {
    return {
      id: user.id,
      username: user.username,
      global_name: user.globalName,
      discriminator: '0',
      avatar: null,
      ...(user.bot ? { bot: true } : {}),
    };
  }

  private toApiChannel(channel: ChannelRecord): Record<string, unknown> {
    const base = {
      id: channel.id,
      type: channel.type,
      guild_id: channel.guildId,
      name: channel.name,
      flags: 0,
      last_message_id: channel.messageIds.at(-1) ?? null,
      rate_limit_per_user: 0,
    };
    if (channel.type === 0)
      return { ...base, position: 0, parent_id: null, topic: channel.topic ?? null, nsfw: false };
    return {
      ...base,
      parent_id: channel.parentId,
      owner_id: channel.ownerId,
      message_count: channel.messageIds.length,
      total_message_sent: channel.messageIds.length,
      member_count: 1,
      thread_metadata: {
        archived: false,
        auto_archive_duration: channel.autoArchiveDuration ?? 4320,
        archive_timestamp: new Date(channel.createdAt).toISOString(),
        locked: false,
        create_timestamp: new Date(channel.createdAt).toISOString(),
      },
    };
  }

  /**
   * `withNonce`: only the answer to the create call echoes the nonce; Discord does not keep it
   * (reading a message back never shows one). Without the Message Content intent, other users'
   * messages come back with empty `content`, `embeds`, `attachments` and `components`
   * (docs: Message Resource, "Message Structure" warning); the bot's own messages keep theirs.
   */
  private toApiMessage(message: MessageRecord, withNonce = false): Record<string, unknown> {
    const thread = message.threadId ? this.channels.get(message.threadId) : undefined;
    const hidden = !this.messageContentIntent && message.author.id !== this.bot.id;
    return {
      id: message.id,
      type: 0,
      channel_id: message.channelId ?? this.ids.generalChannelId,
      author: this.toApiUser(message.author),
      content: hidden ? '' : message.content,
      timestamp: new Date(message.createdAt).toISOString(),
      edited_timestamp: message.editedAt !== undefined ? new Date(message.editedAt).toISOString() : null,
      tts: false,
      mention_everyone: false,
      mentions: [],
      mention_roles: [],
      attachments: [],
      embeds: hidden ? [] : message.embeds,
      components: hidden ? [] : message.components,
      pinned: false,
      flags: message.flags,
      ...(withNonce && message.nonce !== undefined ? { nonce: message.nonce } : {}),
      ...(message.applicationId
        ? { webhook_id: message.applicationId, application_id: message.applicationId }
        : {}),
      ...(thread ? { thread: this.toApiChannel(thread) } : {}),
    };
  }

  private toApiCommand(command: CommandRecord): Record<string, unknown> {
    return {
      ...command.body,
      id: command.id,
      application_id: this.ids.applicationId,
      ...(command.guildId ? { guild_id: command.guildId } : {}),
      version: command.id,
      default_member_permissions: command.body.default_member_permissions ?? null,
      nsfw: command.body.nsfw ?? false,
    };
  }

  private toSentMessage(message: MessageRecord): SentMessage {
    const channel = message.channelId ? this.channels.get(message.channelId) : undefined;
    const inThread = channel?.type === 11;
    return {
      id: message.id,
      kind: message.kind ?? 'channel',
      ...(channel ? { channelId: inThread ? channel.parentId : channel.id } : {}),
      ...(inThread ? { threadId: channel.id } : {}),
      ...(message.applicationId ? { applicationId: message.applicationId } : {}),
      ...(message.interactionToken ? { interactionToken: message.interactionToken } : {}),
      content: message.content,
      embeds: message.embeds,
      components: message.components,
      allowedMentions: message.allowedMentions,
      flags: message.flags,
      ...(message.nonce !== undefined ? { nonce: message.nonce } : {}),
      createdAt: new Date(message.createdAt).toISOString(),
      ...(message.editedAt !== undefined ? { editedAt: new Date(message.editedAt).toISOString() } : {}),
      editCount: message.editCount,
    };
  }
}

// --- body validation, roughly as strict as Discord ------------------------------------------------

interface ParsedMessageBody {
  content?: string;
  embeds?: unknown[];
  components?: unknown[];
  flags?: number;
}

function asObject(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}

function maxLength(form: FormErrorCollector, path: (string | number)[], value: unknown, max: number): void {
  if (value === undefined || value === null) return;
  if (typeof value !== 'string') {
    form.add(path, 'BASE_TYPE_STRING', 'Must be a string.');
  } else if (value.length > max) {
    form.add(path, 'BASE_TYPE_MAX_LENGTH', `Must be ${max} or fewer in length.`);
  }
}

function required(form: FormErrorCollector, path: (string | number)[], value: unknown): boolean {
  if (typeof value === 'string' && value.length > 0) return true;
  form.add(path, 'BASE_TYPE_REQUIRED', 'This field is required');
  return false;
}

function parseMessageBody(body: Record<string, unknown>, mode: 'create' | 'edit'): ParsedMessageBody {
  const form = new FormErrorCollector();
  maxLength(form, ['content'], body.content, 2000);

  const embeds = body.embeds ?? undefined;
  if (embeds !== undefined && embeds !== null) {
    if (!Array.isArray(embeds)) {
      form.add(['embeds'], 'BASE_TYPE_ARRAY', 'Must be an array.');
    } else {
      if (embeds.length > 10) form.add(['embeds'], 'BASE_TYPE_MAX_LENGTH', 'Must be 10 or fewer in length.');
      let total = 0;
      embeds.forEach((item, index) => {
        total += validateEmbed(asObject(item), index, form);
      });
      if (total > 6000)
        form.add(['embeds'], 'MAX_EMBED_SIZE_EXCEEDED', 'Embed size exceeds maximum size of 6000');
    }
  }

  const components = body.components ?? undefined;
  if (components !== undefined && components !== null) validateComponents(components, form);

  if (mode === 'create' && body.nonce !== undefined) {
    const nonce = body.nonce;
    if (typeof nonce === 'string') maxLength(form, ['nonce'], nonce, 25);
    else if (!Number.isInteger(nonce))
      form.add(['nonce'], 'BASE_TYPE_BAD_TYPE', 'Must be a string or an integer.');
  }
  if (body.flags !== undefined && body.flags !== null && !Number.isInteger(body.flags)) {
    form.add(['flags'], 'NUMBER_TYPE_COERCE', 'Value is not int.');
  }
  form.throwIfAny();

  return {
    ...(typeof body.content === 'string' ? { content: body.content } : {}),
    ...(Array.isArray(embeds) ? { embeds } : {}),
    ...(Array.isArray(components) ? { components } : {}),
    ...(typeof body.flags === 'number' ? { flags: body.flags } : {}),
  };
}

/** Returns the characters the embed counts towards the message's 6000. */
function validateEmbed(embed: Record<string, unknown>, index: number, form: FormErrorCollector): number {
  const at = (...path: (string | number)[]) => ['embeds', index, ...path];
  maxLength(form, at('title'), embed.title, 256);
  maxLength(form, at('description'), embed.description, 4096);
  const footer = asObject(embed.footer);
  if (embed.footer !== undefined && required(form, at('footer', 'text'), footer.text)) {
    maxLength(form, at('footer', 'text'), footer.text, 2048);
  }
  const author = asObject(embed.author);
  if (embed.author !== undefined && required(form, at('author', 'name'), author.name)) {
    maxLength(form, at('author', 'name'), author.name, 256);
  }
  let total =
    textLength(embed.title) +
    textLength(embed.description) +
    textLength(footer.text) +
    textLength(author.name);
  const fields = embed.fields;
  if (fields !== undefined) {
    if (!Array.isArray(fields)) {
      form.add(at('fields'), 'BASE_TYPE_ARRAY', 'Must be an array.');
    } else {
      if (fields.length > 25)
        form.add(at('fields'), 'BASE_TYPE_MAX_LENGTH', 'Must be 25 or fewer in length.');
      fields.forEach((item, fieldIndex) => {
        const field = asObject(item);
        if (required(form, at('fields', fieldIndex, 'name'), field.name)) {
          maxLength(form, at('fields', fieldIndex, 'name'), field.name, 256);
        }
        if (required(form, at('fields', fieldIndex, 'value'), field.value)) {
          maxLength(form, at('fields', fieldIndex, 'value'), field.value, 1024);
        }
        total += textLength(field.name) + textLength(field.value);
      });
    }
  }
  return total;
}

function textLength(value: unknown): number {
  return typeof value === 'string' ? value.length : 0;
}

function validateComponents(components: unknown, form: FormErrorCollector): void {
  if (!Array.isArray(components)) {
    form.add(['components'], 'BASE_TYPE_ARRAY', 'Must be an array.');
    return;
  }
  if (components.length > 5)
    form.add(['components'], 'BASE_TYPE_MAX_LENGTH', 'Must be 5 or fewer in length.');
  const customIds = new Set<string>();
  components.forEach((item, rowIndex) => {
    const row = asObject(item);
    if (row.type !== 1 || !Array.isArray(row.components)) {
      form.add(['components', rowIndex], 'UNION_TYPE_CHOICES', 'Value of field "type" must be one of (1,).');
      return;
    }
    if (row.components.length < 1 || row.components.length > 5) {
      form.add(
        ['components', rowIndex, 'components'],
        'BASE_TYPE_BAD_LENGTH',
        'Must be between 1 and 5 in length.',
      );
    }
    row.components.forEach((inner, buttonIndex) => {
      const at = (key: string) => ['components', rowIndex, 'components', buttonIndex, key];
      const button = asObject(inner);
      if (button.type !== 2) {
        form.add(at('type'), 'UNION_TYPE_CHOICES', 'Value of field "type" must be one of (2,).');
        return;
      }
      if (![1, 2, 3, 4, 5].includes(button.style as number)) {
        form.add(at('style'), 'BASE_TYPE_CHOICES', 'Value must be one of {1, 2, 3, 4, 5}.');
      }
      maxLength(form, at('label'), button.label, 80);
      if (button.style === 5) {
        if (typeof button.url !== 'string' || !/^https?:\/\//.test(button.url)) {
          form.add(at('url'), 'URL_TYPE_INVALID_URL', 'Not a well formed URL.');
        }
        if (button.custom_id !== undefined) {
          form.add(
            at('custom_id'),
            'COMPONENT_LINK_BUTTON_CUSTOM_ID',
            'A link button cannot have a custom id',
          );
        }
        return;
      }
      if (required(form, at('custom_id'), button.custom_id)) {
        maxLength(form, at('custom_id'), button.custom_id, 100);
        const id = button.custom_id as string;
        if (customIds.has(id)) {
          form.add(
            at('custom_id'),
            'COMPONENT_CUSTOM_ID_DUPLICATED',
            'Component custom id cannot be duplicated',
          );
        }
        customIds.add(id);
      }
    });
  });
}

function validateCommand(command: Record<string, unknown>, index: number, form: FormErrorCollector): void {
  const type = (command.type as number | undefined) ?? 1;
  if (![1, 2, 3].includes(type))
    form.add([index, 'type'], 'BASE_TYPE_CHOICES', 'Value must be one of {1, 2, 3}.');
  const name = command.name;
  if (typeof name !== 'string' || name.length < 1 || name.length > 32) {
    form.add([index, 'name'], 'BASE_TYPE_BAD_LENGTH', 'Must be between 1 and 32 in length.');
  } else if (type === 1 && (!/^[-_'\p{L}\p{N}]{1,32}$/u.test(name) || name !== name.toLowerCase())) {
    form.add([index, 'name'], 'APPLICATION_COMMAND_INVALID_NAME', 'Command name is invalid');
  }
  const description = command.description;
  if (type === 1) {
    if (typeof description !== 'string' || description.length < 1 || description.length > 100) {
      form.add([index, 'description'], 'BASE_TYPE_BAD_LENGTH', 'Must be between 1 and 100 in length.');
    }
  } else if (description !== undefined && description !== '') {
    form.add(
      [index, 'description'],
      'APPLICATION_COMMAND_CONTEXT_MENU_DESCRIPTION',
      'Context menu commands cannot have description',
    );
  }
  if (command.options !== undefined && (!Array.isArray(command.options) || command.options.length > 25)) {
    form.add([index, 'options'], 'BASE_TYPE_MAX_LENGTH', 'Must be 25 or fewer in length.');
  }
}

function requireNotEmpty(message: { content: string; embeds: unknown[]; components: unknown[] }): void {
  if (message.content.trim() === '' && message.embeds.length === 0 && message.components.length === 0) {
    throw new DiscordApiFailure(400, 50006, 'Cannot send an empty message');
  }
}
