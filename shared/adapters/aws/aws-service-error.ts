import { ServiceError } from '../../domain/errors.js';

interface AwsErrorShape {
  readonly name?: string;
  readonly $metadata?: { readonly httpStatusCode?: number };
  readonly $retryable?: unknown;
}

/** Our own deadlines (AbortSignal.timeout, request handler timeouts): no answer came in time. */
const TIMEOUT_NAMES = new Set(['AbortError', 'TimeoutError', 'RequestTimeout']);

/**
 * Wraps an AWS SDK v3 failure in a ServiceError that says whether retrying can help. Some AWS
 * services report throttling as HTTP 400, so each adapter names the error codes that are worth
 * another try besides 429 and 5xx.
 */
export function toAwsServiceError(
  service: string,
  action: string,
  error: unknown,
  retryableNames: ReadonlySet<string> = new Set(),
): ServiceError {
  const shape = (error ?? {}) as AwsErrorShape;
  const status = shape.$metadata?.httpStatusCode;
  // `$metadata` without a status: the request went out and got no answer (refused, reset,
  // timed out). No `$metadata` at all: it failed before leaving the process, a local bug.
  const unanswered =
    (status === undefined && shape.$metadata !== undefined) || TIMEOUT_NAMES.has(shape.name ?? '');
  const retryable =
    unanswered ||
    (status !== undefined && status >= 500) ||
    status === 429 ||
    retryableNames.has(shape.name ?? '') ||
    Boolean(shape.$retryable);
  const reason = shape.name ? ` (${shape.name})` : '';
  return new ServiceError(service, `${action} failed${reason}`, { status, retryable, cause: error });
}
