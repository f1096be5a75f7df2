import type { Job } from './job-schemas.js';

/**
 * The jobs queue's maximum message size, set on the queue and its DLQ by the CDK stack and on the
 * local queues by `npm start`. SQS allows 1,024 bytes to 1,048,576 bytes (1 MiB) per message
 * (`MaximumMessageSize`, @aws-sdk/client-sqs CreateQueue). What a queue gets when it sets nothing
 * has changed over time: 262,144 bytes (256 KiB) for queues created before SQS raised the limit
 * in 2025, 1 MiB in the current API reference; the stack sets it rather than rely on either.
 * The webhook accepts bodies up to 1 MiB, so a job must be allowed as large.
 */
export const JOBS_QUEUE_MAX_MESSAGE_BYTES = 1_048_576;

/**
 * The largest job a producer should send: the queue's limit less room for the `failure`
 * attribute (up to 1000 characters) the processor adds when it dead-letters a job itself
 * (shared/adapters/aws-sqs/sqs-job-retry-control.ts), so a job that fits the jobs queue also
 * fits the DLQ with its reason.
 */
export const MAX_JOB_MESSAGE_BYTES = JOBS_QUEUE_MAX_MESSAGE_BYTES - 4096;

export interface JobMessage {
  readonly body: string;
  readonly attributes: Record<string, { DataType: 'String'; StringValue: string }>;
}

/** A job as it goes on the wire: JSON body, and its kind as a message attribute for filtering. */
export function toJobMessage(job: Job): JobMessage {
  return {
    body: JSON.stringify(job),
    attributes: { kind: { DataType: 'String', StringValue: job.kind } },
  };
}

/**
 * The size SQS counts against `MaximumMessageSize`: the body's UTF-8 bytes plus, for every
 * message attribute, its name, data type and value.
 */
export function jobMessageBytes(message: JobMessage): number {
  let bytes = Buffer.byteLength(message.body, 'utf8');
  for (const [name, attribute] of Object.entries(message.attributes)) {
    bytes += Buffer.byteLength(name) + Buffer.byteLength(attribute.DataType);
    bytes += Buffer.byteLength(attribute.StringValue);
  }
  return bytes;
}
