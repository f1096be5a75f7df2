import type { Node } from 'constructs';
import * as z from 'zod';
import { loadConfig, splitList } from '../shared/config/load-config.js';
import {
  ANTHROPIC_MODEL_PATTERN,
  FIX_VERIFY_COMMAND_MAX_LENGTH,
  type FixLimitName,
  fixLimitSchema,
  ISSUE_TRACKERS,
} from '../shared/config/processor-config.js';

/**
 * What differs between deployments, read from CDK context (`cdk synth -c key=value`, or the
 * `context` block of cdk.json). Every key is optional so `cdk synth` works offline with no
 * context at all; an unset identifier stays empty, and the Lambda reading it fails closed
 * (an empty DISCORD_PUBLIC_KEY verifies nothing) rather than trusting an invented value.
 */
export const DEPLOYMENT_SETTING_KEYS = [
  'discordApplicationId',
  'discordPublicKey',
  'fixAllowedRoleIds',
  'peopleLookupRoleIds',
  'guildId',
  'bugChannelId',
  'githubRepo',
  'linearTeamId',
  'posthogProjectId',
  'posthogHost',
  'allowlist',
  'alarmEmail',
  'bugStatusWebhookUrl',
  'fixMonthlyBudgetUsd',
  'fixPushRepo',
  'issueTracker',
  'anthropicModel',
  'fixVerifyCommand',
  'fixMaxTurns',
  'fixMaxBudgetUsd',
  'fixTimeoutSeconds',
  'fixMaxChangedFiles',
  'fixMaxDiffLines',
  'fixPerUserPerHour',
] as const;

/**
 * Settings that only tune bugbot: unset, they are left out of the Lambdas' environment and the
 * processor's own defaults apply (shared/config/processor-config.ts), so they are not reported
 * as missing.
 */
const TUNING_SETTINGS: readonly DeploymentSettingKey[] = [
  'issueTracker',
  'anthropicModel',
  'fixVerifyCommand',
  'fixMaxTurns',
  'fixMaxBudgetUsd',
  'fixTimeoutSeconds',
  'fixMaxChangedFiles',
  'fixMaxDiffLines',
  'fixPerUserPerHour',
];

/** Each fix limit's context key and the processor variable it sets. */
export const FIX_LIMIT_SETTINGS = {
  fixMaxTurns: 'FIX_MAX_TURNS',
  fixMaxBudgetUsd: 'FIX_MAX_BUDGET_USD',
  fixTimeoutSeconds: 'FIX_TIMEOUT_SECONDS',
  fixMaxChangedFiles: 'FIX_MAX_CHANGED_FILES',
  fixMaxDiffLines: 'FIX_MAX_DIFF_LINES',
  fixPerUserPerHour: 'FIX_PER_USER_PER_HOUR',
} as const satisfies Record<string, FixLimitName>;

export type DeploymentSettingKey = (typeof DEPLOYMENT_SETTING_KEYS)[number];

/** The fix runner's default: the front-end paths a fix may touch (DESIGN.md, "Fix runner"). */
export const DEFAULT_FIX_ALLOWLIST = ['src/', 'app/', 'components/', 'pages/'] as const;

export const DEFAULT_POSTHOG_HOST = 'https://us.posthog.com';

export const DEFAULT_FIX_MONTHLY_BUDGET_USD = 100;

const SNOWFLAKE = /^\d{17,20}$/;

const unsetOr = (schema: z.ZodType<string, string>) => z.union([z.literal(''), schema]).default('');

const snowflake = z.string().regex(SNOWFLAKE, 'must be a Discord snowflake (17-20 digits)');

const snowflakeList = z
  .string()
  .default('')
  .transform((value) => splitList(value))
  .pipe(z.array(snowflake));

const allowlist = z
  .string()
  .default(DEFAULT_FIX_ALLOWLIST.join(','))
  .transform((value) => splitList(value))
  .pipe(
    z
      .array(
        z
          .string()
          // A prefix like "src" would also allow "src-secrets/"; "/x" and ".." would escape the repo.
          .regex(/^(?!\/)(?!.*(?:^|\/)\.\.(?:\/|$))[^\s,]+\/$/, 'must be a relative path ending in "/"'),
      )
      .min(1, 'must name at least one path prefix'),
  );

/** Unset (undefined) or a value within the processor's own range. */
const optionalLimit = (name: FixLimitName) =>
  z.preprocess((value) => (value === '' ? undefined : value), fixLimitSchema(name).optional());

export const deploymentSettingsSchema = z
  .object({
    discordApplicationId: unsetOr(snowflake),
    discordPublicKey: unsetOr(z.string().regex(/^[0-9a-f]{64}$/i, 'must be 64 hex characters')),
    fixAllowedRoleIds: snowflakeList,
    /** Who may look people up in PostHog through contextualize; empty: the fix roles. */
    peopleLookupRoleIds: snowflakeList,
    guildId: unsetOr(snowflake),
    bugChannelId: unsetOr(snowflake),
    githubRepo: unsetOr(z.string().regex(/^[\w.-]+\/[\w.-]+$/, 'must be "owner/name"')),
    linearTeamId: unsetOr(z.string().regex(/^\S+$/, 'must not contain spaces')),
    posthogProjectId: unsetOr(z.string().regex(/^\d+$/, 'must be numeric')),
    posthogHost: z
      .string()
      .default(DEFAULT_POSTHOG_HOST)
      .pipe(z.url({ protocol: /^https$/, error: 'must be an https URL' }))
      .transform((value) => value.replace(/\/+$/, '')),
    allowlist,
    alarmEmail: unsetOr(z.email({ error: 'must be an email address' })),
    /** Optional: where the product hears about its users' bugs (its secret goes in the service secret). */
    bugStatusWebhookUrl: unsetOr(z.url({ protocol: /^https$/, error: 'must be an https URL' })),
    /** Dollars all fixes together may cost per calendar month (UTC). */
    fixMonthlyBudgetUsd: z
      .string()
      .default(String(DEFAULT_FIX_MONTHLY_BUDGET_USD))
      .pipe(z.string().regex(/^\d+(\.\d{1,2})?$/, 'must be a dollar amount such as 100 or 250.50'))
      .refine((value) => Number(value) > 0, 'must be more than 0'),
    /**
     * `owner/name` of a fork fix branches are pushed to, so the repository's CI does not run
     * agent-written code with its secrets before review (README, "Fixes from a fork").
     */
    fixPushRepo: unsetOr(z.string().regex(/^[\w.-]+\/[\w.-]+$/, 'must be "owner/name"')),
    /** Where Create Issue files bugs; unset: Linear. */
    issueTracker: unsetOr(z.enum(ISSUE_TRACKERS, { error: 'must be "linear" or "github"' })),
    /** The model that triages reports and that Claude Code uses for fixes; unset: the default. */
    anthropicModel: unsetOr(z.string().regex(ANTHROPIC_MODEL_PATTERN, 'must be an Anthropic model id')),
    /** Run by the fix runner before (must fail) and after (must pass) the agent's change. */
    fixVerifyCommand: unsetOr(
      z
        .string()
        .max(FIX_VERIFY_COMMAND_MAX_LENGTH)
        .regex(/^[^\r\n]+$/, 'must be one line'),
    ),
    fixMaxTurns: optionalLimit('FIX_MAX_TURNS'),
    fixMaxBudgetUsd: optionalLimit('FIX_MAX_BUDGET_USD'),
    fixTimeoutSeconds: optionalLimit('FIX_TIMEOUT_SECONDS'),
    fixMaxChangedFiles: optionalLimit('FIX_MAX_CHANGED_FILES'),
    fixMaxDiffLines: optionalLimit('FIX_MAX_DIFF_LINES'),
    fixPerUserPerHour: optionalLimit('FIX_PER_USER_PER_HOUR'),
  })
  .superRefine((settings, context) => {
    if (settings.issueTracker === 'github' && !settings.githubRepo) {
      context.addIssue({
        code: 'custom',
        path: ['githubRepo'],
        message: 'is required when issueTracker is github',
      });
    }
  });

export type DeploymentSettings = z.infer<typeof deploymentSettingsSchema>;

/**
 * Reads and validates the settings from the CDK context, naming every problem at once (a
 * ConfigError) so a deployment never goes out with a half-understood configuration.
 */
export function readDeploymentSettings(node: Node): DeploymentSettings {
  const raw: Record<string, string | undefined> = {};
  for (const key of DEPLOYMENT_SETTING_KEYS) raw[key] = normalizeContextValue(node.tryGetContext(key));
  return loadConfig(deploymentSettingsSchema, raw);
}

/** Names the settings still unset, so the app can say what a real deployment must provide. */
export function listUnsetSettings(settings: DeploymentSettings): DeploymentSettingKey[] {
  return DEPLOYMENT_SETTING_KEYS.filter((key) => {
    if (TUNING_SETTINGS.includes(key)) return false;
    const value = settings[key];
    return Array.isArray(value) ? value.length === 0 : value === '' || value === undefined;
  });
}

/**
 * The processor's (and the fix runner's) variables for the tuning settings that are set; unset
 * ones are left out so the processor's defaults apply (an empty string would not parse).
 */
export function tuningEnvironment(settings: DeploymentSettings): Record<string, string> {
  const env: Record<string, string> = {};
  if (settings.issueTracker) env.ISSUE_TRACKER = settings.issueTracker;
  if (settings.anthropicModel) env.ANTHROPIC_MODEL = settings.anthropicModel;
  if (settings.fixVerifyCommand) env.FIX_VERIFY_COMMAND = settings.fixVerifyCommand;
  for (const [key, name] of Object.entries(FIX_LIMIT_SETTINGS) as [
    keyof typeof FIX_LIMIT_SETTINGS,
    string,
  ][]) {
    const value = settings[key];
    if (value !== undefined) env[name] = String(value);
  }
  return env;
}

/**
 * `-c key=value` always gives strings; cdk.json may give numbers or arrays. Everything becomes
 * the string form the schema parses (lists comma-joined).
 */
function normalizeContextValue(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (Array.isArray(value)) return value.map(String).join(',');
  return String(value);
}
