import type { FixJobSpec } from '../jobs/fix-job-spec.js';
import type { FixResult } from '../jobs/job-schemas.js';

/** A fix job as bugbot keeps it: the runner reads `spec` by `jobId` (Fargate's `JOB_ID` mode). */
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
  readonly status: 'requested' | 'launched' | 'finished' | 'failed';
  readonly taskId?: string;
  readonly result?: FixResult;
  readonly pullRequestUrl?: string;
  readonly createdAt: string;
  /** When the task was seen stopped without a result. */
  readonly stoppedAt?: string;
  /** When the runner's result first arrived. */
  readonly resultAt?: string;
}

export type FixJobWrite =
  | { readonly ok: true; readonly job: FixJobRecord }
  | { readonly ok: false; readonly current: FixJobRecord | null };

export interface FixJobs {
  /** Create once: a second create for the same `jobId` returns the stored job. */
  createFixJob(job: FixJobRecord): Promise<{ readonly created: boolean; readonly job: FixJobRecord }>;
  getFixJob(jobId: string): Promise<FixJobRecord | null>;
  /** Conditional on the current status being one of `from`. */
  updateFixJob(
    jobId: string,
    from: readonly FixJobRecord['status'][],
    patch: Partial<FixJobRecord>,
  ): Promise<FixJobWrite>;
  /**
   * Counts one use of a per-user allowance in a fixed window; refuses (and counts nothing) once
   * `limit` uses are in the window. The counter expires with the window (TTL).
   */
  consumeAllowance(input: {
    scope: string;
    userId: string;
    window: string;
    limit: number;
    expiresAt: number;
  }): Promise<{ allowed: boolean; used: number }>;
}
