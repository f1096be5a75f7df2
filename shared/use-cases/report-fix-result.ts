import type { Bug } from '../domain/bug.js';
import { stateAfterFailedFix } from '../domain/bug-state-machine.js';
import { renderThreadNote } from '../domain/bug-views.js';
import { PermanentJobError, ServiceError } from '../domain/errors.js';
import { fenceUntrusted, toPlainLine } from '../domain/untrusted-text.js';
import type { FixResult, FixResultJob, FixTaskStoppedJob } from '../jobs/job-schemas.js';
import type { OutgoingMessage } from '../ports/chat-platform.js';
import type { CodeHost, RepositoryRef } from '../ports/code-host.js';
import type { FixJobRecord, FixJobs } from '../ports/fix-jobs.js';
import type { IssueTracker } from '../ports/issue-tracker.js';
import { audit, type BugFlowContext, refreshCard } from './bug-context.js';

export interface FixResultDeps extends BugFlowContext {
  readonly tracker: IssueTracker;
  readonly codeHost: CodeHost;
  readonly fixJobs: FixJobs;
  readonly repo: RepositoryRef;
  /** How long a stopped task's result may take to arrive before the fix is declared failed. */
  readonly resultGraceSeconds: number;
}

/**
 * The runner's result: a pushed branch becomes one pull request (a draft unless checks passed),
 * attached to the issue, announced in the thread, shown on the card; anything else is reported
 * plainly with its reasons. Safe to repeat: the PR is found again by its branch, posts carry
 * nonces, and the bug only moves from `fix_requested`.
 */
export async function reportFixResult(job: FixResultJob, deps: FixResultDeps): Promise<void> {
  const { result } = job;
  const record = await deps.fixJobs.getFixJob(result.jobId);
  if (!record)
    throw new ServiceError('dynamodb', `no fix job ${result.jobId}`, { retryable: false, status: 404 });
  if (record.status === 'failed') return; // declared failed before this arrived; its PR is not opened late
  if (result.branch !== record.spec.branch) {
    // Only the branch bugbot asked for may become a pull request, whatever a result says.
    throw new PermanentJobError(`the result names branch ${toPlainLine(result.branch, 100)}, not the job's`);
  }
  // Marks the result as arrived, so a task-stopped event handled meanwhile does not declare
  // the fix failed while this delivery (or its retry) is still opening the pull request.
  if (!record.resultAt) {
    await deps.fixJobs.updateFixJob(record.jobId, ['requested', 'launched'], {
      resultAt: deps.now().toISOString(),
    });
  }
  const bug = record.bugId ? await deps.records.getBug(record.bugId) : null;

  if (result.status === 'pushed') {
    const pull = await deps.codeHost.openPullRequest(deps.repo, {
      head: record.spec.branch,
      base: record.spec.repo.baseBranch,
      title: `Fix: ${toPlainLine(record.spec.task.title, 200)}`,
      body: pullRequestBody(record, result, bug),
      draft: result.verify?.exitCode !== 0,
    });
    if (record.issue?.tracker === 'linear') {
      await deps.tracker
        .attachLink({
          issueId: record.issue.id,
          url: pull.url,
          title: `PR #${pull.number}: ${toPlainLine(record.spec.task.title, 80)}`,
          subtitle: 'Drafted by bugbot',
        })
        .catch((error: unknown) => {
          // An issue deleted or archived meanwhile must not orphan the pull request: retry what
          // may pass later, give up on the link alone otherwise.
          if (error instanceof ServiceError && error.retryable) throw error;
        });
    }
    const finished = await deps.fixJobs.updateFixJob(record.jobId, ['requested', 'launched'], {
      status: 'finished',
      result,
      pullRequestUrl: pull.url,
    });
    if (finished.ok) countFix(record, result, deps);
    await tell(
      record,
      bug,
      `fix-drafted:${record.jobId}`,
      renderThreadNote('fix_drafted', { pullRequestUrl: pull.url, summary: summaryLine(result, pull.draft) }),
      deps,
    );
    if (bug) {
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
      }
    }
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
  await tell(record, bug, `fix-outcome:${record.jobId}`, note, deps);
  if (bug) await returnBug(bug, record, result.status, deps);
}

/**
 * ECS says the task stopped. With a result already recorded, nothing to do. Without one, the
 * result may still be on its way (the runner sends it just before exiting): wait a grace period
 * once, then declare the fix failed and say why.
 */
export async function reportFixTaskStopped(job: FixTaskStoppedJob, deps: FixResultDeps): Promise<void> {
  const record = await deps.fixJobs.getFixJob(job.jobId);
  if (!record || record.status === 'finished' || record.status === 'failed' || record.resultAt) return;
  const now = deps.now();
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
  if (!failed.ok) return; // the result won the race
  deps.metrics?.record('FixesFailed', 1);
  const why = [
    job.stoppedReason && toPlainLine(job.stoppedReason, 200),
    job.exitCode !== undefined && job.exitCode !== null ? `exit code ${job.exitCode}` : null,
  ]
    .filter(Boolean)
    .join(', ');
  const bug = record.bugId ? await deps.records.getBug(record.bugId) : null;
  await tell(
    record,
    bug,
    `fix-outcome:${record.jobId}`,
    renderThreadNote('fix_failed', {
      reasons: [`the fix runner stopped without a result${why ? ` (${why})` : ''}`],
    }),
    deps,
  );
  if (bug) await returnBug(bug, record, 'failed', deps);
}

async function returnBug(
  bug: Bug,
  record: FixJobRecord,
  status: FixResult['status'],
  deps: FixResultDeps,
): Promise<void> {
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

function summaryLine(result: FixResult, draft: boolean): string {
  const checks = result.verify
    ? result.verify.exitCode === 0
      ? 'checks passed'
      : 'checks FAILED'
    : 'no checks ran';
  return `${result.changedFiles.length} file(s) changed, ${checks}, $${result.costUsd.toFixed(2)}${draft ? ' — opened as a draft' : ''}.`;
}

function pullRequestBody(record: FixJobRecord, result: FixResult, bug: Bug | null): string {
  const lines = [
    '## Summary',
    fenceUntrusted(result.summary.slice(0, 4000) || '(the agent gave no summary)'),
    '',
    '## Changed files',
    ...result.changedFiles.map((file) => `- \`${file.path}\` (${file.change})`),
    '',
    '## Checks',
    result.verify
      ? `\`${result.verify.command}\` exited **${result.verify.exitCode ?? 'without a code'}**${result.verify.exitCode === 0 ? ' ✅' : ' ❌'}\n\n${fenceUntrusted(result.verify.outputTail.slice(-3000), 'log')}`
      : 'No checks were configured, so this pull request is a draft.',
    '',
    `## Cost\n$${result.costUsd.toFixed(2)} of model usage (limit $${record.spec.limits.maxBudgetUsd}).`,
    '',
    '## Links',
    record.issue ? `- Issue: ${record.issue.identifier} ${record.issue.url}` : null,
    bug ? `- Bug: \`${bug.bugId}\` (${bug.reportCount} report(s))` : null,
    `- Requested by ${toPlainLine(record.requestedBy, 80)} in Discord; base ${record.spec.repo.baseBranch} @ ${result.baseCommit ?? 'unknown'}`,
    '',
    '_Drafted by bugbot with Claude Code. Only front-end paths may change, and the runner checked every changed path before pushing. Review it like any other change._',
  ];
  return lines.filter((line) => line !== null).join('\n');
}
