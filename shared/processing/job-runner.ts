import { describeFailure } from '../domain/describe-failure.js';
import { PermanentJobError, ServiceError } from '../domain/errors.js';
import { type Job, type JobKind, parseJob } from '../jobs/job-schemas.js';
import type { JobRetryControl } from '../ports/job-queue.js';
import { currentDeadline, runWithDeadline } from '../runtime/invocation-deadline.js';

/** One received queue message, as much of it as the runner needs. */
export interface JobRecord {
  readonly messageId: string;
  readonly receiptHandle: string;
  readonly body: string;
  /** 1 on the first receive. */
  readonly receiveCount: number;
  /** SQS's `SenderId`: who sent the message (an IAM user or role id). */
  readonly senderId?: string;
}

export interface JobFlow<J extends Job> {
  run(job: J): Promise<void>;
  /** Tells the person waiting that the job has failed for good; best effort. */
  tellFailure?(job: J, description: string): Promise<void>;
}

export type JobFlows = { readonly [K in JobKind]: JobFlow<Extract<Job, { kind: K }>> };

export interface RunnerLog {
  info(message: string, extra?: Record<string, unknown>): void;
  warn(message: string, extra?: Record<string, unknown>): void;
  error(message: string, extra?: Record<string, unknown>): void;
}

export interface JobRunnerDeps {
  readonly flows: JobFlows;
  readonly retryControl: JobRetryControl;
  readonly log: RunnerLog;
  /** The queue's maxReceiveCount: on this receive a retryable failure is the last one. */
  readonly maxReceives: number;
  /** Seconds before the next attempt after `receiveCount` failed receives. */
  readonly backoffSeconds?: (receiveCount: number) => number;
  /**
   * Who may send which job: returns why a sender may not send this job, or null. Jobs are
   * trusted by kind, so a sender that may only report fix results must not send anything else.
   * A thrown error is a failed attempt like any other (retried, then the DLQ).
   */
  readonly authorizeSender?: (
    job: Job,
    senderId: string | undefined,
  ) => string | null | Promise<string | null>;
  /** Called once per job with its correlation ids, before anything is logged about it. */
  readonly onJob?: (ids: JobCorrelation) => void;
  /**
   * Keeps a failure that ends in the DLQ where people can see it without Discord (the bug
   * record's `lastFailure`); best effort, after the person waiting was (or could not be) told.
   */
  readonly recordFailure?: (job: Job, failure: JobFailureRecord) => Promise<void>;
}

export interface JobFailureRecord {
  readonly what: string;
  readonly told: boolean;
}

export interface JobCorrelation {
  readonly jobKind: string;
  readonly idempotencyKey: string;
  readonly interactionId?: string;
  readonly bugId?: string;
  readonly jobId?: string;
}

export type RunResult = 'done' | 'dead-lettered';

/** Thrown to make the batch report this record as failed, so SQS delivers it again. */
export class RetryLaterError extends Error {
  constructor(message: string, options: { cause?: unknown }) {
    super(message, options);
    this.name = 'RetryLaterError';
  }
}

const defaultBackoff = (receiveCount: number) => Math.min(300, 10 * 3 ** (receiveCount - 1));

/**
 * Runs one job and decides what its failure means:
 * - a message that is not a job, a permanent failure or a service's 4xx goes to the DLQ at once
 *   (repeating it cannot help) and the person waiting is told;
 * - 429, 5xx, timeouts and unknown faults are retried, spaced by `retry-after` or backoff; on the
 *   last receive the person is told, and SQS moves the message to the DLQ.
 * Nothing is dropped: every message ends done, refused with a visible message, or in the DLQ.
 */
export async function runJob(record: JobRecord, deps: JobRunnerDeps): Promise<RunResult> {
  const parsed = parseJob(record.body);
  if (!parsed.ok) {
    deps.log.error('job rejected: not a valid job; dead-lettered', {
      messageId: record.messageId,
      reason: parsed.reason,
    });
    await deps.retryControl.deadLetter(record.body, `malformed job: ${parsed.reason}`);
    return 'dead-lettered';
  }
  const { job } = parsed;
  deps.onJob?.(correlationOf(job));
  const flow = deps.flows[job.kind] as JobFlow<Job>;
  try {
    const refusal = (await deps.authorizeSender?.(job, record.senderId)) ?? null;
    if (refusal) {
      deps.log.error('job refused: its sender may not send it; quarantined in the DLQ', {
        senderId: record.senderId,
        reason: refusal,
      });
      // Quarantined, not dead-lettered as it came: a redriven copy is sent under the processor's
      // own identity, and must not become a job its real sender could not send.
      await deps.retryControl.deadLetter(
        quarantine(record.body, record.senderId, refusal),
        `refused sender: ${refusal}`,
      );
      return 'dead-lettered';
    }
    await withinWorkBudget(flow.run(job));
    deps.log.info('job done', { receiveCount: record.receiveCount });
    return 'done';
  } catch (error) {
    if (isPermanent(error)) {
      deps.log.error('job failed permanently; dead-lettered', { error, receiveCount: record.receiveCount });
      await giveUp(flow, job, describeJobFailure(error, false), deps);
      await deps.retryControl.deadLetter(record.body, failureReason(error));
      return 'dead-lettered';
    }
    if (record.receiveCount >= deps.maxReceives) {
      deps.log.error('job failed on its last attempt; SQS moves it to the DLQ', {
        error,
        receiveCount: record.receiveCount,
      });
      await giveUp(flow, job, describeJobFailure(error, true), deps);
      // Visible again at once, so the redrive policy moves it to the DLQ now rather than after a
      // whole visibility timeout.
      await deps.retryControl.delayNextAttempt(record.receiptHandle, 0).catch(() => undefined);
    } else {
      const retryAfter = error instanceof ServiceError ? error.retryAfterMs : undefined;
      const delay =
        retryAfter !== undefined
          ? Math.ceil(retryAfter / 1000)
          : (deps.backoffSeconds ?? defaultBackoff)(record.receiveCount);
      deps.log.warn('job failed; will retry', {
        error,
        receiveCount: record.receiveCount,
        retryInSeconds: delay,
      });
      await deps.retryControl.delayNextAttempt(record.receiptHandle, delay).catch((delayError: unknown) => {
        deps.log.warn('could not space out the retry', { error: delayError });
      });
    }
    throw new RetryLaterError(`job ${job.idempotencyKey} failed`, { cause: error });
  }
}

function isPermanent(error: unknown): boolean {
  return error instanceof PermanentJobError || (error instanceof ServiceError && !error.retryable);
}

function failureReason(error: unknown): string {
  if (error instanceof ServiceError) return `${error.service} ${error.status ?? 'no answer'}`;
  if (error instanceof PermanentJobError) return error.message;
  return 'unexpected error';
}

function describeJobFailure(error: unknown, afterRetries: boolean): string {
  const what =
    error instanceof OutOfTimeError
      ? // Not a service that failed to answer: the services it called were too slow, or kept failing.
        'it took longer than bugbot may spend on one attempt (a service it needs was slow or kept failing)'
      : error instanceof ServiceError
        ? describeFailure(serviceName(error.service), error)
        : error instanceof PermanentJobError
          ? error.message
          : 'something unexpected went wrong on our side';
  return afterRetries ? `${what}; I tried several times and gave up` : what;
}

function serviceName(service: string): string {
  const names: Record<string, string> = {
    linear: 'Linear',
    discord: 'Discord',
    posthog: 'PostHog',
    github: 'GitHub',
    anthropic: 'Claude',
    dynamodb: 'our database',
    sqs: 'our queue',
    ecs: 'the fix runner',
    product: "the product's status webhook",
    processor: 'bugbot',
  };
  return names[service] ?? service;
}

/**
 * The job ends in the DLQ: tell the person waiting, then keep the failure on the record. Both
 * run in the invocation's reserve (the time kept back from the work budget for exactly this),
 * so a job that failed by running out of budget can still say so.
 */
async function giveUp(flow: JobFlow<Job>, job: Job, description: string, deps: JobRunnerDeps): Promise<void> {
  await inReserve(async () => {
    let told = false;
    if (flow.tellFailure) {
      try {
        await beforeHardEnd(flow.tellFailure(job, description));
        told = true;
      } catch (error) {
        deps.log.warn('could not tell the user about the failure', { error });
      }
    }
    if (!deps.recordFailure) return;
    try {
      await beforeHardEnd(deps.recordFailure(job, { what: description, told }));
    } catch (error) {
      deps.log.warn('could not record the failure on the bug', { error });
    }
  });
}

function inReserve(work: () => Promise<void>): Promise<void> {
  const deadline = currentDeadline();
  if (!deadline) return work();
  return runWithDeadline({ workUntil: deadline.hardEnd - 1_000, hardEnd: deadline.hardEnd }, work);
}

/** Raised when a job is still running as the invocation's work budget ends. */
export class OutOfTimeError extends ServiceError {
  constructor() {
    super('processor', 'the job did not finish within the invocation', { retryable: true });
  }
}

/**
 * Runs a job's work until the invocation's work budget ends. Past it the job counts as failed
 * (retryable) so the runner can still tell people and hand the message back before Lambda ends
 * the invocation, which would fail the whole batch and tell nobody. The work itself cannot be
 * cancelled; every step of it is safe to repeat on the next receive.
 */
async function withinWorkBudget(work: Promise<void>): Promise<void> {
  const deadline = currentDeadline();
  if (!deadline) return work;
  return raceUntil(work, deadline.workUntil, () => new OutOfTimeError());
}

/** Telling and recording also stop a second before the runtime would end the invocation. */
async function beforeHardEnd(work: Promise<void>): Promise<void> {
  const deadline = currentDeadline();
  if (!deadline) return work;
  return raceUntil(work, deadline.hardEnd - 1_000, () => new OutOfTimeError());
}

async function raceUntil(work: Promise<void>, until: number, error: () => Error): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(error()), Math.max(0, until - Date.now()));
  });
  // The losing side must not surface later as an unhandled rejection.
  work.catch(() => undefined);
  try {
    await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * What a refused message becomes in the DLQ: not a job (`parseJob` refuses it), so redriving it
 * can never run it, whoever the redrive makes its sender; `npm run dlq -- list` shows what it was.
 */
export function quarantine(body: string, senderId: string | undefined, reason: string): string {
  return JSON.stringify({ quarantined: { senderId: senderId ?? null, reason }, body });
}

/**
 * Who may send fix jobs, by SQS `SenderId`:
 * - the runner's task role (`<role id>:<task id>`: ECS names the role session after the task,
 *   aws/amazon-ecs-agent#3498) may send `fix.result` only — agent-written code run by
 *   `verify.command` could reach the task's credentials, and must not pose as Discord, the
 *   webhook or EventBridge — and only for the job its own task was launched for
 *   (`launchedTaskOf(jobId)`, the task ARN recorded at launch);
 * - anyone else sending `fix.result` is one of bugbot's own principals (the processor
 *   dead-lettering a copy, an operator's redrive): accepted, because the result is still bound to
 *   the stored job by `reportFixResult` (the job exists, was launched, its branch matches), and
 *   because refusals are quarantined (`quarantine`), a redrive can never turn a refused message
 *   into an accepted one.
 */
export function authorizeFixRunnerSender(
  taskRoleId: string | undefined,
  launchedTaskOf?: (jobId: string) => Promise<string | undefined>,
) {
  return async (job: Job, senderId: string | undefined): Promise<string | null> => {
    if (!taskRoleId) return null;
    const colon = senderId?.indexOf(':') ?? -1;
    const role = senderId && colon >= 0 ? senderId.slice(0, colon) : senderId;
    if (role !== taskRoleId) return null;
    if (job.kind !== 'fix.result') return `the fix runner may not send ${job.kind} jobs`;
    const session = senderId && colon >= 0 ? senderId.slice(colon + 1) : '';
    const launched = launchedTaskOf ? await launchedTaskOf(job.result.jobId) : undefined;
    // No launch on record: the use case refuses an unknown job, or waits for a launch being recorded.
    if (launched === undefined) return null;
    const launchedId = launched.slice(launched.lastIndexOf('/') + 1);
    return launchedId === session
      ? null
      : `a result for ${job.result.jobId} sent by task ${session || '(none)'}, not the task launched for it`;
  };
}

export function correlationOf(job: Job): JobCorrelation {
  const base = { jobKind: job.kind, idempotencyKey: job.idempotencyKey };
  switch (job.kind) {
    case 'discord.command':
      return { ...base, interactionId: job.interaction.id };
    case 'discord.component':
      return { ...base, interactionId: job.interaction.id, bugId: job.bugId };
    case 'bug.report':
    case 'bug.refresh':
      return { ...base, bugId: job.bugId };
    case 'fix.result':
      return { ...base, jobId: job.result.jobId };
    case 'fix.task-stopped':
      return { ...base, jobId: job.jobId };
    case 'github.event':
    case 'linear.event':
      return base;
    case 'bug.status':
      return { ...base, bugId: job.event.data.bugId };
  }
}
