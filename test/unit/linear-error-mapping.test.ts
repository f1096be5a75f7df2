import { AuthenticationLinearError, parseLinearError, UnknownLinearError } from '@linear/sdk';
import { describe, expect, it } from 'vitest';
import { classifyLinearFailure, toLinearServiceError } from '../../shared/adapters/linear/linear-errors.js';
import { ServiceError } from '../../shared/domain/errors.js';

const NOW = Date.parse('2025-03-01T12:00:00.000Z');

/** What the SDK's GraphQL client builds from a response, run through the SDK's own parser. */
function sdkError(status: number, errors: unknown[], headers: Record<string, string> = {}) {
  return parseLinearError({
    message: 'GraphQL Error',
    response: { status, errors: errors as never, headers: new Headers(headers) },
    request: { query: 'query BugbotIssue { issue(id: "ENG-1") { id } }', variables: { id: 'ENG-1' } },
  });
}

describe('classifyLinearFailure', () => {
  it('recognises a rate limit sent as HTTP 400 with only extensions.code, which the SDK files as unknown', () => {
    const error = sdkError(400, [{ message: 'Rate limit exceeded', extensions: { code: 'RATELIMITED' } }], {
      'x-ratelimit-requests-remaining': '0',
      'x-ratelimit-requests-reset': String(NOW + 42_000),
    });

    expect(error).toBeInstanceOf(UnknownLinearError);
    expect(classifyLinearFailure(error, NOW)).toEqual({
      kind: 'rate-limited',
      status: 429,
      retryAfterMs: 42_000,
      detail: 'Rate limit exceeded',
    });
  });

  it('reads a bare HTTP 400, which the SDK files as authentication, as a rejection, not a credentials problem', () => {
    const error = sdkError(400, []);

    expect(error).toBeInstanceOf(AuthenticationLinearError);
    expect(classifyLinearFailure(error, NOW)).toMatchObject({
      kind: 'rejected',
      status: 400,
      detail: 'HTTP 400',
    });
  });

  it('prefers retry-after, and takes the later reset when both budgets ran out', () => {
    const withRetryAfter = sdkError(429, [], { 'retry-after': '7' });
    const bothBudgets = sdkError(400, [{ message: 'x', extensions: { type: 'ratelimited' } }], {
      'x-ratelimit-requests-remaining': '0',
      'x-ratelimit-requests-reset': String(NOW + 5_000),
      'x-ratelimit-complexity-remaining': '0',
      'x-ratelimit-complexity-reset': String((NOW + 90_000) / 1000),
    });

    expect(classifyLinearFailure(withRetryAfter, NOW).retryAfterMs).toBe(7_000);
    expect(classifyLinearFailure(bothBudgets, NOW).retryAfterMs).toBe(90_000);
  });

  it('reads "Entity not found" as not found even though Linear answers it with HTTP 200', () => {
    const error = sdkError(200, [
      { message: 'Entity not found: Issue', extensions: { type: 'invalid input' } },
    ]);
    expect(classifyLinearFailure(error, NOW)).toMatchObject({ kind: 'not-found', status: 404 });
  });

  it('keeps Linear-reported input errors permanent, with the status Linear put in extensions', () => {
    const error = sdkError(200, [
      {
        message: 'Argument Validation Error',
        extensions: { type: 'invalid input', code: 'INPUT_ERROR', statusCode: 400 },
      },
    ]);
    const mapped = toLinearServiceError(error, 'issueCreate', NOW);

    expect(mapped).toMatchObject({ service: 'linear', status: 400, retryable: false });
    expect(mapped.message).toBe('linear: issueCreate was rejected: Argument Validation Error');
    expect(mapped.cause).toBe(error);
  });

  it('retries server errors and internal errors, not forbidden ones', () => {
    expect(toLinearServiceError(sdkError(500, []), 'issue', NOW)).toMatchObject({
      status: 500,
      retryable: true,
    });
    expect(toLinearServiceError(sdkError(502, []), 'issue', NOW)).toMatchObject({
      status: 502,
      retryable: true,
    });
    const internal = sdkError(200, [{ message: 'Internal error', extensions: { type: 'lock timeout' } }]);
    expect(toLinearServiceError(internal, 'issue', NOW).retryable).toBe(true);
    const forbidden = sdkError(200, [
      { message: 'Forbidden', extensions: { type: 'forbidden', code: 'FORBIDDEN' } },
    ]);
    expect(toLinearServiceError(forbidden, 'issue', NOW)).toMatchObject({ status: 403, retryable: false });
  });

  it('treats network failures and timeouts that bypass the SDK parser as retryable without a status', () => {
    const timeout = new DOMException('The operation was aborted due to timeout', 'TimeoutError');
    const refused = new TypeError('fetch failed');

    expect(toLinearServiceError(timeout, 'issue', NOW)).toMatchObject({ status: undefined, retryable: true });
    expect(toLinearServiceError(timeout, 'issue', NOW).message).toBe('linear: issue failed: timed out');
    expect(toLinearServiceError(refused, 'issue', NOW).message).toBe(
      'linear: issue failed: network error (TypeError)',
    );
  });

  it('cuts long Linear messages and passes ServiceErrors through', () => {
    const long = sdkError(400, [{ message: 'x'.repeat(1_000), extensions: { type: 'invalid input' } }]);
    const existing = new ServiceError('linear', 'already mapped', { status: 502 });

    expect(toLinearServiceError(long, 'issue', NOW).message.length).toBeLessThan(260);
    expect(toLinearServiceError(existing, 'issue', NOW)).toBe(existing);
  });
});
