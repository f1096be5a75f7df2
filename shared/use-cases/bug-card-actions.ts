import type { Bug, BugIssueLink } from '../domain/bug.js';
import { canPerform, describeRefusal, transitionFor } from '../domain/bug-state-machine.js';
import { renderBugDetails, renderThreadNote } from '../domain/bug-views.js';
import { deterministicUuid } from '../domain/deterministic-id.js';
import { toMicros } from '../domain/fix-budget.js';
import { fenceUntrusted, toPlainLine } from '../domain/untrusted-text.js';
import type { DiscordComponentJob } from '../jobs/job-schemas.js';
import type { OutgoingMessage } from '../ports/chat-platform.js';
import type { CodeHost, RepositoryRef } from '../ports/code-host.js';
import type { FixJobs } from '../ports/fix-jobs.js';
import type { FixLauncher } from '../ports/fix-launcher.js';
import type { FoldLedger } from '../ports/fold-ledger.js';
import type { IssueTracker } from '../ports/issue-tracker.js';
import { audit, type BugFlowContext, postInThread, readAnalysis, refreshCard } from './bug-context.js';
import type { Maintainer } from './fold-reports.js';

/** Three receives with backoff and a 540 s visibility timeout stay well inside this. */
const CLAIM_STALE_MS = 30 * 60 * 1000;

export interface BugCardDeps extends BugFlowContext {
  readonly tracker: IssueTracker;
  readonly codeHost?: CodeHost;
  readonly settings: {
    /** Where Create Issue files the bug. */
    readonly issueTracker: 'linear' | 'github';
    readonly githubRepo?: RepositoryRef;
    readonly guildId?: string;
  };
  /** The fix flow, once deployed; without it Draft Fix says fixes are not set up. */
  readonly requestFix?: (job: DiscordComponentJob, bug: Bug) => Promise<OutgoingMessage>;
  /** Fold records: View Details lists the reports folded into a bug, and why. */
  readonly folds?: Pick<FoldLedger, 'listFolds'>;
  /** Splits a folded report out (the Split button on View Details). */
  readonly split?: (bugId: string, by: Maintainer) => Promise<OutgoingMessage>;
  /** What a dismissal needs to stop a running fix or close its pull request. */
  readonly fixes?: {
    readonly fixJobs: FixJobs;
    readonly launcher: FixLauncher;
    readonly codeHost: CodeHost;
    readonly repo: RepositoryRef;
  };
}

/**
 * The bug card's buttons. Every click is audited; a click the bug's state does not allow is
 * refused with a plain reason (and audited as refused), never applied.
 */
export async function handleBugCardAction(
  job: DiscordComponentJob,
  deps: BugCardDeps,
): Promise<OutgoingMessage> {
  const bug = await deps.records.getBug(job.bugId);
  if (!bug)
    return { content: `I don't know a bug with the id \`${toPlainLine(job.bugId, 80)}\`.`, ephemeral: true };
  const actor = actorOf(job);
  await audit(bug.bugId, actor, 'button', job.action, deps);

  switch (job.action) {
    case 'details':
      return showDetails(bug, deps);
    case 'dismiss':
      return dismiss(bug, job, deps);
    case 'create_issue':
      return createIssue(bug, job, deps);
    case 'draft_fix': {
      // A bug being fixed is requestFix's to answer: a retried click whose first attempt already
      // claimed it resumes its own fix, anyone else hears where that fix will be posted.
      const refusal = bug.status === 'fix_requested' ? null : describeRefusal('draft_fix', bug.status);
      if (refusal) return refuse(bug, actor, 'draft_fix', refusal, deps);
      if (!deps.requestFix)
        return {
          content: 'Fixes are not set up on this bugbot yet, so nothing was started.',
          ephemeral: true,
        };
      return deps.requestFix(job, bug);
    }
    case 'split':
      if (!deps.split) return { content: 'Splitting is not set up on this bugbot.', ephemeral: true };
      return deps.split(bug.bugId, {
        userId: job.interaction.member.userId,
        username: job.interaction.member.username,
      });
  }
}

function actorOf(job: DiscordComponentJob): string {
  return `${job.interaction.member.username} (${job.interaction.member.userId})`;
}

async function refuse(
  bug: Bug,
  actor: string,
  action: string,
  reason: string,
  deps: BugCardDeps,
): Promise<OutgoingMessage> {
  await audit(bug.bugId, actor, 'transition_refused', `${action}: ${reason}`, deps);
  return { content: reason, ephemeral: true };
}

/** Folded reports listed in View Details, newest first. */
const DETAILS_DUPLICATES = 10;

async function showDetails(bug: Bug, deps: BugCardDeps): Promise<OutgoingMessage> {
  const analysis = readAnalysis(bug);
  const folds = (await deps.folds?.listFolds(bug.bugId)) ?? [];
  const recorded = new Set(folds.map((fold) => fold.bugId));
  // Bugs stored before fold records listed their duplicates' ids on the bug itself.
  const legacy = await Promise.all(
    (bug.duplicateBugIds ?? [])
      .filter((bugId) => !recorded.has(bugId))
      .slice(0, DETAILS_DUPLICATES)
      .map(async (bugId) => {
        const duplicate = await deps.records.getBug(bugId);
        return { bugId, at: duplicate?.createdAt ?? bug.updatedAt, reporter: duplicate?.reporter.id };
      }),
  );
  const duplicates = [
    ...folds.map((fold) => ({
      bugId: fold.bugId,
      at: fold.at,
      reporter: fold.reporterId,
      reason: fold.reason,
    })),
    ...legacy,
  ]
    .sort((a, b) => (a.at < b.at ? 1 : a.at > b.at ? -1 : 0))
    .slice(0, DETAILS_DUPLICATES);
  return renderBugDetails(bug, {
    duplicateCount: folds.length + legacy.length,
    splitButtons: Boolean(deps.split),
    analysis:
      analysis?.state === 'done' && analysis.result
        ? analysis.result
        : analysis?.state === 'failed'
          ? 'failed'
          : undefined,
    analysisFailure: analysis?.state === 'failed' ? analysis.failure : undefined,
    priority: analysis?.priority,
    duplicates,
    audit: await deps.records.listAudit(bug.bugId, 20),
    deviceInfo: bug.report?.deviceInfo,
    links: {
      pullRequestUrl: bug.fix?.pullRequestUrl,
      replayUrl: analysis?.replayUrl,
      threadUrl:
        bug.card?.threadId && deps.settings.guildId
          ? `https://discord.com/channels/${deps.settings.guildId}/${bug.card.threadId}`
          : undefined,
    },
  });
}

async function dismiss(bug: Bug, job: DiscordComponentJob, deps: BugCardDeps): Promise<OutgoingMessage> {
  const actor = actorOf(job);
  const refusal = describeRefusal('dismiss', bug.status);
  if (refusal) {
    // A redelivery after the dismissal: finish stopping its fix, in case that was cut short.
    if (bug.status === 'dismissed') await stopFixOf(bug, deps);
    return refuse(bug, actor, 'dismiss', refusal, deps);
  }
  const reason = job.reason?.trim() || 'no reason given';
  const { from, to } = transitionFor('dismiss');
  const moved = await deps.records.transitionBug(bug.bugId, [...from], to, {
    dismissal: { by: job.interaction.member.username, reason, at: deps.now().toISOString() },
  });
  if (!moved.ok) {
    const current = moved.current;
    if (current?.status === 'dismissed') {
      await stopFixOf(current, deps);
      await refreshCard(current, deps);
      return { content: 'This bug is already dismissed.', ephemeral: true };
    }
    return refuse(
      bug,
      actor,
      'dismiss',
      describeRefusal('dismiss', current?.status ?? bug.status) ?? 'The bug changed meanwhile.',
      deps,
    );
  }
  await audit(bug.bugId, actor, 'transition', `${bug.status} → dismissed: ${reason}`, deps);
  const stopped = await stopFixOf(moved.bug, deps);
  await refreshCard(moved.bug, deps);
  const note = renderThreadNote('dismissed', { by: job.interaction.member.username, reason });
  await postInThread(
    moved.bug,
    'dismissed',
    stopped
      ? {
          content: `${note.content ?? ''}
${stopped}`,
        }
      : note,
    deps,
  );
  return { content: 'Dismissed. The card shows who and why.', ephemeral: true };
}

/**
 * A dismissed bug keeps no fix going: a running fix is cancelled and its task stopped (a result
 * that arrives anyway is recorded and opens nothing), a drafted fix's open pull request is closed
 * with a note. Safe to repeat. Says what it did, for the dismissal's thread note.
 */
async function stopFixOf(bug: Bug, deps: BugCardDeps): Promise<string | null> {
  const fixes = deps.fixes;
  const fix = bug.fix;
  if (!fixes || !fix) return null;
  const why = `bugbot: the bug was dismissed by ${bug.dismissal?.by ?? 'a maintainer'}`;
  if (fix.status === 'requested') {
    const cancelled = await fixes.fixJobs.updateFixJob(fix.jobId, ['requested', 'launched'], {
      status: 'cancelled',
      cancelledAt: deps.now().toISOString(),
      reason: 'the bug was dismissed',
    });
    const job = cancelled.ok ? cancelled.job : cancelled.current;
    if (job?.status !== 'cancelled') return null;
    if (!job.taskId) {
      // Never launched: nothing ran, so the allowance and the budget it held go back.
      await fixes.fixJobs.settleBudget({
        month: job.budgetMonth ?? job.createdAt.slice(0, 7),
        jobId: job.jobId,
        reservedMicros: toMicros(job.spec.limits.maxBudgetUsd),
        costMicros: 0,
      });
      if (job.requestedById && job.allowanceWindow)
        await fixes.fixJobs.refundAllowance({
          scope: 'fix',
          userId: job.requestedById,
          window: job.allowanceWindow,
          useId: job.jobId,
        });
    }
    if (job.taskId && !job.resultAt && !job.stopRequestedAt) {
      await fixes.launcher.stop(job.taskId, why);
      await fixes.fixJobs.updateFixJob(fix.jobId, ['cancelled'], {
        stopRequestedAt: deps.now().toISOString(),
      });
    }
    return 'The fix that was being drafted for it was stopped; nothing will be opened.';
  }
  if (fix.status === 'pushed' && fix.pullRequestUrl) {
    const number = Number(/\/pull\/(\d+)/.exec(fix.pullRequestUrl)?.[1]);
    if (!Number.isInteger(number) || number <= 0) return null;
    const dismissal = bug.dismissal;
    await fixes.codeHost.closePullRequest(
      fixes.repo,
      number,
      [
        'Closed by bugbot: the bug this pull request fixes was dismissed in Discord.',
        dismissal
          ? `Dismissed by ${toPlainLine(dismissal.by, 80)}: ${toPlainLine(dismissal.reason, 300)}`
          : '',
        'The branch is kept; reopen the pull request if the fix is wanted after all.',
      ]
        .filter(Boolean)
        .join('\n\n'),
    );
    return `Its pull request <${fix.pullRequestUrl}> was closed with a note.`;
  }
  return null;
}

/**
 * Any number of clicks, concurrent or not, make one issue: the Linear issue's id is derived from
 * the bug, so a second create returns the first; GitHub has no such id, so its create is claimed
 * first with a conditional write and made findable by a label.
 */
async function createIssue(bug: Bug, job: DiscordComponentJob, deps: BugCardDeps): Promise<OutgoingMessage> {
  const actor = actorOf(job);
  if (bug.issue) {
    // A redelivery after the issue was recorded finishes what the first attempt may not have.
    await refreshCard(bug, deps);
    await postInThread(
      bug,
      'issue-created',
      renderThreadNote('issue_created', { issue: bug.issue, by: job.interaction.member.username }),
      deps,
    );
    return {
      content: `This bug already has an issue: ${bug.issue.identifier} ${bug.issue.url}`,
      ephemeral: true,
    };
  }
  if (!canPerform('create_issue', bug.status)) {
    return refuse(
      bug,
      actor,
      'create_issue',
      describeRefusal('create_issue', bug.status) ?? 'Not possible now.',
      deps,
    );
  }

  const issue = await fileIssue(bug, job.idempotencyKey, deps);
  if (!issue)
    return {
      content: 'An issue is being created for this bug by another click; it will appear on the card.',
      ephemeral: true,
    };
  const { from, to } = transitionFor('create_issue');
  const moved = await deps.records.transitionBug(bug.bugId, [...from], to, { issue });
  const current = moved.ok ? moved.bug : moved.current;
  if (moved.ok) {
    await audit(bug.bugId, actor, 'transition', `${bug.status} → issue_created (${issue.identifier})`, deps);
    await deps.records.linkReference('issue', issue.identifier, bug.bugId);
  }
  if (current) {
    await refreshCard(current, deps);
    await postInThread(
      current,
      'issue-created',
      renderThreadNote('issue_created', { issue, by: job.interaction.member.username }),
      deps,
    );
  }
  return { content: `Issue ${issue.identifier} created: ${issue.url}`, ephemeral: true };
}

async function fileIssue(bug: Bug, owner: string, deps: BugCardDeps): Promise<BugIssueLink | null> {
  const title = toPlainLine(bug.title, 120);
  const body = issueBody(bug);
  if (deps.settings.issueTracker === 'github') {
    const repo = deps.settings.githubRepo;
    if (!deps.codeHost || !repo) throw new Error('GitHub is the tracker but no repository is configured');
    // The claim names the job that creates the issue; only that job (or its redelivery) does.
    const claim = await deps.store.claimThreadIssue({
      threadId: `github-issue:${bug.bugId}`,
      issueId: owner,
      createdAt: deps.now().toISOString(),
    });
    // Another click holds the claim; after the longest its job could still be retrying, the
    // claim is stale (that job failed for good) and this click creates the issue.
    const stale =
      Date.parse(claim.claimed ? '' : claim.existing.createdAt) < deps.now().getTime() - CLAIM_STALE_MS;
    if (!claim.claimed && claim.existing.issueId !== owner && !stale) {
      return (await deps.records.getBug(bug.bugId))?.issue ?? null;
    }
    const created = await deps.codeHost.createIssueOnce(repo, {
      key: `bugbot:${bug.bugId}`,
      title,
      body,
      labels: ['bug'],
    });
    return {
      tracker: 'github',
      id: String(created.number),
      identifier: `#${created.number}`,
      url: created.url,
    };
  }
  const created = await deps.tracker.createIssue({
    id: deterministicUuid('bugbot:bug-issue', bug.bugId),
    title,
    description: body,
  });
  return { tracker: 'linear', id: created.id, identifier: created.identifier, url: created.url };
}

/** The issue carries the analysis and the context bugbot has: report, device, replay, priority. */
function issueBody(bug: Bug): string {
  const analysis = readAnalysis(bug);
  const lines = [`Filed by bugbot from bug \`${bug.bugId}\` (${bug.reportCount} report(s)).`, ''];
  if (analysis?.result) {
    const result = analysis.result;
    lines.push(
      '## Analysis',
      `- **Root cause hypothesis:** ${toPlainLine(result.rootCauseHypothesis, 1500)}`,
      `- **Affected area:** ${toPlainLine(result.affectedArea, 200)}`,
      `- **Severity:** ${result.severity}/5 — ${toPlainLine(result.severityReason, 500)}`,
      `- **Suggested fix:** ${toPlainLine(result.suggestedFix, 1500)}`,
      `- **Confidence:** ${Math.round(result.confidence * 100)}%`,
      '',
    );
  }
  if (analysis?.priority) {
    lines.push(`## Priority P${analysis.priority.priority} (score ${analysis.priority.score})`);
    for (const factor of analysis.priority.breakdown) lines.push(`- ${factor.reason} (+${factor.points})`);
    lines.push('');
  }
  lines.push('## Report (as written by the reporter)', fenceUntrusted(bug.description));
  const report = bug.report;
  if (report?.deviceInfo)
    lines.push('', 'Device:', fenceUntrusted(JSON.stringify(report.deviceInfo, null, 2), 'json'));
  if (report?.consoleLogs)
    lines.push('', 'Console logs (tail):', fenceUntrusted(report.consoleLogs.slice(-3000), 'log'));
  const links = [
    report?.url && `Page: ${report.url}`,
    analysis?.replayUrl && `Session replay: ${analysis.replayUrl}`,
    report?.screenshotUrl && `Screenshot: ${report.screenshotUrl}`,
  ].filter(Boolean);
  if (links.length > 0) lines.push('', ...links.map((link) => `- ${toPlainLine(String(link), 500)}`));
  return lines.join('\n');
}
