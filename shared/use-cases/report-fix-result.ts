import type { Bug } from '../domain/bug.js';
import { stateAfterFailedFix } from '../domain/bug-state-machine.js';
import { renderThreadNote } from '../domain/bug-views.js';
import { PermanentJobError, ServiceError } from '../domain/errors.js';
import { budgetMonthOf, describeMonthSpend, toMicros } from '../domain/fix-budget.js';
import {
  chooseReporterQuestion,
  renderFixDraftedNote,
  renderNotReproducedNote,
  withSpend,
} from '../domain/fix-notes.js';
import { assessFix, type FixPullRequestInput, renderFixPullRequest } from '../domain/fix-pull-request.js';
import { toPlainLine } from '../domain/untrusted-text.js';
import type { FixResult, FixResultJob, FixTaskStoppedJob } from '../jobs/job-schemas.js';
import type { OutgoingMessage } from '../ports/chat-platform.js';
import type { CodeHost, PullRequest, RepositoryRef } from '../ports/code-host.js';
import type { FixJobRecord, FixJobs, MonthSpend } from '../ports/fix-jobs.js';
import type { IssueTracker } from '../ports/issue-tracker.js';
import { audit, type BugFlowContext, refreshCard } from './bug-context.js';

export interface FixResultDeps extends BugFlowContext {
  readonly tracker: IssueTracker;
  readonly codeHost: CodeHost;
  readonly fixJobs: FixJobs;
  readonly repo: RepositoryRef;
  /** How long a stopped task's result may take to arrive before the fix is declared failed. */
  readonly resultGraceSeconds: number;
  readonly settings: {
    readonly monthlyBudgetUsd: number;
    /** The fork fix branches are pushed to, when the deployment uses one. */
    readonly pushRepo?: RepositoryRef;
  };
}

/**
 * The runner's result, accepted only for the job it names as it was stored and launched: the job
 * exists, was launched (its task is recorded), was not refused, and the branch is the job's
 * (`authorizeFixRunnerSender` also ties a result sent by a runner task to that task). Then:
 * - the month's budget is settled at the cost reported (once);
 * - a pushed branch becomes one pull request — ready for review only when the fix is proven
 *   (renderFixPullRequest), a draft otherwise, a normal PR saying "not ready" where drafts are
 *   refused — attached to the issue, announced in the thread with the spend, shown on the card;
 * - a fix that could not reproduce the bug says so in the thread with the one question that
 *   would help the reporter;
 * - a bug dismissed meanwhile gets no pull request (or its PR is closed with a note).
 * Safe to repeat: the PR is found again by its branch, posts carry nonces, settlement is once,
 * and the bug only moves from `fix_requested`.
 */
export async function reportFixResult(job: FixResultJob, deps: FixResultDeps): Promise<void> {
  const { result } = job;
  const record = await deps.fixJobs.getFixJob(result.jobId);
  if (!record) throw new PermanentJobError(`no fix job ${toPlainLine(result.jobId, 100)} was ever started`);
  if (result.branch !== record.spec.branch) {
    // Only the branch bugbot asked for may become a pull request, whatever a result says.
    throw new PermanentJobError(`the result names branch ${toPlainLine(result.branch, 100)}, not the job's`);
  }
  if (record.status === 'refused')
    throw new PermanentJobError(`fix job ${record.jobId} was refused and never ran`);
  if (record.status === 'requested' && !record.taskId) {
    // The launch is recorded right after RunTask answers; a result cannot come before unless the
    // record write is being retried. Wait for it rather than accept a result for no task.
    throw new ServiceError('dynamodb', `fix job ${record.jobId} has no launched task on record yet`, {
      retryable: true,
    });
  }
  // Given up on earlier (the pull request kept failing, the job was dead-lettered) and now
  // redriven by an operator: open the pull request after all. A fix declared failed because its
  // task stopped without a result is not opened late.
  const resuming = record.status === 'failed' && record.result !== undefined && result.status === 'pushed';
  if (record.status === 'failed' && !resuming) return;
  // Marks the result as arrived, so a task-stopped event handled meanwhile does not declare
  // the fix failed while this delivery (or its retry) is still opening the pull request.
  if (!record.resultAt) {
    await deps.fixJobs.updateFixJob(record.jobId, ['requested', 'launched', 'cancelled'], {
      resultAt: deps.now().toISOString(),
    });
  }
  const spend = await settle(record, result.costUsd, deps);
  const spendText = describeMonthSpend(spend, deps.settings.monthlyBudgetUsd);
  const bug = record.bugId ? await deps.records.getBug(record.bugId) : null;

  if (record.status === 'cancelled') {
    await deps.fixJobs.updateFixJob(record.jobId, ['cancelled'], { result });
    await tell(record, bug, `fix-outcome:${record.jobId}`, lateResultNote(record, result, spendText), deps);
    await releaseTarget(record, deps);
    return;
  }

  if (result.status === 'pushed') {
    const assessment = assessFix(result);
    const view: FixPullRequestInput = {
      jobId: record.jobId,
      task: record.spec.task,
      result,
      requestedBy: record.requestedBy,
      issue: record.issue,
      bug: bug ? { bugId: bug.bugId, reportCount: bug.reportCount } : undefined,
      baseBranch: record.spec.repo.baseBranch,
      maxBudgetUsd: record.spec.limits.maxBudgetUsd,
      monthSpend: { spentUsd: spend.spentMicros / 1_000_000, budgetUsd: deps.settings.monthlyBudgetUsd },
    };
    const rendered = renderFixPullRequest(view);
    const notDraft = renderFixPullRequest(view, { draftsSupported: false });
    const pull = await deps.codeHost.openPullRequest(deps.repo, {
      head: record.spec.branch,
      ...(record.spec.repo.pushUrl && deps.settings.pushRepo ? { headRepo: deps.settings.pushRepo } : {}),
      base: record.spec.repo.baseBranch,
      title: rendered.title,
      body: rendered.body,
      draft: rendered.draft,
      notDraft: { title: notDraft.title, body: notDraft.body },
    });
    // The pull request is open whatever Linear does now: a link that cannot be attached is said in
    // the thread (degraded, visible) rather than retried into the DLQ with the bug stranded.
    let linkedOnIssue = true;
    if (record.issue?.tracker === 'linear') {
      linkedOnIssue = await deps.tracker
        .attachLink({
          issueId: record.issue.id,
          url: pull.url,
          title: `PR #${pull.number}: ${toPlainLine(record.spec.task.title, 80)}`,
          subtitle: rendered.draft
            ? 'Drafted by bugbot — not proven'
            : 'Drafted by bugbot — proven by a test',
        })
        .then(
          () => true,
          () => false,
        );
    }
    const finished = await deps.fixJobs.updateFixJob(
      record.jobId,
      resuming ? ['failed'] : ['requested', 'launched'],
      {
        status: 'finished',
        result,
        pullRequestUrl: pull.url,
      },
    );
    if (!finished.ok && finished.current?.status === 'cancelled') {
      // Dismissed while the pull request was being opened: close it, never leave it orphaned.
      await closeOrphan(record, pull, bug, deps, spendText);
      return;
    }
    if (finished.ok) countFix(record, result, deps);
    if (bug && resuming && bug.fix?.jobId === record.jobId && bug.status === stateAfterFailedFix(bug)) {
      // The bug went back when the job was given up; it moves on through fix_requested again.
      await deps.records.transitionBug(bug.bugId, [bug.status], 'fix_requested', {
        fix: { jobId: record.jobId, status: 'requested', branch: result.branch },
      });
    }
    if (bug) {
      // The bug records the pull request before anyone is told: a thread note that fails (Discord
      // down) must never leave the bug in fix_requested with its pull request open.
      // GitHub's events about the branch (merged, closed, a preview deployed) find the bug by these.
      await deps.records.linkReference('branch', result.branch, bug.bugId);
      if (result.headCommit) await deps.records.linkReference('commit', result.headCommit, bug.bugId);
      const moved = await deps.records.transitionBug(bug.bugId, ['fix_requested'], 'fix_drafted', {
        fix: {
          ...(bug.fix?.jobId === record.jobId ? bug.fix : {}),
          jobId: record.jobId,
          status: 'pushed',
          pullRequestUrl: pull.url,
          branch: result.branch,
        },
      });
      if (moved.ok) {
        await audit(bug.bugId, 'system', 'transition', `fix_requested → fix_drafted (${pull.url})`, deps);
        await refreshCard(moved.bug, deps);
      } else if (moved.current?.status === 'dismissed' && moved.current.fix?.jobId === record.jobId) {
        await closeOrphan(record, pull, moved.current, deps, spendText);
        return;
      } else if (moved.current?.status === 'fix_drafted' && moved.current.fix?.jobId === record.jobId) {
        // A retry after the move: the card edit may be what failed last time.
        await refreshCard(moved.current, deps);
      }
    }
    await tell(
      record,
      bug,
      `fix-drafted:${record.jobId}`,
      renderFixDraftedNote({
        pullRequestUrl: pull.url,
        assessment,
        changedFiles: result.changedFiles.length,
        costUsd: result.costUsd,
        spend: spendText,
        draftRefused: pull.draftRefused,
        ...(linkedOnIssue ? {} : { issueLinkFailed: record.issue?.identifier ?? 'the issue' }),
      }),
      deps,
    );
    await askReporterIfNotReproduced(record, result, bug, spendText, deps);
    await releaseTarget(record, deps);
    return;
  }

  const finished = await deps.fixJobs.updateFixJob(record.jobId, ['requested', 'launched'], {
    status: 'finished',
    result,
  });
  if (finished.ok) countFix(record, result, deps);
  const reasons = reasonsOf(result);
  const note =
    result.status === 'rejected'
      ? renderThreadNote('fix_rejected', { reasons })
      : result.status === 'failed'
        ? renderThreadNote('fix_failed', { reasons })
        : {
            content:
              'The fix attempt changed nothing, so there is no pull request. The bug may need a person, or clearer instructions.',
          };
  await endFixUnmerged(record, bug, result.status, withSpend(note, spendText), deps);
  await askReporterIfNotReproduced(record, result, bug, spendText, deps);
}

/**
 * The result could not become a pull request however often it was tried (GitHub refused, or
 * kept failing): the job ends failed, the bug goes back to where it was, and the thread names the
 * pushed branch so nothing is lost.
 */
export async function giveUpFixResult(
  job: FixResultJob,
  deps: FixResultDeps,
  description: string,
): Promise<void> {
  const record = await deps.fixJobs.getFixJob(job.result.jobId);
  if (!record || job.result.branch !== record.spec.branch) return;
  const failed = await deps.fixJobs.updateFixJob(record.jobId, ['requested', 'launched'], {
    status: 'failed',
    result: job.result,
    reason: description,
  });
  if (!failed.ok) return;
  deps.metrics?.record('FixesFailed', 1);
  const spend = await settle(record, job.result.costUsd, deps);
  const bug = record.bugId ? await deps.records.getBug(record.bugId) : null;
  const pushed = job.result.status === 'pushed';
  const where = deps.settings.pushRepo && record.spec.repo.pushUrl ? deps.settings.pushRepo : deps.repo;
  const reasons = pushed
    ? [
        `the branch \`${record.spec.branch}\` was pushed to ${where.owner}/${where.repo}, but the pull request could not be opened: ${description}`,
        `nothing is lost: open it by hand from that branch (https://github.com/${deps.repo.owner}/${deps.repo.repo}/compare/${record.spec.repo.baseBranch}...${where.owner}:${record.spec.branch})`,
      ]
    : [`the result could not be handled: ${description}`];
  await endFixUnmerged(
    record,
    bug,
    'failed',
    withSpend(
      renderThreadNote('fix_failed', { reasons }),
      describeMonthSpend(spend, deps.settings.monthlyBudgetUsd),
    ),
    deps,
  );
}

/**
 * ECS says the task stopped — accepted only for the task this job launched. With a result already
 * recorded, nothing to do. Without one, the result may still be on its way (the runner sends it
 * just before exiting): wait a grace period once, then declare the fix failed and say why. Its
 * budget is settled at the fix's limit: what a run that never reported spent is unknown.
 */
export async function reportFixTaskStopped(job: FixTaskStoppedJob, deps: FixResultDeps): Promise<void> {
  const record = await deps.fixJobs.getFixJob(job.jobId);
  if (!record || record.status === 'finished' || record.status === 'refused') return;
  // A stop event for another task than the one launched for this job changes nothing.
  if (!record.taskId || taskIdOf(record.taskId) !== taskIdOf(job.taskArn)) return;
  if (record.resultAt) return;
  // Failed by this stop on an earlier delivery whose note could not be posted: finish telling.
  const failedByThisStop = record.status === 'failed' && record.stoppedAt !== undefined;
  if (record.status === 'failed' && !failedByThisStop) return;
  if (!failedByThisStop && !(await failFixOnStop(record, deps))) return;
  const spend = await settle(record, record.spec.limits.maxBudgetUsd, deps);
  const why = [
    job.stoppedReason && toPlainLine(job.stoppedReason, 200),
    job.exitCode !== undefined && job.exitCode !== null ? `exit code ${job.exitCode}` : null,
  ]
    .filter(Boolean)
    .join(', ');
  const bug = record.bugId ? await deps.records.getBug(record.bugId) : null;
  await endFixUnmerged(
    record,
    bug,
    'failed',
    withSpend(
      renderThreadNote('fix_failed', {
        reasons: [`the fix runner stopped without a result${why ? ` (${why})` : ''}`],
      }),
      describeMonthSpend(spend, deps.settings.monthlyBudgetUsd),
    ),
    deps,
  );
}

/**
 * The task stopped without a result: after the grace period (the result may be on its way), the
 * fix is declared failed. False when there is nothing (more) to do: a dismissed fix, or a result
 * that won the race.
 */
async function failFixOnStop(record: FixJobRecord, deps: FixResultDeps): Promise<boolean> {
  const now = deps.now();
  if (record.status === 'cancelled') {
    // Stopped because its bug was dismissed (the dismissal said so): count what it may have cost.
    await deps.fixJobs.updateFixJob(record.jobId, ['cancelled'], { stoppedAt: now.toISOString() });
    await settle(record, record.spec.limits.maxBudgetUsd, deps);
    await releaseTarget(record, deps);
    return false;
  }
  if (!record.stoppedAt) {
    await deps.fixJobs.updateFixJob(record.jobId, ['requested', 'launched'], {
      stoppedAt: now.toISOString(),
    });
    if (deps.resultGraceSeconds > 0) {
      throw new ServiceError('ecs', 'the fix task stopped; waiting for its result', {
        retryable: true,
        retryAfterMs: deps.resultGraceSeconds * 1000,
      });
    }
  } else if (now.getTime() - Date.parse(record.stoppedAt) < deps.resultGraceSeconds * 1000) {
    throw new ServiceError('ecs', 'the fix task stopped; still waiting for its result', {
      retryable: true,
      retryAfterMs: deps.resultGraceSeconds * 1000,
    });
  }
  const failed = await deps.fixJobs.updateFixJob(record.jobId, ['requested', 'launched'], {
    status: 'failed',
  });
  if (!failed.ok) return false; // the result won the race
  deps.metrics?.record('FixesFailed', 1);
  return true;
}

/** `arn:aws:ecs:…:task/<cluster>/<id>` → `<id>`; an id stays itself. */
export function taskIdOf(taskArnOrId: string): string {
  return taskArnOrId.slice(taskArnOrId.lastIndexOf('/') + 1);
}

async function settle(record: FixJobRecord, costUsd: number, deps: FixResultDeps): Promise<MonthSpend> {
  return deps.fixJobs.settleBudget({
    month: record.budgetMonth ?? budgetMonthOf(new Date(record.createdAt)),
    jobId: record.jobId,
    reservedMicros: toMicros(record.spec.limits.maxBudgetUsd),
    costMicros: toMicros(costUsd),
  });
}

async function releaseTarget(record: FixJobRecord, deps: FixResultDeps): Promise<void> {
  if (!record.bugId && record.targetKey) await deps.fixJobs.releaseFixTarget(record.targetKey, record.jobId);
}

async function askReporterIfNotReproduced(
  record: FixJobRecord,
  result: FixResult,
  bug: Bug | null,
  spendText: string,
  deps: FixResultDeps,
): Promise<void> {
  const reproduction = result.reproduction;
  if (!reproduction || reproduction.status === 'reproduced') return;
  const question = chooseReporterQuestion({
    description: bug?.description ?? record.spec.task.body,
    report: bug?.report,
  });
  await tell(
    record,
    bug,
    `fix-question:${record.jobId}`,
    renderNotReproducedNote({ reproduction, summary: result.summary, question, spend: spendText }),
    deps,
  );
}

function lateResultNote(record: FixJobRecord, result: FixResult, spendText: string): OutgoingMessage {
  const head =
    result.status === 'pushed'
      ? `The fix finished after the bug was dismissed, so no pull request was opened. Its branch \`${record.spec.branch}\` was pushed and is kept, should anyone want it.`
      : 'The fix that was running when the bug was dismissed has ended; nothing was opened.';
  return withSpend({ content: head }, spendText);
}

/** A pull request whose bug was dismissed while it was opened: closed with a note, never orphaned. */
async function closeOrphan(
  record: FixJobRecord,
  pull: PullRequest,
  bug: Bug | null,
  deps: FixResultDeps,
  spendText: string,
): Promise<void> {
  const dismissal = bug?.dismissal;
  const comment = [
    'Closed by bugbot: the bug this pull request fixes was dismissed in Discord while the fix was being drafted.',
    dismissal ? `Dismissed by ${toPlainLine(dismissal.by, 80)}: ${toPlainLine(dismissal.reason, 300)}` : '',
    'The branch is kept; reopen the pull request if the fix is wanted after all.',
  ]
    .filter(Boolean)
    .join('\n\n');
  await deps.codeHost.closePullRequest(deps.repo, pull.number, comment);
  await deps.fixJobs.updateFixJob(record.jobId, ['cancelled'], { pullRequestUrl: pull.url });
  await tell(
    record,
    bug,
    `fix-outcome:${record.jobId}`,
    withSpend(
      {
        content: `The fix finished after the bug was dismissed; its pull request <${pull.url}> was closed with a note. The branch \`${record.spec.branch}\` is kept.`,
      },
      spendText,
    ),
    deps,
  );
  await releaseTarget(record, deps);
}

/**
 * A fix that ends without a pull request: the bug goes back and the target is released before
 * anyone is told, so a note that cannot be posted (Discord down) never leaves the bug in
 * fix_requested. The note is posted once per job (see tell), so a redelivered result or stop
 * that failed to tell finishes it.
 */
async function endFixUnmerged(
  record: FixJobRecord,
  bug: Bug | null,
  status: FixResult['status'],
  note: OutgoingMessage,
  deps: FixResultDeps,
): Promise<void> {
  if (bug) await returnBug(bug, record, status, deps);
  await releaseTarget(record, deps);
  await tell(record, bug, `fix-outcome:${record.jobId}`, note, deps);
}

async function returnBug(
  bug: Bug,
  record: FixJobRecord,
  status: FixResult['status'],
  deps: FixResultDeps,
): Promise<void> {
  // A later fix asked for meanwhile owns the bug now: this one's end must not move it.
  if (bug.fix && bug.fix.jobId !== record.jobId) return;
  const to = stateAfterFailedFix(bug);
  const moved = await deps.records.transitionBug(bug.bugId, ['fix_requested'], to, {
    fix: {
      ...(bug.fix?.jobId === record.jobId ? bug.fix : {}),
      jobId: record.jobId,
      status: status === 'pushed' ? 'failed' : status,
      branch: record.spec.branch,
    },
  });
  if (moved.ok) {
    await audit(bug.bugId, 'system', 'transition', `fix_requested → ${to} (fix ${status})`, deps);
    await refreshCard(moved.bug, deps);
  }
}

/** In the bug's thread, or where the fix was asked for; once per key. */
async function tell(
  record: FixJobRecord,
  bug: Bug | null,
  key: string,
  message: OutgoingMessage,
  deps: FixResultDeps,
): Promise<void> {
  const stepKey = `fix:${record.jobId}`;
  if (await deps.store.getStep(stepKey, key)) return;
  const channelId = bug?.card?.threadId ?? record.notifyChannelId;
  await deps.chat.postMessage(channelId, message, { nonce: key });
  await deps.store.recordStep({ key: stepKey, step: key, result: {}, completedAt: deps.now().toISOString() });
}

/** Counted once per fix: only by the delivery that moved the job to `finished`. */
function countFix(record: FixJobRecord, result: FixResult, deps: FixResultDeps): void {
  if (result.status === 'pushed') deps.metrics?.record('FixesPushed', 1);
  if (result.status === 'rejected') deps.metrics?.record('FixesRejected', 1);
  if (result.status === 'failed') deps.metrics?.record('FixesFailed', 1);
  deps.metrics?.record('FixCostUsd', result.costUsd);
  deps.metrics?.record(
    'FixDuration',
    Math.max(0, (deps.now().getTime() - Date.parse(record.createdAt)) / 1000),
  );
}

function reasonsOf(result: FixResult): string[] {
  const reasons = result.rejected.map((entry) => `${entry.path}: ${entry.reason}`);
  if (result.error) reasons.push(result.error);
  if (result.verify && result.verify.exitCode !== 0)
    reasons.push(`checks failed: \`${result.verify.command}\` exited ${result.verify.exitCode}`);
  return reasons.length > 0 ? reasons : ['no reason was given'];
}
