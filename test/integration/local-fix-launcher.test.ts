import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { LocalFixLauncher, type LocalFixLauncherOptions } from '../../local/local-fix-launcher.js';
import { ensureSandboxRepo, SANDBOX_REPO_SOURCE_DIR, type SandboxRepo } from '../../local/sandbox-repo.js';
import {
  installSandboxAgent,
  SANDBOX_AGENT_NO_FIX_SCRIPT,
  SANDBOX_AGENT_SCRIPT,
  SANDBOX_BUGGY_LINE,
  SANDBOX_FIX_SUMMARY,
} from '../../local/stand-ins/anthropic/sandbox-agent.js';
import { type AnthropicStandIn, createAnthropicStandIn } from '../../local/stand-ins/anthropic-stand-in.js';
import {
  createGitHubStandIn,
  GITHUB_SANDBOX,
  type GitHubStandIn,
} from '../../local/stand-ins/github-stand-in.js';
import type { FixJobSpec } from '../../shared/jobs/fix-job-spec.js';
import { type Job, jobSchema } from '../../shared/jobs/job-schemas.js';
import type { JobQueue } from '../../shared/ports/job-queue.js';
import { type ServedStandIns, serveStandIns } from '../support/serve-stand-in.js';

/**
 * The local launcher runs the real fix runner (and through it the real Claude Code CLI) as a child
 * process against the sandbox repository served by the GitHub stand-in, with the Anthropic
 * stand-in playing the agent; what comes back is jobs on the queue, as in AWS.
 */

const RUN_TIMEOUT_MS = 120_000;
const ANTHROPIC_KEY = 'sk-' + 'ant-sandbox-local-launcher-test';

class RecordingJobQueue implements JobQueue {
  readonly jobs: Job[] = [];
  async send(job: Job): Promise<void> {
    // What goes on the queue must be a job the processor accepts.
    this.jobs.push(jobSchema.parse(JSON.parse(JSON.stringify(job))));
  }
}

let temp: string;
let sandbox: SandboxRepo;
let github: GitHubStandIn;
let anthropic: AnthropicStandIn;
let served: ServedStandIns;
let queue: RecordingJobQueue;
let logs: string[];
let launcher: LocalFixLauncher | undefined;

beforeAll(async () => {
  temp = await mkdtemp(join(tmpdir(), 'bugbot-local-launcher-'));
});

afterAll(async () => {
  await rm(temp, { recursive: true, force: true });
});

beforeEach(async () => {
  sandbox = await ensureSandboxRepo(temp, { fresh: true });
  github = createGitHubStandIn();
  github.addRepository({ owner: 'acme', repo: 'shop', ...sandbox });
  anthropic = createAnthropicStandIn({ apiKey: ANTHROPIC_KEY });
  installSandboxAgent(anthropic);
  served = await serveStandIns([{ standIn: github }, { standIn: anthropic }]);
  queue = new RecordingJobQueue();
  logs = [];
});

afterEach(async () => {
  await launcher?.close();
  launcher = undefined;
  await served.close();
});

function createLauncher(overrides: Partial<LocalFixLauncherOptions> = {}): LocalFixLauncher {
  launcher = new LocalFixLauncher({
    queue,
    anthropicApiKey: ANTHROPIC_KEY,
    anthropicBaseUrl: served.baseUrls[1]!,
    githubToken: GITHUB_SANDBOX.token,
    env: { PATH: process.env.PATH, HOME: process.env.HOME },
    log: (line) => logs.push(line),
    ...overrides,
  });
  return launcher;
}

function buildSpec(overrides: Partial<FixJobSpec> = {}): FixJobSpec {
  return {
    jobId: 'job-local-1',
    repo: { cloneUrl: `${served.baseUrls[0]}/acme/shop.git`, baseBranch: sandbox.defaultBranch },
    branch: 'bugbot/fix-test',
    task: {
      title: 'Checkout crashes when I press Pay',
      body: "Pressing Place order does nothing, then the page goes white.\nTypeError: Cannot read properties of undefined (reading 'map')",
      url: 'https://linear.app/acme/issue/ENG-7',
    },
    allowlist: ['src/', 'app/', 'components/', 'pages/'],
    limits: { maxTurns: 10, maxBudgetUsd: 2, timeoutSeconds: 90, maxChangedFiles: 5, maxDiffLines: 40 },
    verify: { command: 'node --test', timeoutSeconds: 60 },
    ...overrides,
  };
}

function git(args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      'git',
      [`--git-dir=${sandbox.bareDir}`, ...args],
      { env: { PATH: process.env.PATH, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null' } },
      (error, stdout) => (error ? reject(error) : resolve(stdout)),
    );
  });
}

async function listBranches(): Promise<string[]> {
  return (await git(['for-each-ref', '--format=%(refname)', 'refs/heads/'])).split('\n').filter(Boolean);
}

function runNodeTest(cwd: string): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--test'],
      { cwd, env: { PATH: process.env.PATH } },
      (error, stdout, stderr) =>
        resolve({ code: typeof error?.code === 'number' ? error.code : 0, output: stdout + stderr }),
    );
  });
}

describe('the sandbox repository', () => {
  it('ships a real bug its own tests miss: they pass, the checkout still throws the TypeError', async () => {
    const run = await runNodeTest(SANDBOX_REPO_SOURCE_DIR);
    expect(run.code).toBe(0);
    expect(run.output).toMatch(/# pass 5\n# fail 0/);
    const crash = await new Promise<string>((resolve) => {
      execFile(
        process.execPath,
        ['--input-type=module', '-e', "import { cartTotal } from './src/cart.js'; cartTotal(undefined);"],
        { cwd: SANDBOX_REPO_SOURCE_DIR, env: { PATH: process.env.PATH } },
        (_error, _stdout, stderr) => resolve(stderr),
      );
    });
    expect(crash).toContain("TypeError: Cannot read properties of undefined (reading 'map')");
    const cart = await readFile(join(SANDBOX_REPO_SOURCE_DIR, 'src/cart.js'), 'utf8');
    // The scripted agent edits this exact line; it must be there once.
    expect(cart.split(SANDBOX_BUGGY_LINE)).toHaveLength(2);
  });

  it('is a bare repository with one Acme Dev commit on main, kept across restarts, rebuilt when fresh', async () => {
    const base = (await git(['rev-parse', 'refs/heads/main'])).trim();
    expect(await git(['log', '--format=%an <%ae>', 'main'])).toBe('Acme Dev <dev@acme.example>\n');
    const files = (await git(['ls-tree', '-r', '--name-only', 'main'])).split('\n').filter(Boolean);
    expect(files).toContain('src/cart.js');
    expect(files).toContain('test/cart.test.js');
    expect(files.length).toBeLessThanOrEqual(10);
    expect((await git(['config', 'uploadpack.allowFilter'])).trim()).toBe('true');

    await git(['update-ref', 'refs/heads/bugbot/earlier', base]);
    expect(await ensureSandboxRepo(temp)).toEqual(sandbox);
    expect(await listBranches()).toContain('refs/heads/bugbot/earlier');

    await ensureSandboxRepo(temp, { fresh: true });
    expect(await listBranches()).toEqual(['refs/heads/main']);
    // The same tree, author and date: the same commit on every machine.
    expect((await git(['rev-parse', 'refs/heads/main'])).trim()).toBe(base);
  });
});

describe('LocalFixLauncher', () => {
  it(
    'runs the runner as a child process: the sandbox agent fixes the bug, the branch is pushed, jobs come back',
    async () => {
      const base = (await git(['rev-parse', 'refs/heads/main'])).trim();
      const { taskId } = await createLauncher().launch(buildSpec());

      expect(taskId).toMatch(/^local:\d+$/);
      // It returns at once, while the run (clone, CLI, verify, push) is still going.
      expect(queue.jobs).toEqual([]);
      expect(launcher!.runningTasks()).toEqual([taskId]);

      await launcher!.idle();
      expect(queue.jobs.map((job) => job.kind)).toEqual(['fix.result', 'fix.task-stopped']);
      const [resultJob, stoppedJob] = queue.jobs;
      if (resultJob?.kind !== 'fix.result') throw new Error('expected a fix.result job');
      expect(resultJob.idempotencyKey).toBe('fix-result:job-local-1');
      expect(resultJob.result).toMatchObject({
        jobId: 'job-local-1',
        status: 'pushed',
        branch: 'bugbot/fix-test',
        baseCommit: base,
        changedFiles: [
          { path: 'src/cart.js', change: 'modified' },
          { path: 'src/cart.test.js', change: 'added' },
        ],
        rejected: [],
        summary: SANDBOX_FIX_SUMMARY,
        verify: { command: 'node --test', exitCode: 0 },
        risks: [],
      });
      expect(resultJob.result.verify?.outputTail).toMatch(/# pass 7\n# fail 0/);
      // The agent's test first failed on the shipped code, then passed on the fix: a proven fix.
      expect(resultJob.result.reproduction).toMatchObject({
        status: 'reproduced',
        tests: ['src/cart.test.js'],
        before: { exitCode: 1 },
        after: { exitCode: 0 },
      });
      expect(resultJob.result.reproduction?.before?.outputTail).toMatch(/# pass 5\n# fail 2/);
      expect(resultJob.result.reproduction?.before?.outputTail).toContain(
        "Cannot read properties of undefined (reading 'map')",
      );
      expect(stoppedJob).toMatchObject({
        kind: 'fix.task-stopped',
        jobId: 'job-local-1',
        taskArn: taskId,
        stopCode: 'EssentialContainerExited',
        exitCode: 0,
      });

      const head = (await git(['rev-parse', 'refs/heads/bugbot/fix-test'])).trim();
      expect(head).toBe(resultJob.result.headCommit);
      expect(await git(['diff', '--name-status', base, head])).toBe('M\tsrc/cart.js\nA\tsrc/cart.test.js\n');
      expect(await git(['show', `${head}:src/cart.js`])).toContain(
        'const total = (items ?? []).map(lineTotal)',
      );
      expect((await git(['rev-parse', 'refs/heads/main'])).trim()).toBe(base);

      // The agent was the scripted one, the push went through the stand-in's smart HTTP.
      const agentTurns = anthropic
        .messageRequests()
        .filter((request) => request.script === SANDBOX_AGENT_SCRIPT);
      expect(agentTurns.map((request) => request.response?.content.at(-1)?.type)).toEqual([
        'tool_use',
        'tool_use',
        'tool_use',
        'text',
      ]);
      expect(github.calls.some((call) => call.path.includes('git-receive-pack') && call.status === 200)).toBe(
        true,
      );
      expect(logs.some((line) => line.includes('fix run finished'))).toBe(true);
      expect(launcher!.runningTasks()).toEqual([]);
    },
    RUN_TIMEOUT_MS,
  );

  it(
    'a report the sandbox agent cannot trace ends as no_changes with nothing pushed',
    async () => {
      await createLauncher().launch(
        buildSpec({
          jobId: 'job-local-2',
          branch: 'bugbot/fix-dark-mode',
          task: { title: 'Dark mode makes the settings text unreadable', body: 'Grey on grey in settings.' },
        }),
      );
      await launcher!.idle();
      expect(queue.jobs.map((job) => job.kind)).toEqual(['fix.result', 'fix.task-stopped']);
      expect(queue.jobs[0]).toMatchObject({ result: { status: 'no_changes', changedFiles: [] } });
      expect(queue.jobs[1]).toMatchObject({ exitCode: 0 });
      expect(
        anthropic.messageRequests().some((request) => request.script === SANDBOX_AGENT_NO_FIX_SCRIPT),
      ).toBe(true);
      expect(await listBranches()).toEqual(['refs/heads/main']);
    },
    RUN_TIMEOUT_MS,
  );

  it(
    'BUGBOT_LOCAL_RUNNER_CRASH=1: the runner dies with 137 and only a fix.task-stopped job comes back',
    async () => {
      const crashing = createLauncher({
        env: { PATH: process.env.PATH, HOME: process.env.HOME, BUGBOT_LOCAL_RUNNER_CRASH: '1' },
      });
      const { taskId } = await crashing.launch(
        buildSpec({ jobId: 'job-local-crash', branch: 'bugbot/fix-crash' }),
      );
      await crashing.idle();

      expect(queue.jobs).toHaveLength(1);
      expect(queue.jobs[0]).toMatchObject({
        kind: 'fix.task-stopped',
        jobId: 'job-local-crash',
        taskArn: taskId,
        stopCode: 'EssentialContainerExited',
        stoppedReason: 'Essential container in task exited',
        exitCode: 137,
      });
      expect(queue.jobs[0]?.idempotencyKey).toBe(`fix-task-stopped:job-local-crash:${taskId}`);
      expect(await listBranches()).toEqual(['refs/heads/main']);
      expect(anthropic.messageRequests()).toEqual([]);
    },
    RUN_TIMEOUT_MS,
  );

  it(
    'crashNext() crashes only the next run; a runner past its time limit is killed and reported stopped',
    async () => {
      const limited = createLauncher({ graceSeconds: 0 });
      limited.crashNext();
      await limited.launch(buildSpec({ jobId: 'job-local-crash-2', branch: 'bugbot/fix-crash-2' }));
      await limited.idle();
      expect(
        queue.jobs.map((job) => [job.kind, job.kind === 'fix.task-stopped' ? job.exitCode : null]),
      ).toEqual([['fix.task-stopped', 137]]);

      // One second for everything: the runner cannot even clone in time.
      const { taskId } = await limited.launch(
        buildSpec({
          jobId: 'job-local-slow',
          branch: 'bugbot/fix-slow',
          limits: { ...buildSpec().limits, timeoutSeconds: 1 },
          verify: undefined,
        }),
      );
      await limited.idle();
      expect(queue.jobs.slice(1)).toEqual([
        expect.objectContaining({
          kind: 'fix.task-stopped',
          jobId: 'job-local-slow',
          taskArn: taskId,
          stopCode: 'UserInitiated',
          exitCode: 137,
        }),
      ]);
      expect(await listBranches()).toEqual(['refs/heads/main']);
    },
    RUN_TIMEOUT_MS,
  );
});
