import * as z from 'zod';

/**
 * The fields of the one Secrets Manager secret (`SECRETS_ARN`) that holds bugbot's service
 * tokens. The CDK stack creates the secret from these names with empty values and the deployer
 * fills them in; code that reads the secret and the README name the same fields from here.
 */
export const SERVICE_SECRET_FIELDS = [
  'discordBotToken',
  'linearApiKey',
  'githubToken',
  'posthogApiKey',
  'anthropicApiKey',
  'bugReportWebhookSecret',
  'bugReportBearerToken',
] as const;

export type ServiceSecretField = (typeof SERVICE_SECRET_FIELDS)[number];

export type ServiceSecrets = Readonly<Record<ServiceSecretField, string>>;

/**
 * Parses the secret's JSON. A field the deployer has not filled in yet is an empty string, so
 * each consumer decides whether the field it needs may be empty.
 */
export const serviceSecretsSchema = z.object(
  Object.fromEntries(SERVICE_SECRET_FIELDS.map((field) => [field, z.string().default('')])) as Record<
    ServiceSecretField,
    z.ZodDefault<z.ZodString>
  >,
);

/** The secret's initial value: every field present, none filled. */
export function buildEmptyServiceSecrets(): ServiceSecrets {
  return Object.fromEntries(SERVICE_SECRET_FIELDS.map((field) => [field, ''])) as Record<
    ServiceSecretField,
    string
  >;
}
