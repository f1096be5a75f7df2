import { ConfigError, ServiceError } from '../domain/errors.js';

/**
 * The signing secret of a webhook bugbot receives (GitHub's, Linear's), resolved once per
 * container: from the environment when set (the local stack, tests), else from the webhook's own
 * Secrets Manager secret — a secret holding that one value and nothing else, so the public Lambda
 * that checks it can read no other credential (as the bug-report webhook's, see
 * webhook-credentials.ts). A failed read is not cached: the next delivery tries again, so a
 * secret filled in after the deploy takes effect without one.
 */
export type SigningSecretProvider = () => Promise<string>;

export interface SigningSecretSource {
  /** The environment's value (e.g. `GITHUB_WEBHOOK_SECRET`); wins when set. */
  readonly envValue: string | undefined;
  /** Its name, for messages. */
  readonly envName: string;
  /** The JSON field of the secret holding the value (e.g. `githubWebhookSecret`). */
  readonly field: string;
  /** Returns the secret's `SecretString`; must honour `signal`. */
  readonly readSecret?: ((signal: AbortSignal) => Promise<string>) | undefined;
  /** Webhook senders retry after a failure; a hung read must not become a Lambda timeout. */
  readonly timeoutMs?: number;
}

export const DEFAULT_SIGNING_SECRET_TIMEOUT_MS = 800;

export function createSigningSecretProvider(source: SigningSecretSource): SigningSecretProvider {
  if (source.envValue) {
    const ready = Promise.resolve(source.envValue);
    return () => ready;
  }
  const { readSecret } = source;
  if (!readSecret) throw new ConfigError([`SECRETS_ARN: is required when ${source.envName} is unset`]);
  const timeoutMs = source.timeoutMs ?? DEFAULT_SIGNING_SECRET_TIMEOUT_MS;
  let pending: Promise<string> | undefined;
  return () => {
    if (!pending) {
      const attempt = readField(readSecret, source.field, timeoutMs);
      pending = attempt;
      attempt.catch(() => {
        if (pending === attempt) pending = undefined;
      });
    }
    return pending;
  };
}

async function readField(
  readSecret: (signal: AbortSignal) => Promise<string>,
  field: string,
  timeoutMs: number,
): Promise<string> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new ServiceError('secretsmanager', `no answer within ${timeoutMs} ms`, {
        retryable: true,
      });
      controller.abort(error);
      reject(error);
    }, timeoutMs);
    timer.unref();
  });
  let text: string;
  try {
    text = await Promise.race([readSecret(controller.signal), timedOut]);
  } catch (error) {
    if (error instanceof ServiceError) throw error;
    throw new ServiceError('secretsmanager', 'could not read the webhook secret', { cause: error });
  } finally {
    clearTimeout(timer);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new ConfigError(['webhook secret: is not JSON']);
  }
  const value =
    typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>)[field] : undefined;
  if (typeof value !== 'string' || value.trim() === '') {
    throw new ConfigError([`webhook secret ${field}: is empty; fill it in (README, "First deploy")`]);
  }
  return value;
}
