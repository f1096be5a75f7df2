import { type Bug, MAX_REMEMBERED_REPORTS } from '../domain/bug.js';
import { renderThreadNote } from '../domain/bug-views.js';
import type { ErrorSignature } from '../domain/fingerprint.js';
import { audit, type BugFlowContext, postInThread, refreshCard } from './bug-context.js';

/**
 * Regressions (DESIGN "Telling the reporters"): a new report whose crash FINGERPRINT matches a
 * resolved bug reopens that bug as `regressed` — counted on it, its thread told what had fixed
 * it, its card updated, the product told — and the report is folded into it: never a fresh bug
 * of its own, never a second card. Text similarity alone never reopens a resolved bug (a
 * description can resemble a fixed bug and be something else; a crash at the same code cannot).
 *
 * Kept apart from duplicate folding (triage-bug-report.ts) on purpose: that one is about open
 * bugs; this is the one path by which a closed bug comes back.
 */

/**
 * When `bug` (a new report, status `new`) repeats the crash of a resolved bug: reopens that bug
 * and folds the report into it, and returns its id. Null when the report is no regression.
 */
export async function reopenIfRegression(
  bug: Bug,
  signature: ErrorSignature | null,
  deps: BugFlowContext,
): Promise<string | null> {
  const fingerprint = signature?.fingerprint;
  if (!fingerprint || bug.status !== 'new') return null;
  const claim = await deps.records.claimFingerprint(fingerprint, bug.bugId);
  if (claim.claimed) return null;
  const owner = await deps.records.getBug(claim.bugId);
  if (!owner) return null;
  // This report reopened it on an earlier attempt that did not finish.
  const ours = owner.regression?.bugId === bug.bugId;
  if (owner.status !== 'resolved' && !ours) return null;

  if (!ours) {
    const fixedBy = owner.resolution
      ? {
          by: owner.resolution.by,
          at: owner.resolution.at,
          ...(owner.resolution.pullRequestUrl ? { pullRequestUrl: owner.resolution.pullRequestUrl } : {}),
          ...(owner.resolution.issueIdentifier ? { issueIdentifier: owner.resolution.issueIdentifier } : {}),
        }
      : undefined;
    const moved = await deps.records.transitionBug(owner.bugId, ['resolved'], 'regressed', {
      regression: { bugId: bug.bugId, at: deps.now().toISOString(), ...(fixedBy ? { fixedBy } : {}) },
      regressionCount: (owner.regressionCount ?? 0) + 1,
    });
    if (!moved.ok) {
      // Another report of the same crash reopened it first: it is open, so this one is a plain duplicate.
      return null;
    }
    await audit(
      owner.bugId,
      'system',
      'transition',
      `resolved → regressed (${bug.bugId} has the same crash)`,
      deps,
    );
    deps.metrics?.record('BugsRegressed', 1);
  }

  const folded = await deps.records.transitionBug(bug.bugId, ['new'], 'duplicate', {
    duplicateOf: owner.bugId,
  });
  if (folded.ok)
    await audit(bug.bugId, 'system', 'transition', `new → duplicate of ${owner.bugId} (regression)`, deps);
  await finishRegression(bug, owner.bugId, deps);
  return owner.bugId;
}

/**
 * The part of a regression that is safe to repeat: count the report, tell the thread (which
 * pull request had fixed it), refresh the card, tell the product. Also what a redelivered report
 * already folded by its regression runs.
 */
export async function finishRegression(bug: Bug, regressedId: string, deps: BugFlowContext): Promise<void> {
  const counted = await deps.records.incrementDuplicate(regressedId, bug.bugId, bug.reporter.id);
  const ownReport = bug.reports?.find((report) => report.bugId === bug.bugId);
  if (ownReport) await deps.records.rememberReport(regressedId, ownReport, MAX_REMEMBERED_REPORTS);
  const regressed = (await deps.records.getBug(regressedId)) ?? counted;
  if (!regressed) return;
  await postInThread(
    regressed,
    `regressed:${bug.bugId}`,
    renderThreadNote('regressed', {
      reportNumber: regressed.reportCount,
      fixedBy: regressed.regression?.fixedBy,
    }),
    deps,
  );
  await refreshCard(regressed, deps);
  if (regressed.status === 'regressed') await deps.announce?.('bug.regressed', regressed);
}

/** A folded report whose original was reopened by it (so its redelivery finishes the regression). */
export function isRegressionOf(bug: Bug, original: Bug | null): boolean {
  return original?.regression?.bugId === bug.bugId;
}
