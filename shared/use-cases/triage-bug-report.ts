import { type Bug, createNewBug, MAX_REMEMBERED_REPORTS, queueOfStatus } from '../domain/bug.js';
import { renderThreadNote } from '../domain/bug-views.js';
import { buildDuplicateText, type DuplicateCandidate, findDuplicate } from '../domain/duplicates.js';
import { ServiceError } from '../domain/errors.js';
import { type ErrorSignature, extractReportSignature } from '../domain/fingerprint.js';
import { computePriority, toBugSeverity } from '../domain/priority.js';
import { rankRecordings } from '../domain/recordings.js';
import { createSimilarityIndex } from '../domain/similarity.js';
import { toPlainLine } from '../domain/untrusted-text.js';
import type { BugReportJob } from '../jobs/job-schemas.js';
import type { Analyst } from '../ports/analyst.js';
import type { SessionInsights, SessionReplay } from '../ports/session-replay.js';
import {
  audit,
  type BugFlowContext,
  cardFor,
  postInThread,
  readAnalysis,
  refreshCard,
  reportDetails,
} from './bug-context.js';
import { finishRegression, isRegressionOf, reopenIfRegression } from './reopen-regression.js';

export interface TriageDeps extends BugFlowContext {
  readonly analyst: Analyst;
  readonly replay: SessionReplay;
  readonly settings: {
    readonly bugChannelId: string;
    /** How many open bugs duplicates are looked for among. */
    readonly duplicateCandidates?: number;
    readonly replayLookbackDays?: number;
  };
}

export type TriageOutcome =
  | { readonly kind: 'triaged'; readonly bug: Bug }
  | { readonly kind: 'duplicate'; readonly bugId: string; readonly originalId: string };

/**
 * Seed 001's heart: a report becomes a bug; a duplicate is folded into its original (counts up,
 * a note in the original's thread, no new card); anything else is analysed by Claude, given a
 * priority, and posted as a card with a thread. Every step is safe to repeat, so a redelivered
 * job resumes where the last attempt stopped.
 */
export async function triageBugReport(job: BugReportJob, deps: TriageDeps): Promise<TriageOutcome> {
  const { report } = job;
  const signature = extractReportSignature({
    description: report.description,
    console_logs: report.console_logs,
  });
  const created = await deps.records.putNewBug(
    createNewBug(
      {
        bugId: job.bugId,
        title: titleOf(report.description),
        description: report.description,
        reporter: { id: report.user_id ?? undefined, email: report.user_email ?? undefined },
        fingerprint: signature?.fingerprint ?? undefined,
        report: reportDetails(report),
        // Remembered so the product can be told about its own user's report (BUG_STATUS_WEBHOOK_URL).
        reportRef: {
          id: report.id === undefined || report.id === null ? undefined : String(report.id),
          userId: report.user_id ?? undefined,
          userEmail: report.user_email ?? undefined,
        },
      },
      deps.now().toISOString(),
    ),
  );
  let bug = created.created ? created.bug : created.existing;
  if (created.created) await audit(bug.bugId, 'webhook', 'reported', `report ${job.idempotencyKey}`, deps);

  if (bug.status === 'duplicate' && bug.duplicateOf) {
    if (isRegressionOf(bug, await deps.records.getBug(bug.duplicateOf))) {
      await finishRegression(bug, bug.duplicateOf, deps);
      return { kind: 'duplicate', bugId: bug.bugId, originalId: bug.duplicateOf };
    }
    return foldIntoOriginal(bug, bug.duplicateOf, deps);
  }
  if (bug.status === 'new') {
    // A resolved bug's crash again: reopened, never a new bug (reopen-regression.ts).
    const regressedId = await reopenIfRegression(bug, signature, deps);
    if (regressedId) return { kind: 'duplicate', bugId: bug.bugId, originalId: regressedId };
    const originalId = await findOriginal(bug, signature, deps);
    if (originalId) {
      const moved = await deps.records.transitionBug(bug.bugId, ['new'], 'duplicate', {
        duplicateOf: originalId,
      });
      if (moved.ok) {
        await audit(bug.bugId, 'system', 'transition', `new → duplicate of ${originalId}`, deps);
        deps.metrics?.record('DuplicatesFound', 1);
      }
      return foldIntoOriginal(moved.ok ? moved.bug : (moved.current ?? bug), originalId, deps);
    }
  }

  // Also when someone acted on a pending card meanwhile (Create Issue): the analysis still lands.
  if (queueOfStatus(bug.status) === 'open' && readAnalysis(bug)?.state !== 'done') {
    bug = await analyze(bug, job.receivedAt, deps);
  }
  await ensureCard(bug, deps);
  // Also on a redelivery: the event's id is derived from the bug, so the product hears it once.
  if (queueOfStatus(bug.status) === 'open' && bug.status !== 'new' && bug.status !== 'analyzing') {
    await deps.announce?.('bug.triaged', bug);
  }
  return { kind: 'triaged', bug };
}

async function analyze(bug: Bug, receivedAt: string, deps: TriageDeps): Promise<Bug> {
  if (bug.status === 'new') {
    const moved = await deps.records.transitionBug(bug.bugId, ['new'], 'analyzing');
    if (moved.ok) {
      await audit(bug.bugId, 'system', 'transition', 'new → analyzing', deps);
      bug = moved.bug;
    } else if (moved.current) {
      bug = moved.current;
      if (queueOfStatus(bug.status) === 'closed') return bug;
    }
  }

  const insights = await gatherReplay(bug, deps);
  let result: Awaited<ReturnType<Analyst['analyzeBug']>>;
  try {
    result = await deps.analyst.analyzeBug({
      report: {
        description: bug.description,
        consoleLogs: bug.report?.consoleLogs,
        url: bug.report?.url,
        appVersion: bug.report?.appVersion,
        deviceInfo: bug.report?.deviceInfo,
      },
      replaySummary: insights?.summary,
    });
  } catch (error) {
    // Show the bug now either way: "analysis pending" while the job retries, "analysis failed"
    // (and back to `new`, so people can act on it) when another try cannot help.
    const retryable = error instanceof ServiceError && error.retryable;
    const marked = await deps.records.updateBug(
      bug.bugId,
      { analysis: { state: retryable ? 'pending' : 'failed', replayUrl: insights?.replayUrl } },
      bug.version,
    );
    let shown = marked.ok ? marked.bug : (marked.current ?? bug);
    if (!retryable) shown = await giveUpAnalysis(shown, deps);
    await ensureCard(shown, deps);
    throw error;
  }

  const priority = computePriority({
    severity: result.severity,
    crashEvidence:
      Boolean(
        extractReportSignature({ description: bug.description, console_logs: bug.report?.consoleLogs }),
      ) || (insights?.exceptions ?? 0) > 0,
    reportCount: bug.reportCount,
    distinctReporters: bug.distinctReporters.length,
    rageClicks: insights?.rageClicks,
  });
  const patch = {
    analysis: { state: 'done', result, priority, replayUrl: insights?.replayUrl },
    priority: priority.priority,
    severity: toBugSeverity(result.severity),
  } as const;
  const moved = await deps.records.transitionBug(bug.bugId, ['analyzing'], 'triaged', patch);
  if (!moved.ok) {
    // Someone acted on the pending card meanwhile (e.g. Create Issue): keep their status, store the analysis.
    const current = moved.current;
    if (!current || queueOfStatus(current.status) === 'closed') return current ?? bug;
    const stored = await deps.records.updateBug(bug.bugId, patch, current.version);
    return stored.ok ? stored.bug : current;
  }
  deps.metrics?.record('TriageLatency', Math.max(0, deps.now().getTime() - Date.parse(receivedAt)));
  await audit(
    bug.bugId,
    'system',
    'transition',
    `analyzing → triaged (P${priority.priority}, severity ${result.severity}/5)`,
    deps,
  );
  return moved.bug;
}

/** The analysis will not come: `analyzing → new`, so the bug is not stuck half-way. */
export async function giveUpAnalysis(bug: Bug, context: BugFlowContext): Promise<Bug> {
  if (bug.status !== 'analyzing') return bug;
  const moved = await context.records.transitionBug(bug.bugId, ['analyzing'], 'new');
  if (!moved.ok) return moved.current ?? bug;
  await audit(bug.bugId, 'system', 'transition', 'analyzing → new (analysis failed)', context);
  return moved.bug;
}

interface ReplayEvidence {
  readonly summary: string;
  readonly exceptions: number;
  readonly rageClicks: number;
  readonly replayUrl?: string;
}

/** The reporter's session, when the report names one or an e-mail; best effort. */
async function gatherReplay(bug: Bug, deps: TriageDeps): Promise<ReplayEvidence | undefined> {
  try {
    let sessionId = bug.report?.posthogSessionId;
    let replayUrl: string | undefined;
    if (sessionId) {
      replayUrl = (await deps.replay.getRecording(sessionId))?.replayUrl;
    } else if (bug.reporter.email) {
      const person = await deps.replay.findPersonByEmail(bug.reporter.email);
      if (!person) return undefined;
      const now = deps.now();
      const days = deps.settings.replayLookbackDays ?? 14;
      const recordings = rankRecordings(
        await deps.replay.listRecordings({
          personId: person.id,
          dateFrom: new Date(now.getTime() - days * 86_400_000),
          limit: 25,
        }),
        now,
      );
      sessionId = recordings[0]?.id;
      replayUrl = recordings[0]?.replayUrl;
    }
    if (!sessionId) return undefined;
    const insights = await deps.replay.getSessionInsights(sessionId);
    return {
      summary: summarizeInsights(insights),
      exceptions: insights.exceptions.length,
      rageClicks: insights.rageClicks.length,
      replayUrl,
    };
  } catch {
    return undefined;
  }
}

function summarizeInsights(insights: SessionInsights): string {
  const lines = [
    `Exceptions (${insights.exceptions.length}):`,
    ...insights.exceptions
      .slice(0, 10)
      .map(
        (exception) =>
          `- ${exception.type}: ${exception.message}${exception.url ? ` at ${exception.url}` : ''}`,
      ),
    `Rage clicks: ${insights.rageClicks.length}${insights.rageClicks[0]?.element ? ` (e.g. on ${insights.rageClicks[0].element})` : ''}`,
    `Pages visited: ${insights.pagesVisited.slice(0, 10).join(' → ') || 'none recorded'}`,
  ];
  return lines.join('\n');
}

/**
 * The open bug this report repeats, if any: the crash fingerprint first (claimed once per
 * fingerprint, so two simultaneous reports of one new crash still make one bug), then text
 * similarity against recent open bugs (see similarity.ts for the method and its threshold).
 */
async function findOriginal(
  bug: Bug,
  signature: ErrorSignature | null,
  deps: TriageDeps,
): Promise<string | null> {
  if (signature?.fingerprint) {
    const claim = await deps.records.claimFingerprint(signature.fingerprint, bug.bugId);
    if (!claim.claimed) {
      const original = await deps.records.getBug(claim.bugId);
      if (original && queueOfStatus(original.status) === 'open') return original.bugId;
    }
  }
  // Only a bug reported before this one can be its original: two reports of one new crash
  // processed side by side must not each become the other's duplicate.
  const open = (await deps.records.listOpenBugs(deps.settings.duplicateCandidates ?? 500)).filter(
    (candidate) => isEarlier(candidate, bug),
  );
  if (open.length === 0) return null;
  const index = createSimilarityIndex();
  const candidates: DuplicateCandidate[] = [];
  for (const candidate of open) {
    const text = { description: candidate.description, console_logs: candidate.report?.consoleLogs };
    const candidateSignature = extractReportSignature(text);
    index.add(candidate.bugId, buildDuplicateText(text, candidateSignature), undefined);
    candidates.push({
      bugId: candidate.bugId,
      status: candidate.status,
      fingerprint: candidate.fingerprint ?? null,
      errorType: candidateSignature?.errorType ?? null,
      createdAt: candidate.createdAt,
      updatedAt: candidate.updatedAt,
    });
  }
  const match = findDuplicate(
    { description: bug.description, console_logs: bug.report?.consoleLogs },
    index,
    candidates,
    { now: deps.now().getTime(), signature },
  );
  return match.kind === 'none' ? null : match.bugId;
}

function isEarlier(a: Bug, b: Bug): boolean {
  return a.createdAt < b.createdAt || (a.createdAt === b.createdAt && a.bugId < b.bugId);
}

/** Counts the report on the original (once, keyed on this bug) and says so in its thread. */
async function foldIntoOriginal(bug: Bug, originalId: string, deps: TriageDeps): Promise<TriageOutcome> {
  const before = await deps.records.getBug(originalId);
  const counted = await deps.records.incrementDuplicate(originalId, bug.bugId, bug.reporter.id);
  const ownReport = bug.reports?.find((report) => report.bugId === bug.bugId);
  if (counted && ownReport) await deps.records.rememberReport(originalId, ownReport, MAX_REMEMBERED_REPORTS);
  const original = counted;
  if (original) {
    const newReporter = bug.reporter.id ? !before?.distinctReporters.includes(bug.reporter.id) : undefined;
    await postInThread(
      original,
      `duplicate:${bug.bugId}`,
      renderThreadNote('duplicate_linked', { reportNumber: original.reportCount, newReporter }),
      deps,
    );
    await audit(
      originalId,
      'system',
      'duplicate_linked',
      `${bug.bugId} folded in (report #${original.reportCount})`,
      deps,
    );
    await refreshCard(original, deps);
    await deps.announce?.('bug.duplicate', bug, { duplicateOf: original });
  }
  return { kind: 'duplicate', bugId: bug.bugId, originalId };
}

/** Posts the card (and its thread) once, or brings the posted card up to date. */
async function ensureCard(bug: Bug, deps: TriageDeps): Promise<void> {
  if (bug.card?.threadId) {
    await refreshCard(bug, deps);
    return;
  }
  const channelId = deps.settings.bugChannelId;
  let current = bug;
  let card = bug.card;
  if (!card) {
    const posted = await deps.chat.postMessage(channelId, cardFor(bug), { nonce: `card:${bug.bugId}` });
    card = { channelId, messageId: posted.id };
    // Saved before anything else can fail: Discord's nonce only dedupes a repost for minutes.
    current = await saveCard(current, card, deps);
    await audit(bug.bugId, 'system', 'card_posted', `card ${posted.id}`, deps);
  } else {
    await refreshCard(bug, deps);
  }
  const thread = await deps.chat.startThread(
    card.channelId,
    card.messageId,
    toPlainLine(`Bug: ${bug.title}`, 100),
  );
  await deps.records.linkReference('thread', thread.id, bug.bugId);
  await saveCard(current, { ...card, threadId: thread.id }, deps);
}

async function saveCard(bug: Bug, card: NonNullable<Bug['card']>, deps: TriageDeps): Promise<Bug> {
  const saved = await deps.records.updateBug(bug.bugId, { card }, bug.version);
  if (saved.ok) return saved.bug;
  if (!saved.current) return bug;
  const retried = await deps.records.updateBug(bug.bugId, { card }, saved.current.version);
  return retried.ok ? retried.bug : saved.current;
}

function titleOf(description: string): string {
  const firstLine = description.split('\n').find((line) => line.trim().length > 0) ?? '';
  const title = toPlainLine(firstLine, 100);
  return title.length > 0 ? title : 'Bug report';
}
