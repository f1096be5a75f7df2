import { createHash } from 'node:crypto';
import {
  type ECSClient,
  RunTaskCommand,
  type RunTaskCommandOutput,
  StopTaskCommand,
} from '@aws-sdk/client-ecs';
import { ServiceError } from '../../domain/errors.js';
import type { FixJobSpec } from '../../jobs/fix-job-spec.js';
import type { FixLauncher } from '../../ports/fix-launcher.js';
import { toAwsServiceError } from '../aws/aws-service-error.js';

export interface EcsFixLauncherConfig {
  readonly clusterArn: string;
  readonly taskDefinitionArn: string;
  readonly subnetIds: readonly string[];
  readonly securityGroupId: string;
  /** The runner's container in the task definition; it gets `JOB_ID` as an override. */
  readonly containerName: string;
}

/** ECS accepts these in `startedBy`, which the task-stopped rule turns back into the job id. */
const STARTED_BY = /^[A-Za-z0-9_/-]{1,128}$/;

/** RunTask's `clientToken`: up to 64 characters in the ASCII range 33-126. */
const CLIENT_TOKEN = /^[\x21-\x7e]{1,64}$/;

/**
 * `failures[].reason`s that may clear by themselves: no Fargate capacity in the AZ right now,
 * `RESOURCE:*` shortages, the concurrent-task quota, throttling. `MISSING` (a cluster or task
 * definition that does not exist), `ATTRIBUTE`, invalid parameters and the rest will not.
 */
const TRANSIENT_FAILURE = /^RESOURCE:|^AGENT$|capacity|try again|throttl|rate exceeded|limit|timed? ?out/i;

/** Error names (awsJson `__type`) worth another receive of the job, whatever their status. */
const RETRYABLE_ERROR_NAMES = new Set([
  'ServerException',
  'ThrottlingException',
  'ServiceUnavailableException',
  'InternalFailure',
  'RequestLimitExceeded',
  'TooManyRequestsException',
]);

/**
 * Starts the fix runner as an ECS Fargate task (`FixLauncher`). The task reads its spec from
 * DynamoDB by `JOB_ID`; whatever happens, a `fix.result` job (from the runner) or a
 * `fix.task-stopped` job (from the EventBridge rule, via `startedBy`) comes back on the queue.
 *
 * One task per job even when the launch is retried (an SQS redelivery after a timeout, an SDK
 * retry after a lost response): the `clientToken` is derived from the job id alone, and ECS
 * answers a repeated RunTask with the same token and parameters with the task it already
 * started (for 24 hours).
 */
export class EcsFixLauncher implements FixLauncher {
  constructor(
    private readonly client: ECSClient,
    private readonly config: EcsFixLauncherConfig,
  ) {}

  async launch(spec: FixJobSpec): Promise<{ readonly taskId: string }> {
    if (!STARTED_BY.test(spec.jobId)) {
      throw new ServiceError('ecs', 'the job id is not a valid ECS startedBy value', { retryable: false });
    }
    let output: RunTaskCommandOutput;
    try {
      output = await this.client.send(
        new RunTaskCommand({
          cluster: this.config.clusterArn,
          taskDefinition: this.config.taskDefinitionArn,
          launchType: 'FARGATE',
          count: 1,
          networkConfiguration: {
            awsvpcConfiguration: {
              subnets: [...this.config.subnetIds],
              securityGroups: [this.config.securityGroupId],
              // Public subnets without a NAT gateway: the task reaches GitHub and Anthropic
              // through its own public IP (see infra/constructs/fix-runner.ts).
              assignPublicIp: 'ENABLED',
            },
          },
          startedBy: spec.jobId,
          clientToken: buildClientToken(spec.jobId),
          overrides: {
            containerOverrides: [
              { name: this.config.containerName, environment: [{ name: 'JOB_ID', value: spec.jobId }] },
            ],
          },
        }),
      );
    } catch (error) {
      throw toEcsServiceError(error);
    }

    const taskArn = output.tasks?.[0]?.taskArn;
    if (taskArn) return { taskId: taskArn };
    const failure = output.failures?.[0];
    if (failure) {
      const reason = failure.reason ?? 'unknown reason';
      const detail = failure.detail ? ` (${failure.detail})` : '';
      throw new ServiceError('ecs', `RunTask started no task: ${reason}${detail}`, {
        retryable: TRANSIENT_FAILURE.test(reason),
      });
    }
    // Neither a task nor a failure: nothing to go on but a retry, which the token keeps safe.
    throw new ServiceError('ecs', 'RunTask returned neither a task nor a failure', { retryable: true });
  }

  /**
   * StopTask on the fix cluster (the processor's role may stop tasks of this cluster only). ECS
   * sends SIGTERM, then SIGKILL after the container's stop timeout; the task-stopped rule reports
   * the stop like any other. A task that is gone already (InvalidParameterException "The
   * referenced task was not found") is not an error: it stopped by itself meanwhile.
   */
  async stop(taskId: string, reason: string): Promise<void> {
    try {
      await this.client.send(
        new StopTaskCommand({
          cluster: this.config.clusterArn,
          task: taskId,
          // ECS keeps up to 255 characters of the reason and shows it as the stopped reason.
          reason: reason.slice(0, 255),
        }),
      );
    } catch (error) {
      const name = (error as { name?: unknown } | null)?.name;
      const message = error instanceof Error ? error.message : '';
      if (name === 'InvalidParameterException' && /not found/i.test(message)) return;
      throw toAwsServiceError('ecs', 'StopTask', error, RETRYABLE_ERROR_NAMES);
    }
  }
}

/**
 * The job id itself when RunTask accepts it as a token (so a task can be traced back by eye),
 * otherwise its SHA-256 in hex, exactly 64 characters. Either way a function of the job id only.
 */
export function buildClientToken(jobId: string): string {
  return CLIENT_TOKEN.test(jobId) ? jobId : createHash('sha256').update(jobId).digest('hex');
}

function toEcsServiceError(error: unknown): ServiceError {
  // Retrying RunTask is safe: the client token makes a repeated launch start no second task.
  return toAwsServiceError('ecs', 'RunTask', error, RETRYABLE_ERROR_NAMES);
}
