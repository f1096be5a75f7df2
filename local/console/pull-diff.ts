import { type GitRunner, resolveBranch } from '../stand-ins/github/bare-repository.js';

/**
 * A pull request's diff as GitHub shows it on "Files changed": the head branch against the merge
 * base with the base branch (`base...head`), computed by git from the bare repository the GitHub
 * stand-in serves. Argument arrays only; branch names are validated and resolved to commits
 * first (`--end-of-options`), so nothing in a branch name can become an option.
 */

export type PullDiff =
  | {
      readonly kind: 'diff';
      readonly baseSha: string;
      readonly headSha: string;
      readonly text: string;
      /** The diff was longer than the limit and was cut (at a line end). */
      readonly truncated: boolean;
    }
  | { readonly kind: 'missing'; readonly reason: string };

export const PULL_DIFF_MAX_BYTES = 512 * 1024;

export async function readPullDiff(
  git: GitRunner,
  bareDir: string,
  branches: { readonly base: string; readonly head: string },
  maxBytes = PULL_DIFF_MAX_BYTES,
): Promise<PullDiff> {
  const [baseSha, headSha] = await Promise.all([
    resolveBranch(git, bareDir, branches.base),
    resolveBranch(git, bareDir, branches.head),
  ]);
  if (!baseSha) return { kind: 'missing', reason: 'the base branch is not in the repository' };
  if (!headSha) return { kind: 'missing', reason: 'the head branch is not in the repository (deleted?)' };
  const { code, stdout } = await git(bareDir, [
    // The repository's own settings must not run anything: no external diff, no textconv filters.
    'diff',
    '--no-color',
    '--no-ext-diff',
    '--no-textconv',
    '--find-renames',
    `${baseSha}...${headSha}`,
  ]);
  if (code !== 0) return { kind: 'missing', reason: `git diff failed (exit ${code})` };
  if (stdout.length <= maxBytes) {
    return { kind: 'diff', baseSha, headSha, text: stdout.toString('utf8'), truncated: false };
  }
  const cut = stdout.lastIndexOf(0x0a, maxBytes);
  return {
    kind: 'diff',
    baseSha,
    headSha,
    text: stdout.subarray(0, cut > 0 ? cut + 1 : maxBytes).toString('utf8'),
    truncated: true,
  };
}
