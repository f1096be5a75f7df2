import { Duration, Validations } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

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
      visibilityTimeout: props.visibilityTimeout,
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: JOBS_MAX_RECEIVE_COUNT },
    });
  }

  /** Lets a producer enqueue jobs, and nothing else (no receive, no purge, no attributes). */
  grantSendJobs(grantee: iam.IGrantable): iam.Grant {
    return this.queue.grant(grantee, 'sqs:SendMessage');
  }

  /** Only the processor: it dead-letters permanently failed jobs itself. */
  grantDeadLetter(grantee: iam.IGrantable): iam.Grant {
    return this.deadLetterQueue.grant(grantee, 'sqs:SendMessage');
  }
}
