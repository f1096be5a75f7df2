import type { ServiceError } from '../../domain/errors.js';
import { toAwsServiceError } from '../aws/aws-service-error.js';

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

export function isConditionalCheckFailed(error: unknown): boolean {
  return (error as { name?: string } | null)?.name === 'ConditionalCheckFailedException';
}

/** Wraps a DynamoDB failure in a ServiceError that says whether retrying can help. */
export function toDynamoDbServiceError(error: unknown, action: string): ServiceError {
  return toAwsServiceError('dynamodb', action, error, RETRYABLE_ERROR_NAMES);
}
