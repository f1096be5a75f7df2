import type { FixJobSpec } from '../jobs/fix-job-spec.js';

/**
 * Starts the fix runner for a stored job spec: an ECS Fargate task in AWS (`JOB_ID` names the
 * spec in DynamoDB), a child process locally. Whatever happens to it, a `fix.result` or a
 * `fix.task-stopped` job comes back on the queue.
 */
export interface FixLauncher {
  launch(spec: FixJobSpec): Promise<{ readonly taskId: string }>;
  /**
   * Stops a running task (its bug was dismissed). A task that already stopped is not an error.
   * The `fix.task-stopped` job still follows, as for any stop.
   */
  stop(taskId: string, reason: string): Promise<void>;
}
