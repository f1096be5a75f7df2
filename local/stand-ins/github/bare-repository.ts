import { execFile } from 'node:child_process';

/**
 * Read-only questions the REST side asks a served bare repository, answered by `git` itself so a
 * branch pushed over smart HTTP a moment ago is visible at once. Always argument arrays, never a
 * shell; `--end-of-options` keeps a branch name from being read as an option.
 */

/** Runs git in `gitDir`; resolves stdout and the exit code (non-zero is not an error here). */
export type GitRunner = (
  gitDir: string,
  args: readonly string[],
) => Promise<{ code: number; stdout: Buffer }>;

export function createGitRunner(gitBinary = 'git'): GitRunner {
  return (gitDir, args) =>
    new Promise((resolve, reject) => {
      execFile(
        gitBinary,
        [`--git-dir=${gitDir}`, ...args],
        { env: scrubbedGitEnv(), encoding: 'buffer', maxBuffer: 64 * 1024 * 1024 },
        (error, stdout) => {
          if (error && typeof error.code !== 'number') {
            reject(error);
            return;
          }
          resolve({ code: typeof error?.code === 'number' ? error.code : 0, stdout });
        },
      );
    });
}

/** The process environment without GIT_* variables, which would point git somewhere else. */
export function scrubbedGitEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!name.startsWith('GIT_')) env[name] = value;
  }
  return { ...env, GIT_TERMINAL_PROMPT: '0', ...extra };
}

export function isValidBranchName(name: string): boolean {
  return (
    name.length > 0 &&
    name.length <= 255 &&
    !name.startsWith('-') &&
    !name.startsWith('/') &&
    !name.endsWith('/') &&
    !name.endsWith('.lock') &&
    !name.includes('..') &&
    !name.includes('@{') &&
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what we refuse
    !/[\x00-\x20\x7f~^:?*[\\]/.test(name)
  );
}

/** The commit a branch points at, or null when there is no such branch. */
export async function resolveBranch(git: GitRunner, gitDir: string, branch: string): Promise<string | null> {
  if (!isValidBranchName(branch)) return null;
  const { code, stdout } = await git(gitDir, [
    'rev-parse',
    '--verify',
    '--quiet',
    '--end-of-options',
    `refs/heads/${branch}^{commit}`,
  ]);
  return code === 0 ? stdout.toString('utf8').trim() : null;
}

/** How many commits `head` has that `base` does not. */
export async function countCommitsAhead(
  git: GitRunner,
  gitDir: string,
  base: string,
  head: string,
): Promise<number> {
  const { code, stdout } = await git(gitDir, ['rev-list', '--count', `${base}..${head}`]);
  return code === 0 ? Number(stdout.toString('utf8').trim()) : 0;
}

export interface TreeFile {
  readonly path: string;
  readonly sha: string;
  readonly size: number;
}

/** Regular files (no symlinks, no submodules) of a commit. */
export async function listFiles(git: GitRunner, gitDir: string, commit: string): Promise<TreeFile[]> {
  const { code, stdout } = await git(gitDir, ['ls-tree', '-r', '-l', '-z', '--full-tree', commit]);
  if (code !== 0) return [];
  return stdout
    .toString('utf8')
    .split('\0')
    .filter((line) => line.length > 0)
    .flatMap((line) => {
      const tab = line.indexOf('\t');
      // `<mode> <type> <sha> <size, right-aligned>\t<path>`
      const [mode, type, sha, size] = line.slice(0, tab).split(/ +/);
      if (type !== 'blob' || (mode !== '100644' && mode !== '100755') || !sha) return [];
      return [{ path: line.slice(tab + 1), sha, size: Number(size) || 0 }];
    });
}

/** Paths of text files in `commit` holding `term` as whole words, ignoring case (as code search). */
export async function grepFiles(
  git: GitRunner,
  gitDir: string,
  commit: string,
  term: string,
): Promise<Set<string>> {
  const { code, stdout } = await git(gitDir, [
    'grep',
    '-l',
    '-I',
    '-i',
    '-w',
    '-F',
    '-z',
    '-e',
    term,
    commit,
    '--',
  ]);
  if (code !== 0) return new Set();
  const prefix = `${commit}:`;
  return new Set(
    stdout
      .toString('utf8')
      .split('\0')
      .filter((entry) => entry.length > 0)
      .map((entry) => (entry.startsWith(prefix) ? entry.slice(prefix.length) : entry)),
  );
}
