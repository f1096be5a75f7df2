/**
 * SQS faults as the service reports them over its query-compatible AWS JSON 1.0 protocol: the
 * SDK maps the `x-amzn-query-error` code back to its modelled exception classes, so the codes
 * here must be the ones the SDK's error schemas list (see `awsQueryError` in client-sqs).
 */

const QUERY_CODES = {
  QueueDoesNotExist: ['AWS.SimpleQueueService.NonExistentQueue', 400],
  QueueNameExists: ['QueueAlreadyExists', 400],
  ReceiptHandleIsInvalid: ['ReceiptHandleIsInvalid', 404],
  MessageNotInflight: ['AWS.SimpleQueueService.MessageNotInflight', 400],
  TooManyEntriesInBatchRequest: ['AWS.SimpleQueueService.TooManyEntriesInBatchRequest', 400],
  EmptyBatchRequest: ['AWS.SimpleQueueService.EmptyBatchRequest', 400],
  BatchEntryIdsNotDistinct: ['AWS.SimpleQueueService.BatchEntryIdsNotDistinct', 400],
  InvalidBatchEntryId: ['AWS.SimpleQueueService.InvalidBatchEntryId', 400],
  BatchRequestTooLong: ['AWS.SimpleQueueService.BatchRequestTooLong', 400],
  InvalidAttributeName: ['InvalidAttributeName', 400],
  InvalidAttributeValue: ['InvalidAttributeValue', 400],
  InvalidMessageContents: ['InvalidMessageContents', 400],
  InvalidParameterValue: ['InvalidParameterValue', 400],
  MissingParameter: ['MissingParameter', 400],
  UnsupportedOperation: ['AWS.SimpleQueueService.UnsupportedOperation', 400],
  ResourceNotFoundException: ['ResourceNotFoundException', 404],
  InvalidAddress: ['InvalidAddress', 404],
  UnknownOperationException: ['UnknownOperationException', 400],
  SerializationException: ['SerializationException', 400],
} as const satisfies Record<string, readonly [string, number]>;

export type SqsErrorType = keyof typeof QUERY_CODES;

export class SqsError extends Error {
  readonly type: SqsErrorType;
  readonly queryCode: string;
  readonly status: number;

  constructor(type: SqsErrorType, message: string) {
    super(message);
    this.name = type;
    this.type = type;
    const [queryCode, status] = QUERY_CODES[type];
    this.queryCode = queryCode;
    this.status = status;
  }
}

export function invalidParameter(name: string, value: unknown, reason: string): SqsError {
  return new SqsError(
    'InvalidParameterValue',
    `Value ${String(value)} for parameter ${name} is invalid. Reason: ${reason}`,
  );
}
