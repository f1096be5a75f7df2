import {
  type Bug,
  type BugStatus,
  countReporters,
  createNewBug,
  type FoldReason,
  MAX_REMEMBERED_REPORTS,
  queueOfStatus,
} from '../domain/bug.js';
import { describeFailure } from '../domain/describe-failure.js';
import {
  buildDuplicateText,
  type DuplicateCandidate,
  explainFingerprintMatch,
  explainSimilarMatch,
  findDuplicate,
} from '../domain/duplicates.js';
import { AnalysisUnusableError, ServiceError } from '../domain/errors.js';
import { type ErrorSignature, extractReportSignature } from '../domain/fingerprint.js';
import { computePriority, toBugSeverity } from '../domain/priority.js';
import { rankRecordings } from '../domain/recordings.js';
import { boundReport, mergeCuts } from '../domain/report-bounds.js';
import { createSimilarityIndex } from '../domain/similarity.js';
import { toPlainLine } from '../domain/untrusted-text.js';
import type { BugReportJob } from '../jobs/job-schemas.js';
import type { Analyst } from '../ports/analyst.js';
import type { SessionInsights, SessionReplay } from '../ports/session-replay.js';
import {
  audit,
  type BugFlowContext,
  cardFor,
  postOnce,
  readAnalysis,
  refreshCard,
  reportDetails,
} from './bug-context.js';
import { type FoldDeps, foldReport, recordFoldOf, requestRefresh } from './fold-reports.js';
import { finishRegression, isRegressionOf, reopenRegression } from './reopen-regression.js';

export interface TriageDeps extends FoldDeps {
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
 * Seed 001's heart: a report becomes a bug; a duplicate is folded into its original (one fold
 * record, and the original's coalesced refresh counts it, updates its card and tells its thread:
 * see fold-reports.ts; no new card); anything else is analysed by Claude, given a priority, and
 * posted as a card with a thread. Every step is safe to repeat, so a redelivered job resumes
 * where the last attempt stopped.
 */
export async function triageBugReport(job: BugReportJob, deps: TriageDeps): Promise<TriageOutcome> {
  // A bug is one DynamoDB item (400 KB at most): every field is capped, and the cuts said.
  const bounded = boundReport(job.report);
  const report = bounded.report;
  const cuts = mergeCuts(job.cuts ?? [], bounded.cuts);
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
        reporter: { id: report.user_id, email: report.user_email },
        fingerprint: signature?.fingerprint ?? undefined,
        report: reportDetails(report, cuts),
        // Remembered so the product can be told about its own user's report (BUG_STATUS_WEBHOOK_URL).
        reportRef: { id: report.id, userId: report.user_id, userEmail: report.user_email },
      },
      deps.now().toISOString(),
    ),
  );
  let bug = created.created ? created.bug : created.existing;
  // A report folded into another bug is audited once, with the fold (see foldReport); any other is
  // audited here. A crash in between loses only this line of the trail, as before.
  const reported = `report ${job.idempotencyKey}`;

  // A redelivered report that was already folded: make sure it is counted (and, when it reopened
  // a resolved bug, that the regression was told), nothing more.
  if (bug.status === 'duplicate' && bug.duplicateOf) {
    await recordFoldOf(bug, deps);
    if (isRegressionOf(bug, await deps.records.getBug(bug.duplicateOf))) {
      await finishRegression(bug, bug.duplicateOf, deps);
    } else {
      await tellProductOfFold(bug, bug.duplicateOf, deps);
    }
    return { kind: 'duplicate', bugId: bug.bugId, originalId: bug.duplicateOf };
  }
  // A bug a maintainer split out is a bug of its own by their decision: never looked at again.
  if (bug.status === 'new' && !(bug.notDuplicateOf && bug.notDuplicateOf.length > 0)) {
    const folded = await foldIfDuplicate(bug, signature, created.created ? reported : undefined, deps);
    if (folded.kind === 'duplicate') return folded;
    bug = folded.bug;
  }
  if (created.created) await audit(bug.bugId, 'webhook', 'reported', reported, deps);
  return { kind: 'triaged', bug: await triageOnItsOwn(bug, job.receivedAt, deps) };
}

/**
 * A bug that is no duplicate (or no longer one: split out by a maintainer) gets its analysis,
 * unless it has one, and its card with a thread.
 */
export async function triageOnItsOwn(bug: Bug, receivedAt: string, deps: TriageDeps): Promise<Bug> {
  let current = bug;
  const analysis = readAnalysis(current);
  if (current.status === 'new' && analysis?.state === 'done') {
    // Split out after it had been analysed (a bug merged by hand): its analysis stands.
    const moved = await deps.records.transitionBug(current.bugId, ['new'], 'triaged');
    if (moved.ok) await audit(current.bugId, 'system', 'transition', 'new → triaged (analysis kept)', deps);
    current = moved.ok ? moved.bug : (moved.current ?? current);
  } else if (queueOfStatus(current.status) === 'open' && analysis?.state !== 'done') {
    // Also when someone acted on a pending card meanwhile (Create Issue): the analysis still lands.
    current = await analyze(current, receivedAt, deps);
  }
  await ensureCard(current, deps);
  // Also on a redelivery: the event's id is derived from the bug, so the product hears it once.
  if (
    queueOfStatus(current.status) === 'open' &&
    current.status !== 'new' &&
    current.status !== 'analyzing'
  ) {
    await deps.announce?.('bug.triaged', current);
  }
  return current;
}

/** The product hears that its user's report joined a known bug (once: the event id is derived). */
async function tellProductOfFold(bug: Bug, originalId: string, deps: TriageDeps): Promise<void> {
  const ownReport = bug.reports?.find((report) => report.bugId === bug.bugId);
  // Only reports from the product are told about; the storm path pays nothing more otherwise.
  if (!ownReport || !deps.announce) return;
  await deps.records.rememberReport(originalId, ownReport, MAX_REMEMBERED_REPORTS);
  const original = await deps.records.getBug(originalId);
  if (original)
    await deps.announce('bug.duplicate', { ...bug, duplicateOf: originalId }, { duplicateOf: original });
}

/**
 * The report repeats an open bug: fold it in. A crash whose bug was closed is never folded into
 * it (closed-by-fingerprint): a `resolved` one comes back as `regressed` (reopen-regression.ts),
 * the report folded into it; any other closed bug (dismissed) makes way for a new bug that takes
 * the fingerprint over, so the rest of a storm folds into the new bug rather than each report
 * becoming one.
 */
async function foldIfDuplicate(
  bug: Bug,
  signature: ErrorSignature | null,
  reported: string | undefined,
  deps: TriageDeps,
): Promise<TriageOutcome | { readonly kind: 'own'; readonly bug: Bug }> {
  // Bounded: each extra round means another report took the fingerprint over meanwhile.
  for (let attempt = 0; attempt < 3; attempt += 1) {
    const match = await findOriginal(bug, signature, deps);
    if (match.kind === 'open') {
      const folded = await foldReport(bug, match.bugId, match.reason, deps, reported);
      if (!folded.folded) return { kind: 'own', bug: folded.bug };
      await tellProductOfFold(bug, folded.originalId, deps);
      return { kind: 'duplicate', bugId: bug.bugId, originalId: folded.originalId };
    }
    if (match.kind === 'none') return { kind: 'own', bug };
    if (match.status === 'resolved' && signature) {
      const reopened = await reopenRegression(bug, match.bugId, signature, deps, reported);
      if (reopened.kind === 'folded') return { kind: 'duplicate', bugId: bug.bugId, originalId: match.bugId };
      if (reopened.kind === 'own') return { kind: 'own', bug: reopened.bug };
      // Another report of the same crash reopened it first: it is open now; the next round folds.
      continue;
    }
    if (signature?.fingerprint && (await adoptClosedFingerprint(bug, signature.fingerprint, match, deps))) {
      return { kind: 'own', bug };
    }
  }
  return { kind: 'own', bug };
}

/**
 * A new bug takes over a fingerprint whose bug is closed (only if that bug still owns it, so of
 * concurrent reports exactly one does; the others then find the new bug open and fold into it).
 */
async function adoptClosedFingerprint(
  bug: Bug,
  fingerprint: string,
  match: Extract<OriginalMatch, { kind: 'closed-by-fingerprint' }>,
  deps: TriageDeps,
): Promise<boolean> {
  const adopted = await deps.records.takeOverFingerprint(fingerprint, match.ownerId, bug.bugId);
  if (adopted) {
    await audit(
      bug.bugId,
      'system',
      'same_crash_as_closed',
      `same crash as ${match.bugId}, which is ${match.status}: a new bug, not folded into a closed one`,
      deps,
    );
  }
  return adopted;
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
      {
        analysis: {
          state: retryable ? 'pending' : 'failed',
          replayUrl: insights?.replayUrl,
          // A refusal or an over-long answer is said as what it is on the card.
          ...(!retryable && error instanceof AnalysisUnusableError ? { failure: error.plainReason } : {}),
        },
      },
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
    distinctReporters: countReporters(bug),
    rageClicks: insights?.rageClicks,
  });
  const patch = {
    analysis: {
      state: 'done',
      result,
      priority,
      replayUrl: insights?.replayUrl,
      ...(insights?.unavailable ? { replayUnavailable: insights.unavailable } : {}),
    },
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
  readonly summary?: string;
  readonly exceptions: number;
  readonly rageClicks: number;
  readonly replayUrl?: string;
  /** Set when PostHog failed: the analysis goes ahead without the session, and the card says so. */
  readonly unavailable?: string;
}

/** The reporter's session, when the report names one or an e-mail; best effort, said when missing. */
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
  } catch (error) {
    return { exceptions: 0, rageClicks: 0, unavailable: describeFailure('PostHog', error) };
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

export type OriginalMatch =
  /** Fold into this open bug, for this reason. */
  | { readonly kind: 'open'; readonly bugId: string; readonly reason: FoldReason }
  /**
   * The crash fingerprint belongs to a closed bug (`bugId`, reached from the fingerprint's owner
   * `ownerId` through any merges). Never folded into: a `resolved` one is a regression, anything
   * else becomes a new bug.
   */
  | {
      readonly kind: 'closed-by-fingerprint';
      readonly bugId: string;
      readonly ownerId: string;
      readonly status: BugStatus;
    }
  | { readonly kind: 'none' };

/** Merges chain (A into B into C); a fingerprint's owner is followed this far to its open bug. */
const MAX_DUPLICATE_HOPS = 5;

/**
 * The bug this report repeats, if any: the crash fingerprint first (claimed once per
 * fingerprint, so two simultaneous reports of one new crash still make one bug), then text
 * similarity against recent open bugs (see similarity.ts for the method and its threshold). Never
 * a closed bug, and never a bug a maintainer split this one out of (`notDuplicateOf`).
 */
export async function findOriginal(
  bug: Bug,
  signature: ErrorSignature | null,
  deps: TriageDeps,
): Promise<OriginalMatch> {
  const excluded = new Set(bug.notDuplicateOf ?? []);
  if (signature?.fingerprint) {
    const claim = await deps.records.claimFingerprint(signature.fingerprint, bug.bugId);
    if (!claim.claimed) {
      const owner = await followDuplicates(claim.bugId, deps);
      if (owner && !excluded.has(owner.bugId) && owner.bugId !== bug.bugId) {
        if (queueOfStatus(owner.status) === 'open')
          return { kind: 'open', bugId: owner.bugId, reason: explainFingerprintMatch(signature) };
        return {
          kind: 'closed-by-fingerprint',
          bugId: owner.bugId,
          ownerId: claim.bugId,
          status: owner.status,
        };
      }
    }
  }
  // Only a bug reported before this one can be its original: two reports of one new crash
  // processed side by side must not each become the other's duplicate.
  const open = (await deps.records.listOpenBugs(deps.settings.duplicateCandidates ?? 500)).filter(
    (candidate) => isEarlier(candidate, bug) && !excluded.has(candidate.bugId),
  );
  if (open.length === 0) return { kind: 'none' };
  const index = createSimilarityIndex();
  const candidates: DuplicateCandidate[] = [];
  const texts = new Map<string, string>();
  for (const candidate of open) {
    const text = { description: candidate.description, console_logs: candidate.report?.consoleLogs };
    const candidateSignature = extractReportSignature(text);
    const indexed = buildDuplicateText(text, candidateSignature);
    texts.set(candidate.bugId, indexed);
    index.add(candidate.bugId, indexed, undefined);
    candidates.push({
      bugId: candidate.bugId,
      status: candidate.status,
      fingerprint: candidate.fingerprint ?? null,
      errorType: candidateSignature?.errorType ?? null,
      createdAt: candidate.createdAt,
      updatedAt: candidate.updatedAt,
    });
  }
  const report = { description: bug.description, console_logs: bug.report?.consoleLogs };
  const match = findDuplicate(report, index, candidates, { now: deps.now().getTime(), signature });
  if (match.kind === 'none') return { kind: 'none' };
  const reason: FoldReason =
    match.kind === 'fingerprint' && signature
      ? explainFingerprintMatch(signature)
      : explainSimilarMatch(
          report,
          texts.get(match.bugId) ?? '',
          match.kind === 'similar' ? match.score : 1,
          {
            signature,
          },
        );
  return { kind: 'open', bugId: match.bugId, reason };
}

/** The bug itself, or the open (or closed) bug its chain of duplicates ends in. */
async function followDuplicates(bugId: string, deps: TriageDeps): Promise<Bug | null> {
  let current = await deps.records.getBug(bugId);
  for (
    let hop = 0;
    hop < MAX_DUPLICATE_HOPS && current?.status === 'duplicate' && current.duplicateOf;
    hop += 1
  ) {
    current = await deps.records.getBug(current.duplicateOf);
  }
  return current?.status === 'duplicate' ? null : current;
}

function isEarlier(a: Bug, b: Bug): boolean {
  return a.createdAt < b.createdAt || (a.createdAt === b.createdAt && a.bugId < b.bugId);
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
    // Once, even when the answer to the post was lost and the retry comes after Discord's nonce
    // window: the card is then recognised in the channel by its buttons, which name the bug.
    const posted = await postOnce(
      {
        channelId,
        message: cardFor(bug),
        nonce: `card:${bug.bugId}`,
        stepKey: `bug:${bug.bugId}`,
        step: 'card',
        recognize: (post) => post.buttonIds.some((id) => id.endsWith(`:${bug.bugId}`)),
      },
      deps,
    );
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
  // Reports folded in while this card did not exist yet (a storm during the analysis): their
  // counts, priority and note follow in one refresh.
  if (await deps.folds.hasFolds(bug.bugId)) await requestRefresh(bug.bugId, deps);
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
