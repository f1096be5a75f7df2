import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { toJobMessage } from '../../jobs/job-message.js';
import type { Job } from '../../jobs/job-schemas.js';
import type { JobQueue, SendJobOptions } from '../../ports/job-queue.js';
import { toAwsServiceError } from '../aws/aws-service-error.js';

/** SQS reports throttling as HTTP 400 with these codes (@aws-sdk/client-sqs error shapes). */
const SQS_RETRYABLE_ERRORS: ReadonlySet<string> = new Set([
  'RequestThrottled',
  'ThrottlingException',
  'KmsThrottled',
]);

export class SqsJobQueue implements JobQueue {
  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async send(job: Job, options: SendJobOptions = {}): Promise<void> {
    const message = toJobMessage(job);
    try {
      await this.client.send(
        new SendMessageCommand({
          QueueUrl: this.queueUrl,
          MessageBody: message.body,
          ...(options.delaySeconds
            ? { DelaySeconds: Math.min(900, Math.max(0, Math.round(options.delaySeconds))) }
            : {}),
          MessageAttributes: message.attributes,
        }),
        options.signal ? { abortSignal: options.signal } : undefined,
      );
    } catch (error) {
      throw toAwsServiceError('sqs', 'enqueue the job', error, SQS_RETRYABLE_ERRORS);
    }
  }
}
