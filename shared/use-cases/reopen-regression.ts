import { type Bug, MAX_REMEMBERED_REPORTS } from '../domain/bug.js';
import { renderThreadNote } from '../domain/bug-views.js';
import { explainFingerprintMatch } from '../domain/duplicates.js';
import type { ErrorSignature } from '../domain/fingerprint.js';
import { audit, postInThread, refreshCard } from './bug-context.js';
import { type FoldDeps, foldReport, recount } from './fold-reports.js';

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

export type RegressionOutcome =
  /** The report was folded into the reopened (or already reopened-by-it) bug. */
  | { readonly kind: 'folded' }
  /** Someone acted on the report meanwhile (it is no longer `new`): it stays a bug of its own. */
  | { readonly kind: 'own'; readonly bug: Bug }
  /** Another report reopened the bug first: it is open, so this one is an ordinary duplicate. */
  | { readonly kind: 'raced' };

/**
 * `bug` (a new report, status `new`) repeats the crash of `regressedId`, found `resolved` through
 * the crash fingerprint (triage's findOriginal): reopens it as `regressed` and folds the report
 * into it, counted like any fold (a fold record and a coalesced refresh, fold-reports.ts).
 */
export async function reopenRegression(
  bug: Bug,
  regressedId: string,
  signature: ErrorSignature,
  deps: FoldDeps,
  /** The report's own audit line, written with the fold's. */
  reported?: string,
): Promise<RegressionOutcome> {
  const owner = await deps.records.getBug(regressedId);
  if (!owner) return { kind: 'raced' };
  // This report reopened it on an earlier attempt that did not finish.
  const ours = owner.regression?.bugId === bug.bugId;
  if (!ours) {
    if (owner.status !== 'resolved') return { kind: 'raced' };
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
    if (!moved.ok) return { kind: 'raced' };
    await audit(
      owner.bugId,
      'system',
      'transition',
      `resolved → regressed (${bug.bugId} has the same crash)`,
      deps,
    );
    deps.metrics?.record('BugsRegressed', 1);
  }

  const folded = await foldReport(bug, owner.bugId, explainFingerprintMatch(signature), deps, reported);
  if (!folded.folded) return { kind: 'own', bug: folded.bug };
  await finishRegression(bug, owner.bugId, deps);
  return { kind: 'folded' };
}

/**
 * The part of a regression that is safe to repeat: tell the thread (which pull request had fixed
 * it) with the exact count, refresh the card, tell the product. Also what a redelivered report
 * already folded by its regression runs. The report itself is counted by its fold record.
 */
export async function finishRegression(bug: Bug, regressedId: string, deps: FoldDeps): Promise<void> {
  const ownReport = bug.reports?.find((report) => report.bugId === bug.bugId);
  if (ownReport) await deps.records.rememberReport(regressedId, ownReport, MAX_REMEMBERED_REPORTS);
  const stored = await deps.records.getBug(regressedId);
  if (!stored) return;
  // Counted now rather than by the coalesced refresh: the note names this report's number.
  const { bug: regressed } = await recount(stored, deps.now().toISOString(), deps);
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
