import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { DeleteMessageCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { REPOSITORY_ROOT } from '../../infra/constructs/bugbot-function.js';
import { DEAD_LETTER_QUEUE, JOBS_QUEUE } from '../../local/local-stack.js';
import { LocalSqs } from '../../local/sqs/local-sqs.js';
import { type SqsServer, startSqsServer } from '../../local/sqs/sqs-server.js';
import { type ListedJob, main } from '../../scripts/dlq.js';
import { SqsJobQueue } from '../../shared/adapters/aws-sqs/sqs-job-queue.js';
import { SqsJobRetryControl } from '../../shared/adapters/aws-sqs/sqs-job-retry-control.js';
import { DynamoDbFixJobs } from '../../shared/adapters/dynamodb/dynamodb-fix-jobs.js';
import { PermanentJobError } from '../../shared/domain/errors.js';
import type { FixResultJob } from '../../shared/jobs/job-schemas.js';
import { authorizeFixRunnerSender, runJob } from '../../shared/processing/job-runner.js';
import { buildCommandJob } from '../factories/jobs.js';
import { startTestTable } from '../support/dynalite.js';

/**
 * `npm run dlq` against the local SQS server (the local stack's queues, same names and redrive
 * policy) through the real SDK.
 */

const run = promisify(execFile);

let engine: LocalSqs;
let server: SqsServer;
let sqs: SQSClient;

beforeAll(async () => {
  engine = new LocalSqs();
  server = await startSqsServer({ engine });
  sqs = new SQSClient({
    endpoint: server.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
});
afterAll(async () => {
  sqs.destroy();
  await server.close();
  engine.close();
});

beforeEach(() => {
  // As the local stack makes them: three receives, then the DLQ.
  engine.createQueue(DEAD_LETTER_QUEUE, {});
  engine.createQueue(JOBS_QUEUE, {
    VisibilityTimeout: '60',
    RedrivePolicy: JSON.stringify({
      deadLetterTargetArn: engine.queueArn(DEAD_LETTER_QUEUE),
      maxReceiveCount: 3,
    }),
  });
});
afterEach(() => {
  engine.deleteQueue(JOBS_QUEUE);
  engine.deleteQueue(DEAD_LETTER_QUEUE);
});

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (line: string) => out.push(line), err: (line: string) => err.push(line) }, out, err };
}

const local = ['--local', '--endpoint'];

/** Fills the DLQ the three ways jobs reach it in bugbot. */
async function fillDeadLetterQueue() {
  // 1. A job that kept failing: SQS moves it on the receive after the third.
  const exhausted = buildCommandJob({ idempotencyKey: 'interaction:exhausted' });
  engine.sendMessage(JOBS_QUEUE, { body: JSON.stringify(exhausted) });
  for (let receive = 0; receive < 4; receive += 1) {
    await engine.receiveMessages(JOBS_QUEUE, { visibilityTimeout: 0 });
  }
  // 2. A permanent failure: the processor dead-letters it itself, saying why (the real adapter).
  const control = new SqsJobRetryControl(
    sqs,
    server.queueUrl(JOBS_QUEUE),
    server.queueUrl(DEAD_LETTER_QUEUE),
  );
  await control.deadLetter(
    JSON.stringify(buildCommandJob({ idempotencyKey: 'interaction:refused' })),
    'linear 400',
  );
  // 3. Something that is not a job at all; its body must not be printed.
  await control.deadLetter('user wrote: my password is hunter2', 'malformed job: body is not JSON');
  expect(engine.counts(DEAD_LETTER_QUEUE)).toEqual({ visible: 3, inFlight: 0, delayed: 0 });
}

describe('npm run dlq -- list', () => {
  it('lists each job’s kind, idempotency key, receives and failure, and leaves every one in the DLQ, visible', async () => {
    await fillDeadLetterQueue();
    const { io, out, err } = capture();
    expect(await main(['list', ...local, server.url], {}, io)).toBe(0);
    expect(err).toEqual([]);
    const text = out.join('\n');
    expect(out[0]).toBe('3 job(s) in the DLQ:');
    expect(text).toMatch(/discord\.command\s+interaction:exhausted\s+\d+\s+retries exhausted/);
    expect(text).toMatch(/discord\.command\s+interaction:refused\s+\d+\s+linear 400/);
    expect(text).toMatch(/\(not a job: body is not JSON\)\s+-\s+\d+\s+malformed job: body is not JSON/);
    expect(text).not.toContain('hunter2');
    expect(out.at(-1)).toBe('nothing was consumed: every listed job is visible in the DLQ again');

    expect(engine.counts(DEAD_LETTER_QUEUE)).toEqual({ visible: 3, inFlight: 0, delayed: 0 });
    // Listing again shows the same jobs: nothing was deleted or hidden.
    const again = capture();
    expect(await main(['list', ...local, server.url], {}, again.io)).toBe(0);
    expect(again.out[0]).toBe('3 job(s) in the DLQ:');
  });

  it('caps the listing with --max and prints JSON with --json', async () => {
    await fillDeadLetterQueue();
    const capped = capture();
    expect(await main(['list', '--max', '2', ...local, server.url], {}, capped.io)).toBe(0);
    expect(capped.out[0]).toBe('2 job(s) in the DLQ (the first 2; --max for more):');
    expect(engine.counts(DEAD_LETTER_QUEUE).visible).toBe(3);

    const json = capture();
    expect(await main(['list', '--json', ...local, server.url], {}, json.io)).toBe(0);
    const listed = JSON.parse(json.out.join('\n')) as ListedJob[];
    expect(listed.map((job) => job.idempotencyKey).sort()).toEqual([
      '-',
      'interaction:exhausted',
      'interaction:refused',
    ]);
    const exhausted = listed.find((job) => job.idempotencyKey === 'interaction:exhausted');
    expect(exhausted).toMatchObject({ kind: 'discord.command', failure: 'retries exhausted' });
    expect(exhausted?.receives).toBeGreaterThanOrEqual(3);
    expect(Date.parse(exhausted?.sentAt ?? '')).toBeGreaterThan(Date.now() - 60_000);
  });

  it('says when the DLQ is empty', async () => {
    const { io, out } = capture();
    expect(await main(['list', ...local, server.url], {}, io)).toBe(0);
    expect(out).toEqual(['the DLQ is empty']);
  });

  it('reads the queue URLs and the endpoint from the environment, as against AWS', async () => {
    await fillDeadLetterQueue();
    const { io, out } = capture();
    const env = {
      DEAD_LETTER_QUEUE_URL: server.queueUrl(DEAD_LETTER_QUEUE),
      JOBS_QUEUE_URL: server.queueUrl(JOBS_QUEUE),
      AWS_ENDPOINT_URL_SQS: server.url,
      AWS_REGION: 'eu-west-1',
      AWS_ACCESS_KEY_ID: 'AKIDOPERATOR',
      AWS_SECRET_ACCESS_KEY: 'operator-secret',
    };
    expect(await main(['list'], env, io)).toBe(0);
    expect(out[0]).toBe('3 job(s) in the DLQ:');
  });
});

describe('npm run dlq -- redrive', () => {
  it('moves every DLQ job back to the jobs queue with StartMessageMoveTask, ready to run again', async () => {
    await fillDeadLetterQueue();
    const { io, out, err } = capture();
    expect(await main(['redrive', ...local, server.url], {}, io)).toBe(0);
    expect(err).toEqual([]);
    expect(out).toEqual([
      'moving about 3 job(s) from the DLQ back to the jobs queue…',
      'done: 3 job(s) moved; the processor picks them up now',
    ]);
    expect(engine.counts(DEAD_LETTER_QUEUE).visible).toBe(0);
    expect(engine.counts(JOBS_QUEUE).visible).toBe(3);
    const [task] = engine.listMessageMoveTasks(engine.queueArn(DEAD_LETTER_QUEUE));
    expect(task).toMatchObject({ status: 'COMPLETED', destinationArn: engine.queueArn(JOBS_QUEUE) });
    // A redriven job starts over: three more receives before it could dead-letter again.
    expect(engine.peekMessages(JOBS_QUEUE).map((message) => message.receiveCount)).toEqual([0, 0, 0]);
  });

  it('does nothing on an empty DLQ', async () => {
    const tasks = () => engine.listMessageMoveTasks(engine.queueArn(DEAD_LETTER_QUEUE), 10).length;
    const before = tasks();
    const { io, out } = capture();
    expect(await main(['redrive', ...local, server.url], {}, io)).toBe(0);
    expect(out).toEqual(['the DLQ is empty: nothing to redrive']);
    expect(tasks()).toBe(before);
  });
});

describe('npm run dlq: usage', () => {
  it('refuses what it cannot act on, with exit code 2 and the usage', async () => {
    const cases: [string[], Record<string, string>, string][] = [
      [[], {}, 'say list or redrive'],
      [['purge'], {}, 'say list or redrive'],
      [['list'], {}, 'DEAD_LETTER_QUEUE_URL is not set'],
      [['list', '--local'], {}, '--local needs --endpoint'],
      [['redrive', '--max', '3', ...local, 'http://127.0.0.1:1'], {}, '--max applies to list'],
      [['list', '--max', '0', ...local, 'http://127.0.0.1:1'], {}, '--max must be a positive whole number'],
      [
        ['redrive'],
        { DEAD_LETTER_QUEUE_URL: 'http://127.0.0.1:1/000000000000/dlq' },
        'JOBS_QUEUE_URL is not set',
      ],
    ];
    for (const [argv, env, message] of cases) {
      const { io, err } = capture();
      expect(await main(argv, env, io), argv.join(' ')).toBe(2);
      expect(err.join('\n'), argv.join(' ')).toContain(message);
      expect(err.join('\n')).toContain('Usage: npm run dlq -- list');
    }
  });

  it('is wired as an npm script', async () => {
    const { stdout } = await run('npm', ['run', '--silent', 'dlq', '--', '--help'], { cwd: REPOSITORY_ROOT });
    expect(stdout).toContain('Usage: npm run dlq -- list [--max N] [--json]');
  });
});

describe('npm run dlq -- redrive: fix results', () => {
  it('redrives a result the processor dead-lettered, and never one refused for its sender', async () => {
    const table = await startTestTable();
    const identities: Record<string, string> = {
      'RUNNER-task-1': 'AROARUNNER:task-1',
      'RUNNER-task-2': 'AROARUNNER:task-2',
      PROCESSOR: 'AROAPROCESSOR:bugbot-processor',
    };
    const senders = await startSqsServer({ engine, identify: (key) => identities[key] });
    const clientAs = (accessKeyId: string) =>
      new SQSClient({
        endpoint: senders.url,
        region: 'us-east-1',
        credentials: { accessKeyId, secretAccessKey: 'local' },
      });
    const clients = ['RUNNER-task-1', 'RUNNER-task-2', 'PROCESSOR'].map(clientAs);
    const [task1, task2, processor] = clients as [SQSClient, SQSClient, SQSClient];
    try {
      const fixJobs = new DynamoDbFixJobs(table.doc, table.tableName);
      await fixJobs.createFixJob({
        jobId: 'fix_1',
        spec: {
          jobId: 'fix_1',
          repo: { cloneUrl: 'https://github.com/acme/shop.git', baseBranch: 'main' },
          branch: 'bugbot/fix-1',
          task: { title: 't', body: 'b' },
          allowlist: ['src/'],
          limits: { maxTurns: 1, maxBudgetUsd: 1, timeoutSeconds: 60, maxChangedFiles: 1, maxDiffLines: 1 },
        },
        notifyChannelId: '1',
        requestedBy: 'maya',
        status: 'launched',
        taskId: 'arn:aws:ecs:us-east-1:1:task/bugbot/task-1',
        createdAt: new Date().toISOString(),
      });
      const jobsUrl = senders.queueUrl(JOBS_QUEUE);
      const result = (summary: string): FixResultJob => ({
        v: 1,
        kind: 'fix.result',
        idempotencyKey: 'fix-result:fix_1',
        receivedAt: new Date().toISOString(),
        result: {
          jobId: 'fix_1',
          status: 'pushed',
          branch: 'bugbot/fix-1',
          changedFiles: [],
          rejected: [],
          summary,
          costUsd: 0.1,
          risks: [],
        },
      });
      // The genuine result, from the task launched for the job; a forgery from another task.
      await new SqsJobQueue(task1, jobsUrl).send(result('genuine'));
      await new SqsJobQueue(task2, jobsUrl).send(result('forged'));

      const authorizeSender = authorizeFixRunnerSender(
        'AROARUNNER',
        async (jobId) => (await fixJobs.getFixJob(jobId))?.taskId,
      );
      const retryControl = new SqsJobRetryControl(processor, jobsUrl, senders.queueUrl(DEAD_LETTER_QUEUE));
      const ran: string[] = [];
      let githubDown = true;
      const process = async () => {
        const { Messages = [] } = await processor.send(
          new ReceiveMessageCommand({
            QueueUrl: jobsUrl,
            MaxNumberOfMessages: 10,
            MessageSystemAttributeNames: ['SenderId', 'ApproximateReceiveCount'],
          }),
        );
        for (const message of Messages) {
          await runJob(
            {
              messageId: message.MessageId ?? '',
              receiptHandle: message.ReceiptHandle ?? '',
              body: message.Body ?? '',
              receiveCount: Number(message.Attributes?.ApproximateReceiveCount ?? 1),
              senderId: message.Attributes?.SenderId,
            },
            {
              flows: {
                'fix.result': {
                  run: async (job: FixResultJob) => {
                    // GitHub refused the first time: a permanent failure the processor dead-letters.
                    if (githubDown) throw new PermanentJobError('GitHub refused the pull request');
                    ran.push(job.result.summary);
                  },
                },
              } as never,
              retryControl,
              log: { info: () => undefined, warn: () => undefined, error: () => undefined },
              maxReceives: 3,
              authorizeSender,
            },
          ).catch(() => undefined);
          await processor.send(
            new DeleteMessageCommand({ QueueUrl: jobsUrl, ReceiptHandle: message.ReceiptHandle }),
          );
        }
        return Messages.length;
      };
      expect(await process()).toBe(2);
      expect(ran).toEqual([]);
      expect(engine.counts(DEAD_LETTER_QUEUE).visible).toBe(2);
      const listing = capture();
      await main(['list', ...local, senders.url], {}, listing.io);
      expect(listing.out.join('\n')).toMatch(
        /\(quarantined, never runs\) fix\.result\s+fix-result:fix_1\s+\d+\s+refused sender: a result for fix_1 sent by task task-2/,
      );

      githubDown = false;
      const { io, err } = capture();
      expect(await main(['redrive', ...local, senders.url], {}, io)).toBe(0);
      expect(err).toEqual([]);
      expect(await process()).toBe(2);
      // The genuine result ran, now sent under the processor's identity; the forgery never did.
      expect(ran).toEqual(['genuine']);
      expect(engine.counts(DEAD_LETTER_QUEUE).visible).toBe(1);
    } finally {
      for (const client of clients) client.destroy();
      await senders.close();
      await table.close();
    }
  });
});
