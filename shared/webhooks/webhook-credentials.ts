import { toAwsServiceError } from '../adapters/aws/aws-service-error.js';
import { parseServiceSecrets } from '../config/service-secrets.js';
import { isStandardWebhookSecret, MIN_BEARER_TOKEN_LENGTH } from '../config/webhook-ingress-config.js';
import { ConfigError, ServiceError } from '../domain/errors.js';
import {
  prepareWebhookCredentials,
  type WebhookCredentials,
  type WebhookSecrets,
} from './authenticate-webhook.js';
import {
  type Budget,
  BudgetExhaustedError,
  type RetryPolicy,
  retryWithinBudget,
  untilDeadline,
} from './within-budget.js';

/**
 * Reading the secret: the first attempt is abandoned after 400 ms and tried again after a short
 * pause, each next one with twice the time, up to `maxAttempts`. The read starts when the container starts (before the first
 * delivery is on its clock) and is shared: a delivery waits for it only until its own deadline.
 */
export const DEFAULT_SECRET_READ_POLICY: RetryPolicy = {
  attemptTimeoutMs: 400,
  attemptTimeoutGrowth: 2,
  minAttemptMs: 50,
  backoffMs: 50,
  maxAttempts: 4,
};

export interface WebhookCredentialsSource {
  /** From the environment. When `webhookSecret` is set the service secret is never read. */
  env: WebhookSecrets;
  /** Returns the service secret's `SecretString`; must honour `signal`. */
  readServiceSecret?: ((signal: AbortSignal) => Promise<string>) | undefined;
  /**
   * Done once before the first attempt, off the attempts' clocks: loading the SDK module must not
   * count against an attempt's 400 ms (a cold container would abandon a read that was fine).
   */
  prepare?: () => Promise<unknown>;
  /** Overrides the retry policy of the secret read (tests). */
  policy?: Partial<RetryPolicy>;
  now?: () => number;
}

/** A delivery asks for the credentials with its own deadline; without one it waits for the read. */
export type WebhookCredentialsProvider = (budget?: Budget) => Promise<WebhookCredentials>;

/**
 * Resolves the credentials once per container and keeps them. A failed read is not cached: the
 * next delivery starts another, so a fixed secret or a recovered endpoint takes effect without a
 * redeploy. A read outlives the delivery that gave up waiting for it, so the next one finds it
 * done (or further along).
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
  const policy: RetryPolicy = { ...DEFAULT_SECRET_READ_POLICY, ...source.policy };
  const now = source.now ?? Date.now;
  let pending: Promise<WebhookCredentials> | undefined;
  const read = (): Promise<WebhookCredentials> => {
    if (pending) return pending;
    // The read is bounded by its attempts alone, not by whichever delivery started it.
    const readBudget: Budget = { now, deadline: Number.POSITIVE_INFINITY };
    const attempt = (source.prepare?.() ?? Promise.resolve())
      .then(() =>
        retryWithinBudget(
          'secretsmanager',
          (signal) => readOnce(readServiceSecret, signal),
          readBudget,
          policy,
        ),
      )
      .then(({ value }) => parseCredentials(value, source.env));
    pending = attempt;
    attempt.catch(() => {
      if (pending === attempt) pending = undefined;
    });
    return attempt;
  };
  return async (budget) => {
    if (!budget) return read();
    for (;;) {
      const attempt = read();
      try {
        return await untilDeadline('secretsmanager', attempt, budget);
      } catch (error) {
        // The shared read gave up after its attempts while this delivery still has time: start
        // another. A refusal or a malformed secret would only fail again.
        const retryable =
          error instanceof ServiceError && error.retryable && !(error instanceof BudgetExhaustedError);
        if (!retryable || budget.deadline - budget.now() < policy.minAttemptMs) throw error;
        if (pending === attempt) pending = undefined;
      }
    }
  };
}

/** One read; an SDK failure becomes a ServiceError that says whether another try can help. */
async function readOnce(
  read: (signal: AbortSignal) => Promise<string>,
  signal: AbortSignal,
): Promise<string> {
  try {
    return await read(signal);
  } catch (error) {
    if (error instanceof ServiceError || error instanceof ConfigError) throw error;
    throw toAwsServiceError('secretsmanager', 'read the webhook secret', error, SECRETS_MANAGER_THROTTLING);
  }
}

/** AWS's query-compatible throttling codes arrive as HTTP 400; they are worth another try. */
const SECRETS_MANAGER_THROTTLING: ReadonlySet<string> = new Set([
  'ThrottlingException',
  'Throttling',
  'TooManyRequestsException',
  'RequestLimitExceeded',
]);

function parseCredentials(secretString: string, env: WebhookSecrets): WebhookCredentials {
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
