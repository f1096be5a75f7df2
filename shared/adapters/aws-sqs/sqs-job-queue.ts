import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { Job } from '../../jobs/job-schemas.js';
import type { JobQueue } from '../../ports/job-queue.js';
import { toAwsServiceError } from '../aws/aws-service-error.js';

export class SqsJobQueue implements JobQueue {
  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async send(job: Job): Promise<void> {
    try {
      await this.client.send(
        new SendMessageCommand({
          QueueUrl: this.queueUrl,
          MessageBody: JSON.stringify(job),
          MessageAttributes: { kind: { DataType: 'String', StringValue: job.kind } },
        }),
      );
    } catch (error) {
      throw toAwsServiceError('sqs', 'enqueue the job', error);
    }
  }
}
