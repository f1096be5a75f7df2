import { describe, expect, it } from 'vitest';
import { toAwsServiceError } from '../../shared/adapters/aws/aws-service-error.js';

const failure = (name: string, status?: number, withMetadata = true) =>
  Object.assign(new Error(name), {
    name,
    ...(withMetadata ? { $metadata: { httpStatusCode: status } } : {}),
  });

describe('toAwsServiceError', () => {
  it('retries 5xx, 429, unanswered requests, our own deadlines and the named throttles', () => {
    expect(toAwsServiceError('sqs', 'send', failure('InternalError', 500)).retryable).toBe(true);
    expect(toAwsServiceError('sqs', 'send', failure('TooManyRequests', 429)).retryable).toBe(true);
    expect(toAwsServiceError('sqs', 'send', failure('ECONNRESET', undefined)).retryable).toBe(true);
    expect(toAwsServiceError('sqs', 'send', failure('AbortError', undefined, false)).retryable).toBe(true);
    expect(
      toAwsServiceError(
        'dynamodb',
        'put',
        failure('ThrottlingException', 400),
        new Set(['ThrottlingException']),
      ).retryable,
    ).toBe(true);
  });

  it('does not retry other 4xx or failures before the request left', () => {
    const denied = toAwsServiceError('ecs', 'RunTask', failure('AccessDeniedException', 400));
    expect(denied).toMatchObject({ service: 'ecs', status: 400, retryable: false });
    expect(denied.message).toBe('ecs: RunTask failed (AccessDeniedException)');
    expect(toAwsServiceError('ecs', 'RunTask', new TypeError('bad input')).retryable).toBe(false);
  });
});
