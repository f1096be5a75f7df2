/**
 * bugbot's own state (DynamoDB). Every "create once" and every state change is a single-item
 * conditional write: there are no transactions to lean on (dynalite has none either).
 */

export interface ThreadIssueLink {
  readonly threadId: string;
  readonly issueId: string;
  readonly identifier?: string;
  readonly url?: string;
  readonly createdAt: string;
}

export type ClaimResult<T> =
  | { readonly claimed: true; readonly value: T }
  | { readonly claimed: false; readonly existing: T };

export interface StepRecord {
  readonly key: string;
  readonly step: string;
  readonly result: Record<string, unknown>;
  readonly completedAt: string;
}

export interface BugStore {
  getThreadIssue(threadId: string): Promise<ThreadIssueLink | null>;
  /** Stores the mapping only if the thread has none yet; otherwise returns the one that won. */
  claimThreadIssue(link: ThreadIssueLink): Promise<ClaimResult<ThreadIssueLink>>;
  /** A completed side effect of a job (`key` = the job's idempotency key), or null. */
  getStep(key: string, step: string): Promise<StepRecord | null>;
  /** Records a completed side effect once; a second record for the same key/step is ignored. */
  recordStep(record: StepRecord): Promise<void>;
}
