import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The sandbox repository `acme/shop`: `sandbox-repo/` (plain files shipped in this repository)
 * committed once into a bare repository the GitHub stand-in serves, so the local stack's fix
 * runner has a real origin to clone from and push to.
 */

/** The app's source tree, shipped with bugbot. */
export const SANDBOX_REPO_SOURCE_DIR = fileURLToPath(new URL('../sandbox-repo/', import.meta.url));
export const SANDBOX_REPO_DEFAULT_BRANCH = 'main';

export interface SandboxRepo {
  readonly bareDir: string;
  readonly defaultBranch: string;
}

export interface EnsureSandboxRepoOptions {
  /** Throw away the existing bare repository (pushed fix branches included) and start again. */
  readonly fresh?: boolean;
  /** Default `SANDBOX_REPO_SOURCE_DIR`. */
  readonly sourceDir?: string;
  /** Default `acme`/`shop`: the bare repository is `<dataDir>/sandbox/<owner>/<repo>.git`. */
  readonly owner?: string;
  readonly repo?: string;
}

/**
 * The author and a fixed date make the initial commit the same on every machine, so its id is
 * stable across `--fresh` starts.
 */
const INITIAL_COMMIT_ENV = {
  GIT_AUTHOR_NAME: 'Acme Dev',
  GIT_AUTHOR_EMAIL: 'dev@acme.example',
  GIT_AUTHOR_DATE: '2025-01-06T09:00:00Z',
  GIT_COMMITTER_NAME: 'Acme Dev',
  GIT_COMMITTER_EMAIL: 'dev@acme.example',
  GIT_COMMITTER_DATE: '2025-01-06T09:00:00Z',
};

/**
 * Creates `<dataDir>/sandbox/acme/shop.git` unless it already holds the default branch (so fix
 * branches pushed in earlier sessions survive a restart); `fresh` recreates it.
 */
export async function ensureSandboxRepo(
  dataDir: string,
  options: EnsureSandboxRepoOptions = {},
): Promise<SandboxRepo> {
  const bareDir = join(dataDir, 'sandbox', options.owner ?? 'acme', `${options.repo ?? 'shop'}.git`);
  const defaultBranch = SANDBOX_REPO_DEFAULT_BRANCH;
  if (options.fresh) await rm(bareDir, { recursive: true, force: true });
  else if (await hasBranch(bareDir, defaultBranch)) return { bareDir, defaultBranch };

  // A half-created repository from an interrupted start is replaced, not patched.
  await rm(bareDir, { recursive: true, force: true });
  await mkdir(bareDir, { recursive: true });
  const scratch = await mkdtemp(join(tmpdir(), 'bugbot-sandbox-repo-'));
  try {
    const env = gitEnv(scratch);
    await runGit(['init', '--quiet', '--bare', `--initial-branch=${defaultBranch}`, bareDir], env);
    // The stand-in passes these per request; set here too so `file://` clones of it work alike.
    await runGit([`--git-dir=${bareDir}`, 'config', 'uploadpack.allowFilter', 'true'], env);
    await runGit([`--git-dir=${bareDir}`, 'config', 'uploadpack.allowAnySHA1InWant', 'true'], env);

    // The source tree is committed in place through a throwaway index: no copy, and the outer
    // bugbot repository is never consulted (explicit git dir and work tree).
    const sourceDir = options.sourceDir ?? SANDBOX_REPO_SOURCE_DIR;
    const tree = [`--git-dir=${bareDir}`, `--work-tree=${sourceDir}`];
    const indexEnv = { ...env, GIT_INDEX_FILE: join(scratch, 'index') };
    await runGit([...tree, 'add', '--all', '--', '.'], indexEnv, sourceDir);
    const treeId = (await runGit([...tree, 'write-tree'], indexEnv, sourceDir)).trim();
    const commit = (
      await runGit(
        [
          `--git-dir=${bareDir}`,
          'commit-tree',
          treeId,
          '-m',
          'Acme shop: cart, checkout and the Place order button',
        ],
        { ...env, ...INITIAL_COMMIT_ENV },
      )
    ).trim();
    await runGit([`--git-dir=${bareDir}`, 'update-ref', `refs/heads/${defaultBranch}`, commit, ''], env);
  } catch (error) {
    await rm(bareDir, { recursive: true, force: true });
    throw error;
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
  return { bareDir, defaultBranch };
}

async function hasBranch(bareDir: string, branch: string): Promise<boolean> {
  if (!existsSync(join(bareDir, 'HEAD'))) return false;
  try {
    await runGit(
      [`--git-dir=${bareDir}`, 'rev-parse', '--verify', '--quiet', `refs/heads/${branch}^{commit}`],
      gitEnv(bareDir),
    );
    return true;
  } catch {
    return false;
  }
}

/** Nothing from the developer's git configuration or environment leaks into the sandbox commit. */
function gitEnv(home: string): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: home,
    LANG: 'C',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_TERMINAL_PROMPT: '0',
  };
}

function runGit(args: readonly string[], env: Record<string, string>, cwd?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const options = { env, cwd, encoding: 'utf8' as const, maxBuffer: 16 * 1024 * 1024 };
    execFile('git', args, options, (error, stdout, stderr) => {
      if (error)
        reject(
          new Error(`git ${args.find((arg) => !arg.startsWith('--')) ?? ''} failed: ${stderr.trim()}`, {
            cause: error,
          }),
        );
      else resolve(stdout);
    });
  });
}

/**
 * A fork of the sandbox repository (`acme-bugbot/shop`) for fix branches (README, "Fixes from a
 * fork"): a bare repository of its own whose objects come from the parent through git's
 * `alternates`, as forks share one object network on GitHub. It starts with the parent's default
 * branch, as a fresh fork does.
 */
export async function ensureSandboxFork(
  dataDir: string,
  parent: SandboxRepo,
  options: { readonly owner: string; readonly repo: string; readonly fresh?: boolean },
): Promise<SandboxRepo> {
  const bareDir = join(dataDir, 'sandbox', options.owner, `${options.repo}.git`);
  if (options.fresh) await rm(bareDir, { recursive: true, force: true });
  else if (await hasBranch(bareDir, parent.defaultBranch))
    return { bareDir, defaultBranch: parent.defaultBranch };
  await rm(bareDir, { recursive: true, force: true });
  await mkdir(join(bareDir, 'objects', 'info'), { recursive: true });
  const env = gitEnv(bareDir);
  await runGit(['init', '--quiet', '--bare', `--initial-branch=${parent.defaultBranch}`, bareDir], env);
  await writeFile(join(bareDir, 'objects', 'info', 'alternates'), `${join(parent.bareDir, 'objects')}\n`);
  const head = (
    await runGit([`--git-dir=${parent.bareDir}`, 'rev-parse', `refs/heads/${parent.defaultBranch}`], env)
  ).trim();
  await runGit([`--git-dir=${bareDir}`, 'update-ref', `refs/heads/${parent.defaultBranch}`, head, ''], env);
  return { bareDir, defaultBranch: parent.defaultBranch };
}
