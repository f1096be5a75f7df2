import type { LocalKeys } from './local-keys.js';
import type { ServiceMode, ServiceName } from './service-modes.js';

/**
 * The local stack's own keys and ids, and the environment names that override them (DESIGN,
 * "Local stack"): a value set in the environment (or `.env`) wins over the sandbox's, so a
 * team's end-to-end tests can sign interactions with their own Discord key pair, post from their
 * own guild and channels, and sign reports with their own webhook secret.
 *
 * This table is the one place that decides it: the handlers' environment, the Discord sandbox's
 * ids, the GitHub and Linear sandboxes' webhook secrets, the product status receiver, the
 * console and `npm run discord` / `npm run report` all read the resolved values from here. Add
 * a row for every further setting of the kind (a webhook secret, a URL the stack calls out to).
 */
export interface SandboxDefaults {
  readonly keys: LocalKeys;
  readonly sandboxGuildId: string;
  readonly sandboxBugChannelId: string;
  readonly sandboxMaintainerRoleId: string;
  /** Where the sandbox product hears about its users' bugs, below the stack's URL. */
  readonly productStatusPath: string;
  /** The stack's own URL, once it listens (settings that point back at it are unset until then). */
  readonly stackUrl: string | undefined;
}

interface LocalSetting {
  /** The sandbox's own value, used when the environment does not set one. */
  readonly sandbox: (defaults: SandboxDefaults) => string | undefined;
  /**
   * When that service is real, the sandbox's value means nothing to it: the setting is left
   * unset unless the environment gives it.
   */
  readonly sandboxOnlyFor?: ServiceName;
}

export const LOCAL_SETTINGS = {
  /** Verifies interactions; `npm run discord` signs with the matching private key. */
  DISCORD_PUBLIC_KEY: { sandbox: ({ keys }) => keys.discordPublicKeyHex, sandboxOnlyFor: 'discord' },
  /** The application interactions and follow-ups belong to. */
  DISCORD_APPLICATION_ID: { sandbox: ({ keys }) => keys.discordApplicationId, sandboxOnlyFor: 'discord' },
  /** The one server bugbot serves; the Discord sandbox is that guild. */
  DISCORD_GUILD_ID: { sandbox: ({ sandboxGuildId }) => sandboxGuildId, sandboxOnlyFor: 'discord' },
  /** Roles whose members may ask for fixes. */
  FIX_ALLOWED_ROLE_IDS: { sandbox: ({ sandboxMaintainerRoleId }) => sandboxMaintainerRoleId },
  /** Signs bug reports (Standard Webhooks); `npm run report` signs with it. */
  BUG_REPORT_WEBHOOK_SECRET: { sandbox: ({ keys }) => keys.webhookSecret },
  /** Where bug cards are posted. */
  BUG_CHANNEL_ID: { sandbox: ({ sandboxBugChannelId }) => sandboxBugChannelId, sandboxOnlyFor: 'discord' },
  /** Signs the GitHub sandbox's webhooks, and verifies them at /webhooks/github. */
  GITHUB_WEBHOOK_SECRET: { sandbox: ({ keys }) => keys.githubWebhookSecret },
  /** Signs the Linear sandbox's webhooks, and verifies them at /webhooks/linear. */
  LINEAR_WEBHOOK_SECRET: { sandbox: ({ keys }) => keys.linearWebhookSecret },
  /** Where the product hears about its users' bugs: the stack's own receiver by default. */
  BUG_STATUS_WEBHOOK_URL: {
    sandbox: ({ stackUrl, productStatusPath }) => (stackUrl ? `${stackUrl}${productStatusPath}` : undefined),
  },
  /** Signs those status events. */
  BUG_STATUS_WEBHOOK_SECRET: { sandbox: ({ keys }) => keys.bugStatusWebhookSecret },
} as const satisfies Record<string, LocalSetting>;

export type LocalSettingName = keyof typeof LOCAL_SETTINGS;

export interface ResolvedLocalSettings {
  /** The value each setting has in this stack; absent when it is unset (a real service without it). */
  readonly values: Partial<Record<LocalSettingName, string>>;
  /** The settings whose value came from the environment. */
  readonly fromEnvironment: readonly LocalSettingName[];
}

/** Blank counts as unset, as deployment tools render an unset variable as ''. */
function fromEnv(env: Record<string, string | undefined>, name: string): string | undefined {
  const value = env[name]?.trim();
  return value ? value : undefined;
}

export function resolveLocalSettings(
  env: Record<string, string | undefined>,
  defaults: SandboxDefaults,
  modes: Record<ServiceName, ServiceMode>,
): ResolvedLocalSettings {
  const values: Partial<Record<LocalSettingName, string>> = {};
  const fromEnvironment: LocalSettingName[] = [];
  for (const [name, setting] of Object.entries(LOCAL_SETTINGS) as [LocalSettingName, LocalSetting][]) {
    const given = fromEnv(env, name);
    if (given !== undefined) {
      values[name] = given;
      fromEnvironment.push(name);
    } else if (!(setting.sandboxOnlyFor && modes[setting.sandboxOnlyFor].real)) {
      const value = setting.sandbox(defaults);
      if (value !== undefined) values[name] = value;
    }
  }
  return { values, fromEnvironment };
}

/** For the start banner: which settings the environment gave (names only). */
export function describeOverrides(resolved: ResolvedLocalSettings): string {
  return resolved.fromEnvironment.length > 0 ? resolved.fromEnvironment.join(', ') : 'none';
}
