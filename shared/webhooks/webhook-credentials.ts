import { parseServiceSecrets } from '../config/service-secrets.js';
import { isStandardWebhookSecret, MIN_BEARER_TOKEN_LENGTH } from '../config/webhook-ingress-config.js';
import { ConfigError, ServiceError } from '../domain/errors.js';
import {
  prepareWebhookCredentials,
  type WebhookCredentials,
  type WebhookSecrets,
} from './authenticate-webhook.js';

/**
 * Secret reads have their own clock: Supabase gives a delivery one second, and a hung Secrets
 * Manager call must become a 503 the sender retries, not a Lambda timeout.
 */
export const DEFAULT_SECRET_READ_TIMEOUT_MS = 800;

export interface WebhookCredentialsSource {
  /** From the environment. When `webhookSecret` is set the service secret is never read. */
  env: WebhookSecrets;
  /** Returns the service secret's `SecretString`; must honour `signal`. */
  readServiceSecret?: ((signal: AbortSignal) => Promise<string>) | undefined;
  timeoutMs?: number;
}

export type WebhookCredentialsProvider = () => Promise<WebhookCredentials>;

/**
 * Resolves the credentials once per container. A failed read is not cached: the next delivery
 * tries again, so a fixed secret or a recovered endpoint takes effect without a redeploy.
 */
export function createWebhookCredentialsProvider(
  source: WebhookCredentialsSource,
): WebhookCredentialsProvider {
  if (source.env.webhookSecret) {
    const ready = Promise.resolve(prepareWebhookCredentials(source.env));
    return () => ready;
  }
  const { readServiceSecret } = source;
  if (!readServiceSecret) {
    throw new ConfigError(['SECRETS_ARN: is required when BUG_REPORT_WEBHOOK_SECRET is unset']);
  }
  const timeoutMs = source.timeoutMs ?? DEFAULT_SECRET_READ_TIMEOUT_MS;
  let pending: Promise<WebhookCredentials> | undefined;
  return () => {
    if (!pending) {
      const attempt = loadFromServiceSecret(readServiceSecret, source.env, timeoutMs);
      pending = attempt;
      attempt.catch(() => {
        if (pending === attempt) pending = undefined;
      });
    }
    return pending;
  };
}

async function loadFromServiceSecret(
  readServiceSecret: (signal: AbortSignal) => Promise<string>,
  env: WebhookSecrets,
  timeoutMs: number,
): Promise<WebhookCredentials> {
  const secretString = await readWithTimeout(readServiceSecret, timeoutMs);
  const secret = parseServiceSecrets(secretString);
  const secrets: WebhookSecrets = {
    webhookSecret: secret.bugReportWebhookSecret,
    // An explicit environment value wins: it is the narrower, deliberate setting.
    bearerToken: env.bearerToken ?? secret.bugReportBearerToken,
  };
  const problems: string[] = [];
  if (secrets.webhookSecret !== undefined && !isStandardWebhookSecret(secrets.webhookSecret)) {
    problems.push('service secret bugReportWebhookSecret: must be whsec_ followed by base64');
  }
  if (secrets.bearerToken !== undefined && secrets.bearerToken.length < MIN_BEARER_TOKEN_LENGTH) {
    problems.push(
      `service secret bugReportBearerToken: must be at least ${MIN_BEARER_TOKEN_LENGTH} characters`,
    );
  }
  if (secrets.webhookSecret === undefined && secrets.bearerToken === undefined) {
    problems.push('service secret: neither bugReportWebhookSecret nor bugReportBearerToken is set');
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return prepareWebhookCredentials(secrets);
}

async function readWithTimeout(
  read: (signal: AbortSignal) => Promise<string>,
  timeoutMs: number,
): Promise<string> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  // Racing as well as aborting: a reader that ignores its signal still cannot hold us past it.
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
  try {
    return await Promise.race([read(controller.signal), timedOut]);
  } catch (error) {
    if (error instanceof ServiceError) throw error;
    const status = (error as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata
      ?.httpStatusCode;
    throw new ServiceError('secretsmanager', 'could not read the service secret', { status, cause: error });
  } finally {
    clearTimeout(timer);
  }
}
