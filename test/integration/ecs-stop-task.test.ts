import { ECSClient } from '@aws-sdk/client-ecs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EcsStandIn, startEcsStandIn } from '../../local/ecs-stand-in.js';
import { EcsFixLauncher } from '../../shared/adapters/aws-ecs/ecs-fix-launcher.js';
import { ServiceError } from '../../shared/domain/errors.js';
import { type FixJobSpec, fixJobSpecSchema } from '../../shared/jobs/fix-job-spec.js';

/** StopTask through the real @aws-sdk/client-ecs against the local ECS (awsJson1_1). */

const spec: FixJobSpec = fixJobSpecSchema.parse({
  jobId: 'fix_stop1',
  repo: { cloneUrl: 'https://github.com/acme/shop.git', baseBranch: 'main' },
  branch: 'bugbot/fix-stop1',
  task: { title: 't', body: 'b' },
  allowlist: ['src/'],
  limits: { maxTurns: 1, maxBudgetUsd: 1, timeoutSeconds: 60, maxChangedFiles: 1, maxDiffLines: 1 },
});

let ecs: EcsStandIn;
let client: ECSClient;
const stopped: { taskId: string; reason: string }[] = [];
let failStop = false;

beforeAll(async () => {
  ecs = await startEcsStandIn({
    loadSpec: async (jobId) => (jobId === spec.jobId ? spec : null),
    launch: async () => ({ taskId: 'local:4242' }),
    stop: async (taskId, reason) => {
      if (failStop) throw new Error('boom');
      stopped.push({ taskId, reason });
    },
  });
  client = new ECSClient({
    endpoint: ecs.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  });
});
afterAll(async () => {
  client.destroy();
  await ecs.close();
});

const launcher = () =>
  new EcsFixLauncher(client, {
    clusterArn: 'arn:aws:ecs:us-east-1:000000000000:cluster/bugbot',
    taskDefinitionArn: 'arn:aws:ecs:us-east-1:000000000000:task-definition/runner:1',
    subnetIds: ['subnet-1'],
    securityGroupId: 'sg-1',
    containerName: 'runner',
  });

describe('EcsFixLauncher.stop', () => {
  it('stops the task it launched, with the reason, in its cluster', async () => {
    const { taskId } = await launcher().launch(spec);
    await launcher().stop(taskId, 'bugbot: the bug was dismissed by maya');
    expect(stopped).toEqual([{ taskId: 'local:4242', reason: 'bugbot: the bug was dismissed by maya' }]);
    expect(ecs.stops).toEqual([{ taskArn: taskId, reason: 'bugbot: the bug was dismissed by maya' }]);
  });

  it('treats a task ECS does not know (it ended and is gone) as stopped already', async () => {
    await expect(
      launcher().stop('arn:aws:ecs:us-east-1:000000000000:task/bugbot/unknown', 'x'),
    ).resolves.toBeUndefined();
  });

  it('makes other failures a ServiceError the job runner retries', async () => {
    const { taskId } = await launcher().launch(spec);
    failStop = true;
    try {
      const error = await launcher()
        .stop(taskId, 'x')
        .then(
          () => null,
          (caught: unknown) => caught,
        );
      expect(error).toBeInstanceOf(ServiceError);
      expect((error as ServiceError).retryable).toBe(true);
    } finally {
      failStop = false;
    }
  });
});
