import { DiscordAPIError, HTTPError, RateLimitError, REST } from '@discordjs/rest';
import { ServiceError } from '../../domain/errors.js';

export interface DiscordRestOptions {
  readonly botToken: string;
  /** Base without the version, e.g. `http://127.0.0.1:3000/_sandbox/discord/api`; Discord's by default. */
  readonly api?: string;
  /** Per HTTP attempt. */
  readonly timeoutMs?: number;
  /** Extra attempts after a 5xx, a timeout or a reset connection. */
  readonly retries?: number;
  /**
   * Rate-limit waits longer than this fail fast with a retryable ServiceError: a Lambda should
   * hand the job back to the queue rather than sleep through a long limit.
   */
  readonly maxRateLimitWaitMs?: number;
}

export const DISCORD_REST_DEFAULTS = {
  timeoutMs: 10_000,
  retries: 2,
  maxRateLimitWaitMs: 10_000,
} as const;

/** For composition roots: the one way bugbot configures a Discord REST client. */
export function createDiscordRest(options: DiscordRestOptions): REST {
  const maxWait = options.maxRateLimitWaitMs ?? DISCORD_REST_DEFAULTS.maxRateLimitWaitMs;
  return new REST({
    version: '10',
    ...(options.api ? { api: options.api } : {}),
    timeout: options.timeoutMs ?? DISCORD_REST_DEFAULTS.timeoutMs,
    retries: options.retries ?? DISCORD_REST_DEFAULTS.retries,
    rejectOnRateLimit: (data) => data.retryAfter > maxWait,
  }).setToken(options.botToken);
}

/**
 * Maps whatever @discordjs/rest threw to a ServiceError. `operation` names the call without its
 * URL, and `secret` (an interaction token) is scrubbed from the cause, which ends up in logs.
 */
export function toDiscordServiceError(error: unknown, operation: string, secret?: string): ServiceError {
  if (secret) scrubSecret(error, secret);
  if (error instanceof RateLimitError) {
    return new ServiceError('discord', `${operation}: rate limited`, {
      status: 429,
      retryable: true,
      retryAfterMs: Math.max(0, Math.ceil(error.retryAfter)),
      cause: error,
    });
  }
  if (error instanceof DiscordAPIError) {
    return new ServiceError('discord', `${operation}: ${error.status} (code ${String(error.code)})`, {
      status: error.status,
      cause: error,
    });
  }
  if (error instanceof HTTPError) {
    return new ServiceError('discord', `${operation}: ${error.status}`, {
      status: error.status,
      cause: error,
    });
  }
  if (error instanceof Error && (error.name === 'AbortError' || error.name === 'TimeoutError')) {
    return new ServiceError('discord', `${operation}: timed out`, { retryable: true, cause: error });
  }
  // After a 401 the client forgets its token; every later call fails here without a request.
  if (error instanceof Error && error.message.startsWith('Expected token to be set')) {
    return new ServiceError('discord', `${operation}: no bot token`, {
      status: 401,
      retryable: false,
      cause: error,
    });
  }
  return new ServiceError('discord', `${operation}: network error`, { retryable: true, cause: error });
}

function scrubSecret(error: unknown, secret: string): void {
  if (!(error instanceof Error)) return;
  const target = error as Error & { url?: unknown };
  if (typeof target.url === 'string') target.url = target.url.split(secret).join('[token]');
  if (error.message.includes(secret)) error.message = error.message.split(secret).join('[token]');
  if (error.stack?.includes(secret)) error.stack = error.stack.split(secret).join('[token]');
}
