/**
 * GitHub REST wire details the stand-in answers with: error bodies exactly as GitHub sends them
 * (Octokit builds its error message from `message`, `errors` and `documentation_url`, and the
 * throttling plugin recognises a secondary limit by the words "secondary rate" in it) and the
 * headers every response carries.
 */

export const DOCS = 'https://docs.github.com/rest';

export interface ValidationError {
  readonly resource: string;
  readonly code: string;
  readonly field?: string;
  readonly message?: string;
}

export function errorBody(status: number, message: string, documentationUrl = DOCS): Record<string, unknown> {
  return { message, documentation_url: documentationUrl, status: String(status) };
}

export function validationFailed(
  errors: readonly ValidationError[],
  documentationUrl = DOCS,
): Record<string, unknown> {
  return { message: 'Validation Failed', errors, documentation_url: documentationUrl, status: '422' };
}

export const badCredentials = errorBody(401, 'Bad credentials');
export const requiresAuthentication = errorBody(401, 'Requires authentication');
export const notFound = errorBody(404, 'Not Found');

export function primaryRateLimited(requestId: string): Record<string, unknown> {
  return errorBody(
    403,
    `API rate limit exceeded for user ID 1. If you reach out to GitHub Support for help, please include the request ID ${requestId}.`,
    'https://docs.github.com/rest/overview/rate-limits-for-the-rest-api',
  );
}

export function secondaryRateLimited(requestId: string): Record<string, unknown> {
  return errorBody(
    403,
    `You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID ${requestId}.`,
    'https://docs.github.com/free-pro-team@latest/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits',
  );
}

/** What GitHub answers for an injected fault's status. */
export function faultBody(status: number): Record<string, unknown> {
  if (status === 429 || status === 403) return errorBody(status, 'API rate limit exceeded for user ID 1.');
  if (status === 502) return errorBody(status, 'Server Error');
  if (status === 503) return errorBody(status, 'Service Unavailable');
  if (status >= 500) return errorBody(status, 'Server Error');
  if (status === 404) return notFound;
  return errorBody(status, 'Bad Request');
}

export interface RateLimitState {
  readonly resource: 'core' | 'code_search';
  readonly limit: number;
  readonly used: number;
  /** Epoch milliseconds. */
  readonly resetAt: number;
}

export function rateLimitHeaders(state: RateLimitState): Record<string, string> {
  return {
    'x-ratelimit-limit': String(state.limit),
    'x-ratelimit-remaining': String(Math.max(0, state.limit - state.used)),
    // GitHub sends the reset as epoch seconds.
    'x-ratelimit-reset': String(Math.ceil(state.resetAt / 1000)),
    'x-ratelimit-used': String(state.used),
    'x-ratelimit-resource': state.resource,
  };
}
