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

export type OptionName = 'issue' | 'repo' | 'instructions' | 'bug' | 'into';

/** Limits match the `discord.command` job schema, so a value Discord accepts always fits a job. */
export const STRING_OPTIONS: Readonly<Record<OptionName, { description: string; maxLength: number }>> = {
  issue: { description: "Linear issue id or URL (defaults to this thread's issue)", maxLength: 200 },
  repo: { description: 'GitHub repository: owner/name or URL', maxLength: 300 },
  instructions: { description: 'Extra guidance for the fix', maxLength: 2000 },
  // Bug ids (`bug_…`, shown in every card's footer) are at most 80 characters (custom-id.ts).
  bug: { description: "The bug's id (bug_…, in its card's footer)", maxLength: 80 },
  into: { description: 'The bug it duplicates (bug_…)', maxLength: 80 },
};

/** Options a bug id must fill: checked against the bug id pattern at the ingress. */
export const BUG_ID_OPTIONS: ReadonlySet<OptionName> = new Set(['bug', 'into']);

export interface SubcommandDefinition {
  readonly description: string;
  readonly options: readonly OptionName[];
  /** Options Discord makes people fill in (listed first, as Discord requires). */
  readonly required?: readonly OptionName[];
  readonly ephemeral: boolean;
}

export const SUBCOMMANDS: Readonly<Record<CommandName, SubcommandDefinition>> = {
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
  // Undoing and doing a fold by hand: news for the bug's thread, not for the channel.
  split: {
    description: 'Split a report that was folded into another bug back out, as a bug of its own',
    options: ['bug'],
    required: ['bug'],
    ephemeral: true,
  },
  merge: {
    description: 'Mark a bug as a duplicate of another bug',
    options: ['bug', 'into'],
    required: ['bug', 'into'],
    ephemeral: true,
  },
};

/** Message context-menu commands, by their display name (which is also their command name). */
export const MESSAGE_COMMANDS: Readonly<Record<string, CommandName>> = {
  'Contextualize bug': 'contextualize',
  'Draft fix': 'fix',
};

/** Commands that launch a fix: they need one of the `FIX_ALLOWED_ROLE_IDS` roles. */
export const FIX_COMMANDS: ReadonlySet<CommandName> = new Set(['fix']);

/**
 * Commands that change what bugbot decided about duplicates: gated by the same maintainer roles
 * (`FIX_ALLOWED_ROLE_IDS`) as fixes.
 */
export const TRIAGE_COMMANDS: ReadonlySet<CommandName> = new Set(['split', 'merge']);

function buildStringOption(name: OptionName, required: boolean): APIApplicationCommandBasicOption {
  const option = STRING_OPTIONS[name];
  return {
    type: OptionTypes.String,
    name,
    description: option.description,
    required,
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
        options: subcommand.options.map((option) =>
          buildStringOption(option, subcommand.required?.includes(option) ?? false),
        ),
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
