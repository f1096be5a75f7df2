import { ChangeMessageVisibilityCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { ServiceError } from '../../domain/errors.js';
import type { JobRetryControl } from '../../ports/job-queue.js';

export class SqsJobRetryControl implements JobRetryControl {
  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
    private readonly deadLetterQueueUrl: string,
  ) {}

  async deadLetter(rawBody: string, reason: string): Promise<void> {
    try {
      await this.client.send(
        new SendMessageCommand({
          QueueUrl: this.deadLetterQueueUrl,
          MessageBody: rawBody,
          MessageAttributes: {
            failure: { DataType: 'String', StringValue: reason.slice(0, 1000) || 'unknown' },
          },
        }),
      );
    } catch (error) {
      throw new ServiceError('sqs', 'could not dead-letter the job', { cause: error });
    }
  }

  async delayNextAttempt(receiptHandle: string, delaySeconds: number): Promise<void> {
    await this.client.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: this.queueUrl,
        ReceiptHandle: receiptHandle,
        VisibilityTimeout: Math.max(0, Math.min(43_200, Math.round(delaySeconds))),
      }),
    );
  }
}
