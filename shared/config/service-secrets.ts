import { ConfigError } from '../domain/errors.js';
import {
  OPTIONAL_SERVICE_SECRET_FIELDS,
  type OptionalServiceSecretField,
  SERVICE_SECRET_FIELDS,
  type ServiceSecretField,
  serviceSecretsSchema,
} from './service-secret-fields.js';

// The field names and the schema live in `service-secret-fields.ts` (the CDK stack seeds the
// secret from them); this module is the readers' side and re-exports them so a Lambda imports
// one place.
export { SERVICE_SECRET_FIELDS, type ServiceSecretField, serviceSecretsSchema };
/** Alias kept for callers that use the camel-case name. */
export const serviceSecretFields = SERVICE_SECRET_FIELDS;

/** The fields that are actually filled in; a blank field (the seeded value) is absent here. */
export type ConfiguredServiceSecrets = Partial<
  Record<ServiceSecretField | OptionalServiceSecretField, string>
>;

/**
 * Parses the secret's `SecretString`. Problems name the field, never its value; a secret that is
 * not JSON is reported without echoing any of it.
 */
export function parseServiceSecrets(secretString: string): ConfiguredServiceSecrets {
  let raw: unknown;
  try {
    raw = JSON.parse(secretString);
  } catch {
    throw new ConfigError(['service secret: is not JSON']);
  }
  const parsed = serviceSecretsSchema.safeParse(raw);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map(
        (issue) => `service secret ${issue.path.map(String).join('.') || '(root)'}: ${issue.message}`,
      ),
    );
  }
  const configured: ConfiguredServiceSecrets = {};
  for (const field of [...SERVICE_SECRET_FIELDS, ...OPTIONAL_SERVICE_SECRET_FIELDS]) {
    const value = parsed.data[field];
    if (value.trim() !== '') configured[field] = value;
  }
  return configured;
}
