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

  it('lets the runner report results and nothing else, and nobody else report results', () => {
    expect(authorize(result, 'AROARUNNERROLE:task-123')).toBeNull();
    expect(authorize(buildCommandJob({ command: { name: 'fix' } }), 'AROARUNNERROLE:task-123')).toMatch(
      /may not send discord.command/,
    );
    expect(authorize(result, 'AROAPROCESSOR:bugbot')).toMatch(/only the fix runner/);
    expect(authorize(buildCommandJob(), 'AROAINGRESS:bugbot')).toBeNull();
    expect(authorizeFixRunnerSender(undefined)(result, 'anyone')).toBeNull();
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
