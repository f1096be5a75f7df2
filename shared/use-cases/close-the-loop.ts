import { type Bug, type BugResolution, queueOfStatus } from '../domain/bug.js';
import {
  allowedSources,
  describeStatus,
  RESOLVABLE_STATUSES,
  stateAfterClosedFix,
} from '../domain/bug-state-machine.js';
import { renderResolvedNote, renderThreadNote } from '../domain/bug-views.js';
import type { GitHubEventJob, LinearEventJob } from '../jobs/job-schemas.js';
import type { RepositoryRef } from '../ports/code-host.js';
import { audit, type BugFlowContext, postInThread, refreshCard } from './bug-context.js';

/**
 * Hearing back (DESIGN "Hearing back: GitHub and Linear webhooks"): the fix's pull request merged
 * or closed, a preview deployed, the tracker issue completed or canceled. Every outcome is safe to
 * repeat — transitions are conditional, thread posts happen once per key, and a delivery that
 * already moved the bug finishes its own work on redelivery instead of being refused.
 */

export interface LoopDeps extends BugFlowContext {
  /** The repository fixes are drafted for (`GITHUB_REPO`); events from any other are ignored. */
  readonly repo?: RepositoryRef;
}

export type LoopOutcome =
  | { readonly kind: 'resolved'; readonly bugId: string }
  | { readonly kind: 'returned'; readonly bugId: string; readonly to: string }
  | { readonly kind: 'preview'; readonly bugId: string; readonly url: string }
  | { readonly kind: 'dismissed'; readonly bugId: string }
  | { readonly kind: 'ignored'; readonly reason: string; readonly bugId?: string };

const GITHUB_ACTOR = 'github';
const LINEAR_ACTOR = 'linear';

export async function handleGitHubEvent(job: GitHubEventJob, deps: LoopDeps): Promise<LoopOutcome> {
  const { event } = job;
  if (!deps.repo || `${deps.repo.owner}/${deps.repo.repo}`.toLowerCase() !== event.repository.toLowerCase()) {
    return { kind: 'ignored', reason: 'a repository bugbot does not draft fixes for' };
  }
  if (event.type === 'pull_request.closed') {
    const bug = await findBug(deps, [['branch', event.headRef]]);
    if (!bug) return { kind: 'ignored', reason: 'not a fix branch bugbot knows' };
    if (event.merged) {
      return resolveBug(
        bug,
        { by: 'github', pullRequestUrl: event.url, key: job.idempotencyKey },
        `PR #${event.number} merged`,
        deps,
      );
    }
    return returnAfterClosedFix(bug, event, deps);
  }
  const bug = await findBug(deps, [
    ['branch', event.ref],
    ['commit', event.sha],
  ]);
  if (!bug) return { kind: 'ignored', reason: 'a deployment of nothing bugbot drafted' };
  return showPreview(bug, event.environmentUrl, deps);
}

export async function handleLinearEvent(job: LinearEventJob, deps: BugFlowContext): Promise<LoopOutcome> {
  const bug = await findBug(deps, [['issue', job.issue.identifier]]);
  // Only the issue bugbot filed for the bug speaks for it (a contextualized issue is not a bug).
  if (bug?.issue?.tracker !== 'linear' || bug.issue.id !== job.issue.id) {
    return { kind: 'ignored', reason: 'an issue that is no bug of bugbot' };
  }
  if (job.stateType === 'completed') {
    return resolveBug(
      bug,
      { by: 'linear', issueIdentifier: bug.issue.identifier, key: job.idempotencyKey },
      `${bug.issue.identifier} completed in Linear`,
      deps,
    );
  }
  return dismissCanceled(bug, deps);
}

/**
 * Resolves the bug from any open state, then — also when a redelivery of the same event finds it
 * already resolved by itself — refreshes the card, says so in the thread with the Discord
 * reporters mentioned once, and tells the product.
 */
export async function resolveBug(
  bug: Bug,
  cause: Omit<BugResolution, 'at'>,
  why: string,
  deps: BugFlowContext,
): Promise<LoopOutcome> {
  const resolution: BugResolution = { ...cause, at: deps.now().toISOString() };
  const merged =
    cause.by === 'github' && bug.fix && bug.fix.pullRequestUrl === cause.pullRequestUrl
      ? { fix: { ...bug.fix, status: 'merged' as const } }
      : {};
  const moved = await deps.records.transitionBug(bug.bugId, RESOLVABLE_STATUSES, 'resolved', {
    resolution,
    ...merged,
  });
  let resolved: Bug;
  if (moved.ok) {
    resolved = moved.bug;
    await audit(bug.bugId, actorOf(cause.by), 'transition', `${bug.status} → resolved (${why})`, deps);
    deps.metrics?.record('BugsResolved', 1);
  } else if (moved.current?.status === 'resolved' && moved.current.resolution?.key === cause.key) {
    resolved = moved.current; // this delivery resolved it before failing: finish its work
  } else {
    const status = moved.current?.status ?? bug.status;
    await audit(
      bug.bugId,
      actorOf(cause.by),
      'transition_refused',
      `resolve (${why}): it is ${describeStatus(status)}`,
      deps,
    );
    return { kind: 'ignored', reason: `the bug is ${describeStatus(status)}`, bugId: bug.bugId };
  }
  await refreshCard(resolved, deps);
  await postInThread(
    resolved,
    `resolved:${cause.key}`,
    renderResolvedNote({
      pullRequestUrl: cause.pullRequestUrl,
      issue: cause.by === 'linear' ? resolved.issue : undefined,
      reporterIds: resolved.discordReporters ?? [],
    }),
    deps,
  );
  await deps.announce?.('bug.resolved', resolved);
  return { kind: 'resolved', bugId: bug.bugId };
}

/** The fix's pull request closed unmerged: the bug goes back to where it was before the fix. */
async function returnAfterClosedFix(
  bug: Bug,
  event: Extract<GitHubEventJob['event'], { type: 'pull_request.closed' }>,
  deps: LoopDeps,
): Promise<LoopOutcome> {
  if (bug.fix?.branch !== event.headRef) {
    await audit(bug.bugId, GITHUB_ACTOR, 'fix_closed', `PR #${event.number} of an earlier fix closed`, deps);
    return { kind: 'ignored', reason: 'a pull request of an earlier fix', bugId: bug.bugId };
  }
  const to = stateAfterClosedFix(bug);
  const moved = await deps.records.transitionBug(bug.bugId, ['fix_drafted'], to, {
    fix: { ...bug.fix, status: 'closed' },
  });
  const current = moved.ok ? moved.bug : moved.current;
  if (moved.ok) {
    await audit(
      bug.bugId,
      GITHUB_ACTOR,
      'transition',
      `fix_drafted → ${to} (PR #${event.number} closed unmerged)`,
      deps,
    );
  } else if (
    current?.status !== to ||
    current.fix?.status !== 'closed' ||
    current.fix.branch !== event.headRef
  ) {
    return {
      kind: 'ignored',
      reason: `the bug is ${describeStatus(current?.status ?? bug.status)}`,
      bugId: bug.bugId,
    };
  }
  if (!current) return { kind: 'ignored', reason: 'the bug vanished', bugId: bug.bugId };
  await refreshCard(current, deps);
  await postInThread(
    current,
    `fix-closed:${event.headRef}`,
    renderThreadNote('fix_closed', { pullRequestUrl: event.url, backTo: describeStatus(to) }),
    deps,
  );
  return { kind: 'returned', bugId: bug.bugId, to };
}

/** The first successful deployment of the fix branch: its URL in the thread, once, and on the card. */
async function showPreview(bug: Bug, url: string, deps: LoopDeps): Promise<LoopOutcome> {
  if (!bug.fix?.branch) return { kind: 'ignored', reason: 'the bug has no fix branch', bugId: bug.bugId };
  // A late deployment of a branch whose bug is already closed has nothing left to try.
  if (queueOfStatus(bug.status) === 'closed') {
    return { kind: 'ignored', reason: `the bug is ${describeStatus(bug.status)}`, bugId: bug.bugId };
  }
  let current = bug;
  if (!current.fix?.previewUrl) {
    for (let attempt = 0; attempt < 3 && current.fix && !current.fix.previewUrl; attempt += 1) {
      const saved = await deps.records.updateBug(
        bug.bugId,
        { fix: { ...current.fix, previewUrl: url } },
        current.version,
      );
      if (saved.ok) {
        current = saved.bug;
        await audit(bug.bugId, GITHUB_ACTOR, 'preview', url, deps);
        break;
      }
      if (!saved.current) return { kind: 'ignored', reason: 'the bug vanished', bugId: bug.bugId };
      current = saved.current;
    }
    await refreshCard(current, deps);
  }
  const shown = current.fix?.previewUrl ?? url;
  await postInThread(
    current,
    `preview:${bug.fix.branch}`,
    renderThreadNote('preview', { url: shown, pullRequestUrl: current.fix?.pullRequestUrl }),
    deps,
  );
  return { kind: 'preview', bugId: bug.bugId, url: shown };
}

const CANCELED_REASON = 'canceled in Linear';

async function dismissCanceled(bug: Bug, deps: BugFlowContext): Promise<LoopOutcome> {
  const moved = await deps.records.transitionBug(bug.bugId, allowedSources('dismissed'), 'dismissed', {
    dismissal: { by: 'Linear', reason: CANCELED_REASON, at: deps.now().toISOString() },
  });
  let current: Bug;
  if (moved.ok) {
    current = moved.bug;
    await audit(bug.bugId, LINEAR_ACTOR, 'transition', `${bug.status} → dismissed: ${CANCELED_REASON}`, deps);
  } else if (moved.current?.status === 'dismissed' && moved.current.dismissal?.reason === CANCELED_REASON) {
    current = moved.current;
  } else {
    const status = moved.current?.status ?? bug.status;
    await audit(
      bug.bugId,
      LINEAR_ACTOR,
      'transition_refused',
      `dismiss (${CANCELED_REASON}): it is ${describeStatus(status)}`,
      deps,
    );
    return { kind: 'ignored', reason: `the bug is ${describeStatus(status)}`, bugId: bug.bugId };
  }
  await refreshCard(current, deps);
  await postInThread(
    current,
    'dismissed',
    renderThreadNote('dismissed', { by: 'Linear', reason: CANCELED_REASON }),
    deps,
  );
  return { kind: 'dismissed', bugId: bug.bugId };
}

async function findBug(
  deps: BugFlowContext,
  references: readonly (readonly ['branch' | 'commit' | 'issue', string])[],
): Promise<Bug | null> {
  for (const [kind, value] of references) {
    if (!value) continue;
    const bugId = await deps.records.findBugIdByReference(kind, value);
    if (bugId) return deps.records.getBug(bugId);
  }
  return null;
}

function actorOf(by: BugResolution['by']): string {
  return by === 'github' ? GITHUB_ACTOR : LINEAR_ACTOR;
}
