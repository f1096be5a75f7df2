import { describe, expect, it } from 'vitest';
import { classifyGitHubFailure, toGitHubServiceError } from '../../shared/adapters/github/github-errors.js';
import { ServiceError } from '../../shared/domain/errors.js';

/** Errors shaped as Octokit's RequestError is: `status` plus the `response` GitHub sent. */
function requestError(
  status: number,
  data: unknown,
  headers: Record<string, string> = {},
): Error & { status: number; response: unknown } {
  return Object.assign(new Error(`HTTP ${status}`), {
    status,
    response: { url: 'https://api.github.com/x', status, headers, data },
    request: { headers: { authorization: 'token [REDACTED]' } },
  });
}

const NOW = Date.parse('2025-06-01T12:00:00Z');

describe('GitHub error mapping', () => {
  it('treats 4xx as final, naming the operation and GitHub’s message', () => {
    const error = toGitHubServiceError(
      requestError(422, {
        message: 'Validation Failed',
        errors: [{ resource: 'PullRequest', code: 'custom', message: 'No commits between main and x' }],
      }),
      'create pull request',
      NOW,
    );
    expect(error).toBeInstanceOf(ServiceError);
    expect(error).toMatchObject({
      service: 'github',
      status: 422,
      retryable: false,
      retryAfterMs: undefined,
    });
    expect(error.message).toBe(
      'github: create pull request was rejected: Validation Failed: No commits between main and x',
    );
    for (const status of [400, 401, 404, 410]) {
      expect(toGitHubServiceError(requestError(status, { message: 'x' }), 'op', NOW).retryable).toBe(false);
    }
  });

  it('treats a plain 403 (permissions) as final', () => {
    const error = toGitHubServiceError(
      requestError(
        403,
        { message: 'Resource not accessible by integration' },
        { 'x-ratelimit-remaining': '4000' },
      ),
      'create issue',
      NOW,
    );
    expect(error).toMatchObject({ status: 403, retryable: false });
  });

  it('retries a spent primary limit after the reset (epoch seconds)', () => {
    const reset = String(NOW / 1000 + 90);
    const failure = classifyGitHubFailure(
      requestError(
        403,
        { message: 'API rate limit exceeded for user ID 1.' },
        {
          'x-ratelimit-remaining': '0',
          'x-ratelimit-reset': reset,
        },
      ),
      NOW,
    );
    expect(failure).toMatchObject({ kind: 'rate-limited', status: 403, retryAfterMs: 90_000 });
  });

  it('retries a secondary limit after retry-after, or a minute without it', () => {
    const message =
      'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.';
    expect(classifyGitHubFailure(requestError(403, { message }, { 'retry-after': '45' }), NOW)).toMatchObject(
      {
        kind: 'rate-limited',
        retryAfterMs: 45_000,
      },
    );
    expect(classifyGitHubFailure(requestError(429, { message }), NOW)).toMatchObject({
      kind: 'rate-limited',
      status: 429,
      retryAfterMs: 60_000,
    });
  });

  it('retries 5xx, honouring retry-after when given', () => {
    const error = toGitHubServiceError(
      requestError(502, 'Bad Gateway', { 'retry-after': '3' }),
      'get repository',
      NOW,
    );
    expect(error).toMatchObject({ status: 502, retryable: true, retryAfterMs: 3_000 });
    expect(error.message).toContain('HTTP 502');
  });

  it('retries network failures and timeouts, with no status', () => {
    const timeout = Object.assign(new Error('The operation was aborted due to timeout'), {
      status: 500,
      cause: Object.assign(new Error('timeout'), { name: 'TimeoutError' }),
    });
    expect(toGitHubServiceError(timeout, 'get repository', NOW)).toMatchObject({
      status: undefined,
      retryable: true,
      message: 'github: get repository failed: timed out',
    });
    const refused = Object.assign(new Error('connect ECONNREFUSED'), {
      status: 500,
      cause: new TypeError('x'),
    });
    expect(toGitHubServiceError(refused, 'op', NOW).message).toBe(
      'github: op failed: network error (TypeError)',
    );
  });

  it('keeps an existing ServiceError and truncates long messages', () => {
    const existing = new ServiceError('github', 'already mapped', { status: 500 });
    expect(toGitHubServiceError(existing, 'op', NOW)).toBe(existing);
    const long = toGitHubServiceError(requestError(400, { message: 'x'.repeat(500) }), 'op', NOW);
    expect(long.message.length).toBeLessThan(260);
  });
});
