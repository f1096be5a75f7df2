import * as z from 'zod/mini';
import { loadConfig, splitList } from './load-config.js';

/**
 * zod/mini, not classic zod: the same parsing at a fraction of the size (classic bundles every
 * locale), which is a third of this Lambda's cold start.
 */
const SNOWFLAKE = /^\d{15,22}$/;

const required = (message: string) => z.string({ error: `is required: ${message}` });

export const discordIngressConfigSchema = z.pipe(
  z.object({
    DISCORD_PUBLIC_KEY: required('the Ed25519 public key in hex').check(
      z.regex(/^[0-9a-fA-F]{64}$/, 'must be the 64-hex-character Ed25519 public key'),
    ),
    DISCORD_APPLICATION_ID: required('the application id').check(
      z.regex(SNOWFLAKE, 'must be a Discord snowflake'),
    ),
    // Unset or empty means nobody may launch fixes: the safe default.
    FIX_ALLOWED_ROLE_IDS: z.pipe(
      z.pipe(z.optional(z.string()), z.transform(splitList)),
      z.array(z.string().check(z.regex(SNOWFLAKE, 'must be a comma list of role ids (snowflakes)'))),
    ),
    // The one server bugbot serves. Unset or empty (the deployment setting left blank) accepts
    // any guild the application is installed in.
    DISCORD_GUILD_ID: z.pipe(
      z.pipe(
        z.optional(z.string()),
        z.transform((value) => value?.trim() || undefined),
      ),
      z.optional(z.string().check(z.regex(SNOWFLAKE, 'must be a Discord guild id (snowflake)'))),
    ),
    JOBS_QUEUE_URL: z.url({ error: 'must be the SQS queue URL' }),
  }),
  z.transform((env) => ({
    publicKeyHex: env.DISCORD_PUBLIC_KEY,
    applicationId: env.DISCORD_APPLICATION_ID,
    fixAllowedRoleIds: env.FIX_ALLOWED_ROLE_IDS,
    guildId: env.DISCORD_GUILD_ID,
    jobsQueueUrl: env.JOBS_QUEUE_URL,
  })),
);

export type DiscordIngressConfig = z.infer<typeof discordIngressConfigSchema>;

/** Parses the Discord ingress environment once per container; names every problem at once. */
export function loadDiscordIngressConfig(env: Record<string, string | undefined>): DiscordIngressConfig {
  return loadConfig(discordIngressConfigSchema, env);
}
