import type { MessageSnapshot } from '../sqs/local-sqs.js';
import type { Fault } from '../stand-ins/stand-in.js';

/**
 * What the console page shows, built from the sandboxes' own records: pure, so the placement
 * rules (which channel an interaction answer lands in, when it is ephemeral, what is still
 * "thinking") are unit-tested without a browser. Everything in it may be untrusted text; the
 * page renders it as text.
 */

export const EPHEMERAL_FLAG = 1 << 6;
const DLQ_SHOWN = 50;

/** A message as the page draws it (a Discord message, or an interaction answer). */
export interface ViewMessage {
  readonly id: string;
  readonly author: { readonly name: string; readonly bot: boolean };
  readonly at: string;
  readonly edited: boolean;
  readonly content: string;
  readonly embeds: readonly unknown[];
  readonly components: readonly unknown[];
  /** Only the person who used the interaction sees it ("Only you can see this"). */
  readonly ephemeral: boolean;
  /** A deferred answer bugbot has not written yet ("bugbot is thinking…"). */
  readonly pending: boolean;
  /** The answer failed at the door: Discord shows "This interaction failed". */
  readonly failed?: string;
  /** For interaction answers: who used what. */
  readonly interaction?: { readonly user: string; readonly label: string };
  /** A person's message: message commands ("Apps") may target it. */
  readonly human: boolean;
  /** Where the message is: a click on its buttons happens there. */
  readonly channelId: string;
  readonly threadId?: string;
  readonly thread?: { readonly id: string; readonly name: string; readonly messages: ViewMessage[] };
}

export interface ViewChannel {
  readonly id: string;
  readonly name: string;
  readonly messages: ViewMessage[];
}

/** An interaction the console sent, kept so its answers can be placed and labelled. */
export interface LoggedInteraction {
  readonly token: string;
  readonly at: string;
  readonly channelId: string;
  readonly threadId?: string;
  readonly user: string;
  readonly label: string;
  /** The HTTP status the stack's interactions route answered. */
  readonly status: number;
  /** Its body when it was an interaction response (`{ type, data? }`). */
  readonly response?: { readonly type: number; readonly data?: Record<string, unknown> };
}

/** One of bugbot's sent messages, as the Discord stand-in records them. */
export interface SentMessageLike {
  readonly id: string;
  readonly kind: string;
  readonly channelId?: string;
  readonly threadId?: string;
  readonly interactionToken?: string;
  readonly content: string;
  readonly embeds: readonly unknown[];
  readonly components: readonly unknown[];
  readonly flags: number;
  readonly createdAt: string;
  readonly editedAt?: string;
  readonly editCount?: number;
}

/** A channel message in the REST API's shape (`GET /channels/:id/messages`). */
export interface ApiMessageLike {
  readonly id?: unknown;
  readonly author?: { readonly username?: unknown; readonly global_name?: unknown; readonly bot?: unknown };
  readonly content?: unknown;
  readonly timestamp?: unknown;
  readonly edited_timestamp?: unknown;
  readonly embeds?: unknown;
  readonly components?: unknown;
  readonly flags?: unknown;
  readonly thread?: { readonly id?: unknown; readonly name?: unknown };
}

export interface DiscordInput {
  readonly bugReportsChannelId: string;
  readonly channels: readonly { readonly id: string; readonly name: string }[];
  readonly sent: readonly SentMessageLike[];
  /** Every message of a channel or thread, oldest first. */
  history(channelId: string): readonly ApiMessageLike[];
}

export interface ServiceFaultView {
  readonly service: string;
  readonly sandboxed: boolean;
  readonly fault: Fault | null;
}

export interface DeadLetterView {
  readonly messageId: string;
  readonly kind: string;
  readonly idempotencyKey: string;
  readonly receiveCount: number;
  readonly sentAt: string;
  readonly failure: string;
}

export interface ConsoleView {
  readonly discord:
    | { readonly sandboxed: true; readonly channels: ViewChannel[] }
    | { readonly sandboxed: false };
  readonly linear: {
    readonly sandboxed: boolean;
    readonly issues: readonly {
      readonly id: string;
      readonly identifier: string;
      readonly title: string;
      readonly description: string;
      readonly url: string;
      readonly state: string;
      readonly createdAt: string;
      readonly comments: readonly { id: string; body: string; createdAt: string }[];
      readonly attachments: readonly { id: string; url: string; title: string; subtitle: string }[];
    }[];
  };
  readonly github: {
    readonly sandboxed: boolean;
    readonly pulls: readonly Record<string, unknown>[];
    readonly issues: readonly Record<string, unknown>[];
  };
  readonly queues: {
    readonly jobs: { readonly visible: number; readonly inFlight: number };
    readonly dlq: { readonly count: number; readonly messages: readonly DeadLetterView[] };
  };
  readonly services: readonly ServiceFaultView[];
}

export interface ConsoleViewInput {
  readonly discord?: DiscordInput;
  readonly interactions: readonly LoggedInteraction[];
  readonly linear?: Record<string, unknown>;
  readonly github?: Record<string, unknown>;
  readonly queues: {
    readonly jobs: { readonly visible: number; readonly inFlight: number };
    readonly dlq: readonly MessageSnapshot[];
  };
  readonly services: readonly ServiceFaultView[];
}

export function buildConsoleView(input: ConsoleViewInput): ConsoleView {
  return {
    discord: input.discord
      ? { sandboxed: true, channels: buildChannels(input.discord, input.interactions) }
      : { sandboxed: false },
    linear: buildLinear(input.linear),
    github: {
      sandboxed: input.github !== undefined,
      pulls: records(input.github?.pulls),
      issues: records(input.github?.issues),
    },
    queues: {
      jobs: input.queues.jobs,
      dlq: {
        count: input.queues.dlq.length,
        messages: input.queues.dlq.slice(0, DLQ_SHOWN).map(describeDeadLetter),
      },
    },
    services: input.services,
  };
}

// ---------------------------------------------------------------------------------------------
// Discord

function buildChannels(discord: DiscordInput, interactions: readonly LoggedInteraction[]): ViewChannel[] {
  const channels = new Map<string, ViewChannel>();
  const threads = new Map<string, ViewMessage[]>();
  for (const channel of discord.channels) {
    const messages = discord.history(channel.id).map((message) => {
      const view = fromApiMessage(message, channel.id);
      const threadId = typeof message.thread?.id === 'string' ? message.thread.id : undefined;
      if (!threadId) return view;
      const threadMessages = discord
        .history(threadId)
        .map((inThread) => fromApiMessage(inThread, channel.id, threadId));
      threads.set(threadId, threadMessages);
      const name = typeof message.thread?.name === 'string' ? message.thread.name : 'thread';
      return { ...view, thread: { id: threadId, name, messages: threadMessages } };
    });
    channels.set(channel.id, { id: channel.id, name: channel.name, messages });
  }

  // Interaction answers are not channel messages: Discord shows them where the interaction was
  // used. The stand-in never sees the interaction, so the console's own log places them; answers
  // to interactions sent from elsewhere (`npm run discord`) go to #bug-reports.
  const answers = new Map<string, SentMessageLike[]>();
  for (const message of discord.sent) {
    if (message.kind === 'channel' || !message.interactionToken) continue;
    const list = answers.get(message.interactionToken) ?? [];
    list.push(message);
    answers.set(message.interactionToken, list);
  }
  const place = (channelId: string, threadId: string | undefined, message: ViewMessage) => {
    const target =
      (threadId ? threads.get(threadId) : undefined) ??
      channels.get(channelId)?.messages ??
      channels.get(discord.bugReportsChannelId)?.messages;
    target?.push(message);
  };

  for (const interaction of interactions) {
    const sent = answers.get(interaction.token) ?? [];
    answers.delete(interaction.token);
    for (const message of answersOf(interaction, sent))
      place(interaction.channelId, interaction.threadId, message);
  }
  for (const sent of answers.values()) {
    for (const message of sent) {
      place(discord.bugReportsChannelId, undefined, {
        ...fromSentMessage(message, discord.bugReportsChannelId),
        interaction: { user: 'someone', label: 'an interaction sent outside the console' },
      });
    }
  }

  for (const messages of [...threads.values(), ...[...channels.values()].map((channel) => channel.messages)])
    messages.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
  return [...channels.values()];
}

/** What Discord shows for one interaction: its immediate answer, or the deferred one and follow-ups. */
function answersOf(interaction: LoggedInteraction, sent: readonly SentMessageLike[]): ViewMessage[] {
  const who = { user: interaction.user, label: interaction.label };
  const place = {
    channelId: interaction.channelId,
    ...(interaction.threadId ? { threadId: interaction.threadId } : {}),
  };
  const response = interaction.response;
  if (interaction.status !== 200 || !response) {
    return [
      {
        ...emptyBotMessage(`failed-${interaction.token}`, interaction.at, place),
        ephemeral: true,
        failed: `This interaction failed (the stack answered HTTP ${interaction.status}).`,
        interaction: who,
      },
    ];
  }
  const flags = typeof response.data?.flags === 'number' ? response.data.flags : 0;
  if (response.type === 4) {
    const data = response.data ?? {};
    return [
      {
        ...emptyBotMessage(`answer-${interaction.token}`, interaction.at, place),
        content: typeof data.content === 'string' ? data.content : '',
        embeds: Array.isArray(data.embeds) ? data.embeds : [],
        components: Array.isArray(data.components) ? data.components : [],
        ephemeral: (flags & EPHEMERAL_FLAG) !== 0,
        interaction: who,
      },
    ];
  }
  if (response.type !== 5) {
    // 6 (the message itself is updated later), 9 (a modal, which the page opens), 1 (pong).
    return sent.map((message) => ({ ...fromSentMessage(message, interaction.channelId), interaction: who }));
  }
  const original = sent.find((message) => message.kind === 'interaction-original');
  const followups = sent.filter((message) => message !== original);
  const first: ViewMessage = original
    ? {
        ...fromSentMessage(original, interaction.channelId, interaction.threadId),
        // Ephemerality is decided by the deferred response; the edit cannot change it.
        ephemeral: (flags & EPHEMERAL_FLAG) !== 0,
        interaction: who,
      }
    : {
        ...emptyBotMessage(`pending-${interaction.token}`, interaction.at, place),
        ephemeral: (flags & EPHEMERAL_FLAG) !== 0,
        pending: true,
        interaction: who,
      };
  return [
    { ...first, at: interaction.at },
    ...followups.map((message) => ({
      ...fromSentMessage(message, interaction.channelId, interaction.threadId),
      interaction: who,
    })),
  ];
}

function emptyBotMessage(
  id: string,
  at: string,
  place: { channelId: string; threadId?: string },
): ViewMessage {
  return {
    id,
    author: { name: 'bugbot', bot: true },
    at,
    edited: false,
    content: '',
    embeds: [],
    components: [],
    ephemeral: false,
    pending: false,
    human: false,
    ...place,
  };
}

function fromSentMessage(message: SentMessageLike, channelId: string, threadId?: string): ViewMessage {
  return {
    id: message.id,
    author: { name: 'bugbot', bot: true },
    at: message.createdAt,
    edited: message.editedAt !== undefined,
    content: message.content,
    embeds: message.embeds,
    components: message.components,
    ephemeral: (message.flags & EPHEMERAL_FLAG) !== 0,
    pending: false,
    human: false,
    channelId: message.channelId ?? channelId,
    ...((message.threadId ?? threadId) ? { threadId: message.threadId ?? threadId } : {}),
  };
}

function fromApiMessage(message: ApiMessageLike, channelId: string, threadId?: string): ViewMessage {
  const bot = message.author?.bot === true;
  const name =
    (typeof message.author?.global_name === 'string' && message.author.global_name) ||
    (typeof message.author?.username === 'string' && message.author.username) ||
    'someone';
  const flags = typeof message.flags === 'number' ? message.flags : 0;
  return {
    id: String(message.id ?? ''),
    author: { name, bot },
    at: typeof message.timestamp === 'string' ? message.timestamp : '',
    edited: typeof message.edited_timestamp === 'string',
    content: typeof message.content === 'string' ? message.content : '',
    embeds: Array.isArray(message.embeds) ? message.embeds : [],
    components: Array.isArray(message.components) ? message.components : [],
    ephemeral: (flags & EPHEMERAL_FLAG) !== 0,
    pending: false,
    human: !bot,
    channelId,
    ...(threadId ? { threadId } : {}),
  };
}

// ---------------------------------------------------------------------------------------------
// Linear, GitHub, queues

function buildLinear(snapshot: Record<string, unknown> | undefined): ConsoleView['linear'] {
  if (!snapshot) return { sandboxed: false, issues: [] };
  const comments = records(snapshot.comments);
  const attachments = records(snapshot.attachments);
  const issues = records(snapshot.issues).map((issue) => ({
    id: text(issue.id),
    identifier: text(issue.identifier),
    title: text(issue.title),
    description: text(issue.description),
    url: text(issue.url),
    state: text(issue.state),
    createdAt: text(issue.createdAt),
    comments: comments
      .filter((comment) => comment.issueId === issue.id)
      .map((comment) => ({
        id: text(comment.id),
        body: text(comment.body),
        createdAt: text(comment.createdAt),
      })),
    attachments: attachments
      .filter((attachment) => attachment.issueId === issue.id)
      .map((attachment) => ({
        id: text(attachment.id),
        url: text(attachment.url),
        title: text(attachment.title),
        subtitle: text(attachment.subtitle),
      })),
  }));
  // Newest first, as a tracker lists them.
  return { sandboxed: true, issues: issues.reverse() };
}

/** Identifiers and reasons only, as `npm run dlq -- list` shows them: never the report text. */
function describeDeadLetter(message: MessageSnapshot): DeadLetterView {
  let kind = 'not a job';
  let idempotencyKey = '';
  try {
    const body = JSON.parse(message.body) as { kind?: unknown; idempotencyKey?: unknown };
    if (typeof body.kind === 'string') kind = body.kind.slice(0, 60);
    if (typeof body.idempotencyKey === 'string') idempotencyKey = body.idempotencyKey.slice(0, 300);
  } catch {
    // Listed as "not a job".
  }
  const failure =
    message.messageAttributes?.failure?.stringValue ??
    (message.deadLetterQueueSourceArn ? 'retries exhausted' : 'unknown');
  return {
    messageId: message.messageId,
    kind,
    idempotencyKey,
    receiveCount: message.receiveCount,
    sentAt: new Date(message.sentTimestamp).toISOString(),
    failure: failure.slice(0, 500),
  };
}

function records(value: unknown): Record<string, unknown>[] {
  return Array.isArray(value)
    ? value.filter((item): item is Record<string, unknown> => typeof item === 'object' && item !== null)
    : [];
}

function text(value: unknown): string {
  return typeof value === 'string' ? value : value === null || value === undefined ? '' : String(value);
}
