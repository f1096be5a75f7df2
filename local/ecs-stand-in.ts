import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FixJobSpec } from '../shared/jobs/fix-job-spec.js';
import { readBody, sendJson } from './stand-ins/stand-in.js';

/**
 * Just enough of ECS for the local stack: `RunTask` in the JSON 1.1 protocol the real
 * `@aws-sdk/client-ecs` speaks, so the processor launches fixes with its production launcher.
 * Instead of a Fargate task it hands the job to `launch` (the local runner child process), reading
 * the spec the way the task would: from the table, by the `JOB_ID` in the container override.
 * `clientToken` makes RunTask idempotent, as in ECS. `StopTask` stops the runner (`stop`), as
 * ECS stops a task: the task-stopped job still follows, with stop code `UserInitiated`.
 */
export interface EcsStandInOptions {
  readonly loadSpec: (jobId: string) => Promise<FixJobSpec | null>;
  readonly launch: (spec: FixJobSpec) => Promise<{ taskId: string }>;
  /** Stops the runner started as `taskId` (what `launch` returned). */
  readonly stop?: (taskId: string, reason: string) => Promise<void>;
}

export interface EcsStandIn {
  readonly url: string;
  readonly runs: readonly { jobId: string; taskArn: string; startedBy?: string }[];
  readonly stops: readonly { taskArn: string; reason?: string }[];
  close(): Promise<void>;
}

interface StopTaskInput {
  cluster?: string;
  task?: string;
  reason?: string;
}

interface RunTaskInput {
  cluster?: string;
  taskDefinition?: string;
  startedBy?: string;
  clientToken?: string;
  overrides?: { containerOverrides?: { name?: string; environment?: { name?: string; value?: string }[] }[] };
}

export async function startEcsStandIn(options: EcsStandInOptions): Promise<EcsStandIn> {
  const runs: { jobId: string; taskArn: string; startedBy?: string }[] = [];
  const stops: { taskArn: string; reason?: string }[] = [];
  const byToken = new Map<string, string>();
  const localTaskIds = new Map<string, string>();
  const server = createServer((req, res) => {
    void (async () => {
      const target = String(req.headers['x-amz-target'] ?? '');
      const body = JSON.parse((await readBody(req)).toString('utf8') || '{}') as RunTaskInput;
      const error = (type: string, message: string) =>
        sendJson(res, 400, { __type: type, message }, { 'content-type': 'application/x-amz-json-1.1' });
      if (target.endsWith('.StopTask')) {
        const input = body as StopTaskInput;
        // ECS takes the task's ARN or its id.
        const taskArn = runs.find(
          (run) => run.taskArn === input.task || run.taskArn.endsWith(`/${input.task}`),
        )?.taskArn;
        const localTaskId = taskArn ? localTaskIds.get(taskArn) : undefined;
        if (!taskArn || localTaskId === undefined)
          return error('InvalidParameterException', 'The referenced task was not found.');
        stops.push({ taskArn, reason: input.reason });
        await options.stop?.(localTaskId, input.reason ?? 'Task stopped by user');
        return sendJson(
          res,
          200,
          {
            task: {
              taskArn,
              clusterArn: input.cluster ?? 'default',
              desiredStatus: 'STOPPED',
              stopCode: 'UserInitiated',
              stoppedReason: input.reason ?? 'Task stopped by user',
            },
          },
          { 'content-type': 'application/x-amz-json-1.1' },
        );
      }
      if (!target.endsWith('.RunTask'))
        return error('InvalidParameterException', `${target} is not supported locally`);
      const env = body.overrides?.containerOverrides?.flatMap((override) => override.environment ?? []) ?? [];
      const jobId = env.find((entry) => entry.name === 'JOB_ID')?.value;
      if (!jobId) return error('InvalidParameterException', 'JOB_ID is missing from the container overrides');
      const cluster = body.cluster ?? 'default';
      const task = (taskArn: string) => ({
        taskArn,
        clusterArn: cluster,
        taskDefinitionArn: body.taskDefinition,
        lastStatus: 'PROVISIONING',
        desiredStatus: 'RUNNING',
        launchType: 'FARGATE',
        startedBy: body.startedBy,
      });
      const known = body.clientToken ? byToken.get(body.clientToken) : undefined;
      if (known)
        return sendJson(
          res,
          200,
          { tasks: [task(known)], failures: [] },
          { 'content-type': 'application/x-amz-json-1.1' },
        );
      const spec = await options.loadSpec(jobId);
      if (!spec)
        return sendJson(res, 200, {
          tasks: [],
          failures: [{ arn: jobId, reason: 'MISSING', detail: 'no job spec' }],
        });
      const { taskId } = await options.launch(spec);
      const taskArn = `${cluster.replace(':cluster/', ':task/')}/${taskId || randomUUID()}`;
      if (body.clientToken) byToken.set(body.clientToken, taskArn);
      localTaskIds.set(taskArn, taskId);
      runs.push({ jobId, taskArn, startedBy: body.startedBy });
      sendJson(
        res,
        200,
        { tasks: [task(taskArn)], failures: [] },
        { 'content-type': 'application/x-amz-json-1.1' },
      );
    })().catch((failure: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { __type: 'ServerException', message: String(failure) });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    runs,
    stops,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
