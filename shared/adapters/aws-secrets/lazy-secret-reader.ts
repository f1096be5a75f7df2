import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ConfigError } from '../../domain/errors.js';

/**
 * Reads one secret's `SecretString`, loading the Secrets Manager SDK on first use: a deployment
 * that passes the secret in the environment never evaluates it (a public ingress's cold start).
 * `endpoint` is left alone so `AWS_ENDPOINT_URL_SECRETS_MANAGER` applies. `wrap` lets the caller
 * trace the client.
 */
export function createLazySecretReader(
  secretId: string,
  wrap: (client: SecretsManagerClient) => SecretsManagerClient = (client) => client,
): (signal: AbortSignal) => Promise<string> {
  let client: SecretsManagerClient | undefined;
  return async (signal) => {
    const { SecretsManagerClient, GetSecretValueCommand } = await import('@aws-sdk/client-secrets-manager');
    client ??= wrap(new SecretsManagerClient({}));
    const output = await client.send(new GetSecretValueCommand({ SecretId: secretId }), {
      abortSignal: signal,
    });
    if (output.SecretString === undefined) throw new ConfigError(['webhook secret: has no SecretString']);
    return output.SecretString;
  };
}
