import * as z from 'zod/mini';
import { loadConfig } from './load-config.js';

/**
 * The GitHub and Linear webhook ingresses' environment: the queue, and the signing secret either
 * in the environment (`GITHUB_WEBHOOK_SECRET` / `LINEAR_WEBHOOK_SECRET`) or in the webhook's own
 * secret (`SECRETS_ARN`). zod/mini, as the Discord ingress: a fraction of classic zod's cold start.
 */
export interface SignedWebhookConfig {
  readonly jobsQueueUrl: string;
  readonly signingSecret: string | undefined;
  readonly secretsArn: string | undefined;
}

// Deployment tools often render an unset variable as '', which must not count as configured.
const optional = z.pipe(
  z.optional(z.string()),
  z.transform((value) => (value === undefined || value.trim() === '' ? undefined : value)),
);

export function loadSignedWebhookConfig(
  env: Record<string, string | undefined>,
  secretName: 'GITHUB_WEBHOOK_SECRET' | 'LINEAR_WEBHOOK_SECRET',
): SignedWebhookConfig {
  const schema = z
    .object({
      JOBS_QUEUE_URL: z.url({ error: 'must be the SQS jobs queue URL' }),
      [secretName]: optional,
      SECRETS_ARN: optional,
    })
    .check(
      z.refine((value) => value[secretName] !== undefined || value.SECRETS_ARN !== undefined, {
        path: ['SECRETS_ARN'],
        message: `is required when ${secretName} is unset (the signing secret is read from it)`,
      }),
    );
  const parsed = loadConfig(schema, env) as Record<string, string | undefined>;
  return {
    jobsQueueUrl: parsed.JOBS_QUEUE_URL as string,
    signingSecret: parsed[secretName],
    secretsArn: parsed.SECRETS_ARN,
  };
}
