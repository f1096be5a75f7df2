import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { Job } from '../../jobs/job-schemas.js';
import type { JobQueue } from '../../ports/job-queue.js';
import { toAwsServiceError } from '../aws/aws-service-error.js';

export class SqsJobQueue implements JobQueue {
  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async send(job: Job, options: { readonly delaySeconds?: number } = {}): Promise<void> {
    try {
      await this.client.send(
        new SendMessageCommand({
          QueueUrl: this.queueUrl,
          MessageBody: JSON.stringify(job),
          ...(options.delaySeconds
            ? { DelaySeconds: Math.min(900, Math.max(0, Math.round(options.delaySeconds))) }
            : {}),
          MessageAttributes: { kind: { DataType: 'String', StringValue: job.kind } },
        }),
      );
    } catch (error) {
      throw toAwsServiceError('sqs', 'enqueue the job', error);
    }
  }
}
