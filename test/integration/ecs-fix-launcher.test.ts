import { createHash } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ECSClient } from '@aws-sdk/client-ecs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildClientToken, EcsFixLauncher } from '../../shared/adapters/aws-ecs/ecs-fix-launcher.js';
import { ServiceError } from '../../shared/domain/errors.js';
import { type FixJobSpec, fixJobSpecSchema } from '../../shared/jobs/fix-job-spec.js';

/**
 * An ECS stand-in speaking the awsJson1_1 protocol of the real `@aws-sdk/client-ecs`: RunTask
 * with ECS's client-token idempotency (same token → the task already started), and canned
 * `failures[]`, error bodies (`__type`) or a dropped connection when a test asks for them.
 */
const CLUSTER_ARN = 'arn:aws:ecs:eu-west-1:123456789012:cluster/bugbot-fix';
const TASK_DEFINITION_ARN = 'arn:aws:ecs:eu-west-1:123456789012:task-definition/BugbotFixRunner:7';
const CONFIG = {
  clusterArn: CLUSTER_ARN,
  taskDefinitionArn: TASK_DEFINITION_ARN,
  subnetIds: ['subnet-0aaa', 'subnet-0bbb'],
  securityGroupId: 'sg-0ccc',
  containerName: 'fix-runner',
};

type Answer =
  | { kind: 'run' }
  | { kind: 'failure'; reason: string; detail?: string }
  | { kind: 'error'; status: number; type: string }
  | { kind: 'drop-then-run' };

interface Received {
  readonly headers: IncomingHttpHeaders;
  readonly body: Record<string, unknown>;
}

let server: Server;
let endpoint: string;
let answer: Answer = { kind: 'run' };
let received: Received[] = [];
/** Tasks ECS started, by client token. */
let tasksByToken = new Map<string, string>();
let dropped = 0;

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>;
      received.push({ headers: req.headers, body });
      const reply = (status: number, payload: unknown) => {
        res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': 'req-1' });
        res.end(JSON.stringify(payload));
      };
      if (answer.kind === 'error') return reply(answer.status, { __type: answer.type, message: 'simulated' });
      if (answer.kind === 'failure') {
        return reply(200, {
          tasks: [],
          failures: [{ arn: TASK_DEFINITION_ARN, reason: answer.reason, detail: answer.detail }],
        });
      }
      const token = String(body.clientToken);
      let taskArn = tasksByToken.get(token);
      if (!taskArn) {
        taskArn = `arn:aws:ecs:eu-west-1:123456789012:task/bugbot-fix/${createHash('md5').update(`${tasksByToken.size}`).digest('hex')}`;
        tasksByToken.set(token, taskArn);
      }
      // The task is started, but the answer is lost on the way back (a timeout, a reset).
      if (answer.kind === 'drop-then-run' && dropped === 0) {
        dropped++;
        res.socket?.destroy();
        return;
      }
      reply(200, {
        tasks: [{ taskArn, clusterArn: CLUSTER_ARN, lastStatus: 'PROVISIONING', startedBy: body.startedBy }],
        failures: [],
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server?.close(resolve));
});

afterEach(() => {
  answer = { kind: 'run' };
  received = [];
  tasksByToken = new Map();
  dropped = 0;
});

const clients: ECSClient[] = [];
afterEach(() => {
  for (const client of clients.splice(0)) client.destroy();
});

/** A client for the stand-in that never reads the environment; `maxAttempts: 1` shows first failures. */
function launcherAt(url: string, maxAttempts = 1): EcsFixLauncher {
  const client = new ECSClient({
    endpoint: url,
    region: 'eu-west-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts,
  });
  clients.push(client);
  return new EcsFixLauncher(client, CONFIG);
}

function spec(jobId = 'fix_0123456789abcdef01234567'): FixJobSpec {
  return fixJobSpecSchema.parse({
    jobId,
    repo: { cloneUrl: 'https://github.com/acme/app.git', baseBranch: 'main' },
    branch: `bugbot/fix-${jobId.replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 40)}`,
    task: { title: 'Cart total ignores the first item', body: 'Only the second item counts.' },
    allowlist: ['src/'],
    limits: { maxTurns: 10, maxBudgetUsd: 2, timeoutSeconds: 600, maxChangedFiles: 5, maxDiffLines: 200 },
  });
}

async function failureOf(promise: Promise<unknown>): Promise<ServiceError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(ServiceError);
  return error as ServiceError;
}

describe('EcsFixLauncher', () => {
  it('starts one Fargate task with a public IP in the runner subnets, tagged and told its job id', async () => {
    const job = spec();

    const { taskId } = await launcherAt(endpoint).launch(job);

    expect(received).toHaveLength(1);
    const [request] = received;
    expect(request!.headers['x-amz-target']).toBe('AmazonEC2ContainerServiceV20141113.RunTask');
    expect(request!.headers['content-type']).toBe('application/x-amz-json-1.1');
    expect(request!.headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=local\/\d{8}\/eu-west-1\/ecs\//,
    );
    expect(request!.body).toEqual({
      cluster: CLUSTER_ARN,
      taskDefinition: TASK_DEFINITION_ARN,
      launchType: 'FARGATE',
      count: 1,
      networkConfiguration: {
        awsvpcConfiguration: {
          subnets: ['subnet-0aaa', 'subnet-0bbb'],
          securityGroups: ['sg-0ccc'],
          assignPublicIp: 'ENABLED',
        },
      },
      startedBy: job.jobId,
      clientToken: job.jobId,
      overrides: {
        containerOverrides: [{ name: 'fix-runner', environment: [{ name: 'JOB_ID', value: job.jobId }] }],
      },
    });
    expect(taskId).toBe(tasksByToken.get(job.jobId));
    expect(taskId).toMatch(/^arn:aws:ecs:eu-west-1:123456789012:task\/bugbot-fix\//);
  });

  it('starts one task per job however often the launch is repeated', async () => {
    const launcher = launcherAt(endpoint);

    const first = await launcher.launch(spec('fix_aaaaaaaaaaaaaaaaaaaaaaaa'));
    const again = await launcher.launch(spec('fix_aaaaaaaaaaaaaaaaaaaaaaaa'));
    const other = await launcher.launch(spec('fix_bbbbbbbbbbbbbbbbbbbbbbbb'));

    expect(received.map((request) => request.body.clientToken)).toEqual([
      'fix_aaaaaaaaaaaaaaaaaaaaaaaa',
      'fix_aaaaaaaaaaaaaaaaaaaaaaaa',
      'fix_bbbbbbbbbbbbbbbbbbbbbbbb',
    ]);
    expect(again.taskId).toBe(first.taskId);
    expect(other.taskId).not.toBe(first.taskId);
    expect(tasksByToken.size).toBe(2);
  });

  it('keeps the token when the SDK retries after a lost answer, so the retry gets the task already started', async () => {
    answer = { kind: 'drop-then-run' };

    const { taskId } = await launcherAt(endpoint, 2).launch(spec());

    expect(received).toHaveLength(2);
    expect(received[1]!.body.clientToken).toBe(received[0]!.body.clientToken);
    expect(tasksByToken.size).toBe(1);
    expect(taskId).toBe([...tasksByToken.values()][0]);
  });

  it('derives a 64-character token from a job id longer than RunTask accepts', async () => {
    const longId = `fix_${'a1b2'.repeat(25)}`;
    expect(longId.length).toBeGreaterThan(64);

    await launcherAt(endpoint).launch(spec(longId));
    await launcherAt(endpoint).launch(spec(longId));

    const tokens = received.map((request) => request.body.clientToken);
    expect(tokens[0]).toBe(createHash('sha256').update(longId).digest('hex'));
    expect(tokens[1]).toBe(tokens[0]);
    expect(received[0]!.body.startedBy).toBe(longId);
    expect(buildClientToken('fix_short')).toBe('fix_short');
  });

  it('refuses, without calling ECS, a job id that startedBy cannot carry back', async () => {
    const error = await failureOf(launcherAt(endpoint).launch(spec('fix.0123:abc')));

    expect(error).toMatchObject({ service: 'ecs', retryable: false });
    expect(received).toEqual([]);
  });

  it.each([
    { reason: 'RESOURCE:MEMORY', retryable: true },
    { reason: 'RESOURCE:ENI', retryable: true },
    {
      reason:
        'Capacity is unavailable at this time. Please try again later or in a different availability zone',
      retryable: true,
    },
    { reason: "You've reached the limit on the number of tasks you can run concurrently", retryable: true },
    { reason: 'MISSING', detail: 'task definition not found', retryable: false },
    { reason: 'ATTRIBUTE', retryable: false },
  ])('maps the RunTask failure $reason to retryable: $retryable', async ({ reason, detail, retryable }) => {
    answer = { kind: 'failure', reason, detail };

    const error = await failureOf(launcherAt(endpoint).launch(spec()));

    expect(error).toMatchObject({ service: 'ecs', retryable });
    expect(error.message).toContain(reason);
  });

  it.each([
    { status: 400, type: 'InvalidParameterException', retryable: false },
    { status: 400, type: 'ClientException', retryable: false },
    { status: 400, type: 'ClusterNotFoundException', retryable: false },
    { status: 400, type: 'AccessDeniedException', retryable: false },
    { status: 400, type: 'ConflictException', retryable: false },
    { status: 400, type: 'ThrottlingException', retryable: true },
    { status: 500, type: 'ServerException', retryable: true },
  ])('maps $type ($status) to retryable: $retryable', async ({ status, type, retryable }) => {
    answer = { kind: 'error', status, type };

    const error = await failureOf(launcherAt(endpoint).launch(spec()));

    expect(error).toMatchObject({ service: 'ecs', status, retryable });
    expect(error.message).toContain(type);
    expect((error.cause as Error).name).toBe(type);
  });

  it('treats an unreachable ECS as retryable', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
    await new Promise((resolve) => closed.close(resolve));

    const error = await failureOf(launcherAt(url).launch(spec()));

    expect(error).toMatchObject({ service: 'ecs', status: undefined, retryable: true });
  });
});
