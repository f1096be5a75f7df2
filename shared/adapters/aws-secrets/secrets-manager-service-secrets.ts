import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { type ConfiguredServiceSecrets, parseServiceSecrets } from '../../config/service-secrets.js';
import { ServiceError } from '../../domain/errors.js';
import { toAwsServiceError } from '../aws/aws-service-error.js';

/** Reads the one service secret; its fields are parsed and blank ones dropped. */
export async function readServiceSecrets(
  client: SecretsManagerClient,
  secretId: string,
  timeoutMs = 3000,
): Promise<ConfiguredServiceSecrets> {
  let secretString: string | undefined;
  try {
    const output = await client.send(new GetSecretValueCommand({ SecretId: secretId }), {
      abortSignal: AbortSignal.timeout(timeoutMs),
    });
    secretString = output.SecretString;
  } catch (error) {
    throw toAwsServiceError('secretsmanager', 'read the service secret', error);
  }
  if (secretString === undefined)
    throw new ServiceError('secretsmanager', 'the service secret has no string value', { status: 400 });
  return parseServiceSecrets(secretString);
}
