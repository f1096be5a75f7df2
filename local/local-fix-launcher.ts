import { type ChildProcess, spawn } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { constants as osConstants, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ServiceError } from '../shared/domain/errors.js';
import type { FixJobSpec } from '../shared/jobs/fix-job-spec.js';
import {
  type FixResult,
  type FixTaskStoppedJob,
  fixResultSchema,
  JOB_SCHEMA_VERSION,
} from '../shared/jobs/job-schemas.js';
import type { FixLauncher } from '../shared/ports/fix-launcher.js';
import type { JobQueue } from '../shared/ports/job-queue.js';

/**
 * The local stack's `FixLauncher`: the fix runner as a child process, exactly as the contract runs
 * it locally (`tsx fargate-runner/src/main.ts --job job.json --result result.json`), playing the
 * part of ECS and EventBridge around it. When the child exits it sends, like the Fargate runner
 * and the task-stopped rule do in AWS:
 *
 * - a `fix.result` job (idempotency key `fix-result:<jobId>`) when `result.json` is there and valid;
 * - always a `fix.task-stopped` job afterwards (ECS always emits STOPPED), so the processor can
 *   tell "stopped with a result" from "stopped without one" (crash, kill, time limit).
 *
 * Crash hook, for trying the failure path: `BUGBOT_LOCAL_RUNNER_CRASH=1` in the launcher's
 * environment (read at every launch), the `simulateCrash` option, or `crashNext()` make the runner
 * die at once with SIGKILL — exit code 137 and no result, as an out-of-memory container would.
 */

export const RUNNER_MAIN_PATH = fileURLToPath(new URL('../fargate-runner/src/main.ts', import.meta.url));
export const LOCAL_RUNNER_CRASH_ENV = 'BUGBOT_LOCAL_RUNNER_CRASH';
/** ECS's stop code when the essential container exits on its own (done or crashed). */
const CONTAINER_EXITED = 'EssentialContainerExited';
/** ECS's stop code for a StopTask call: here, the launcher's own time limit. */
const STOPPED_BY_LAUNCHER = 'UserInitiated';
/** Clone, gate and push on top of the agent's limit and the verify command's two runs. */
const DEFAULT_GRACE_SECONDS = 300;
const DEFAULT_VERIFY_TIMEOUT_SECONDS = 600;

export interface LocalFixLauncherOptions {
  readonly queue: JobQueue;
  /**
   * Where one run's `fix.result` goes: a queue client signed as that task (its SQS SenderId is
   * the task role with the task id as session, as in Fargate). Default `queue`.
   */
  readonly resultQueue?: (taskId: string) => JobQueue;
  readonly anthropicApiKey: string;
  /** The stack's Anthropic sandbox (`<origin>/_sandbox/anthropic`), or unset for the real API. */
  readonly anthropicBaseUrl?: string;
  readonly anthropicModel?: string;
  /** Pushes to an `https://` or stand-in remote (the sandbox token, or a real one). */
  readonly githubToken?: string;
  /** Default: the runner's own choice (the `@anthropic-ai/claude-code` package). */
  readonly claudeBin?: string;
  /** Where `PATH`, `HOME` and `BUGBOT_LOCAL_RUNNER_CRASH` are read from. Default `process.env`. */
  readonly env?: Record<string, string | undefined>;
  /** Every run crashes (see the crash hook). */
  readonly simulateCrash?: boolean;
  /** Parent of the per-run directories holding job.json and result.json. Default the OS temp dir. */
  readonly workRoot?: string;
  /** Keep each run's directory, with the runner's own (`--work-dir`), for debugging. */
  readonly keepRunFiles?: boolean;
  /** Added to the spec's limits before the launcher kills a runner. */
  readonly graceSeconds?: number;
  /** One line of the runner's output, or of the launcher's own. Default: stderr, prefixed. */
  readonly log?: (line: string, fields: { readonly jobId: string; readonly taskId?: string }) => void;
  readonly now?: () => Date;
}

interface RunningTask {
  readonly child: ChildProcess;
  readonly finished: Promise<void>;
  /** Set by `stop`: the reason ECS would report for a StopTask. */
  stopReason?: string;
}

export class LocalFixLauncher implements FixLauncher {
  private readonly running = new Map<string, RunningTask>();
  private readonly tsxLoader = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  private pendingCrashes = 0;
  private closed = false;

  constructor(private readonly options: LocalFixLauncherOptions) {}

  /** Makes the next `count` runs crash (see the crash hook). */
  crashNext(count = 1): void {
    this.pendingCrashes += count;
  }

  /** Task ids of the runners still going. */
  runningTasks(): string[] {
    return [...this.running.keys()];
  }

  async launch(spec: FixJobSpec): Promise<{ readonly taskId: string }> {
    if (this.closed) throw new ServiceError('local-runner', 'the launcher is closed', { retryable: true });
    const runDir = await mkdtemp(join(this.options.workRoot ?? tmpdir(), 'bugbot-fix-run-'));
    // The runner's sandbox users must pass through to a kept work directory (`--work-dir`); they
    // cannot list it, and job.json and result.json stay the runner's (0600).
    await chmod(runDir, 0o711);
    const jobPath = join(runDir, 'job.json');
    const resultPath = join(runDir, 'result.json');
    await writeFile(jobPath, JSON.stringify(spec), { mode: 0o600 });

    const args = ['--import', this.tsxLoader, RUNNER_MAIN_PATH, '--job', jobPath, '--result', resultPath];
    if (this.options.keepRunFiles) args.push('--work-dir', join(runDir, 'run'));
    // Its own process group, so a time limit or shutdown kills the runner with its git and CLI.
    const child = spawn(process.execPath, args, {
      cwd: runDir,
      env: this.buildChildEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    try {
      await new Promise<void>((resolve, reject) => {
        child.once('spawn', resolve);
        child.once('error', reject);
      });
    } catch (error) {
      await rm(runDir, { recursive: true, force: true });
      throw new ServiceError('local-runner', 'could not start the fix runner', {
        retryable: true,
        cause: error,
      });
    }

    const pid = child.pid!;
    const taskId = `local:${pid}`;
    const crash = this.shouldCrash();
    const limitSeconds =
      spec.limits.timeoutSeconds +
      // verify runs twice: on the base tree with the agent's tests (before) and on the fix (after).
      (spec.verify ? 2 * (spec.verify.timeoutSeconds ?? DEFAULT_VERIFY_TIMEOUT_SECONDS) : 0) +
      (this.options.graceSeconds ?? DEFAULT_GRACE_SECONDS);
    let overTime = false;
    let task: RunningTask | undefined;
    const timer = setTimeout(() => {
      overTime = true;
      killGroup(child);
    }, limitSeconds * 1000);
    timer.unref();

    // Later errors (a failed kill) must not crash the stack; the exit is what counts.
    child.on('error', () => undefined);
    this.forwardOutput(child, { jobId: spec.jobId, taskId });
    const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
      child.once('exit', (code, signal) => resolve({ code, signal }));
    }).then(async (exit) => {
      // Let its last output lines through, but not wait on a straggler holding the pipes open.
      await Promise.race([closed, delay(2000)]);
      return exit;
    });
    if (crash) {
      this.log(`simulating a crash of the fix runner (${LOCAL_RUNNER_CRASH_ENV})`, spec.jobId, taskId);
      killGroup(child);
    }

    const finished = exited
      .then(async ({ code, signal }) => {
        clearTimeout(timer);
        await this.reportStop({
          spec,
          taskId,
          resultPath,
          code,
          signal,
          overTime,
          limitSeconds,
          stopReason: task?.stopReason,
        });
      })
      .catch((error: unknown) => {
        this.log(`could not report the end of the fix runner: ${describeError(error)}`, spec.jobId, taskId);
      })
      .finally(async () => {
        this.running.delete(taskId);
        if (!this.options.keepRunFiles)
          await rm(runDir, { recursive: true, force: true }).catch(() => undefined);
      });
    task = { child, finished };
    this.running.set(taskId, task);
    this.log(`fix runner started for ${spec.repo.cloneUrl} → ${spec.branch}`, spec.jobId, taskId);
    return { taskId };
  }

  /**
   * StopTask: kills the runner's process group (ECS would SIGTERM, then SIGKILL after the stop
   * timeout; a runner killed mid-push leaves no branch half-made, git's push is atomic per ref).
   * Its task-stopped job says `UserInitiated` with the reason. An unknown or ended task is no error.
   */
  async stop(taskId: string, reason: string): Promise<void> {
    const task = this.running.get(taskId);
    if (!task) return;
    task.stopReason = reason;
    this.log(`stopping the fix runner: ${reason}`, 'stop', taskId);
    killGroup(task.child);
  }

  /** Resolves once every runner has exited and its jobs are sent. */
  async idle(): Promise<void> {
    while (this.running.size > 0) {
      await Promise.all([...this.running.values()].map((task) => task.finished));
    }
  }

  /** Kills the runners still going; sends nothing more (the queue is going away with the stack). */
  async close(): Promise<void> {
    this.closed = true;
    for (const task of this.running.values()) killGroup(task.child);
    await this.idle();
  }

  private async reportStop(input: {
    spec: FixJobSpec;
    taskId: string;
    resultPath: string;
    code: number | null;
    signal: NodeJS.Signals | null;
    overTime: boolean;
    limitSeconds: number;
    stopReason?: string;
  }): Promise<void> {
    const { spec, taskId } = input;
    // A container killed by a signal reports 128 + the signal number, as ECS shows it.
    const exitCode = input.code ?? (input.signal ? 128 + (osConstants.signals[input.signal] ?? 0) : null);
    const result = await readResult(input.resultPath, spec.jobId);
    if (this.closed) return;
    const now = () => (this.options.now?.() ?? new Date()).toISOString();

    if (result.ok) {
      await (this.options.resultQueue?.(taskId) ?? this.options.queue).send({
        v: JOB_SCHEMA_VERSION,
        kind: 'fix.result',
        idempotencyKey: `fix-result:${spec.jobId}`,
        receivedAt: now(),
        result: result.result,
      });
    } else {
      this.log(
        `the fix runner stopped without a result (${result.reason}), exit ${exitCode}`,
        spec.jobId,
        taskId,
      );
    }
    const stopped: FixTaskStoppedJob = {
      v: JOB_SCHEMA_VERSION,
      kind: 'fix.task-stopped',
      idempotencyKey: `fix-task-stopped:${spec.jobId}:${taskId}`,
      receivedAt: now(),
      jobId: spec.jobId,
      taskArn: taskId,
      stopCode: input.overTime || input.stopReason ? STOPPED_BY_LAUNCHER : CONTAINER_EXITED,
      stoppedReason: input.stopReason
        ? input.stopReason
        : input.overTime
          ? `Task stopped by the local launcher: the runner ran past ${input.limitSeconds} s`
          : 'Essential container in task exited',
      exitCode,
    };
    await this.options.queue.send(stopped);
    this.log(
      `fix runner stopped (exit ${exitCode}${result.ok ? `, ${result.result.status}` : ''})`,
      spec.jobId,
      taskId,
    );
  }

  private shouldCrash(): boolean {
    if (this.pendingCrashes > 0) {
      this.pendingCrashes -= 1;
      return true;
    }
    return this.options.simulateCrash === true || this.env()[LOCAL_RUNNER_CRASH_ENV] === '1';
  }

  private env(): Record<string, string | undefined> {
    return this.options.env ?? process.env;
  }

  /** What the task definition would give the container, and nothing else from this process. */
  private buildChildEnv(): Record<string, string> {
    const env = this.env();
    const childEnv: Record<string, string> = {
      // The verify command needs `node` on PATH: fall back to this process's, not a bare default.
      PATH: env.PATH ?? process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
      HOME: env.HOME ?? process.env.HOME ?? tmpdir(),
      ANTHROPIC_API_KEY: this.options.anthropicApiKey,
    };
    if (this.options.anthropicBaseUrl) childEnv.ANTHROPIC_BASE_URL = this.options.anthropicBaseUrl;
    if (this.options.anthropicModel) childEnv.ANTHROPIC_MODEL = this.options.anthropicModel;
    if (this.options.githubToken) childEnv.GITHUB_TOKEN = this.options.githubToken;
    if (this.options.claudeBin) childEnv.CLAUDE_BIN = this.options.claudeBin;
    return childEnv;
  }

  private forwardOutput(child: ChildProcess, fields: { jobId: string; taskId: string }): void {
    for (const stream of [child.stdout, child.stderr]) {
      let pending = '';
      stream?.setEncoding('utf8');
      stream?.on('data', (chunk: string) => {
        pending += chunk;
        const lines = pending.split('\n');
        pending = lines.pop() ?? '';
        for (const line of lines) if (line.trim()) this.writeLog(line, fields);
      });
      stream?.on('end', () => {
        if (pending.trim()) this.writeLog(pending, fields);
      });
    }
  }

  private log(message: string, jobId: string, taskId: string): void {
    this.writeLog(JSON.stringify({ level: 'info', message, source: 'local-fix-launcher' }), {
      jobId,
      taskId,
    });
  }

  private writeLog(line: string, fields: { jobId: string; taskId: string }): void {
    if (this.options.log) this.options.log(line, fields);
    else process.stderr.write(`[fix runner ${fields.jobId} ${fields.taskId}] ${line}\n`);
  }
}

type ReadResult = { ok: true; result: FixResult } | { ok: false; reason: string };

async function readResult(path: string, jobId: string): Promise<ReadResult> {
  let raw: string;
  try {
    raw = await readFile(path, 'utf8');
  } catch {
    return { ok: false, reason: 'no result.json' };
  }
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    return { ok: false, reason: 'result.json is not JSON' };
  }
  const parsed = fixResultSchema.safeParse(json);
  if (!parsed.success) return { ok: false, reason: 'result.json does not match the contract' };
  // A result for another job would be applied to the wrong bug.
  if (parsed.data.jobId !== jobId) return { ok: false, reason: 'result.json names another job' };
  return { ok: true, result: parsed.data };
}

function killGroup(child: ChildProcess): void {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    child.kill('SIGKILL');
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
