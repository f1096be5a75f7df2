import * as z from 'zod';

/**
 * The tokens of the service secret (`SECRETS_ARN` of the processor and fix runner): what bugbot
 * needs to talk to Discord, Linear, GitHub, PostHog and Anthropic. The CDK stack creates the
 * secret from these names with empty values and the deployer fills them in.
 */
export const SERVICE_TOKEN_FIELDS = [
  'discordBotToken',
  'linearApiKey',
  'githubToken',
  'posthogApiKey',
  'anthropicApiKey',
] as const;

/**
 * The bug-report webhook's credentials, in a secret of their own (`SECRETS_ARN` of the webhook
 * Lambda, the stack output WebhookSecretArn): the webhook is public, so the Lambda behind it may
 * read these two and none of the service tokens.
 */
export const WEBHOOK_SECRET_FIELDS = ['bugReportWebhookSecret', 'bugReportBearerToken'] as const;

/**
 * Every field either secret may hold; one schema parses both (each holds a subset). The service
 * secret's seeded template still lists the webhook fields: CloudFormation rewrites a secret's
 * value whenever its template changes, so dropping them would wipe the tokens of every existing
 * deployment. They are ignored there now (`npm run secrets -- check` says so when they are set).
 */
export const SERVICE_SECRET_FIELDS = [...SERVICE_TOKEN_FIELDS, ...WEBHOOK_SECRET_FIELDS] as const;

/**
 * Fields a deployer adds to the service secret by hand when they use the feature (the seeded
 * template must not change, see above): `bugStatusWebhookSecret`, the `whsec_…` secret bug status
 * events are signed with when `BUG_STATUS_WEBHOOK_URL` is set.
 */
export const OPTIONAL_SERVICE_SECRET_FIELDS = ['bugStatusWebhookSecret'] as const;

export type ServiceTokenField = (typeof SERVICE_TOKEN_FIELDS)[number];
export type WebhookSecretField = (typeof WEBHOOK_SECRET_FIELDS)[number];
export type ServiceSecretField = (typeof SERVICE_SECRET_FIELDS)[number];
export type OptionalServiceSecretField = (typeof OPTIONAL_SERVICE_SECRET_FIELDS)[number];

export type ServiceSecrets = Readonly<Record<ServiceSecretField, string>>;
export type WebhookSecrets = Readonly<Record<WebhookSecretField, string>>;

/**
 * Parses either secret's JSON. A field the deployer has not filled in yet (or that the secret
 * does not hold) is an empty string, so each consumer decides whether the field it needs may be empty.
 */
export const serviceSecretsSchema = z.object(
  Object.fromEntries(
    [...SERVICE_SECRET_FIELDS, ...OPTIONAL_SERVICE_SECRET_FIELDS].map((field) => [
      field,
      z.string().default(''),
    ]),
  ) as Record<ServiceSecretField | OptionalServiceSecretField, z.ZodDefault<z.ZodString>>,
);

/** The service secret's initial value: every field present, none filled (see SERVICE_SECRET_FIELDS). */
export function buildEmptyServiceSecrets(): ServiceSecrets {
  return buildEmpty(SERVICE_SECRET_FIELDS);
}

/** The webhook secret's initial value: its two fields, neither filled. */
export function buildEmptyWebhookSecrets(): WebhookSecrets {
  return buildEmpty(WEBHOOK_SECRET_FIELDS);
}

function buildEmpty<Field extends string>(fields: readonly Field[]): Readonly<Record<Field, string>> {
  return Object.fromEntries(fields.map((field) => [field, ''])) as Record<Field, string>;
}
