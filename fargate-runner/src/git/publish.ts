import { BugbotError } from '../../../shared/domain/errors.js';
import { type GitAuth, runGit, runGitText } from './git-command.js';
import { type RunLayout, runnerGitOptions } from './workspace.js';

export const BOT_NAME = 'bugbot';
export const BOT_EMAIL = 'bugbot@users.noreply.github.com';

/** The work branch already exists on the remote: a fix never rewrites or extends someone's branch. */
export class BranchExistsError extends BugbotError {}

/**
 * One fresh commit whose tree is the gated tree and whose only parent is the base commit: none of
 * the agent's own commits, messages or identities can ride along.
 */
export async function createFixCommit(
  layout: RunLayout,
  input: { tree: string; baseCommit: string; message: string; now: Date },
): Promise<string> {
  const date = `${Math.floor(input.now.getTime() / 1000)} +0000`;
  return runGitText(['commit-tree', input.tree, '-p', input.baseCommit, '-F', '-'], {
    ...runnerGitOptions(layout),
    input: input.message,
    env: {
      GIT_AUTHOR_NAME: BOT_NAME,
      GIT_AUTHOR_EMAIL: BOT_EMAIL,
      GIT_AUTHOR_DATE: date,
      GIT_COMMITTER_NAME: BOT_NAME,
      GIT_COMMITTER_EMAIL: BOT_EMAIL,
      GIT_COMMITTER_DATE: date,
    },
  });
}

/**
 * Pushes `commit` to `refs/heads/<branch>` by explicit URL. Never forced; and refused outright
 * when the branch already exists, since a plain push would still fast-forward a branch whose tip
 * happens to be an ancestor of the fix.
 */
export async function pushFixBranch(
  layout: RunLayout,
  input: { url: string; branch: string; commit: string; auth?: GitAuth },
): Promise<void> {
  const ref = `refs/heads/${input.branch}`;
  const options = runnerGitOptions(layout, { auth: input.auth });
  const listed = await runGitText(['ls-remote', '--refs', input.url, ref], options);
  // ls-remote matches patterns by their tail; only the exact ref counts.
  const exists = listed.split('\n').some((line) => line.split('\t')[1] === ref);
  if (exists) throw new BranchExistsError(`the branch ${input.branch} already exists on the remote`);
  await runGit(['push', '--no-verify', '--porcelain', input.url, `${input.commit}:${ref}`], options);
}
