import type { Job } from '../jobs/job-schemas.js';

/** Where producers put jobs for the processor. One send per accepted request. */
export interface JobQueue {
  send(job: Job): Promise<void>;
}
