import type { Job } from '../jobs/job-schemas.js';

/** Where producers put jobs for the processor. One send per accepted request. */
export interface JobQueue {
  /** `delaySeconds` (0–900, SQS's DelaySeconds): the job is not delivered before then. */
  send(job: Job, options?: { readonly delaySeconds?: number }): Promise<void>;
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
