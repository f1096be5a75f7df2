import * as z from 'zod';
import { loadConfig } from './load-config.js';

/**
 * `whsec_` followed by standard base64 (the Standard Webhooks secret format). Checked here so a
 * mangled secret fails at cold start, not as a 401 on every delivery.
 */
export function isStandardWebhookSecret(value: string): boolean {
  const match = /^whsec_([A-Za-z0-9+/]+={0,2})$/.exec(value);
  return match?.[1] !== undefined && Buffer.from(match[1], 'base64').length > 0;
}

/** Bearer tokens are compared, not derived: a short one is guessable. */
export const MIN_BEARER_TOKEN_LENGTH = 16;

// Deployment tools often render an unset variable as '', which must not count as configured.
const optionalString = z.preprocess((value) => (value === '' ? undefined : value), z.string().optional());

export const webhookIngressConfigSchema = z
  .object({
    JOBS_QUEUE_URL: z.url('must be the SQS jobs queue URL'),
    BUG_REPORT_WEBHOOK_SECRET: optionalString,
    BUG_REPORT_BEARER_TOKEN: optionalString,
    SECRETS_ARN: optionalString,
    /**
     * How long the first SendMessage attempt may take before it is abandoned and sent again
     * (each next attempt gets twice as long). 250 ms suits SQS, which answers in milliseconds;
     * the local stack's queue shares one process and two cores with everything else, and there
     * a send abandoned early is a send repeated, adding to the load that slowed it.
     */
    SQS_SEND_ATTEMPT_MS: z.coerce.number().int().min(50).max(4_000).default(250),
  })
  .superRefine((env, ctx) => {
    const secret = env.BUG_REPORT_WEBHOOK_SECRET;
    if (secret !== undefined && !isStandardWebhookSecret(secret)) {
      ctx.addIssue({
        code: 'custom',
        path: ['BUG_REPORT_WEBHOOK_SECRET'],
        message: 'must be a Standard Webhooks secret: whsec_ followed by base64',
      });
    }
    const bearer = env.BUG_REPORT_BEARER_TOKEN;
    if (bearer !== undefined && bearer.length < MIN_BEARER_TOKEN_LENGTH) {
      ctx.addIssue({
        code: 'custom',
        path: ['BUG_REPORT_BEARER_TOKEN'],
        message: `must be at least ${MIN_BEARER_TOKEN_LENGTH} characters`,
      });
    }
    if (secret === undefined && env.SECRETS_ARN === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['SECRETS_ARN'],
        message: 'is required when BUG_REPORT_WEBHOOK_SECRET is unset (the secret is read from it)',
      });
    }
  })
  .transform((env) => ({
    jobsQueueUrl: env.JOBS_QUEUE_URL,
    webhookSecret: env.BUG_REPORT_WEBHOOK_SECRET,
    bearerToken: env.BUG_REPORT_BEARER_TOKEN,
    secretsArn: env.SECRETS_ARN,
    sendAttemptMs: env.SQS_SEND_ATTEMPT_MS,
  }));

export type WebhookIngressConfig = z.infer<typeof webhookIngressConfigSchema>;

/** Parses the webhook ingress environment once per container; names every problem at once. */
export function loadWebhookIngressConfig(env: Record<string, string | undefined>): WebhookIngressConfig {
  return loadConfig(webhookIngressConfigSchema, env);
}
