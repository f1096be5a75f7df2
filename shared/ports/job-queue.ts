import type { Job } from '../jobs/job-schemas.js';

export interface SendJobOptions {
  /** `delaySeconds` (0–900, SQS's DelaySeconds): the job is not delivered before then. */
  readonly delaySeconds?: number;
  /** Abandons the send (the caller's deadline); the adapter passes it to its client. */
  readonly signal?: AbortSignal;
}

/** Where producers put jobs for the processor. One send per accepted request. */
export interface JobQueue {
  send(job: Job, options?: SendJobOptions): Promise<void>;
}

/**
 * What the processor may do with a job it cannot finish now: put it in the dead-letter queue
 * at once (a permanent failure, so three receives would only repeat it) or space out the next
 * attempt (a 429's `retry-after`, or backoff).
 */
export interface JobRetryControl {
  deadLetter(rawBody: string, reason: string): Promise<void>;
  delayNextAttempt(receiptHandle: string, delaySeconds: number): Promise<void>;
}
