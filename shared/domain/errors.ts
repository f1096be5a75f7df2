/**
 * Faults, as opposed to expected outcomes (which are discriminated unions). Each carries its
 * `cause`; the edge maps them to responses and never echoes their messages to users.
 */

export class BugbotError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Configuration is missing or wrong; raised once at cold start, naming every problem. */
export class ConfigError extends BugbotError {
  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration: ${problems.join('; ')}`);
  }
}

/**
 * An outside service (Discord, Linear, GitHub, PostHog, Anthropic, AWS) failed. `retryable`
 * decides between another receive of the job and giving up: 429, 5xx and timeouts are worth
 * retrying; other 4xx are not.
 */
export class ServiceError extends BugbotError {
  readonly service: string;
  readonly status: number | undefined;
  readonly retryable: boolean;
  readonly retryAfterMs: number | undefined;

  constructor(
    service: string,
    message: string,
    options: { status?: number; retryable?: boolean; retryAfterMs?: number; cause?: unknown } = {},
  ) {
    super(`${service}: ${message}`, { cause: options.cause });
    this.service = service;
    this.status = options.status;
    this.retryable = options.retryable ?? isRetryableStatus(options.status);
    this.retryAfterMs = options.retryAfterMs;
  }
}

/**
 * The model answered, but its answer cannot be used and asking again the same way will not
 * help: it refused, ran past the room it was given, or the input did not fit. Permanent; the
 * card says which (`plainReason`).
 */
export class AnalysisUnusableError extends ServiceError {
  constructor(
    readonly outcome: 'refusal' | 'max-tokens' | 'too-long',
    readonly plainReason: string,
  ) {
    super('anthropic', `unusable analysis (${outcome}): ${plainReason}`, { status: 422, retryable: false });
  }
}

/** A job that can never succeed (bad input, a 4xx, a refused transition); not retried. */
export class PermanentJobError extends BugbotError {}

export function isRetryableStatus(status: number | undefined): boolean {
  if (status === undefined) return true; // network error or timeout
  return status === 408 || status === 429 || status >= 500;
}

/** Parses `retry-after` (seconds or an HTTP date) into milliseconds; undefined if absent/invalid. */
export function parseRetryAfter(value: string | null | undefined, now: number): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.round(seconds * 1000);
  const date = Date.parse(value);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}
