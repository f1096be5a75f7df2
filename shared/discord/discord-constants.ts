import type {
  ApplicationCommandOptionType,
  ApplicationCommandType,
  ApplicationIntegrationType,
  ChannelType,
  ComponentType,
  InteractionContextType,
  InteractionResponseType,
  InteractionType,
  MessageFlags,
  TextInputStyle,
} from 'discord-api-types/v10';

/**
 * discord-api-types ships its enums as one CommonJS object graph that esbuild cannot tree-shake:
 * importing a single enum value puts the whole package in the ingress bundle and on its cold
 * start. The numbers are part of Discord's stable API, so the few we need are spelled here,
 * each checked by the compiler against its enum member (a wrong number does not type-check).
 */
type EnumSubset<E> = { readonly [K in keyof E]?: E[K] };

export const InteractionTypes = {
  Ping: 1,
  ApplicationCommand: 2,
  MessageComponent: 3,
  ApplicationCommandAutocomplete: 4,
  ModalSubmit: 5,
} as const satisfies EnumSubset<typeof InteractionType>;

export const ResponseTypes = {
  Pong: 1,
  ChannelMessageWithSource: 4,
  DeferredChannelMessageWithSource: 5,
  ApplicationCommandAutocompleteResult: 8,
  Modal: 9,
} as const satisfies EnumSubset<typeof InteractionResponseType>;

export const CommandTypes = {
  ChatInput: 1,
  Message: 3,
} as const satisfies EnumSubset<typeof ApplicationCommandType>;

export const OptionTypes = {
  Subcommand: 1,
  String: 3,
} as const satisfies EnumSubset<typeof ApplicationCommandOptionType>;

export const ComponentTypes = {
  ActionRow: 1,
  Button: 2,
  TextInput: 4,
  Label: 18,
} as const satisfies EnumSubset<typeof ComponentType>;

export const TextInputStyles = {
  Paragraph: 2,
} as const satisfies EnumSubset<typeof TextInputStyle>;

export const ContextTypes = {
  Guild: 0,
} as const satisfies EnumSubset<typeof InteractionContextType>;

export const IntegrationTypes = {
  GuildInstall: 0,
} as const satisfies EnumSubset<typeof ApplicationIntegrationType>;

export const Flags = {
  Ephemeral: 64,
} as const satisfies EnumSubset<typeof MessageFlags>;

/** Channel types that are threads: an interaction there happened inside a thread. */
export const ThreadChannelTypes: readonly number[] = [
  10 satisfies ChannelType.AnnouncementThread,
  11 satisfies ChannelType.PublicThread,
  12 satisfies ChannelType.PrivateThread,
];
