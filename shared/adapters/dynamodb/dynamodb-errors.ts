import { ServiceError } from '../../domain/errors.js';

/**
 * DynamoDB reports throttling as HTTP 400, so the status alone cannot tell "slow down" from
 * "your request is wrong"; these names are the 400s worth another receive of the job.
 */
const RETRYABLE_ERROR_NAMES = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
  'TransactionConflictException',
  'InternalServerError',
  'ServiceUnavailable',
]);

interface AwsErrorShape {
  readonly name?: string;
  readonly $metadata?: { readonly httpStatusCode?: number };
  readonly $retryable?: unknown;
}

export function isConditionalCheckFailed(error: unknown): boolean {
  return (error as AwsErrorShape | null)?.name === 'ConditionalCheckFailedException';
}

/** Wraps a DynamoDB failure in a ServiceError that says whether retrying can help. */
export function toDynamoDbServiceError(error: unknown, action: string): ServiceError {
  const shape = (error ?? {}) as AwsErrorShape;
  const status = shape.$metadata?.httpStatusCode;
  // `$metadata` without a status: the request went out and got no answer (refused, reset,
  // timed out). No `$metadata` at all: it failed before leaving the process, a local bug.
  const unanswered = status === undefined && shape.$metadata !== undefined;
  const retryable =
    unanswered ||
    (status !== undefined && status >= 500) ||
    status === 429 ||
    RETRYABLE_ERROR_NAMES.has(shape.name ?? '') ||
    Boolean(shape.$retryable);
  const reason = shape.name ? ` (${shape.name})` : '';
  return new ServiceError('dynamodb', `${action} failed${reason}`, { status, retryable, cause: error });
}
