import { Duration, Validations } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { JOBS_QUEUE_MAX_MESSAGE_BYTES } from '../../shared/jobs/job-message.js';

/** A job is tried this many times (receives) before it moves to the DLQ. */
export const JOBS_MAX_RECEIVE_COUNT = 3;

export interface JobsQueueProps {
  /**
   * How long a received job stays hidden from other consumers. AWS asks for at least six times
   * the consumer's timeout, so a batch still retrying inside Lambda is not handed out again.
   */
  readonly visibilityTimeout: Duration;
}

/**
 * The jobs queue every ingress, the processor and (later) the fix runner's EventBridge rule send
 * to, and its dead-letter queue: a job that fails three receives lands in the DLQ for an
 * operator, so nothing is lost.
 *
 * SQS-managed encryption (SSE-SQS) rather than a KMS key: it costs nothing per call, needs no
 * kms:* grants on every producer, and still lets EventBridge deliver to the queue.
 */
export class JobsQueue extends Construct {
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: JobsQueueProps) {
    super(scope, id);

    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      // As large as the jobs it receives: the processor dead-letters jobs itself with SendMessage.
      maxMessageSizeBytes: JOBS_QUEUE_MAX_MESSAGE_BYTES,
      // The longest SQS allows: time for an operator to read, fix and redrive a failed job.
      retentionPeriod: Duration.days(14),
    });
    Validations.of(this.deadLetterQueue).acknowledge(
      {
        id: 'AwsSolutions-SQS3',
        reason:
          'This queue is the jobs DLQ; a dead-letter queue of a dead-letter queue would only hide failed jobs.',
      },
      {
        id: 'Serverless-SQSRedrivePolicy',
        reason:
          'This queue is the jobs DLQ; jobs rest here until an operator redrives them to the jobs queue.',
      },
    );

    this.queue = new sqs.Queue(this, 'Queue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      // The webhook takes reports up to 1 MiB: the queue must take jobs as large. Set, not left to
      // SQS's default, which was 256 KiB for queues created before 2025 (shared/jobs/job-message.ts).
      maxMessageSizeBytes: JOBS_QUEUE_MAX_MESSAGE_BYTES,
      visibilityTimeout: props.visibilityTimeout,
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: JOBS_MAX_RECEIVE_COUNT },
    });
  }

  /** Lets a producer enqueue jobs, and nothing else (no receive, no purge, no attributes). */
  grantSendJobs(grantee: iam.IGrantable): iam.Grant {
    return this.queue.grant(grantee, 'sqs:SendMessage');
  }

  /**
   * The processor's event source mapping: Lambda's poller receives, deletes and reads the queue's
   * attributes (what AWS's AWSLambdaSQSQueueExecutionRole policy holds), and the processor spaces
   * retries with ChangeMessageVisibility (shared/adapters/aws-sqs/sqs-job-retry-control.ts).
   * Not GetQueueUrl, which CDK's SqsEventSource would add: nothing calls it.
   */
  grantConsumeJobs(grantee: iam.IGrantable): iam.Grant {
    return this.queue.grant(
      grantee,
      'sqs:ReceiveMessage',
      'sqs:DeleteMessage',
      'sqs:GetQueueAttributes',
      'sqs:ChangeMessageVisibility',
    );
  }

  /** Only the processor: it dead-letters permanently failed jobs itself. */
  grantDeadLetter(grantee: iam.IGrantable): iam.Grant {
    return this.deadLetterQueue.grant(grantee, 'sqs:SendMessage');
  }
}
