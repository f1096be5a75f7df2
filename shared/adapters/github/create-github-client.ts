import { retry } from '@octokit/plugin-retry';
import { type ThrottlingOptions, throttling } from '@octokit/plugin-throttling';
import { Octokit } from '@octokit/rest';
import { attemptTimeoutMs } from '../../runtime/invocation-deadline.js';

/**
 * Builds the `Octokit` a composition root hands to `GitHubCodeHost`: `@octokit/rest` with
 *
 * - a deadline on every attempt (`AbortSignal.timeout`, joined with any caller signal): Octokit's
 *   request layer has no timeout of its own, so it goes in through `request.fetch`;
 * - `@octokit/plugin-retry` for 5xx and network failures, with backoff `unit × n²`; 4xx are not
 *   retried, 429 included — rate limits are the throttling plugin's to judge;
 * - `@octokit/plugin-throttling` for rate limits, primary (`x-ratelimit-remaining: 0`) and
 *   secondary ("secondary rate limit", `retry-after`): one retry when the wait is short, otherwise
 *   the error goes up, becomes a retryable `ServiceError` with `retryAfterMs`, and the job queue
 *   redelivers later instead of a Lambda sleeping. Code search is never retried here: each retry
 *   spends the 10-a-minute budget the adapter already rations. The plugin also paces writes (1 s
 *   apart) and searches (2 s apart) per client, as GitHub's best practices ask.
 */

export interface GitHubClientSettings {
  /** Installation or personal token — never logged. */
  readonly token: string;
  /** Default `https://api.github.com`; `…/api/v3` for GitHub Enterprise Server or the stand-in. */
  readonly baseUrl?: string;
  /** Per attempt, response body included. Default 10 s. */
  readonly timeoutMs?: number;
  /** Retries of a 5xx or network failure. Default 2. */
  readonly retries?: number;
  /**
   * Milliseconds per backoff unit: the n-th retry of a failure waits `unit × n²`, a rate-limit
   * retry `unit × retry-after seconds`. Default 1000; tests shrink it.
   */
  readonly backoffUnitMs?: number;
  /** Longest rate-limit wait worth one retry in-process. Default 10 s. */
  readonly maxRateLimitWaitSeconds?: number;
  /**
   * Default true. False drops the plugin's write/search spacing (tests of many calls); rate-limit
   * handling stays on.
   */
  readonly pacing?: boolean;
  /**
   * Octokit's own logging. Default: warnings to the console, nothing else — its request log would
   * print every expected 4xx (a 422 for an existing PR), and the adapter's errors say more.
   */
  readonly log?: {
    debug(message: string): void;
    info(message: string): void;
    warn(message: string): void;
    error(message: string): void;
  };
}

const quiet = () => {};

const GitHubOctokit = Octokit.plugin(retry, throttling);

export function createGitHubClient(settings: GitHubClientSettings): Octokit {
  const timeoutMs = settings.timeoutMs ?? 10_000;
  const backoffUnitMs = settings.backoffUnitMs ?? 1000;
  const maxWait = settings.maxRateLimitWaitSeconds ?? 10;
  const shouldRetryLimit = (retryAfter: number, options: { url?: string }, retryCount: number) =>
    retryCount < 1 && retryAfter <= maxWait && !String(options.url ?? '').startsWith('/search/');

  const throttle: ThrottlingOptions = {
    retryAfterBaseValue: backoffUnitMs,
    onRateLimit: (retryAfter, options, _octokit, retryCount) =>
      shouldRetryLimit(retryAfter, options, retryCount),
    onSecondaryRateLimit: (retryAfter, options, _octokit, retryCount) =>
      shouldRetryLimit(retryAfter, options, retryCount),
    ...(settings.pacing === false ? unpaced() : {}),
  };

  return new GitHubOctokit({
    auth: settings.token,
    baseUrl: settings.baseUrl?.replace(/\/+$/, '') ?? 'https://api.github.com',
    userAgent: 'bugbot',
    log: settings.log ?? { debug: quiet, info: quiet, warn: console.warn, error: quiet },
    request: { fetch: fetchWithDeadline(timeoutMs) },
    retry: {
      retries: settings.retries ?? 2,
      retryAfterBaseValue: backoffUnitMs,
      doNotRetry: [400, 401, 403, 404, 410, 422, 429, 451],
    },
    throttle,
  });
}

/**
 * Octokit's `request.fetch`: each attempt gets its own deadline (its limit, cut to what is left
 * of the invocation), and a 2xx whose body is not JSON is turned into a 502. Octokit would hand
 * such a body up as a string (`@octokit/request` returns the text when `JSON.parse` fails, and
 * the text of any `text/*` answer), and the adapter would read `undefined` fields from it as if
 * GitHub had answered; as a 502 it is retried by the retry plugin and then reported as GitHub
 * failing.
 */
function fetchWithDeadline(timeoutMs: number): typeof fetch {
  return async (input, init) => {
    const limit = attemptTimeoutMs(timeoutMs);
    if (limit === undefined) throw new DOMException('the invocation is out of time', 'TimeoutError');
    const deadline = AbortSignal.timeout(limit);
    const signal = init?.signal ? AbortSignal.any([init.signal, deadline]) : deadline;
    const response = await fetch(input, { ...init, signal });
    if (!response.ok || response.status === 204 || !acceptsJson(init?.headers)) return response;
    const text = await response.text();
    const headers = new Headers(response.headers);
    // The body is already decoded and re-framed below.
    headers.delete('content-encoding');
    headers.delete('content-length');
    if (text.length > 0 && !isJson(text)) {
      headers.set('content-type', 'application/json; charset=utf-8');
      return new Response(
        JSON.stringify({ message: `GitHub answered ${response.status} with a body that is not JSON` }),
        { status: 502, statusText: 'Bad Gateway', headers },
      );
    }
    return new Response(text, { status: response.status, statusText: response.statusText, headers });
  };
}

function acceptsJson(headers: RequestInit['headers']): boolean {
  const accept = new Headers(headers).get('accept');
  return accept === null || accept.includes('json');
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/**
 * The throttling plugin spaces writes and searches through Bottleneck groups it accepts as
 * options; it only ever calls `group.key(id).schedule(options, task)` on them. A group that runs
 * the task at once removes the spacing without reaching for Bottleneck (not our dependency).
 */
function unpaced(): Pick<ThrottlingOptions, 'write' | 'search' | 'notifications'> {
  const immediate = {
    key: () => ({ schedule: (_options: unknown, task: () => Promise<unknown>) => task() }),
  } as unknown as NonNullable<ThrottlingOptions['write']>;
  return { write: immediate, search: immediate, notifications: immediate };
}
