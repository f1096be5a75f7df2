import type {
  APIApplicationCommandInteractionDataOption,
  APIChatInputApplicationCommandInteractionData,
  APIInteractionDataResolvedChannel,
  APIInteractionGuildMember,
  APIInteractionResponse,
  APIMessage,
  APIMessageApplicationCommandInteractionData,
  APIMessageButtonInteractionData,
  APIModalSubmission,
} from 'discord-api-types/v10';
import type {
  CommandName,
  DiscordCommandJob,
  DiscordComponentJob,
  InteractionContext,
  JOB_SCHEMA_VERSION,
  TargetMessage,
} from '../jobs/job-schemas.js';
import {
  BUG_ID_OPTIONS,
  BUGBOT_COMMAND_NAME,
  FIX_COMMANDS,
  MESSAGE_COMMANDS,
  type OptionName,
  STRING_OPTIONS,
  SUBCOMMANDS,
  TRIAGE_COMMANDS,
} from './command-definitions.js';
import { BUG_ID_PATTERN, parseBugCustomId } from './custom-id.js';
import {
  CommandTypes,
  ComponentTypes,
  InteractionTypes,
  OptionTypes,
  ResponseTypes,
  ThreadChannelTypes,
} from './discord-constants.js';
import {
  buildDeferredResponse,
  buildDismissModalResponse,
  buildRefusalResponse,
  DISMISS_REASON_INPUT_ID,
  DISMISS_REASON_MAX_LENGTH,
} from './interaction-responses.js';

/**
 * From a verified interaction to exactly one decision, without I/O: answer a PING, queue one job
 * and answer deferred, answer at once (a refusal or the dismiss modal), or reject the payload.
 * Everything decidable from the request alone (shape, command, custom id, the member's roles) is
 * decided here; everything else is the processor's.
 *
 * The job schemas are zod (classic), which would be a third of this Lambda's cold start; so this
 * module imports only their types and checks by hand every limit those schemas enforce (the unit
 * tests validate every job it builds with the schemas themselves).
 */
export type InteractionOutcome =
  | { kind: 'pong' }
  | { kind: 'enqueue'; job: DiscordCommandJob | DiscordComponentJob; response: APIInteractionResponse }
  | { kind: 'respond'; response: APIInteractionResponse }
  | { kind: 'malformed'; reason: string };

export interface ParseInteractionOptions {
  /** Members with one of these roles may launch fixes; empty means nobody may. */
  allowedRoleIds: readonly string[];
  /** Epoch milliseconds, stamped on the job as `receivedAt`. */
  now: number;
  /** When set, interactions addressed to another application are rejected as malformed. */
  applicationId?: string;
  /**
   * When set, interactions from any other guild are refused and nothing is queued: the bot may
   * be installed elsewhere, but only this server's members may file bugs or launch fixes.
   */
  guildId?: string;
}

/** Refusal texts: our words only, never the user's input. */
export const refusals = {
  notInGuild: 'bugbot only works in a server channel.',
  otherGuild: 'bugbot is not set up for this server.',
  notAllowedToFix: 'Only members with a fix-approver role can ask bugbot for fixes.',
  notAllowedToTriage: 'Only members with a maintainer role can split or merge bugs.',
  unknownCommand: 'bugbot does not know that command. Its commands may have been updated: try again.',
  unknownSubcommand: 'bugbot does not know that subcommand. Type `/bugbot` and pick one from the list.',
  unknownOption: 'That command is out of date. Try again in a moment.',
  unknownAction: 'bugbot does not know that button. The card may be out of date.',
  malformedCustomId: 'That button is not one of bugbot’s.',
  unsupportedInteraction: 'bugbot cannot handle that kind of interaction.',
  missingReason: 'A reason is required to dismiss a bug.',
  reasonTooLong: `The reason is too long (at most ${DISMISS_REASON_MAX_LENGTH} characters).`,
  optionTooLong: (name: OptionName) =>
    `The \`${name}\` option is too long (at most ${STRING_OPTIONS[name].maxLength} characters).`,
  optionMissing: (name: OptionName) => `The \`${name}\` option is required.`,
  notABugId: (name: OptionName) =>
    `The \`${name}\` option takes a bug id such as \`bug_7QK2M4XN9PAT3C5R8D1F\` (it is in the footer of the bug's card).`,
} as const;

// The job schemas' limits, mirrored (see above).
const SCHEMA_VERSION: typeof JOB_SCHEMA_VERSION = 1;
const SNOWFLAKE = /^\d{15,22}$/;
const TOKEN_MAX_LENGTH = 500;
const NAME_MAX_LENGTH = 100;
const MAX_ROLES = 250;
const TARGET_CONTENT_MAX_LENGTH = 4000;

type Json = Record<string, unknown>;
type ContextResult = { ok: true; context: InteractionContext } | { ok: false; outcome: InteractionOutcome };

export function parseInteraction(raw: unknown, options: ParseInteractionOptions): InteractionOutcome {
  if (!isJsonObject(raw)) return malformed('an interaction is a JSON object');
  if (typeof raw.type !== 'number' || !isSnowflake(raw.id) || !isSnowflake(raw.application_id)) {
    return malformed('an interaction has a numeric type, an id and an application_id');
  }
  if (raw.type === InteractionTypes.Ping) return { kind: 'pong' };
  if (options.applicationId !== undefined && raw.application_id !== options.applicationId) {
    return malformed('the interaction is for another application');
  }
  // No option declares autocomplete; should one arrive, offer no choices rather than an error.
  if (raw.type === InteractionTypes.ApplicationCommandAutocomplete) {
    return {
      kind: 'respond',
      response: { type: ResponseTypes.ApplicationCommandAutocompleteResult, data: { choices: [] } },
    };
  }
  if (
    raw.type !== InteractionTypes.ApplicationCommand &&
    raw.type !== InteractionTypes.MessageComponent &&
    raw.type !== InteractionTypes.ModalSubmit
  ) {
    return refuse(refusals.unsupportedInteraction);
  }
  if (!isJsonObject(raw.data)) return malformed('the interaction has no data');

  const read = readContext(raw, raw.id, raw.application_id, options.guildId);
  if (!read.ok) return read.outcome;
  const job = { id: raw.id, message: raw.message, context: read.context, options };

  switch (raw.type) {
    case InteractionTypes.ApplicationCommand:
      return parseCommand(raw.data, job);
    case InteractionTypes.MessageComponent:
      return parseButton(raw.data, job);
    default:
      return parseModalSubmit(raw.data, job);
  }
}

/** What every job built from one interaction shares. */
interface JobBasis {
  id: string;
  /** The message a component sits on (the bug card), for button clicks and modal submits. */
  message: unknown;
  context: InteractionContext;
  options: ParseInteractionOptions;
}

function readContext(
  raw: Json,
  id: string,
  applicationId: string,
  servedGuildId: string | undefined,
): ContextResult {
  const { token, guild_id: guildId } = raw;
  if (typeof token !== 'string' || token.length === 0 || token.length > TOKEN_MAX_LENGTH) {
    return { ok: false, outcome: malformed('the interaction token is missing or too long') };
  }
  // DMs carry `user` but no `member`: outside a server there are no roles to authorize against.
  const member = raw.member as APIInteractionGuildMember | undefined;
  if (guildId === undefined || !isJsonObject(member))
    return { ok: false, outcome: refuse(refusals.notInGuild) };
  if (!isSnowflake(guildId)) return { ok: false, outcome: malformed('the guild id is not a snowflake') };
  // Role ids are only meaningful in the guild they belong to: this check comes before any
  // authorization by roles.
  if (servedGuildId !== undefined && guildId !== servedGuildId) {
    return { ok: false, outcome: refuse(refusals.otherGuild) };
  }
  const user = member.user as Partial<APIInteractionGuildMember['user']> | undefined;
  if (!isJsonObject(user) || !isSnowflake(user.id) || !isBoundedString(user.username, NAME_MAX_LENGTH)) {
    return { ok: false, outcome: malformed('the member has no valid user') };
  }
  const roles: unknown = member.roles;
  if (!Array.isArray(roles) || roles.length > MAX_ROLES || !roles.every(isSnowflake)) {
    return { ok: false, outcome: malformed('the member roles are not a list of role ids') };
  }
  const channel = raw.channel as Partial<APIInteractionDataResolvedChannel> | undefined;
  const channelId = isJsonObject(channel) && channel.id !== undefined ? channel.id : raw.channel_id;
  if (!isSnowflake(channelId)) return { ok: false, outcome: malformed('the interaction has no channel') };
  const inThread =
    isJsonObject(channel) && typeof channel.type === 'number' && ThreadChannelTypes.includes(channel.type);
  return {
    ok: true,
    context: {
      id,
      token,
      applicationId,
      guildId,
      channelId,
      // In a thread the channel *is* the thread: the processor answers there.
      ...(inThread ? { threadId: channelId } : {}),
      member: { userId: user.id, username: user.username, roles },
    },
  };
}

function parseCommand(data: Json, basis: JobBasis): InteractionOutcome {
  if (data.type === CommandTypes.ChatInput && data.name === BUGBOT_COMMAND_NAME) {
    return parseSlashCommand(data as unknown as APIChatInputApplicationCommandInteractionData, basis);
  }
  const messageCommand = typeof data.name === 'string' ? readOwn(MESSAGE_COMMANDS, data.name) : undefined;
  if (data.type === CommandTypes.Message && messageCommand !== undefined) {
    return parseMessageCommand(
      data as unknown as APIMessageApplicationCommandInteractionData,
      messageCommand,
      basis,
    );
  }
  return refuse(refusals.unknownCommand);
}

function parseSlashCommand(
  data: APIChatInputApplicationCommandInteractionData,
  basis: JobBasis,
): InteractionOutcome {
  const subcommand: unknown =
    Array.isArray(data.options) && data.options.length === 1 ? data.options[0] : undefined;
  if (
    !isJsonObject(subcommand) ||
    subcommand.type !== OptionTypes.Subcommand ||
    typeof subcommand.name !== 'string'
  ) {
    return refuse(refusals.unknownSubcommand);
  }
  const definition = readOwn(SUBCOMMANDS, subcommand.name);
  if (definition === undefined) return refuse(refusals.unknownSubcommand);
  const name = subcommand.name as CommandName;

  const values: Partial<Record<OptionName, string>> = {};
  const given: readonly APIApplicationCommandInteractionDataOption[] = Array.isArray(subcommand.options)
    ? subcommand.options
    : [];
  for (const option of given) {
    const optionName = isJsonObject(option)
      ? definition.options.find((known) => known === option.name)
      : undefined;
    if (optionName === undefined || option.type !== OptionTypes.String || typeof option.value !== 'string') {
      return refuse(refusals.unknownOption);
    }
    const value = option.value.trim();
    // Discord counts max_length in characters, the job schema in UTF-16 units: refuse the rare
    // value that fits the first but not the second instead of queueing a job that cannot parse.
    if (value.length > STRING_OPTIONS[optionName].maxLength)
      return refuse(refusals.optionTooLong(optionName));
    if (value.length > 0) values[optionName] = value;
  }
  if (FIX_COMMANDS.has(name) && !mayLaunchFixes(basis)) return refuse(refusals.notAllowedToFix);
  if (TRIAGE_COMMANDS.has(name) && !mayLaunchFixes(basis)) return refuse(refusals.notAllowedToTriage);
  for (const required of definition.required ?? []) {
    if (values[required] === undefined) return refuse(refusals.optionMissing(required));
  }
  for (const [optionName, value] of Object.entries(values) as [OptionName, string][]) {
    if (BUG_ID_OPTIONS.has(optionName) && !BUG_ID_PATTERN.test(value))
      return refuse(refusals.notABugId(optionName));
  }

  return enqueueCommand(basis, { name, source: 'slash', ...values }, definition.ephemeral);
}

function parseMessageCommand(
  data: APIMessageApplicationCommandInteractionData,
  name: CommandName,
  basis: JobBasis,
): InteractionOutcome {
  const messages: unknown = isJsonObject(data.resolved) ? data.resolved.messages : undefined;
  const target = (
    isSnowflake(data.target_id) && isJsonObject(messages) ? readOwn(messages, data.target_id) : undefined
  ) as Partial<APIMessage> | undefined;
  if (!isJsonObject(target) || target.id !== data.target_id) {
    return malformed('the message command has no resolved target message');
  }
  const author = target.author as Partial<APIMessage['author']> | undefined;
  if (!isJsonObject(author) || !isSnowflake(author.id) || typeof author.username !== 'string') {
    return malformed('the target message has no author');
  }
  if (typeof target.timestamp !== 'string') return malformed('the target message has no timestamp');
  if (FIX_COMMANDS.has(name) && !mayLaunchFixes(basis)) return refuse(refusals.notAllowedToFix);

  const targetMessage: TargetMessage = {
    id: data.target_id,
    // A message command targets a message in the channel it was used in.
    channelId: isSnowflake(target.channel_id) ? target.channel_id : basis.context.channelId,
    authorId: author.id,
    authorName: author.username.slice(0, NAME_MAX_LENGTH),
    // Discord caps messages at 4000 characters; the slice only guards the job schema's limit.
    content: typeof target.content === 'string' ? target.content.slice(0, TARGET_CONTENT_MAX_LENGTH) : '',
    timestamp: target.timestamp,
  };
  return enqueueCommand(basis, { name, source: 'message', targetMessage }, SUBCOMMANDS[name].ephemeral);
}

function parseButton(data: Json, basis: JobBasis): InteractionOutcome {
  const button = data as unknown as Partial<APIMessageButtonInteractionData>;
  if (button.component_type !== ComponentTypes.Button || typeof button.custom_id !== 'string') {
    return refuse(refusals.unknownAction);
  }
  const parsed = parseBugCustomId(button.custom_id);
  if (!parsed.ok) {
    return refuse(parsed.problem === 'unknown_action' ? refusals.unknownAction : refusals.malformedCustomId);
  }
  // Dismissing asks for a reason first; the modal's submit is what gets queued.
  if (parsed.action === 'dismiss')
    return { kind: 'respond', response: buildDismissModalResponse(parsed.bugId) };
  if (parsed.action === 'draft_fix' && !mayLaunchFixes(basis)) return refuse(refusals.notAllowedToFix);
  // Splitting a folded report out undoes bugbot's (or a maintainer's) decision: maintainers only.
  if (parsed.action === 'split' && !mayLaunchFixes(basis)) return refuse(refusals.notAllowedToTriage);
  return enqueueComponent(basis, { action: parsed.action, bugId: parsed.bugId });
}

function parseModalSubmit(data: Json, basis: JobBasis): InteractionOutcome {
  const submission = data as unknown as Partial<APIModalSubmission>;
  if (typeof submission.custom_id !== 'string') return refuse(refusals.malformedCustomId);
  const parsed = parseBugCustomId(submission.custom_id);
  if (!parsed.ok) {
    return refuse(parsed.problem === 'unknown_action' ? refusals.unknownAction : refusals.malformedCustomId);
  }
  // The dismiss modal is bugbot's only modal.
  if (parsed.action !== 'dismiss') return refuse(refusals.unknownAction);
  const reason = findTextInputValue(submission.components, DISMISS_REASON_INPUT_ID)?.trim();
  if (!reason) return refuse(refusals.missingReason);
  if (reason.length > DISMISS_REASON_MAX_LENGTH) return refuse(refusals.reasonTooLong);
  return enqueueComponent(basis, { action: 'dismiss', bugId: parsed.bugId, reason });
}

/**
 * Text inputs come back inside labels (`{type: 18, component}`), the layout bugbot sends, or
 * inside action rows (`{type: 1, components}`), the older layout some clients still use.
 */
function findTextInputValue(components: unknown, customId: string): string | undefined {
  if (!Array.isArray(components)) return undefined;
  for (const entry of components) {
    if (!isJsonObject(entry)) continue;
    const children: unknown =
      entry.type === ComponentTypes.Label
        ? [entry.component]
        : entry.type === ComponentTypes.ActionRow
          ? entry.components
          : undefined;
    if (!Array.isArray(children)) continue;
    for (const child of children) {
      if (
        isJsonObject(child) &&
        child.type === ComponentTypes.TextInput &&
        child.custom_id === customId &&
        typeof child.value === 'string'
      ) {
        return child.value;
      }
    }
  }
  return undefined;
}

function mayLaunchFixes({ context, options }: JobBasis): boolean {
  return context.member.roles.some((role) => options.allowedRoleIds.includes(role));
}

function enqueueCommand(
  basis: JobBasis,
  command: DiscordCommandJob['command'],
  ephemeral: boolean,
): InteractionOutcome {
  const job: DiscordCommandJob = {
    v: SCHEMA_VERSION,
    kind: 'discord.command',
    idempotencyKey: basis.id,
    receivedAt: new Date(basis.options.now).toISOString(),
    interaction: basis.context,
    command,
  };
  return { kind: 'enqueue', job, response: buildDeferredResponse(ephemeral) };
}

function enqueueComponent(
  basis: JobBasis,
  click: Pick<DiscordComponentJob, 'action' | 'bugId' | 'reason'>,
): InteractionOutcome {
  const message = basis.message as Partial<APIMessage> | undefined;
  const job: DiscordComponentJob = {
    v: SCHEMA_VERSION,
    kind: 'discord.component',
    idempotencyKey: basis.id,
    receivedAt: new Date(basis.options.now).toISOString(),
    interaction: basis.context,
    ...click,
    ...(isJsonObject(message) && isSnowflake(message.id) ? { messageId: message.id } : {}),
  };
  // Ephemeral "thinking…" that the processor edits into the outcome of the click.
  return { kind: 'enqueue', job, response: buildDeferredResponse(true) };
}

function refuse(content: string): InteractionOutcome {
  return { kind: 'respond', response: buildRefusalResponse(content) };
}

function malformed(reason: string): InteractionOutcome {
  return { kind: 'malformed', reason };
}

/** Own properties only: a name like `__proto__` or `constructor` must not find anything. */
function readOwn<T>(record: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}

function isJsonObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isSnowflake(value: unknown): value is string {
  return typeof value === 'string' && SNOWFLAKE.test(value);
}

function isBoundedString(value: unknown, maxLength: number): value is string {
  return typeof value === 'string' && value.length <= maxLength;
}
