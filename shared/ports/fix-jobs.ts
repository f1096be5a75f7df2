import type { BugFixLink, BugStatus } from '../domain/bug.js';
import type { FixJobSpec } from '../jobs/fix-job-spec.js';
import type { FixResult } from '../jobs/job-schemas.js';

/**
 * A fix job as bugbot keeps it: the runner reads `spec` by `jobId` (Fargate's `JOB_ID` mode).
 *
 * Statuses: `requested` (stored, not launched yet), `launched` (a task runs; `taskId` is its ARN),
 * `finished` (its result was handled), `failed` (it never ran, or stopped without a result),
 * `cancelled` (its bug was dismissed while it ran; a late result is recorded, never turned into a
 * pull request), `refused` (another fix held the target, or the allowance or budget said no:
 * nothing ran and nothing was spent).
 */
export type FixJobStatus = 'requested' | 'launched' | 'finished' | 'failed' | 'cancelled' | 'refused';

export interface FixJobRecord {
  readonly jobId: string;
  readonly spec: FixJobSpec;
  readonly bugId?: string;
  readonly issue?: {
    readonly tracker: 'linear' | 'github';
    readonly id: string;
    readonly identifier: string;
    readonly url: string;
  };
  /** Where the outcome is told: the bug's thread, or where the fix was asked for. */
  readonly notifyChannelId: string;
  readonly requestedBy: string;
  /** The Discord user id of who asked: their hourly allowance is what a launch spends. */
  readonly requestedById?: string;
  readonly status: FixJobStatus;
  readonly taskId?: string;
  readonly result?: FixResult;
  readonly pullRequestUrl?: string;
  readonly createdAt: string;
  /** When the task was seen stopped without a result. */
  readonly stoppedAt?: string;
  /** When the runner's result first arrived. */
  readonly resultAt?: string;
  /** What one fix at a time is counted on: `bug:<id>`, `issue:<tracker>:<id>` or `message:<id>`. */
  readonly targetKey?: string;
  /** The bug as it was before this fix claimed it, to put it back if the fix is refused. */
  readonly previousBug?: { readonly status: BugStatus; readonly fix?: BugFixLink };
  /** The UTC month (`2026-11`) whose budget this fix's cost is counted in. */
  readonly budgetMonth?: string;
  /** The hourly window (`2026-11-20T10`) whose allowance this fix used. */
  readonly allowanceWindow?: string;
  /** Why it was refused or cancelled, in words for the thread. */
  readonly reason?: string;
  readonly cancelledAt?: string;
  /** When its task was asked to stop (a dismissal), so a redelivered dismissal asks once. */
  readonly stopRequestedAt?: string;
}

export type FixJobWrite =
  | { readonly ok: true; readonly job: FixJobRecord }
  | { readonly ok: false; readonly current: FixJobRecord | null };

/** A month's spend on fixes, in micro-dollars so that sums are exact integers. */
export interface MonthSpend {
  readonly month: string;
  /** Settled: the runners' reported costs (or the per-fix limit for a run that never said). */
  readonly spentMicros: number;
  /** Settled plus the per-fix limit of every fix still running: what a launch is checked against. */
  readonly committedMicros: number;
}

export interface FixTargetHolder {
  readonly jobId: string;
  readonly notifyChannelId: string;
  readonly requestedBy: string;
}

export interface FixJobs {
  /** Create once: a second create for the same `jobId` returns the stored job. */
  createFixJob(job: FixJobRecord): Promise<{ readonly created: boolean; readonly job: FixJobRecord }>;
  getFixJob(jobId: string): Promise<FixJobRecord | null>;
  /** Conditional on the current status being one of `from`. */
  updateFixJob(
    jobId: string,
    from: readonly FixJobStatus[],
    patch: Partial<FixJobRecord>,
  ): Promise<FixJobWrite>;
  /**
   * Counts one use of a per-user allowance in a fixed window; refuses (and counts nothing) once
   * `limit` uses are in the window. With `useId` the use is counted once however often it is
   * repeated (a redelivered request), and `refundAllowance` can take it back. The counter expires
   * with the window (TTL).
   */
  consumeAllowance(input: {
    scope: string;
    userId: string;
    window: string;
    limit: number;
    expiresAt: number;
    useId?: string;
  }): Promise<{ allowed: boolean; used: number }>;
  /** How many uses the window holds now (no change). */
  peekAllowance(input: { scope: string; userId: string; window: string }): Promise<number>;
  /** Takes back the use `useId` (no-op if it was never counted or is already refunded). */
  refundAllowance(input: { scope: string; userId: string; window: string; useId: string }): Promise<void>;
  /**
   * Claims "one fix at a time" for a target (an issue, a message) for `jobId`: succeeds when
   * nobody holds it, `jobId` already does, or the holder's claim expired (`expiresAt`, epoch
   * seconds: a holder that never released it).
   */
  claimFixTarget(input: {
    targetKey: string;
    holder: FixTargetHolder;
    expiresAt: number;
    now: number;
  }): Promise<{ readonly claimed: true } | { readonly claimed: false; readonly holder: FixTargetHolder }>;
  /** Releases the claim if `jobId` still holds it. */
  releaseFixTarget(targetKey: string, jobId: string): Promise<void>;
  readMonthSpend(month: string): Promise<MonthSpend>;
  /**
   * Reserves `amountMicros` (the fix's dollar limit) of the month's budget for `jobId`, only if
   * the committed spend stays within `limitMicros`. Exact under concurrency (one conditional
   * update); repeated for the same job, it reserves nothing more and says it holds.
   */
  reserveBudget(input: {
    month: string;
    jobId: string;
    amountMicros: number;
    limitMicros: number;
  }): Promise<{ readonly reserved: boolean; readonly spend: MonthSpend }>;
  /**
   * Settles the job's reservation at its real cost, once: later calls change nothing. A job that
   * never reserved is counted at its cost all the same.
   */
  settleBudget(input: {
    month: string;
    jobId: string;
    reservedMicros: number;
    costMicros: number;
  }): Promise<MonthSpend>;
}
