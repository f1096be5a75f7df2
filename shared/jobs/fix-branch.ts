/**
 * Every branch a bugbot fix pushes starts with this (request-fix.ts names them
 * `bugbot/fix-<bug>-<job>`): the GitHub webhook ingress queues pull-request events for these
 * branches only, so a busy repository's other pull requests cost nothing past the signature check.
 */
export const FIX_BRANCH_PREFIX = 'bugbot/fix-';

export function isFixBranch(ref: string): boolean {
  return ref.startsWith(FIX_BRANCH_PREFIX) && ref.length <= 255;
}
