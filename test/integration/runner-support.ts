import { spawn } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readdir, readFile, readlink, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { FixJobSpec } from '../../shared/jobs/fix-job-spec.js';
import { type FixResult, fixResultSchema } from '../../shared/jobs/job-schemas.js';
import type { FixtureOrigin } from '../support/git-fixtures.js';

/**
 * Drives the fix runner the way the local launcher and the contract do: as its own process,
 * `tsx fargate-runner/src/main.ts --job job.json --result result.json`.
 */

export const RUNNER_MAIN = fileURLToPath(new URL('../../fargate-runner/src/main.ts', import.meta.url));
const TSX_LOADER = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

/** The test's Anthropic key: long and secret-looking, so the gate must treat it as a secret. */
export const TEST_ANTHROPIC_KEY = 'sk-' + 'ant-api03-runner-test-key-Zq7Lm2Xv9Rt4Kp8Wn3';
export const TEST_GITHUB_TOKEN = 'ghp' + '_runnerTestToken0123456789abcdefABCDEF';

export const DEFAULT_ALLOWLIST = ['src/', 'app/', 'components/', 'pages/'];

export function buildJobSpec(origin: FixtureOrigin, overrides: Partial<FixJobSpec> = {}): FixJobSpec {
  return {
    jobId: 'job-test-1',
    repo: { cloneUrl: origin.cloneUrl, baseBranch: origin.baseBranch },
    branch: 'bugbot/job-test-1',
    task: {
      title: 'Cart total ignores the first item',
      body: 'When I add two items, the total only counts the second one.',
      url: 'https://linear.app/acme/issue/SHOP-12',
    },
    allowlist: DEFAULT_ALLOWLIST,
    limits: { maxTurns: 12, maxBudgetUsd: 5, timeoutSeconds: 90, maxChangedFiles: 5, maxDiffLines: 40 },
    ...overrides,
  };
}

export interface RunnerRun {
  readonly exitCode: number | null;
  readonly result: FixResult;
  readonly stderr: string;
}

export interface RunnerRunOptions {
  /** The job; written to job.json as given (it may be invalid on purpose). */
  readonly job: unknown;
  readonly workDir: string;
  readonly env?: Record<string, string>;
  /** Pass `--work-dir` (keeps the run's directories for inspection). Default true. */
  readonly keepWorkDir?: boolean;
  readonly timeoutMs?: number;
  /** Called with the runner's pid once it is started (to kill it midway). */
  readonly onStart?: (pid: number) => void;
}

export async function runRunnerCli(options: RunnerRunOptions): Promise<RunnerRun> {
  await mkdir(options.workDir, { recursive: true });
  const jobPath = join(options.workDir, 'job.json');
  const resultPath = join(options.workDir, 'result.json');
  await writeFile(jobPath, typeof options.job === 'string' ? options.job : JSON.stringify(options.job), {
    mode: 0o600,
  });
  const args = ['--job', jobPath, '--result', resultPath];
  if (options.keepWorkDir !== false) args.push('--work-dir', join(options.workDir, 'run'));
  const { exitCode, stderr } = await spawnRunner(
    args,
    options.env ?? {},
    options.workDir,
    options.timeoutMs,
    options.onStart,
  );
  let raw: string;
  try {
    raw = await readFile(resultPath, 'utf8');
  } catch (error) {
    throw new Error(`the runner wrote no result (exit ${exitCode}):\n${stderr}`, { cause: error });
  }
  return { exitCode, result: fixResultSchema.parse(JSON.parse(raw)), stderr };
}

/** The runner in Fargate mode: no arguments, `JOB_ID` and the AWS settings in `env`. */
export function runRunnerFargate(cwd: string, env: Record<string, string>) {
  return spawnRunner([], env, cwd);
}

function spawnRunner(
  args: readonly string[],
  env: Record<string, string>,
  cwd: string,
  timeoutMs = 120_000,
  onStart?: (pid: number) => void,
): Promise<{ exitCode: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', TSX_LOADER, RUNNER_MAIN, ...args], {
      cwd,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ANTHROPIC_API_KEY: TEST_ANTHROPIC_KEY, ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    if (child.pid !== undefined) onStart?.(child.pid);
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ exitCode: code, stderr });
    });
  });
}

/** The run's directories under `--work-dir` (see `describeLayout`). */
export function runDirs(workDir: string) {
  const root = join(workDir, 'run');
  return { root, workspace: join(root, 'workspace'), runnerGitDir: join(root, 'runner.git') };
}

/**
 * A stand-in `claude` executable: a shell script that gets the CLI's arguments and environment
 * and prints a result line like `claude -p --output-format json`. Lets tests play an agent with
 * a shell — more than the real tool set allows — to prove the runner holds even then.
 */
export async function writeFakeClaude(
  dir: string,
  body: string,
  result: Record<string, unknown> = {},
  exitCode = 0,
): Promise<string> {
  await mkdir(dir, { recursive: true });
  const path = join(dir, 'fake-claude.sh');
  const json = JSON.stringify({
    type: 'result',
    subtype: 'success',
    is_error: false,
    num_turns: 3,
    result: 'Fixed the cart total.',
    total_cost_usd: 0.0123,
    ...result,
  });
  await writeFile(
    path,
    `#!/bin/sh\nset -u\n${body}\ncat <<'BUGBOT_JSON'\n${json}\nBUGBOT_JSON\nexit ${exitCode}\n`,
  );
  await chmod(path, 0o755);
  return path;
}

/**
 * A temporary directory the runner's sandbox users can pass through (0711: not list), as the
 * runner requires of every directory above its work directory.
 */
export async function createTempDir(prefix: string): Promise<{ path: string; cleanup(): Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  await chmod(path, 0o711);
  return { path, cleanup: () => rm(path, { recursive: true, force: true }) };
}

/** Alive and not a zombie waiting for its (re)parent to reap it. */
export async function isProcessAlive(pid: number): Promise<boolean> {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  return stat !== '' && !/^\d+ \(.*\) Z/.test(stat);
}

export interface ListedProcess {
  readonly pid: number;
  readonly command: string;
}

/**
 * The live processes (zombies left out) working in `dir` or naming it on their command line: a
 * run's runner, its Claude Code CLI (cwd: the workspace) and the CLI's hooks (their settings file
 * lies under it). Reading another user's cwd needs root, as the runner tests run.
 */
export async function listProcessesIn(dir: string): Promise<ListedProcess[]> {
  const pids = (await readdir('/proc')).filter((name) => /^\d+$/.test(name)).map(Number);
  const found: ListedProcess[] = [];
  for (const pid of pids) {
    const [cwd, cmdline, alive] = await Promise.all([
      readlink(`/proc/${pid}/cwd`).catch(() => ''),
      readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => ''),
      isProcessAlive(pid),
    ]);
    const command = cmdline.split('\0').join(' ').trim();
    if (alive && (cwd === dir || cwd.startsWith(`${dir}/`) || command.includes(dir))) {
      found.push({ pid, command });
    }
  }
  return found;
}
