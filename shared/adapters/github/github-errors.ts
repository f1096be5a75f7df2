import { parseRetryAfter, ServiceError } from '../../domain/errors.js';

/**
 * Turns whatever Octokit threw into a `ServiceError('github', …)`. Retryable: 5xx, timeouts and
 * network failures, 429, and a 403 that is a rate limit (GitHub answers primary limits with 403 or
 * 429 and `x-ratelimit-remaining: 0`, secondary limits with 403 or 429, a message saying so and
 * usually `retry-after`). Every other 4xx is final. Messages carry the operation, the status and
 * GitHub's short error text — never request headers, where the token lives.
 */

export type GitHubFailureKind = 'rate-limited' | 'unavailable' | 'rejected';

export interface GitHubFailure {
  readonly kind: GitHubFailureKind;
  readonly status: number | undefined;
  readonly retryAfterMs: number | undefined;
  readonly detail: string;
  /** GitHub's `errors[].message`s of a 422, for callers that branch on them. */
  readonly messages: readonly string[];
}

const MAX_DETAIL = 200;
/** GitHub's advice for a secondary limit without `retry-after`: wait at least a minute. */
const SECONDARY_LIMIT_WAIT_MS = 60_000;

/**
 * The parts of Octokit's `RequestError` read here. Matched by shape, not `instanceof`: the plugins
 * bundle their own copies of `@octokit/request-error`, so the class is not one class.
 */
interface RequestErrorShape {
  readonly status: number;
  readonly response: {
    readonly headers: Record<string, string | number | undefined>;
    readonly data?: unknown;
  };
}

function isRequestErrorWithResponse(error: unknown): error is RequestErrorShape {
  if (!(error instanceof Error)) return false;
  const candidate = error as Partial<RequestErrorShape>;
  return typeof candidate.status === 'number' && typeof candidate.response?.headers === 'object';
}

export function classifyGitHubFailure(error: unknown, now: number): GitHubFailure {
  if (!isRequestErrorWithResponse(error)) return classifyTransportFailure(error);
  const { status } = error;
  const headers = error.response.headers;
  const data = error.response.data as { message?: unknown; errors?: unknown } | string | undefined;
  const message = typeof data === 'object' && typeof data?.message === 'string' ? data.message : '';
  const messages =
    typeof data === 'object' && Array.isArray(data?.errors)
      ? data.errors.flatMap((entry: unknown) => {
          const text = (entry as { message?: unknown } | null)?.message;
          return typeof text === 'string' ? [text] : [];
        })
      : [];
  const detail = truncate([message || `HTTP ${status}`, ...messages].join(': '));

  const exhausted = String(headers['x-ratelimit-remaining'] ?? '') === '0';
  const secondary = /secondary rate limit/i.test(message);
  if (
    status === 429 ||
    ((status === 403 || status === 429) && (exhausted || secondary || /rate limit/i.test(message)))
  ) {
    const fallback = secondary ? SECONDARY_LIMIT_WAIT_MS : undefined;
    return {
      kind: 'rate-limited',
      status,
      retryAfterMs: retryAfter(headers, now) ?? fallback,
      detail,
      messages,
    };
  }
  if (status >= 500 || status === 408) {
    return { kind: 'unavailable', status, retryAfterMs: retryAfter(headers, now), detail, messages };
  }
  return { kind: 'rejected', status, retryAfterMs: undefined, detail, messages };
}

export function toGitHubServiceError(error: unknown, operation: string, now: number): ServiceError {
  if (error instanceof ServiceError) return error;
  const failure = classifyGitHubFailure(error, now);
  return new ServiceError('github', `${operation} ${summaries[failure.kind]}: ${failure.detail}`, {
    status: failure.status,
    retryable: failure.kind !== 'rejected',
    retryAfterMs: failure.retryAfterMs,
    cause: error,
  });
}

const summaries: Record<GitHubFailureKind, string> = {
  'rate-limited': 'was rate limited',
  unavailable: 'failed',
  rejected: 'was rejected',
};

/**
 * Octokit wraps a failed `fetch` in a RequestError with status 500 and no response; a caller's
 * abort comes through as the raw AbortError. Either way there was no answer from GitHub.
 */
function classifyTransportFailure(error: unknown): GitHubFailure {
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
  const name = cause instanceof Error ? cause.name : typeof cause;
  const timedOut = name === 'TimeoutError' || name === 'AbortError';
  return {
    kind: 'unavailable',
    status: undefined,
    retryAfterMs: undefined,
    detail: timedOut ? 'timed out' : `network error (${name})`,
    messages: [],
  };
}

/** `retry-after` when present; else, for a spent budget, the time until `x-ratelimit-reset` (epoch s). */
function retryAfter(headers: Record<string, string | number | undefined>, now: number): number | undefined {
  const explicit = parseRetryAfter(headerText(headers['retry-after']), now);
  if (explicit !== undefined) return explicit;
  if (String(headers['x-ratelimit-remaining'] ?? '') !== '0') return undefined;
  const reset = Number(headers['x-ratelimit-reset']);
  if (!Number.isFinite(reset) || reset <= 0) return undefined;
  return Math.max(0, reset * 1000 - now);
}

function headerText(value: string | number | undefined): string | undefined {
  return value === undefined ? undefined : String(value);
}

function truncate(text: string): string {
  return text.length > MAX_DETAIL ? `${text.slice(0, MAX_DETAIL)}…` : text;
}
