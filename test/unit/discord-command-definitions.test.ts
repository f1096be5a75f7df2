import {
  ApplicationCommandOptionType,
  ApplicationCommandType,
  ApplicationIntegrationType,
  ChannelType,
  ComponentType,
  InteractionContextType,
  InteractionResponseType,
  InteractionType,
  MessageFlags,
  type RESTPostAPIChatInputApplicationCommandsJSONBody,
  TextInputStyle,
} from 'discord-api-types/v10';
import { describe, expect, it } from 'vitest';
import {
  applicationCommands,
  BUGBOT_COMMAND_NAME,
  MESSAGE_COMMANDS,
  type OptionName,
  STRING_OPTIONS,
  SUBCOMMANDS,
} from '../../shared/discord/command-definitions.js';
import {
  CommandTypes,
  ComponentTypes,
  ContextTypes,
  Flags,
  IntegrationTypes,
  InteractionTypes,
  OptionTypes,
  ResponseTypes,
  TextInputStyles,
  ThreadChannelTypes,
} from '../../shared/discord/discord-constants.js';
import { parseInteraction } from '../../shared/discord/parse-interaction.js';
import { commandNames, discordCommandJobSchema } from '../../shared/jobs/job-schemas.js';
import { buildMessageCommand, buildSlashCommand, FIXER_ROLE_ID } from '../factories/discord-interactions.js';

type SubcommandJson = {
  type: number;
  name: string;
  description: string;
  options?: Array<Record<string, unknown>>;
};

const PARSE_OPTIONS = { allowedRoleIds: [FIXER_ROLE_ID], now: Date.parse('2026-11-20T10:00:00.000Z') };
const chatInput = applicationCommands.find(
  (command) => command.type === ApplicationCommandType.ChatInput,
) as Omit<RESTPostAPIChatInputApplicationCommandsJSONBody, 'options'> & {
  options: SubcommandJson[];
};

function sampleValue(name: OptionName): string {
  return `${name}-value`;
}

describe('application command definitions', () => {
  it('defines /bugbot and the two message commands, nothing else', () => {
    expect(applicationCommands.map((command) => [command.type, command.name])).toEqual([
      [ApplicationCommandType.ChatInput, 'bugbot'],
      [ApplicationCommandType.Message, 'Contextualize bug'],
      [ApplicationCommandType.Message, 'Draft fix'],
    ]);
  });

  it('gives /bugbot exactly the subcommands of the job schema, with their typed options', () => {
    expect(chatInput.name).toBe(BUGBOT_COMMAND_NAME);
    expect(chatInput.options.map((option) => option.name).sort()).toEqual([...commandNames].sort());
    const byName = Object.fromEntries(chatInput.options.map((option) => [option.name, option]));
    expect(byName.contextualize?.options?.map((option) => option.name)).toEqual(['issue', 'repo']);
    expect(byName.fix?.options?.map((option) => option.name)).toEqual(['issue', 'repo', 'instructions']);
    expect(byName.status?.options?.map((option) => option.name)).toEqual(['issue']);
    expect(byName.dashboard?.options).toEqual([]);
    expect(byName.split?.options?.map((option) => [option.name, option.required])).toEqual([['bug', true]]);
    expect(byName.merge?.options?.map((option) => [option.name, option.required])).toEqual([
      ['bug', true],
      ['into', true],
    ]);
    for (const subcommand of chatInput.options) {
      expect(subcommand.type).toBe(ApplicationCommandOptionType.Subcommand);
      const required = SUBCOMMANDS[subcommand.name as keyof typeof SUBCOMMANDS].required ?? [];
      let seenOptional = false;
      for (const option of subcommand.options ?? []) {
        const isRequired = required.includes(option.name as OptionName);
        expect(option).toMatchObject({ type: ApplicationCommandOptionType.String, required: isRequired });
        expect(option.max_length).toBe(STRING_OPTIONS[option.name as OptionName].maxLength);
        // Discord refuses a required option after an optional one.
        if (!isRequired) seenOptional = true;
        else expect(seenOptional).toBe(false);
      }
    }
  });

  it('follows Discord naming rules and limits', () => {
    const chatInputName = /^[-_\p{Ll}\p{N}]{1,32}$/u;
    expect(chatInput.name).toMatch(chatInputName);
    expect(chatInput.description.length).toBeLessThanOrEqual(100);
    for (const subcommand of chatInput.options) {
      expect(subcommand.name).toMatch(chatInputName);
      expect(subcommand.description.length).toBeGreaterThan(0);
      expect(subcommand.description.length).toBeLessThanOrEqual(100);
      for (const option of subcommand.options ?? []) {
        expect(option.name).toMatch(chatInputName);
        expect(String(option.description).length).toBeLessThanOrEqual(100);
        expect(option.max_length).toBeLessThanOrEqual(6000);
      }
    }
    for (const command of applicationCommands) {
      expect(command.name.length).toBeLessThanOrEqual(32);
      expect(command.contexts).toEqual([InteractionContextType.Guild]);
      expect(command.integration_types).toEqual([ApplicationIntegrationType.GuildInstall]);
    }
  });

  it.each(Object.keys(STRING_OPTIONS) as OptionName[])(
    'limits the %s option to exactly what the job schema accepts',
    (name) => {
      const field = discordCommandJobSchema.shape.command.shape[name];
      const max = STRING_OPTIONS[name].maxLength;
      expect(field.safeParse('x'.repeat(max)).success).toBe(true);
      expect(field.safeParse('x'.repeat(max + 1)).success).toBe(false);
    },
  );
});

describe('command definitions and the parser agree', () => {
  it.each(chatInput.options.map((subcommand) => [subcommand.name, subcommand] as const))(
    'parses /bugbot %s with every option it defines',
    (name, subcommand) => {
      const given = Object.fromEntries(
        (subcommand.options ?? []).map((option) => [option.name, sampleValue(option.name as OptionName)]),
      );
      const outcome = parseInteraction(
        buildSlashCommand(name, given, { roles: [FIXER_ROLE_ID] }),
        PARSE_OPTIONS,
      );
      expect(outcome.kind).toBe('enqueue');
      if (outcome.kind !== 'enqueue') return;
      const job = discordCommandJobSchema.parse(outcome.job);
      expect(job.command).toEqual({ name, source: 'slash', ...given });
      expect(outcome.response).toEqual(
        SUBCOMMANDS[name as keyof typeof SUBCOMMANDS].ephemeral
          ? {
              type: InteractionResponseType.DeferredChannelMessageWithSource,
              data: { flags: MessageFlags.Ephemeral },
            }
          : { type: InteractionResponseType.DeferredChannelMessageWithSource },
      );
    },
  );

  it.each(
    applicationCommands
      .filter((command) => command.type === ApplicationCommandType.Message)
      .map((command) => [command.name] as const),
  )('parses the "%s" message command', (name) => {
    const outcome = parseInteraction(
      buildMessageCommand(name, undefined, { roles: [FIXER_ROLE_ID] }),
      PARSE_OPTIONS,
    );
    expect(outcome.kind).toBe('enqueue');
    if (outcome.kind !== 'enqueue') return;
    const job = discordCommandJobSchema.parse(outcome.job);
    expect(job.command.name).toBe(MESSAGE_COMMANDS[name]);
    expect(job.command.source).toBe('message');
    expect(job.command.targetMessage).toBeDefined();
  });
});

describe('Discord API numbers spelled in discord-constants', () => {
  it('match the discord-api-types enums', () => {
    expect(InteractionTypes).toEqual({
      Ping: InteractionType.Ping,
      ApplicationCommand: InteractionType.ApplicationCommand,
      MessageComponent: InteractionType.MessageComponent,
      ApplicationCommandAutocomplete: InteractionType.ApplicationCommandAutocomplete,
      ModalSubmit: InteractionType.ModalSubmit,
    });
    expect(ResponseTypes).toEqual({
      Pong: InteractionResponseType.Pong,
      ChannelMessageWithSource: InteractionResponseType.ChannelMessageWithSource,
      DeferredChannelMessageWithSource: InteractionResponseType.DeferredChannelMessageWithSource,
      ApplicationCommandAutocompleteResult: InteractionResponseType.ApplicationCommandAutocompleteResult,
      Modal: InteractionResponseType.Modal,
    });
    expect(CommandTypes).toEqual({
      ChatInput: ApplicationCommandType.ChatInput,
      Message: ApplicationCommandType.Message,
    });
    expect(OptionTypes).toEqual({
      Subcommand: ApplicationCommandOptionType.Subcommand,
      String: ApplicationCommandOptionType.String,
    });
    expect(ComponentTypes).toEqual({
      ActionRow: ComponentType.ActionRow,
      Button: ComponentType.Button,
      TextInput: ComponentType.TextInput,
      Label: ComponentType.Label,
    });
    expect(TextInputStyles).toEqual({ Paragraph: TextInputStyle.Paragraph });
    expect(ContextTypes).toEqual({ Guild: InteractionContextType.Guild });
    expect(IntegrationTypes).toEqual({ GuildInstall: ApplicationIntegrationType.GuildInstall });
    expect(Flags).toEqual({ Ephemeral: MessageFlags.Ephemeral });
    expect(ThreadChannelTypes).toEqual([
      ChannelType.AnnouncementThread,
      ChannelType.PublicThread,
      ChannelType.PrivateThread,
    ]);
  });
});
