import { boundReport, mergeCuts, type ReportCut, withoutExtraFields } from '../domain/report-bounds.js';
import { jobMessageBytes, toJobMessage } from '../jobs/job-message.js';
import { type BugReportJob, KNOWN_REPORT_FIELDS } from '../jobs/job-schemas.js';

export interface FittedJob {
  readonly job: BugReportJob;
  /** What had to go for the job to fit; empty when it fitted as it was. */
  readonly cuts: readonly ReportCut[];
}

/**
 * A report the webhook accepted must fit the jobs queue, or it would be refused by SQS after the
 * sender was promised it: the body limit (1 MiB) and the queue's (1 MiB of body and attributes)
 * are equal, so a report near the limit, once wrapped in its job, can be a little too large.
 * Such a job is cut the way the processor would cut it for storage anyway (the fields bugbot
 * reads, to their caps), and, if that is still not enough, the report's extra fields are dropped.
 * The cuts travel with the job, so the bug card says what the sender sent.
 */
export function fitReportJob(
  job: BugReportJob,
  maxMessageBytes: number,
  /** The request body's size: a job is never more than 3 × its body (a bad byte becomes U+FFFD) plus its envelope. */
  bodyBytes?: number,
): FittedJob {
  if (bodyBytes !== undefined && bodyBytes * 3 + JOB_ENVELOPE_BYTES <= maxMessageBytes)
    return { job, cuts: [] };
  if (fits(job, maxMessageBytes)) return { job, cuts: [] };
  const bounded = boundReport(job.report);
  let cuts = mergeCuts(job.cuts ?? [], bounded.cuts);
  let fitted: BugReportJob = { ...job, report: bounded.report, cuts };
  if (fits(fitted, maxMessageBytes)) return { job: fitted, cuts };
  const known = withoutExtraFields(bounded.report, KNOWN_REPORT_FIELDS);
  cuts = mergeCuts(cuts, known.cuts);
  fitted = { ...job, report: known.report, cuts };
  // The fields bugbot reads are bounded to a few tens of KB, far under any allowed queue size.
  return { job: fitted, cuts };
}

/** Room for the job's own fields (kind, keys, ids, timestamps, cuts) and its message attribute. */
const JOB_ENVELOPE_BYTES = 4096;

function fits(job: BugReportJob, maxMessageBytes: number): boolean {
  return jobMessageBytes(toJobMessage(job)) <= maxMessageBytes;
}
