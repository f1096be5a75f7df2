import { type Bug, countReporters, type FoldReason, queueOfStatus } from '../domain/bug.js';
import { canTransition, describeStatus } from '../domain/bug-state-machine.js';
import { renderThreadNote } from '../domain/bug-views.js';
import { describeFoldReason } from '../domain/duplicates.js';
import {
  FOLD_REFRESH,
  type FoldTally,
  latestReporters,
  planRefresh,
  shouldPostFoldNote,
  summarizeFoldsForNote,
  tallyFolds,
} from '../domain/fold.js';
import { priorityLabel, reprioritize } from '../domain/priority.js';
import { toPlainLine } from '../domain/untrusted-text.js';
import type { BugRefreshJob } from '../jobs/job-schemas.js';
import type { OutgoingMessage } from '../ports/chat-platform.js';
import type { FoldLedger, RefreshState } from '../ports/fold-ledger.js';
import type { JobQueue } from '../ports/job-queue.js';
import { audit, type BugFlowContext, postInThread, readAnalysis, refreshCard } from './bug-context.js';

/**
 * Folding reports into bugs, by bugbot and by maintainers, and undoing it (issue 12). The
 * decisions are pure (domain/fold.ts); this composes them with the ledger, the bug records, the
 * queue and Discord:
 *
 * - foldReport: a report becomes a duplicate, one fold record is written, and a refresh of its
 *   original is requested — not a Discord post per report.
 * - refreshFoldedBug: the (delayed, coalesced) refresh job: recount, one card edit, a thread note
 *   at milestones, the priority raised with the surge.
 * - splitFoldedReport / mergeBugs: a maintainer's undo and do-by-hand, audited, with the same
 *   effects on counts, card and thread as an automatic fold.
 */

export interface FoldDeps extends BugFlowContext {
  readonly folds: FoldLedger;
  /** The jobs queue: refresh jobs go back to it, delayed. */
  readonly queue: JobQueue;
  /**
   * Refreshes this process scheduled, by bug: when each is due (epoch ms). A fold recorded well
   * before its bug's refresh is due needs no claim (that refresh counts it), which saves one
   * conditional write per report in a storm. Per process (a Lambda container), never shared.
   */
  readonly scheduledRefreshes?: Map<string, number>;
}

/** Clock and delivery slack: a fold this close to a refresh's due time still asks for its own. */
const SCHEDULE_MARGIN_MS = 1_000;

/** Reporters kept on the bug item for display; the count is exact regardless. */
const RECENT_REPORTERS = 10;
/** Bugs merged into bugs merged into …: counted this deep. */
const MAX_MERGE_DEPTH = 4;

// ---------------------------------------------------------------------------------------------
// Automatic folds

export type FoldOutcome =
  | { readonly folded: true; readonly originalId: string }
  /** Someone acted on the bug meanwhile (it is no longer `new`): it stays a bug of its own. */
  | { readonly folded: false; readonly bug: Bug };

/** A new report repeats `originalId` (found open, see triage's findOriginal): fold it in. */
export async function foldReport(
  bug: Bug,
  originalId: string,
  reason: FoldReason,
  deps: FoldDeps,
  /** The report's own audit line, written with the fold's (one write per report in a storm). */
  reported?: string,
): Promise<FoldOutcome> {
  const moved = await deps.records.transitionBug(bug.bugId, ['new'], 'duplicate', {
    duplicateOf: originalId,
    foldReason: reason,
  });
  if (moved.ok) {
    await audit(
      bug.bugId,
      'system',
      'transition',
      `${reported ? `${reported}; ` : ''}new → duplicate of ${originalId} (${describeFoldReason(reason)})`,
      deps,
    );
    deps.metrics?.record('DuplicatesFound', 1);
    await recordFoldOf(moved.bug, deps);
    return { folded: true, originalId };
  }
  const current = moved.current;
  if (current?.status === 'duplicate' && current.duplicateOf) {
    await recordFoldOf(current, deps);
    return { folded: true, originalId: current.duplicateOf };
  }
  return { folded: false, bug: current ?? bug };
}

/**
 * A duplicate's fold record and its original's refresh: also the resume point of a redelivered
 * report, so a crash between the transition and the record loses nothing.
 */
export async function recordFoldOf(bug: Bug, deps: FoldDeps): Promise<void> {
  if (bug.status !== 'duplicate' || !bug.duplicateOf) return;
  await deps.folds.recordFold({
    originalId: bug.duplicateOf,
    bugId: bug.bugId,
    kind: bug.foldReason?.kind === 'manual' ? 'merge' : 'report',
    ...(bug.reporter.id ? { reporterId: bug.reporter.id } : {}),
    at: bug.createdAt,
    ...(bug.foldReason ? { reason: bug.foldReason } : {}),
  });
  // The record is written before the request: a refresh that is already pending (so this request
  // is not needed) releases its claim before it counts, and so counts this record.
  await requestRefresh(bug.duplicateOf, deps);
}

/**
 * Asks for a refresh of `bugId` unless one is pending: at most one refresh job per bug at a time,
 * each delivered after the bug's current window (planRefresh).
 */
export async function requestRefresh(bugId: string, deps: FoldDeps): Promise<void> {
  const now = deps.now().getTime();
  // Delivered no earlier than it is due, the refresh this process scheduled releases its claim and
  // counts after that: a record written before then is counted without another claim.
  const due = deps.scheduledRefreshes?.get(bugId);
  if (due !== undefined && now < due - SCHEDULE_MARGIN_MS) return;
  const key = `refresh:${bugId}:${now.toString(36)}${Math.random().toString(36).slice(2, 8)}`;
  const lostAfter = now + (FOLD_REFRESH.lateWindowSeconds * 1000 + FOLD_REFRESH.lostAfterMs);
  const claim = await deps.folds.claimRefresh(bugId, { key, now, lostAfter });
  if (!claim.claimed) return;
  const plan = planRefresh({
    now,
    lastRefreshAt: claim.state.lastRefreshAt,
    stormStartedAt: claim.state.stormStartedAt,
  });
  try {
    if (plan.stormStartedAt !== claim.state.stormStartedAt)
      await deps.folds.setStormStart(bugId, plan.stormStartedAt);
    const job: BugRefreshJob = {
      v: 1,
      kind: 'bug.refresh',
      idempotencyKey: key,
      receivedAt: new Date(now).toISOString(),
      bugId,
    };
    await deps.queue.send(job, { delaySeconds: plan.delaySeconds });
    rememberRefresh(bugId, now + plan.delaySeconds * 1000, deps);
  } catch (error) {
    // Without its job the claim would block every refresh until it is considered lost.
    await deps.folds.abandonRefresh(bugId, key).catch(() => undefined);
    throw error;
  }
}

function rememberRefresh(bugId: string, due: number, deps: FoldDeps): void {
  const memo = deps.scheduledRefreshes;
  if (!memo) return;
  // Bounded: a long-lived container must not keep every bug it ever refreshed.
  if (memo.size > 1_000) {
    for (const [key, at] of memo) if (at < due - 3_600_000 || memo.size > 1_000) memo.delete(key);
  }
  memo.set(bugId, due);
}

// ---------------------------------------------------------------------------------------------
// The refresh

/** The refresh job: recount, card, note. Safe to repeat; a lost run is repeated by the next fold. */
export async function refreshFoldedBug(job: BugRefreshJob, deps: FoldDeps): Promise<void> {
  const now = deps.now();
  // Released before counting: a fold recorded after this point requests a refresh of its own.
  const state = await deps.folds.releaseRefresh(job.bugId, job.idempotencyKey, now.getTime());
  const bug = await deps.records.getBug(job.bugId);
  if (!bug) return;
  await flushPendingNote(bug, state, deps);
  const { bug: shown, tally } = await recount(bug, now.toISOString(), deps);
  await refreshCard(shown, deps);
  await noteNewFolds(shown, tally, state, now.getTime(), deps);
}

/**
 * Counts the bug's reports and reporters from its fold records (and those of bugs merged into
 * it) and stores the counts, the latest reporters and — once analysed — the priority they make.
 */
export async function recount(
  bug: Bug,
  countedAt: string,
  deps: FoldDeps,
): Promise<{ readonly bug: Bug; readonly tally: FoldTally }> {
  const tally = await tallyOf(bug, 0, new Set([bug.bugId]), deps);
  const counts = {
    reportCount: tally.reportIds.size,
    reporterCount: tally.reporterIds.size,
    lastReportAt: tally.lastReportAt,
    recentReporters: latestReporters(tally.records, RECENT_REPORTERS),
  };
  const analysis = readAnalysis(bug);
  const priority =
    analysis?.state === 'done' && analysis.priority
      ? reprioritize(analysis.priority, {
          reportCount: counts.reportCount,
          distinctReporters: counts.reporterCount,
        })
      : undefined;
  const saved = (await deps.records.saveFoldCounts(bug, counts, { countedAt, priority })) ?? bug;
  if (priority && bug.priority !== null && saved.priority !== bug.priority) {
    await audit(
      bug.bugId,
      'system',
      'priority',
      `${priorityLabel(bug.priority)} → ${priorityLabel(saved.priority)}: ${counts.reportCount} reports from ${counts.reporterCount} people`,
      deps,
    );
  }
  return { bug: saved, tally };
}

async function tallyOf(bug: Bug, depth: number, seen: Set<string>, deps: FoldDeps): Promise<FoldTally> {
  const records = await deps.folds.listFolds(bug.bugId);
  const merged = new Map<string, FoldTally>();
  for (const record of records) {
    if (record.kind !== 'merge' || depth >= MAX_MERGE_DEPTH || seen.has(record.bugId)) continue;
    seen.add(record.bugId);
    const inner = await deps.records.getBug(record.bugId);
    // Only while it is still merged here: a bug split out again counts on its own.
    if (inner?.duplicateOf === bug.bugId)
      merged.set(record.bugId, await tallyOf(inner, depth + 1, seen, deps));
  }
  return tallyFolds(bug, records, merged);
}

/** A note claimed by a refresh that stopped before confirming it is posted now (deduplicated). */
async function flushPendingNote(bug: Bug, state: RefreshState, deps: FoldDeps): Promise<void> {
  const note = state.pendingNote;
  if (!note) return;
  await postInThread(bug, note.key, { content: note.content }, deps);
  await deps.folds.finishNote(bug.bugId, note.key);
}

async function noteNewFolds(
  bug: Bug,
  tally: FoldTally,
  state: RefreshState,
  now: number,
  deps: FoldDeps,
): Promise<void> {
  // Until the card has its thread the note waits: the first refresh after it covers these reports.
  if (!bug.card?.threadId || queueOfStatus(bug.status) === 'closed') return;
  const total = tally.reportIds.size;
  if (!shouldPostFoldNote({ total, notedCount: state.notedCount, notedAt: state.notedAt, now })) return;
  const since = state.notedAt === undefined ? undefined : new Date(state.notedAt).toISOString();
  const summary = summarizeFoldsForNote(tally, state.notedCount, since);
  const note = {
    key: `folds:${total}`,
    content: renderThreadNote('reports_folded', summary).content ?? '',
    count: total,
  };
  if (!(await deps.folds.claimNote(bug.bugId, state.notedCount, note, now))) return;
  await postInThread(bug, note.key, { content: note.content }, deps);
  await deps.folds.finishNote(bug.bugId, note.key);
  await audit(
    bug.bugId,
    'system',
    'duplicates_noted',
    `${summary.newReports} report(s) folded in since the last note; ${total} from ${summary.people} people in all`,
    deps,
  );
}

// ---------------------------------------------------------------------------------------------
// Undo and do by hand

export interface SplitDeps extends FoldDeps {
  /** Makes a split-out bug a bug of its own: its analysis (unless it has one) and its card. */
  readonly triageOnItsOwn: (bug: Bug) => Promise<Bug>;
}

export interface Maintainer {
  readonly userId: string;
  readonly username: string;
}

/**
 * Splits a folded report (or a bug merged by hand) back out of its original: it becomes a bug of
 * its own with its own analysis and card, its original's counts drop, both are audited and told,
 * and the original is remembered (`notDuplicateOf`) so bugbot never folds it back in.
 */
export async function splitFoldedReport(
  bugId: string,
  by: Maintainer,
  deps: SplitDeps,
): Promise<OutgoingMessage> {
  const actor = actorOf(by);
  let bug = await deps.records.getBug(bugId);
  if (!bug) return reply(`I don't know a bug with the id \`${toPlainLine(bugId, 80)}\`.`);
  let originalId: string | undefined;
  if (bug.status === 'duplicate' && bug.duplicateOf) {
    originalId = bug.duplicateOf;
    const reason = bug.foldReason ? describeFoldReason(bug.foldReason) : 'no reason recorded';
    const split = await deps.records.splitOut(bug.bugId, originalId);
    if (split.ok) {
      bug = split.bug;
      await audit(
        bug.bugId,
        actor,
        'split',
        `split out of ${originalId} (it was folded in: ${reason})`,
        deps,
      );
      await audit(originalId, actor, 'split', `${bug.bugId} split out (it was folded in: ${reason})`, deps);
    } else if (split.current?.notDuplicateOf?.includes(originalId)) {
      bug = split.current; // split by another click meanwhile: finish the same work
    } else {
      return reply('That bug changed meanwhile; look at its card and try again.');
    }
  } else if (bug.notDuplicateOf && bug.notDuplicateOf.length > 0 && queueOfStatus(bug.status) === 'open') {
    // A split that did not finish (or a second click): the same steps, each done once.
    originalId = bug.notDuplicateOf[bug.notDuplicateOf.length - 1];
  }
  if (!originalId) {
    return reply(
      `\`${bug.bugId}\` is not folded into another bug (it is ${describeStatus(bug.status)}), so there is nothing to split.`,
    );
  }

  await deps.folds.removeFold(originalId, bug.bugId);
  const original = await deps.records.getBug(originalId);
  let originalCounts = '';
  if (original) {
    const { bug: recounted } = await recount(original, deps.now().toISOString(), deps);
    await refreshCard(recounted, deps);
    await postInThread(
      recounted,
      `split:${bug.bugId}`,
      renderThreadNote('report_split', {
        by: by.username,
        bugId: bug.bugId,
        reports: recounted.reportCount,
        people: countReporters(recounted),
      }),
      deps,
    );
    originalCounts = ` \`${originalId}\` now counts ${recounted.reportCount} report(s) from ${countReporters(recounted)} people.`;
    // The original was itself merged into another bug, which counts its reports too.
    if (recounted.status === 'duplicate' && recounted.duplicateOf)
      await requestRefresh(recounted.duplicateOf, deps);
  }
  const own = await deps.triageOnItsOwn(bug);
  // A bug merged by hand and split out again keeps the reports folded into it.
  if (await deps.folds.hasFolds(own.bugId)) await requestRefresh(own.bugId, deps);
  return reply(
    `Split \`${own.bugId}\` out of \`${originalId}\`: it is a bug of its own now, with its own card, and bugbot will not fold it back in.${originalCounts}`,
  );
}

/**
 * A maintainer marks `bugId` a duplicate of `intoId`: the same effects as an automatic fold (its
 * reports and reporters count on `intoId`, both threads told, both cards updated, audited). The
 * merged bug's card stays, edited to say whose duplicate it is, with its buttons disabled except
 * View Details (from which it can be split out again).
 */
export async function mergeBugs(
  bugId: string,
  intoId: string,
  by: Maintainer,
  deps: FoldDeps,
): Promise<OutgoingMessage> {
  const actor = actorOf(by);
  if (bugId === intoId) return reply('A bug cannot be a duplicate of itself.');
  const [bug, into] = await Promise.all([deps.records.getBug(bugId), deps.records.getBug(intoId)]);
  if (!bug) return reply(`I don't know a bug with the id \`${toPlainLine(bugId, 80)}\`.`);
  if (!into) return reply(`I don't know a bug with the id \`${toPlainLine(intoId, 80)}\`.`);
  if (into.status === 'duplicate') {
    return reply(
      `\`${intoId}\` is itself a duplicate of \`${into.duplicateOf ?? '?'}\`: merge into that bug instead.`,
    );
  }
  if (queueOfStatus(into.status) === 'closed') {
    return reply(
      `\`${intoId}\` is ${describeStatus(into.status)}: bugbot never folds reports into a closed bug.`,
    );
  }
  let merged: Bug;
  if (bug.status === 'duplicate') {
    if (bug.duplicateOf !== intoId) {
      return reply(
        `\`${bugId}\` is already a duplicate of \`${bug.duplicateOf ?? '?'}\`; split it out first (\`/bugbot split\`).`,
      );
    }
    merged = bug; // merged before: finish what may not have been done
  } else {
    if (!canTransition(bug.status, 'duplicate')) {
      return reply(
        `\`${bugId}\` is ${describeStatus(bug.status)}: a bug with an issue or a fix, or a closed one, cannot be merged away. Close it instead.`,
      );
    }
    const reason: FoldReason = { kind: 'manual', by: by.username };
    const moved = await deps.records.transitionBug(bug.bugId, ['new', 'analyzing', 'triaged'], 'duplicate', {
      duplicateOf: intoId,
      foldReason: reason,
    });
    if (!moved.ok) return reply('That bug changed meanwhile; look at its card and try again.');
    merged = moved.bug;
    await audit(
      bug.bugId,
      actor,
      'transition',
      `${bug.status} → duplicate of ${intoId} (merged by hand)`,
      deps,
    );
    await audit(intoId, actor, 'merged', `${bug.bugId} merged into this bug`, deps);
    deps.metrics?.record('DuplicatesFound', 1);
  }
  await deps.folds.recordFold({
    originalId: intoId,
    bugId: merged.bugId,
    kind: 'merge',
    ...(merged.reporter.id ? { reporterId: merged.reporter.id } : {}),
    at: deps.now().toISOString(),
    reason: merged.foldReason ?? { kind: 'manual', by: by.username },
  });
  await refreshCard(merged, deps);
  await postInThread(
    merged,
    `merged-into:${intoId}`,
    renderThreadNote('merged_into', { by: by.username, intoId }),
    deps,
  );
  const { bug: recounted } = await recount(into, deps.now().toISOString(), deps);
  await refreshCard(recounted, deps);
  await postInThread(
    recounted,
    `merged:${merged.bugId}`,
    renderThreadNote('bug_merged', {
      by: by.username,
      bugId: merged.bugId,
      mergedReports: merged.reportCount,
      reports: recounted.reportCount,
      people: countReporters(recounted),
    }),
    deps,
  );
  return reply(
    `Merged \`${merged.bugId}\` into \`${intoId}\`, which now counts ${recounted.reportCount} report(s) from ${countReporters(recounted)} people. Undo with \`/bugbot split bug:${merged.bugId}\`.`,
  );
}

function actorOf(by: Maintainer): string {
  return `${by.username} (${by.userId})`;
}

function reply(content: string): OutgoingMessage {
  return { content, ephemeral: true };
}
