import type {
  APIApplicationCommandBasicOption,
  RESTPutAPIApplicationCommandsJSONBody,
} from 'discord-api-types/v10';
import type { CommandName } from '../jobs/job-schemas.js';
import { CommandTypes, ContextTypes, IntegrationTypes, OptionTypes } from './discord-constants.js';

/**
 * bugbot's application commands, in one place: `register-commands` bulk-overwrites Discord's
 * list with `applicationCommands`, and the ingress parser reads names, options and limits from
 * the same constants, so what users can type and what the ingress accepts cannot drift apart.
 */

export const BUGBOT_COMMAND_NAME = 'bugbot';

export type OptionName = 'issue' | 'repo' | 'instructions';

/** Limits match the `discord.command` job schema, so a value Discord accepts always fits a job. */
export const STRING_OPTIONS: Readonly<Record<OptionName, { description: string; maxLength: number }>> = {
  issue: { description: "Linear issue id or URL (defaults to this thread's issue)", maxLength: 200 },
  repo: { description: 'GitHub repository: owner/name or URL', maxLength: 300 },
  instructions: { description: 'Extra guidance for the fix', maxLength: 2000 },
};

export const SUBCOMMANDS: Readonly<
  Record<CommandName, { description: string; options: readonly OptionName[]; ephemeral: boolean }>
> = {
  contextualize: {
    description: 'Gather context for a bug from Linear, PostHog and this thread',
    options: ['issue', 'repo'],
    ephemeral: false,
  },
  fix: {
    description: 'Ask Claude Code to draft a fix as a pull request',
    options: ['issue', 'repo', 'instructions'],
    ephemeral: false,
  },
  // Lookups answer only the person who asked: they are not news for the channel.
  status: { description: 'Show where a bug stands', options: ['issue'], ephemeral: true },
  dashboard: { description: 'Show open bugs at a glance', options: [], ephemeral: true },
};

/** Message context-menu commands, by their display name (which is also their command name). */
export const MESSAGE_COMMANDS: Readonly<Record<string, CommandName>> = {
  'Contextualize bug': 'contextualize',
  'Draft fix': 'fix',
};

/** Commands that launch a fix: they need one of the `FIX_ALLOWED_ROLE_IDS` roles. */
export const FIX_COMMANDS: ReadonlySet<CommandName> = new Set(['fix']);

function buildStringOption(name: OptionName): APIApplicationCommandBasicOption {
  const option = STRING_OPTIONS[name];
  return {
    type: OptionTypes.String,
    name,
    description: option.description,
    required: false,
    max_length: option.maxLength,
  };
}

export function buildApplicationCommands(): RESTPutAPIApplicationCommandsJSONBody {
  // Guild-installed and usable in servers only: the ingress refuses DMs (no member, no roles).
  const placement = { contexts: [ContextTypes.Guild], integration_types: [IntegrationTypes.GuildInstall] };
  return [
    {
      type: CommandTypes.ChatInput,
      name: BUGBOT_COMMAND_NAME,
      description: 'Turn bug reports into context and fixes',
      ...placement,
      options: Object.entries(SUBCOMMANDS).map(([name, subcommand]) => ({
        type: OptionTypes.Subcommand,
        name,
        description: subcommand.description,
        options: subcommand.options.map(buildStringOption),
      })),
    },
    ...Object.keys(MESSAGE_COMMANDS).map((name) => ({
      type: CommandTypes.Message,
      name,
      ...placement,
    })),
  ];
}

export const applicationCommands: RESTPutAPIApplicationCommandsJSONBody = buildApplicationCommands();
