import { chmod, chown, copyFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { handOver, type SandboxUser } from '../sandbox/sandbox-users.js';
import { type GitAuth, type GitOptions, runGit, runGitText } from './git-command.js';

/**
 * The run's directories. The runner keeps its own bare repository (`runner.git`) beside the
 * agent's workspace, never inside it: every git command after the agent reads only that
 * repository's config and objects, so nothing the agent writes under `workspace/.git` (config,
 * hooks, refs, a moved HEAD, commits) can influence what the runner builds or runs.
 *
 * Who may enter what (README "The sandbox"): `root` is traversable by all (0711) so the sandbox
 * users reach their own directories; `runner/` (git's HOME, the indexes, verify logs) is the
 * runner's alone (0700); `runner.git` is readable by the agent's group only (its workspace
 * borrows the objects); `workspace/` and `agent-home/` belong to the agent user, `verify/<name>/`
 * to the tests user, each 0700.
 */
export interface RunLayout {
  readonly root: string;
  readonly runnerGitDir: string;
  /** The runner's private directory (0700). */
  readonly privateDir: string;
  readonly gitHome: string;
  readonly workspace: string;
  /** The index of the checked-out base tree, with the checkout's stat data. */
  readonly baseIndex: string;
  readonly finalIndex: string;
  readonly agentHome: string;
  /** Our Claude Code settings and hook configuration: readable by the agent, not writable. */
  readonly agentSettings: string;
  /** One directory per verify run (`before`, `after`), each holding `repo/` and `home/`. */
  readonly verifyDir: string;
}

export function describeLayout(root: string): RunLayout {
  const privateDir = join(root, 'runner');
  return {
    root,
    runnerGitDir: join(root, 'runner.git'),
    privateDir,
    gitHome: join(privateDir, 'git-home'),
    workspace: join(root, 'workspace'),
    baseIndex: join(privateDir, 'base.index'),
    finalIndex: join(privateDir, 'final.index'),
    agentHome: join(root, 'agent-home'),
    agentSettings: join(root, 'agent-settings'),
    verifyDir: join(root, 'verify'),
  };
}

export interface PrepareWorkspaceInput {
  readonly layout: RunLayout;
  readonly cloneUrl: string;
  readonly baseBranch: string;
  readonly branch: string;
  readonly auth?: GitAuth;
  /** False clones every blob of the base branch's history (the benchmark's comparison). */
  readonly partial?: boolean;
  /** The agent's user: gets the workspace, and read access to `runner.git`. */
  readonly agentUser?: SandboxUser | null;
}

export interface PreparedWorkspace {
  readonly baseCommit: string;
  readonly baseTree: string;
  /** Milliseconds: fetching history (commits and trees) and checking out the base tree. */
  readonly timings: { readonly fetch: number; readonly checkout: number };
}

export function runnerGitOptions(layout: RunLayout, extra: Partial<GitOptions> = {}): GitOptions {
  return { cwd: layout.root, home: layout.gitHome, gitDir: layout.runnerGitDir, ...extra };
}

/**
 * Clones the base branch into the runner's repository (partial: commits and trees now, blobs on
 * demand), checks its tree out into the workspace, and gives the workspace a repository of its
 * own on the work branch — with no remote, no credentials, and objects borrowed read-only from
 * the runner's repository.
 */
export async function prepareWorkspace(input: PrepareWorkspaceInput): Promise<PreparedWorkspace> {
  const { layout } = input;
  const agentUser = input.agentUser ?? null;
  if (input.branch === input.baseBranch) throw new Error('the work branch must differ from the base branch');
  await mkdir(layout.privateDir, { recursive: true, mode: 0o700 });
  await chmod(layout.privateDir, 0o700);
  await mkdir(layout.gitHome, { recursive: true, mode: 0o700 });
  await mkdir(layout.workspace, { recursive: true, mode: 0o700 });
  await mkdir(layout.agentHome, { recursive: true, mode: 0o700 });
  await mkdir(layout.runnerGitDir, { recursive: true });
  if (agentUser) {
    // The agent's git borrows these objects (alternates): only its group may enter. What git
    // creates inside is world-readable (umask 022), which this directory alone keeps from others.
    await chown(layout.runnerGitDir, 0, agentUser.gid);
    await chmod(layout.runnerGitDir, 0o750);
  } else {
    await chmod(layout.runnerGitDir, 0o700);
  }

  const started = performance.now();
  await runGit(
    [
      'clone',
      '--bare',
      ...(input.partial === false ? [] : ['--filter=blob:none']),
      '--single-branch',
      `--branch=${input.baseBranch}`,
      '--no-tags',
      '--template=',
      '--quiet',
      '--',
      input.cloneUrl,
      layout.runnerGitDir,
    ],
    { cwd: layout.root, home: layout.gitHome, auth: input.auth },
  );
  // The runner's repository is never written through its config again; read-only as one more
  // obstacle for anything that might try.
  await chmod(join(layout.runnerGitDir, 'config'), 0o400);

  const runner = runnerGitOptions(layout);
  const baseCommit = await runGitText(
    ['rev-parse', '--verify', '--end-of-options', `refs/heads/${input.baseBranch}^{commit}`],
    runner,
  );
  const baseTree = await runGitText(
    ['rev-parse', '--verify', '--end-of-options', `${baseCommit}^{tree}`],
    runner,
  );
  const fetched = performance.now();

  // Checkout through the runner's repository: in a partial clone, the missing blobs of the base
  // tree are fetched in one batch here (with the credentials, which only this step and the push
  // ever see).
  await runGit(['read-tree', '--reset', '-u', baseTree], {
    ...runner,
    cwd: layout.workspace,
    workTree: layout.workspace,
    indexFile: layout.baseIndex,
    auth: input.auth,
  });

  await createAgentRepository(layout, input.branch, baseCommit);
  if (agentUser) await handOver([layout.workspace], agentUser);
  const timings = { fetch: Math.round(fetched - started), checkout: Math.round(performance.now() - fetched) };
  return { baseCommit, baseTree, timings };
}

async function createAgentRepository(layout: RunLayout, branch: string, baseCommit: string): Promise<void> {
  const agent: GitOptions = { cwd: layout.workspace, home: layout.gitHome };
  await runGit(['init', '--quiet', '--template=', `--initial-branch=${branch}`, layout.workspace], agent);
  const agentGitDir = join(layout.workspace, '.git');
  await mkdir(join(agentGitDir, 'objects', 'info'), { recursive: true });
  await writeFile(
    join(agentGitDir, 'objects', 'info', 'alternates'),
    `${join(layout.runnerGitDir, 'objects')}\n`,
  );
  await runGit(['update-ref', '-m', 'bugbot: work branch', `refs/heads/${branch}`, baseCommit], agent);
  // The checkout's index, stat data included, so `git status` in the workspace starts clean.
  await copyFile(layout.baseIndex, join(agentGitDir, 'index'));
}
