import * as z from 'zod';
import { loadConfig, splitList } from './load-config.js';
import { isStandardWebhookSecret } from './webhook-ingress-config.js';

const snowflake = z.string().regex(/^\d{15,22}$/, 'must be a Discord snowflake');
const url = z.url();
const roleIdList = z
  .string()
  .optional()
  .transform((value) => splitList(value))
  .pipe(z.array(snowflake));

/**
 * The fix limits, shared with the deployment settings (infra/deployment-settings.ts) so a value
 * that `cdk synth` accepts is one the processor accepts at cold start.
 */
export const FIX_LIMITS = {
  FIX_MAX_TURNS: { min: 1, max: 500, integer: true, default: 30 },
  FIX_MAX_BUDGET_USD: { min: 0.01, max: 1000, integer: false, default: 5 },
  FIX_TIMEOUT_SECONDS: { min: 60, max: 86_400, integer: true, default: 1200 },
  FIX_MAX_CHANGED_FILES: { min: 1, max: 1000, integer: true, default: 10 },
  FIX_MAX_DIFF_LINES: { min: 1, max: 100_000, integer: true, default: 400 },
  FIX_PER_USER_PER_HOUR: { min: 1, max: 1000, integer: true, default: 5 },
} as const;

export type FixLimitName = keyof typeof FIX_LIMITS;

/** A number within the limit's range (coerced from the environment's or the context's string). */
export function fixLimitSchema(name: FixLimitName) {
  const limit = FIX_LIMITS[name];
  const number = z.coerce.number().min(limit.min).max(limit.max);
  return limit.integer ? number.int() : number;
}

/** Model ids as Anthropic names them (`claude-sonnet-4-6`, dated snapshots, aliases). */
export const ANTHROPIC_MODEL_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:@-]{0,99}$/;
export const DEFAULT_ANTHROPIC_MODEL = 'claude-sonnet-4-6';
export const ISSUE_TRACKERS = ['linear', 'github'] as const;
/** The verify command runs through the runner's argument parser; one line, bounded. */
export const FIX_VERIFY_COMMAND_MAX_LENGTH = 4000;

/** CDK passes unset deployment settings as empty strings: treat those as absent. */
function optionalSetting<T extends z.ZodType>(schema: T) {
  return z.preprocess((value) => (value === '' ? undefined : value), schema.optional());
}

/**
 * The processor's environment. Service endpoints default to the real services; the local stack
 * points them at its sandbox stand-ins. Tokens may come from the environment (local stack,
 * tests) or, when unset, from the Secrets Manager secret `SECRETS_ARN`.
 */
export const processorConfigSchema = z
  .object({
    TABLE_NAME: z.string().min(3),
    JOBS_QUEUE_URL: url,
    DEAD_LETTER_QUEUE_URL: url,
    MAX_RECEIVES: z.coerce.number().int().min(1).max(1000).default(3),
    /** First retry delay; each later one is three times longer (capped at 5 minutes). */
    RETRY_BASE_DELAY_SECONDS: z.coerce.number().int().min(0).max(300).default(10),
    SECRETS_ARN: z.string().min(1).optional(),
    DISCORD_APPLICATION_ID: snowflake,
    DISCORD_API_URL: url.default('https://discord.com/api'),
    DISCORD_BOT_TOKEN: z.string().min(1).optional(),
    LINEAR_API_URL: url.default('https://api.linear.app/graphql'),
    LINEAR_API_KEY: z.string().min(1).optional(),
    LINEAR_TEAM_ID: z.string().min(1, 'is required: the Linear team (UUID) new issues go to'),
    POSTHOG_HOST: url.default('https://us.posthog.com'),
    /** Where the API is, when it differs from the app host that replay links point to. */
    POSTHOG_API_URL: url.optional(),
    POSTHOG_PROJECT_ID: z.string().regex(/^\d+$/, 'must be the numeric PostHog project id'),
    POSTHOG_API_KEY: z.string().min(1).optional(),
    /** The channel bug cards are posted to; needed once bug reports arrive. */
    BUG_CHANNEL_ID: optionalSetting(snowflake),
    DISCORD_GUILD_ID: optionalSetting(snowflake),
    /** Where the card's Create Issue files bugs. */
    ISSUE_TRACKER: z.enum(ISSUE_TRACKERS).default('linear'),
    GITHUB_REPO: optionalSetting(z.string().regex(/^[\w.-]+\/[\w.-]+$/, 'must be owner/name')),
    GITHUB_API_URL: url.default('https://api.github.com'),
    GITHUB_TOKEN: z.string().min(1).optional(),
    ANTHROPIC_API_KEY: z.string().min(1).optional(),
    ANTHROPIC_BASE_URL: url.optional(),
    ANTHROPIC_MODEL: z
      .string()
      .regex(ANTHROPIC_MODEL_PATTERN, 'must be an Anthropic model id')
      .default(DEFAULT_ANTHROPIC_MODEL),
    // The fix pipeline: launched as an ECS task (the local stack answers RunTask itself).
    FIX_CLUSTER_ARN: optionalSetting(z.string().min(1)),
    FIX_TASK_DEFINITION_ARN: optionalSetting(z.string().min(1)),
    FIX_SUBNET_IDS: optionalSetting(z.string().min(1)),
    FIX_SECURITY_GROUP_ID: optionalSetting(z.string().min(1)),
    FIX_CONTAINER_NAME: z.string().min(1).default('runner'),
    /** The runner task role's unique id (AROA…): the only sender allowed to report fix results. */
    FIX_TASK_ROLE_ID: optionalSetting(z.string().min(1)),
    FIX_ALLOWLIST: z.string().min(1).default('src/,app/,components/,pages/'),
    FIX_CLONE_URL: optionalSetting(z.url()),
    FIX_VERIFY_COMMAND: optionalSetting(z.string().min(1).max(FIX_VERIFY_COMMAND_MAX_LENGTH)),
    FIX_MAX_TURNS: fixLimitSchema('FIX_MAX_TURNS').default(FIX_LIMITS.FIX_MAX_TURNS.default),
    FIX_MAX_BUDGET_USD: fixLimitSchema('FIX_MAX_BUDGET_USD').default(FIX_LIMITS.FIX_MAX_BUDGET_USD.default),
    FIX_TIMEOUT_SECONDS: fixLimitSchema('FIX_TIMEOUT_SECONDS').default(
      FIX_LIMITS.FIX_TIMEOUT_SECONDS.default,
    ),
    FIX_MAX_CHANGED_FILES: fixLimitSchema('FIX_MAX_CHANGED_FILES').default(
      FIX_LIMITS.FIX_MAX_CHANGED_FILES.default,
    ),
    FIX_MAX_DIFF_LINES: fixLimitSchema('FIX_MAX_DIFF_LINES').default(FIX_LIMITS.FIX_MAX_DIFF_LINES.default),
    FIX_PER_USER_PER_HOUR: fixLimitSchema('FIX_PER_USER_PER_HOUR').default(
      FIX_LIMITS.FIX_PER_USER_PER_HOUR.default,
    ),
    /** Dollars all fixes together may cost per calendar month (UTC); checked before each launch. */
    FIX_MONTHLY_BUDGET_USD: z.coerce.number().positive().max(1_000_000).default(100),
    /**
     * `owner/name` of a fork the runner pushes fix branches to (README, "Fixes from a fork"): the
     * pull request comes from `owner:branch`, and the repository's CI gives it no secrets.
     */
    FIX_PUSH_REPO: optionalSetting(z.string().regex(/^[\w.-]+\/[\w.-]+$/, 'must be owner/name')),
    /** The fork's git URL, when not `https://github.com/<FIX_PUSH_REPO>.git` (the local stack). */
    FIX_PUSH_URL: optionalSetting(z.url()),
    /** How long a stopped task's result may take to arrive before the fix is declared failed. */
    FIX_RESULT_GRACE_SECONDS: z.coerce.number().int().min(0).max(900).default(30),
    HTTP_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(8000),
    /** Optional: where the product hears about its users' bugs (Standard Webhooks, signed). */
    BUG_STATUS_WEBHOOK_URL: optionalSetting(z.url({ protocol: /^https?$/ })),
    /** `whsec_…`; when unset, read from the service secret's `bugStatusWebhookSecret`. */
    BUG_STATUS_WEBHOOK_SECRET: optionalSetting(
      z
        .string()
        .refine(isStandardWebhookSecret, 'must be a Standard Webhooks secret: whsec_ followed by base64'),
    ),
    /** Per model call (triage): a model answer takes far longer than a REST call. */
    ANTHROPIC_TIMEOUT_MS: z.coerce.number().int().min(100).max(80_000).default(25_000),
    /** The maintainers' roles (as at the ingress): by default also the people who may look people up. */
    FIX_ALLOWED_ROLE_IDS: roleIdList,
    /** Roles whose members may look people up in PostHog through contextualize; unset: FIX_ALLOWED_ROLE_IDS. */
    PEOPLE_LOOKUP_ROLE_IDS: roleIdList,
    CONTEXTUALIZE_PER_USER_PER_HOUR: z.coerce.number().int().min(1).max(1000).default(20),
  })
  .superRefine((env, context) => {
    if (env.ISSUE_TRACKER === 'github' && !env.GITHUB_REPO) {
      context.addIssue({
        code: 'custom',
        path: ['GITHUB_REPO'],
        message: 'is required when ISSUE_TRACKER is github',
      });
    }
    if (env.BUG_STATUS_WEBHOOK_URL && !env.BUG_STATUS_WEBHOOK_SECRET && !env.SECRETS_ARN) {
      context.addIssue({
        code: 'custom',
        path: ['BUG_STATUS_WEBHOOK_SECRET'],
        message:
          'is required when BUG_STATUS_WEBHOOK_URL is set (or put bugStatusWebhookSecret in SECRETS_ARN)',
      });
    }
    const tokens = [env.DISCORD_BOT_TOKEN, env.LINEAR_API_KEY, env.POSTHOG_API_KEY];
    if (!env.SECRETS_ARN && tokens.some((token) => token === undefined)) {
      context.addIssue({
        code: 'custom',
        path: ['SECRETS_ARN'],
        message: 'is required unless DISCORD_BOT_TOKEN, LINEAR_API_KEY and POSTHOG_API_KEY are all set',
      });
    }
  });

export type ProcessorConfig = z.infer<typeof processorConfigSchema>;

export function loadProcessorConfig(env: Record<string, string | undefined>): ProcessorConfig {
  return loadConfig(processorConfigSchema, env);
}
