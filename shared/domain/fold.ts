import type { Bug, FoldReason } from './bug.js';

/**
 * Folding reports into a bug without flooding Discord or a DynamoDB item (issue 12, "incident
 * storms"). Pure: when a folded bug's card and thread are refreshed, when its thread hears about
 * new reports, and how its counts are made up from its fold records.
 *
 * - Every folded report is one fold record (its own item, written once): counting is exact under
 *   any concurrency and the bug's item does not grow with its duplicates.
 * - A fold asks for a refresh of its bug; at most one refresh is pending per bug (a conditional
 *   write), delivered after a short delay, so a storm of reports becomes a handful of refreshes.
 *   Each refresh recounts from the records, edits the card once and, at meaningful moments
 *   (below), posts one note naming who and how many, and why they were folded in.
 */

/** One report (or, for a merge, a whole bug) folded into an original. */
export interface FoldRecord {
  /** The bug it was folded into. */
  readonly originalId: string;
  /** The folded bug: a report's own bug id, or the merged bug's. */
  readonly bugId: string;
  /** `merge`: a bug merged by hand, whose own folds count towards the original too. */
  readonly kind: 'report' | 'merge';
  readonly reporterId?: string;
  /** ISO-8601: when the report came in (a merge: when it was merged). */
  readonly at: string;
  /** Absent only on folds recorded before reasons were. */
  readonly reason?: FoldReason;
}

// ---------------------------------------------------------------------------------------------
// When to refresh

export const FOLD_REFRESH = {
  /** The first refresh of a burst waits this long, so the reports arriving with it share it. */
  firstDelaySeconds: 2,
  /** At most one refresh per window; the window widens as a storm goes on. */
  windows: [
    { stormAgeMs: 60_000, seconds: 5 },
    { stormAgeMs: 5 * 60_000, seconds: 15 },
  ],
  lateWindowSeconds: 60,
  /** No refresh for this long: the next fold starts a new burst. */
  quietMs: 10 * 60_000,
  /**
   * A pending refresh not released this long after the latest it can be due (the late window) is
   * considered lost (its job failed for good or was never sent): the next fold schedules another.
   * Retries of a refresh job fit inside it (backoff 10 s, then 30 s); should one not, a second
   * refresh only repeats an idempotent recount.
   */
  lostAfterMs: 2 * 60_000,
} as const;

export interface RefreshPlanInput {
  /** Epoch ms. */
  readonly now: number;
  /** The last refresh of this bug, epoch ms. */
  readonly lastRefreshAt?: number;
  /** When the current burst started, epoch ms. */
  readonly stormStartedAt?: number;
}

export interface RefreshPlan {
  /** SQS DelaySeconds for the refresh job (0–900). */
  readonly delaySeconds: number;
  /** The burst this refresh belongs to (a new one when the bug was quiet). */
  readonly stormStartedAt: number;
}

export function planRefresh(input: RefreshPlanInput): RefreshPlan {
  const { now } = input;
  const quiet = input.lastRefreshAt === undefined || now - input.lastRefreshAt > FOLD_REFRESH.quietMs;
  const stormStartedAt = quiet || input.stormStartedAt === undefined ? now : input.stormStartedAt;
  let delayMs = FOLD_REFRESH.firstDelaySeconds * 1000;
  if (!quiet && input.lastRefreshAt !== undefined) {
    const windowMs = refreshWindowSeconds(now - stormStartedAt) * 1000;
    delayMs = Math.max(delayMs, input.lastRefreshAt + windowMs - now);
  }
  const delaySeconds = Math.min(900, Math.max(0, Math.ceil(delayMs / 1000)));
  return { delaySeconds, stormStartedAt };
}

/** Seconds between refreshes of a bug whose burst started `stormAgeMs` ago. */
export function refreshWindowSeconds(stormAgeMs: number): number {
  for (const window of FOLD_REFRESH.windows) if (stormAgeMs < window.stormAgeMs) return window.seconds;
  return FOLD_REFRESH.lateWindowSeconds;
}

// ---------------------------------------------------------------------------------------------
// When the thread hears about it

/** The first few reports each, then 10, 25, 50, 100, 250, 500, 1000, 2500, … */
export function isNoteMilestone(reportCount: number): boolean {
  if (!Number.isInteger(reportCount) || reportCount < 2) return false;
  if (reportCount <= 5) return true;
  let scale = 10;
  while (scale <= reportCount) {
    if (reportCount === scale || reportCount === scale * 2.5 || reportCount === scale * 5) return true;
    scale *= 10;
  }
  return false;
}

/** Between milestones, a bug that keeps getting reports is mentioned at most this often. */
export const NOTE_INTERVAL_MS = 10 * 60_000;

export interface NoteDecisionInput {
  /** The report count now. */
  readonly total: number;
  /** The report count the last note announced (1 before any note: the bug's own report). */
  readonly notedCount: number;
  /** When that note was posted (epoch ms), if any. */
  readonly notedAt?: number;
  readonly now: number;
}

/** Whether this refresh posts a note: a milestone was passed, or it has been a while. */
export function shouldPostFoldNote(input: NoteDecisionInput): boolean {
  const { total, notedCount } = input;
  if (total <= notedCount) return false;
  for (let count = notedCount + 1; count <= total; count += 1) {
    if (isNoteMilestone(count)) return true;
    // Milestones thin out fast; no need to walk a long gap one by one.
    if (count > notedCount + 10_000) break;
  }
  return input.notedAt === undefined || input.now - input.notedAt >= NOTE_INTERVAL_MS;
}

// ---------------------------------------------------------------------------------------------
// Counting

export interface FoldTally {
  /** Every report the bug stands for, itself included. */
  readonly reportIds: ReadonlySet<string>;
  readonly reporterIds: ReadonlySet<string>;
  /** ISO-8601, the latest report. */
  readonly lastReportAt: string;
  /** The fold records read, the bug's own first, then those of bugs merged into it. */
  readonly records: readonly FoldRecord[];
}

/**
 * A bug's counts from its fold records: its own report, the reports folded into it, and — for
 * bugs merged into it by hand — their tallies (`merged`, by bug id). Bugs stored before fold
 * records existed add the ids they kept (`duplicateBugIds`, `distinctReporters`).
 */
export function tallyFolds(
  bug: Pick<Bug, 'bugId' | 'createdAt' | 'distinctReporters' | 'duplicateBugIds' | 'reporter'>,
  records: readonly FoldRecord[],
  merged: ReadonlyMap<string, FoldTally> = new Map(),
): FoldTally {
  const reportIds = new Set<string>([bug.bugId, ...(bug.duplicateBugIds ?? [])]);
  const reporterIds = new Set<string>(bug.distinctReporters);
  if (bug.reporter.id) reporterIds.add(bug.reporter.id);
  let lastReportAt = bug.createdAt;
  const all: FoldRecord[] = [...records];
  for (const record of records) {
    reportIds.add(record.bugId);
    if (record.reporterId) reporterIds.add(record.reporterId);
    if (record.at > lastReportAt) lastReportAt = record.at;
    const inner = record.kind === 'merge' ? merged.get(record.bugId) : undefined;
    if (!inner) continue;
    for (const id of inner.reportIds) reportIds.add(id);
    for (const id of inner.reporterIds) reporterIds.add(id);
    if (inner.lastReportAt > lastReportAt) lastReportAt = inner.lastReportAt;
    all.push(...inner.records);
  }
  return { reportIds, reporterIds, lastReportAt, records: all };
}

/** The reporters of the latest folds, newest first, at most `max` (for the card and notes). */
export function latestReporters(records: readonly FoldRecord[], max: number): string[] {
  const sorted = [...records].sort((a, b) => (a.at < b.at ? 1 : a.at > b.at ? -1 : 0));
  const reporters: string[] = [];
  for (const record of sorted) {
    if (!record.reporterId || reporters.includes(record.reporterId)) continue;
    reporters.push(record.reporterId);
    if (reporters.length >= max) break;
  }
  return reporters;
}

/** What a thread note says about the reports folded in since the last one. */
export interface FoldNoteSummary {
  /** Reports since the last note (exact: the difference of the counts). */
  readonly newReports: number;
  readonly total: number;
  readonly people: number;
  /** Who sent the newest of them, newest first (at most 5). */
  readonly reporters: readonly string[];
  /** The new reports not named in `reporters`. */
  readonly othersCount: number;
  readonly byFingerprint?: {
    readonly count: number;
    readonly errorType: string;
    readonly frames: readonly string[];
  };
  readonly bySimilarity?: {
    readonly count: number;
    readonly best: {
      readonly score: number;
      readonly threshold: number;
      readonly sharedTerms: readonly string[];
    };
  };
  readonly byHand?: { readonly count: number; readonly by: readonly string[] };
  readonly lastReportAt: string;
}

const NOTE_REPORTERS = 5;

/**
 * `since`: the records newer than the last note (ISO-8601; all of them when absent) say who and
 * why; the counts say how many.
 */
export function summarizeFoldsForNote(
  tally: Pick<FoldTally, 'reportIds' | 'reporterIds' | 'lastReportAt' | 'records'>,
  notedCount: number,
  since?: string,
): FoldNoteSummary {
  const fresh = tally.records.filter((record) => since === undefined || record.at > since);
  const total = tally.reportIds.size;
  const newReports = Math.max(0, total - notedCount);
  const reporters = latestReporters(fresh, NOTE_REPORTERS);
  let fingerprint: { count: number; errorType: string; frames: readonly string[] } | undefined;
  let similarity: FoldNoteSummary['bySimilarity'] | undefined;
  let manual: { count: number; by: string[] } | undefined;
  for (const { reason } of fresh) {
    if (!reason) continue;
    if (reason.kind === 'fingerprint') {
      fingerprint = fingerprint
        ? { ...fingerprint, count: fingerprint.count + 1 }
        : { count: 1, errorType: reason.errorType, frames: reason.frames };
    } else if (reason.kind === 'similar') {
      const best = !similarity || reason.score > similarity.best.score ? reason : similarity.best;
      similarity = { count: (similarity?.count ?? 0) + 1, best };
    } else {
      manual = manual ?? { count: 0, by: [] };
      manual.count += 1;
      if (!manual.by.includes(reason.by)) manual.by.push(reason.by);
    }
  }
  return {
    newReports,
    total,
    people: tally.reporterIds.size,
    reporters,
    othersCount: Math.max(0, newReports - reporters.length),
    ...(fingerprint ? { byFingerprint: fingerprint } : {}),
    ...(similarity ? { bySimilarity: similarity } : {}),
    ...(manual ? { byHand: manual } : {}),
    lastReportAt: tally.lastReportAt,
  };
}
