import { describe, expect, it } from 'vitest';
import { PermanentJobError, ServiceError } from '../../shared/domain/errors.js';
import type { FixResultJob, Job } from '../../shared/jobs/job-schemas.js';
import type { JobRetryControl } from '../../shared/ports/job-queue.js';
import {
  authorizeFixRunnerSender,
  type JobFlow,
  type JobFlows,
  RetryLaterError,
  runJob,
} from '../../shared/processing/job-runner.js';
import { runWithDeadline, workBudgetMs } from '../../shared/runtime/invocation-deadline.js';
import { buildCommandJob } from '../factories/jobs.js';

class RecordingRetryControl implements JobRetryControl {
  readonly deadLetters: { body: string; reason: string }[] = [];
  readonly delays: { receiptHandle: string; seconds: number }[] = [];
  async deadLetter(body: string, reason: string) {
    this.deadLetters.push({ body, reason });
  }
  async delayNextAttempt(receiptHandle: string, seconds: number) {
    this.delays.push({ receiptHandle, seconds });
  }
}

const silent = { info() {}, warn() {}, error() {} };

function setup(run: (job: Job) => Promise<void>) {
  const told: string[] = [];
  const flow: JobFlow<Job> = { run, tellFailure: async (_job, description) => void told.push(description) };
  const unused: JobFlow<Job> = { run: async () => expect.fail('wrong flow') };
  const flows = {
    'discord.command': flow,
    'discord.component': unused,
    'bug.report': unused,
    'fix.result': unused,
    'fix.task-stopped': unused,
  } as unknown as JobFlows;
  const retryControl = new RecordingRetryControl();
  return { told, retryControl, deps: { flows, retryControl, log: silent, maxReceives: 3 } };
}

const record = (body: string, receiveCount = 1) => ({
  messageId: 'm1',
  receiptHandle: 'rh1',
  body,
  receiveCount,
});

describe('runJob', () => {
  it('runs the flow for the job kind', async () => {
    let ran = 0;
    const { deps, retryControl } = setup(async () => void ran++);
    await expect(runJob(record(JSON.stringify(buildCommandJob())), deps)).resolves.toBe('done');
    expect(ran).toBe(1);
    expect(retryControl.deadLetters).toHaveLength(0);
  });

  it('dead-letters a message that is not a job, naming the problem', async () => {
    const { deps, retryControl } = setup(async () => expect.fail('must not run'));
    await expect(runJob(record('{"kind":"nope"}'), deps)).resolves.toBe('dead-lettered');
    expect(retryControl.deadLetters[0]?.reason).toMatch(/^malformed job: kind/);
    await expect(runJob(record('not json'), deps)).resolves.toBe('dead-lettered');
  });

  it('dead-letters a 4xx at once and tells the user', async () => {
    const { deps, retryControl, told } = setup(async () => {
      throw new ServiceError('linear', 'bad', { status: 400 });
    });
    await expect(runJob(record(JSON.stringify(buildCommandJob())), deps)).resolves.toBe('dead-lettered');
    expect(retryControl.deadLetters).toHaveLength(1);
    expect(told).toEqual(['Linear refused the request (HTTP 400)']);
  });

  it('dead-letters a permanent job error with its message', async () => {
    const { deps, told } = setup(async () => {
      throw new PermanentJobError('that bug does not exist');
    });
    await runJob(record(JSON.stringify(buildCommandJob())), deps);
    expect(told).toEqual(['that bug does not exist']);
  });

  it('retries a 5xx, spacing attempts by backoff, and tells the user only on the last receive', async () => {
    const { deps, retryControl, told } = setup(async () => {
      throw new ServiceError('linear', 'down', { status: 503 });
    });
    const body = JSON.stringify(buildCommandJob());
    await expect(runJob(record(body, 1), deps)).rejects.toBeInstanceOf(RetryLaterError);
    await expect(runJob(record(body, 2), deps)).rejects.toBeInstanceOf(RetryLaterError);
    expect(told).toHaveLength(0);
    expect(retryControl.delays.map((delay) => delay.seconds)).toEqual([10, 30]);
    await expect(runJob(record(body, 3), deps)).rejects.toBeInstanceOf(RetryLaterError);
    expect(told).toEqual(['Linear had an error (HTTP 503); I tried several times and gave up']);
    expect(retryControl.deadLetters).toHaveLength(0); // SQS's redrive moves it after the third receive
    expect(retryControl.delays.at(-1)?.seconds).toBe(0); // …at once, not after a visibility timeout
  });

  it("honours a 429's retry-after", async () => {
    const { deps, retryControl } = setup(async () => {
      throw new ServiceError('discord', 'slow down', { status: 429, retryAfterMs: 42_500 });
    });
    await expect(runJob(record(JSON.stringify(buildCommandJob())), deps)).rejects.toBeInstanceOf(
      RetryLaterError,
    );
    expect(retryControl.delays).toEqual([{ receiptHandle: 'rh1', seconds: 43 }]);
  });

  it('still fails the record when telling the user fails', async () => {
    const { deps } = setup(async () => {
      throw new Error('boom');
    });
    const flows = deps.flows as unknown as Record<string, JobFlow<Job>>;
    const commandFlow = flows['discord.command'];
    if (!commandFlow) throw new Error('missing flow');
    commandFlow.tellFailure = async () => {
      throw new Error('discord down');
    };
    await expect(runJob(record(JSON.stringify(buildCommandJob()), 3), deps)).rejects.toBeInstanceOf(
      RetryLaterError,
    );
  });
});

describe('runJob within the invocation budget', () => {
  it('fails a job still running when the work budget ends (retryable), tells on the last receive, and returns in time', async () => {
    const { deps, retryControl, told } = setup(() => new Promise<void>(() => undefined)); // never settles
    const started = Date.now();
    const outcome = runWithDeadline({ workUntil: Date.now() + 200, hardEnd: Date.now() + 1_500 }, () =>
      runJob(record(JSON.stringify(buildCommandJob()), 3), deps),
    );
    await expect(outcome).rejects.toBeInstanceOf(RetryLaterError);
    expect(Date.now() - started).toBeLessThan(1_500);
    expect(told).toEqual([
      'it took longer than bugbot may spend on one attempt (a service it needs was slow or kept failing); I tried several times and gave up',
    ]);
    expect(retryControl.delays.at(-1)?.seconds).toBe(0);
  });

  it('tells the person within the reserve, after the work budget is spent', async () => {
    let budgetWhenTelling = -1;
    const { deps } = setup(() => new Promise<void>(() => undefined));
    const flows = deps.flows as unknown as Record<string, JobFlow<Job>>;
    flows['discord.command']!.tellFailure = async () => {
      budgetWhenTelling = workBudgetMs();
    };
    await expect(
      runWithDeadline({ workUntil: Date.now() + 100, hardEnd: Date.now() + 3_000 }, () =>
        runJob(record(JSON.stringify(buildCommandJob()), 3), deps),
      ),
    ).rejects.toBeInstanceOf(RetryLaterError);
    expect(budgetWhenTelling).toBeGreaterThan(1_000);
  });

  it('keeps the failure on the record, saying whether the person could be told', async () => {
    const recorded: { kind: string; what: string; told: boolean }[] = [];
    const { deps } = setup(async () => {
      throw new ServiceError('discord', 'down', { status: 503 });
    });
    const flows = deps.flows as unknown as Record<string, JobFlow<Job>>;
    const recordFailure = async (job: Job, failure: { what: string; told: boolean }) =>
      void recorded.push({ kind: job.kind, ...failure });
    const body = JSON.stringify(buildCommandJob());
    await expect(runJob(record(body, 3), { ...deps, recordFailure })).rejects.toBeInstanceOf(RetryLaterError);
    // Discord is the failing service: telling fails too, and the record says so.
    flows['discord.command']!.tellFailure = async () => {
      throw new ServiceError('discord', 'down', { status: 503 });
    };
    await expect(runJob(record(body, 3), { ...deps, recordFailure })).rejects.toBeInstanceOf(RetryLaterError);
    expect(recorded).toEqual([
      {
        kind: 'discord.command',
        what: 'Discord had an error (HTTP 503); I tried several times and gave up',
        told: true,
      },
      {
        kind: 'discord.command',
        what: 'Discord had an error (HTTP 503); I tried several times and gave up',
        told: false,
      },
    ]);
  });

  it('records nothing for a failure that will be retried', async () => {
    let calls = 0;
    const { deps } = setup(async () => {
      throw new ServiceError('linear', 'down', { status: 500 });
    });
    await expect(
      runJob(record(JSON.stringify(buildCommandJob()), 1), {
        ...deps,
        recordFailure: async () => void calls++,
      }),
    ).rejects.toBeInstanceOf(RetryLaterError);
    expect(calls).toBe(0);
  });
});

describe('authorizeFixRunnerSender', () => {
  const authorize = authorizeFixRunnerSender('AROARUNNERROLE');
  const result: FixResultJob = {
    v: 1,
    kind: 'fix.result',
    idempotencyKey: 'fix-result:fix_1',
    receivedAt: '2026-11-20T10:00:00.000Z',
    result: {
      jobId: 'fix_1',
      status: 'pushed',
      branch: 'b',
      changedFiles: [],
      rejected: [],
      summary: '',
      costUsd: 0,
      risks: [],
    },
  } as const;

  it('lets the runner report results and nothing else; anyone else’s results are bound to their job later', async () => {
    expect(await authorize(result, 'AROARUNNERROLE:task-123')).toBeNull();
    expect(await authorize(buildCommandJob({ command: { name: 'fix' } }), 'AROARUNNERROLE:task-123')).toMatch(
      /may not send discord.command/,
    );
    // Stopped tasks come from EventBridge, never from the runner itself.
    const stopped = {
      v: 1,
      kind: 'fix.task-stopped',
      idempotencyKey: 'task-stopped:x',
      receivedAt: '2026-11-20T10:00:00.000Z',
      jobId: 'fix_1',
      taskArn: 'arn:aws:ecs:r:1:task/c/task-123',
    } as const;
    expect(await authorize(stopped as never, 'AROARUNNERROLE:task-123')).toMatch(
      /may not send fix.task-stopped/,
    );
    // A copy the processor dead-lettered, redriven under its identity: bound to the job by the use case.
    expect(await authorize(result, 'AROAPROCESSOR:bugbot')).toBeNull();
    expect(await authorize(buildCommandJob(), 'AROAINGRESS:bugbot')).toBeNull();
    expect(await authorizeFixRunnerSender(undefined)(result, 'anyone')).toBeNull();
  });

  it('accepts a runner’s result only from the task launched for its job', async () => {
    const bound = authorizeFixRunnerSender('AROARUNNERROLE', async (jobId) =>
      jobId === 'fix_1' ? 'arn:aws:ecs:us-east-1:1:task/bugbot/task-123' : undefined,
    );
    expect(await bound(result, 'AROARUNNERROLE:task-123')).toBeNull();
    expect(await bound(result, 'AROARUNNERROLE:task-999')).toMatch(
      /sent by task task-999, not the task launched for it/,
    );
    expect(await bound(result, 'AROARUNNERROLE')).toMatch(/not the task launched/);
  });

  it('quarantines a refused job in the DLQ so that a redrive cannot run it', async () => {
    const { deps, retryControl } = setup(async () => expect.fail('must not run'));
    const body = JSON.stringify(buildCommandJob());
    await runJob(
      { ...record(body), senderId: 'AROARUNNERROLE:task' },
      { ...deps, authorizeSender: authorize },
    );
    const quarantined = retryControl.deadLetters[0]?.body ?? '';
    expect(JSON.parse(quarantined)).toEqual({
      quarantined: { senderId: 'AROARUNNERROLE:task', reason: expect.stringMatching(/may not send/) },
      body,
    });
    // Redriven under anyone's identity, it is not a job.
    const again = await runJob({ ...record(quarantined), senderId: 'AROAPROCESSOR:bugbot' }, deps);
    expect(again).toBe('dead-lettered');
    expect(retryControl.deadLetters[1]?.reason).toMatch(/^malformed job/);
  });

  it('dead-letters a refused job without running it', async () => {
    const { deps, retryControl } = setup(async () => expect.fail('must not run'));
    const refused = await runJob(
      { ...record(JSON.stringify(buildCommandJob())), senderId: 'AROARUNNERROLE:task' },
      { ...deps, authorizeSender: authorize },
    );
    expect(refused).toBe('dead-lettered');
    expect(retryControl.deadLetters[0]?.reason).toMatch(/^refused sender/);
  });
});
