import type { Job } from '../jobs/job-schemas.js';
import type { BugRecords } from '../ports/bug-records.js';
import type { FixJobs } from '../ports/fix-jobs.js';
import { fixJobIdFor } from './request-fix.js';

export interface RecordBugFailureDeps {
  readonly records: BugRecords;
  readonly fixJobs: Pick<FixJobs, 'getFixJob'>;
  readonly now: () => Date;
}

/**
 * A job about a bug failed for good: its bug carries the failure (`lastFailure`: which job,
 * what, when, whether the person was told), so that an operator reading the bug (or
 * `/_local/state`) sees it even when the failing service was Discord and nobody could be told
 * there. Jobs about no bug (e.g. a contextualize) are left to the DLQ and its alarm.
 */
export async function recordBugFailure(
  job: Job,
  failure: { readonly what: string; readonly told: boolean },
  deps: RecordBugFailureDeps,
): Promise<void> {
  const bugId = await bugOfJob(job, deps);
  if (!bugId) return;
  const lastFailure = { job: job.kind, what: failure.what, at: deps.now().toISOString(), told: failure.told };
  // Optimistic lock: re-read once if another write got in between.
  for (let attempt = 0; attempt < 2; attempt += 1) {
    const bug = await deps.records.getBug(bugId);
    if (!bug) return;
    const written = await deps.records.updateBug(bugId, { lastFailure }, bug.version);
    if (written.ok) return;
  }
}

async function bugOfJob(job: Job, deps: RecordBugFailureDeps): Promise<string | undefined> {
  switch (job.kind) {
    case 'bug.report':
    case 'bug.refresh':
    case 'discord.component':
      return job.bugId;
    case 'bug.status':
      // The product's status webhook failed: the event is in the DLQ; the bug itself is fine, and
      // its record says the product was not told.
      return job.event.data.bugId;
    case 'github.event':
    case 'linear.event':
      // Deliveries name a pull request or an issue, not a bug: the DLQ and its alarm hold them.
      return undefined;
    case 'fix.result':
      return (await deps.fixJobs.getFixJob(job.result.jobId))?.bugId;
    case 'fix.task-stopped':
      return (await deps.fixJobs.getFixJob(job.jobId))?.bugId;
    case 'discord.command':
      // A `/bugbot fix` may have resolved a bug before it failed; other commands have none.
      return job.command.name === 'fix'
        ? (await deps.fixJobs.getFixJob(fixJobIdFor(job.idempotencyKey)))?.bugId
        : undefined;
  }
}
