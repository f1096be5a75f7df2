import { createHash } from 'node:crypto';
import { isPathAllowed } from '../domain/allowlist-gate.js';
import type { Bug } from '../domain/bug.js';
import { describeRefusal, stateAfterFailedFix, transitionFor } from '../domain/bug-state-machine.js';
import { renderThreadNote } from '../domain/bug-views.js';
import { describeFailure } from '../domain/describe-failure.js';
import { ServiceError } from '../domain/errors.js';
import { extractReferences } from '../domain/references.js';
import { toPlainLine } from '../domain/untrusted-text.js';
import { FIX_BRANCH_PREFIX } from '../jobs/fix-branch.js';
import type { FixJobSpec } from '../jobs/fix-job-spec.js';
import type { DiscordCommandJob, DiscordComponentJob } from '../jobs/job-schemas.js';
import type { OutgoingMessage } from '../ports/chat-platform.js';
import type { CodeHost, RepositoryRef } from '../ports/code-host.js';
import type { FixJobRecord, FixJobs } from '../ports/fix-jobs.js';
import type { FixLauncher } from '../ports/fix-launcher.js';
import type { IssueTracker } from '../ports/issue-tracker.js';
import { audit, type BugFlowContext, postInThread, readAnalysis, refreshCard } from './bug-context.js';

export interface FixSettings {
  readonly repo: RepositoryRef;
  /** Where the runner clones from; `https://github.com/<owner>/<repo>.git` unless set. */
  readonly cloneUrl?: string;
  readonly allowlist: readonly string[];
  readonly limits: FixJobSpec['limits'];
  readonly verifyCommand?: string;
  /** Fixes one person may ask for per hour. */
  readonly perUserPerHour: number;
}

export interface RequestFixDeps extends BugFlowContext {
  readonly tracker: IssueTracker;
  readonly codeHost: CodeHost;
  readonly fixJobs: FixJobs;
  readonly launcher: FixLauncher;
  readonly settings: FixSettings;
}

interface FixTarget {
  readonly bug?: Bug;
  readonly issue?: FixJobRecord['issue'];
  readonly title: string;
  /** Untrusted: the report or message; the runner fences it again for the agent. */
  readonly body: string;
  readonly url?: string;
  readonly notifyChannelId: string;
}

/**
 * A maintainer asked for a fix (the ingress checked the role). Rate-limited per person; the job
 * spec is stored once under an id derived from the request, so a redelivered request launches
 * at most one runner; the outcome comes back later as `fix.result` / `fix.task-stopped`.
 */
export function fixJobIdFor(idempotencyKey: string): string {
  return `fix_${createHash('sha256').update(idempotencyKey).digest('hex').slice(0, 24)}`;
}

export async function requestFix(
  job: DiscordCommandJob | DiscordComponentJob,
  target: { bug?: Bug },
  deps: RequestFixDeps,
): Promise<OutgoingMessage> {
  const member = job.interaction.member;
  const actor = `${member.username} (${member.userId})`;
  const jobId = fixJobIdFor(job.idempotencyKey);
  let record = await deps.fixJobs.getFixJob(jobId);
  if (record && record.status !== 'requested') return describeFixJob(record);

  if (!record) {
    const resolved = await resolveTarget(job, target.bug, deps);
    if ('refusal' in resolved) return { content: resolved.refusal, ephemeral: true };
    const { bug } = resolved;
    if (bug) {
      const refusal = describeRefusal('draft_fix', bug.status);
      if (refusal) {
        await audit(bug.bugId, actor, 'transition_refused', `draft_fix: ${refusal}`, deps);
        return { content: refusal, ephemeral: true };
      }
    }
    const stored = await deps.fixJobs.createFixJob(await buildRecord(jobId, resolved, member.username, deps));
    record = stored.job;
    // Counted once per request: a redelivered request finds its job and spends nothing more.
    if (stored.created && !(await allow(member.userId, deps))) {
      await deps.fixJobs.updateFixJob(jobId, ['requested'], { status: 'failed' });
      return {
        content: `You have asked for ${deps.settings.perUserPerHour} fixes this hour, the most one person may; try again next hour.`,
        ephemeral: true,
      };
    }
  }

  // The bug is claimed for this fix before anything is launched: a second request on the same
  // bug (another click, another person) finds it taken and launches nothing.
  if (record.bugId) {
    const bug = await deps.records.getBug(record.bugId);
    if (bug && bug.fix?.jobId !== jobId) {
      const { from, to } = transitionFor('draft_fix');
      const moved = await deps.records.transitionBug(bug.bugId, [...from], to, {
        // fromStatus: where a fix that does not land (failed, or its PR closed) returns the bug.
        fix: { jobId, status: 'requested', branch: record.spec.branch, fromStatus: bug.status },
      });
      if (!moved.ok && moved.current?.fix?.jobId !== jobId) {
        await deps.fixJobs.updateFixJob(jobId, ['requested'], { status: 'failed' });
        const refusal =
          describeRefusal('draft_fix', moved.current?.status ?? bug.status) ??
          'Another fix is under way for this bug.';
        await audit(bug.bugId, actor, 'transition_refused', `draft_fix: ${refusal}`, deps);
        return { content: refusal, ephemeral: true };
      }
      if (moved.ok) {
        await audit(bug.bugId, actor, 'transition', `${bug.status} → fix_requested (${jobId})`, deps);
        await refreshCard(moved.bug, deps);
        await postInThread(
          moved.bug,
          `fix-requested:${jobId}`,
          renderThreadNote('fix_requested', { by: member.username }),
          deps,
        );
      }
    }
  }

  let taskId: string;
  try {
    ({ taskId } = await deps.launcher.launch(record.spec));
  } catch (error) {
    // A launch that cannot succeed must not leave the bug waiting for a fix forever.
    if (!(error instanceof ServiceError && error.retryable))
      await abandonFixRequest(jobId, deps, describeFailure('the fix runner', error));
    throw error;
  }
  const launched = await deps.fixJobs.updateFixJob(jobId, ['requested'], { status: 'launched', taskId });
  if (launched.ok) deps.metrics?.record('FixesRequested', 1);
  return describeFixJob(launched.ok ? launched.job : record);
}

/**
 * A fix request that will not run (its launch failed for good, or kept failing): the job is
 * marked failed, the bug goes back to where it was, and its thread says why.
 */
export async function abandonFixRequest(jobId: string, deps: RequestFixDeps, reason: string): Promise<void> {
  const failed = await deps.fixJobs.updateFixJob(jobId, ['requested'], { status: 'failed' });
  if (!failed.ok || !failed.job.bugId) return;
  const bug = await deps.records.getBug(failed.job.bugId);
  if (bug?.status !== 'fix_requested' || bug.fix?.jobId !== jobId) return;
  const to = stateAfterFailedFix(bug);
  const moved = await deps.records.transitionBug(bug.bugId, ['fix_requested'], to, {
    fix: { ...bug.fix, jobId, status: 'failed', branch: failed.job.spec.branch },
  });
  if (!moved.ok) return;
  await audit(bug.bugId, 'system', 'transition', `fix_requested → ${to} (the fix could not start)`, deps);
  await refreshCard(moved.bug, deps);
  await postInThread(
    moved.bug,
    `fix-outcome:${jobId}`,
    renderThreadNote('fix_failed', { reasons: [`the fix could not start: ${reason}`] }),
    deps,
  );
}

function describeFixJob(record: FixJobRecord): OutgoingMessage {
  const title = toPlainLine(record.spec.task.title, 80);
  switch (record.status) {
    case 'finished':
      return {
        content: `The fix for ${title} has finished${record.pullRequestUrl ? `: ${record.pullRequestUrl}` : '; see the thread'}.`,
      };
    case 'failed':
      return { content: `The fix for ${title} did not run; see the thread for why.`, ephemeral: true };
    default:
      return {
        content: `Drafting a fix for ${title} on \`${record.spec.branch}\`; the pull request (or what stopped it) will be posted in the thread.`,
      };
  }
}

async function allow(userId: string, deps: RequestFixDeps): Promise<boolean> {
  const now = deps.now();
  const allowance = await deps.fixJobs.consumeAllowance({
    scope: 'fix',
    userId,
    window: now.toISOString().slice(0, 13), // one-hour windows
    limit: deps.settings.perUserPerHour,
    expiresAt: Math.floor(now.getTime() / 1000) + 2 * 3600,
  });
  return allowance.allowed;
}

async function buildRecord(
  jobId: string,
  resolved: FixTarget & { readonly issue?: FixJobRecord['issue'] },
  requestedBy: string,
  deps: RequestFixDeps,
): Promise<FixJobRecord> {
  const { bug } = resolved;
  const baseBranch = await deps.codeHost.getDefaultBranch(deps.settings.repo);
  const candidateFiles = (await deps.codeHost.searchCode(deps.settings.repo, searchTerms(resolved), 10))
    .map((hit) => hit.path)
    .filter((path) => isPathAllowed(path, deps.settings.allowlist));
  const slug = (bug?.bugId ?? resolved.issue?.identifier ?? jobId)
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .slice(0, 40);
  const spec: FixJobSpec = {
    jobId,
    repo: {
      cloneUrl:
        deps.settings.cloneUrl ??
        `https://github.com/${deps.settings.repo.owner}/${deps.settings.repo.repo}.git`,
      baseBranch,
    },
    branch: `${FIX_BRANCH_PREFIX}${slug}-${jobId.slice(4, 12)}`,
    task: { title: resolved.title, body: resolved.body, ...(resolved.url ? { url: resolved.url } : {}) },
    allowlist: [...deps.settings.allowlist],
    limits: deps.settings.limits,
    ...(deps.settings.verifyCommand ? { verify: { command: deps.settings.verifyCommand } } : {}),
    ...(candidateFiles.length > 0 ? { candidateFiles } : {}),
  };
  return {
    jobId,
    spec,
    bugId: bug?.bugId,
    issue: resolved.issue,
    notifyChannelId: resolved.notifyChannelId,
    requestedBy,
    status: 'requested',
    createdAt: deps.now().toISOString(),
  };
}

async function resolveTarget(
  job: DiscordCommandJob | DiscordComponentJob,
  bug: Bug | undefined,
  deps: RequestFixDeps,
): Promise<(FixTarget & { readonly issue?: FixJobRecord['issue'] }) | { readonly refusal: string }> {
  const notifyChannelId = bug?.card?.threadId ?? job.interaction.threadId ?? job.interaction.channelId;
  if (bug)
    return {
      bug,
      issue: bug.issue,
      title: bug.title,
      body: bugBody(bug),
      url: bug.issue?.url,
      notifyChannelId,
    };
  if (job.kind !== 'discord.command') return { refusal: 'That bug card no longer exists.' };

  const text = [
    job.command.issue,
    job.command.repo,
    job.command.instructions,
    job.command.targetMessage?.content,
  ]
    .filter(Boolean)
    .join('\n');
  const refs = extractReferences(text);
  const otherRepo = refs.githubRepos.find(
    (repo) =>
      `${repo.owner}/${repo.repo}`.toLowerCase() !==
      `${deps.settings.repo.owner}/${deps.settings.repo.repo}`.toLowerCase(),
  );
  if (otherRepo) {
    return {
      refusal: `bugbot only drafts fixes for ${deps.settings.repo.owner}/${deps.settings.repo.repo}, not ${otherRepo.owner}/${otherRepo.repo}.`,
    };
  }
  const identifier = refs.linearIssues[0];
  if (identifier) {
    const linkedBugId = await deps.records.findBugIdByReference('issue', identifier);
    const linkedBug = linkedBugId ? await deps.records.getBug(linkedBugId) : null;
    if (linkedBug)
      return {
        bug: linkedBug,
        issue: linkedBug.issue,
        title: linkedBug.title,
        body: bugBody(linkedBug),
        url: linkedBug.issue?.url,
        notifyChannelId,
      };
    const issue = await deps.tracker.getIssue(identifier);
    if (!issue) return { refusal: `I couldn't find ${identifier} in Linear, so no fix was started.` };
    const body = [
      issue.description,
      job.command.instructions &&
        `Notes from ${job.interaction.member.username}: ${job.command.instructions}`,
    ]
      .filter(Boolean)
      .join('\n\n');
    return {
      issue: { tracker: 'linear', id: issue.id, identifier: issue.identifier, url: issue.url },
      title: issue.title,
      body,
      url: issue.url,
      notifyChannelId,
    };
  }
  const message = job.command.targetMessage?.content;
  if (!message && job.interaction.threadId) {
    // `/bugbot fix` inside a bug card's thread: that bug.
    const threadBugId = await deps.records.findBugIdByReference('thread', job.interaction.threadId);
    const threadBug = threadBugId ? await deps.records.getBug(threadBugId) : null;
    if (threadBug)
      return {
        bug: threadBug,
        issue: threadBug.issue,
        title: threadBug.title,
        body: bugBody(threadBug),
        url: threadBug.issue?.url,
        notifyChannelId,
      };
  }
  if (message) {
    const title = toPlainLine(message.split('\n')[0] ?? '', 100) || 'Bug reported in Discord';
    return { title, body: [message, job.command.instructions].filter(Boolean).join('\n\n'), notifyChannelId };
  }
  return {
    refusal:
      'Name the issue to fix (`/bugbot fix issue:ENG-12`), or use "Draft fix" on the message that describes the bug.',
  };
}

function bugBody(bug: Bug): string {
  const analysis = readAnalysis(bug)?.result;
  const parts = [bug.description];
  if (bug.report?.consoleLogs) parts.push(`Console logs (tail):\n${bug.report.consoleLogs.slice(-3000)}`);
  if (analysis) {
    parts.push(
      `Triage (by bugbot, from the report): root cause hypothesis: ${analysis.rootCauseHypothesis}\nAffected area: ${analysis.affectedArea}\nSuggested fix: ${analysis.suggestedFix}`,
    );
  }
  return parts.join('\n\n');
}

/** A handful of distinctive words for code search; never operators from the report. */
function searchTerms(target: FixTarget): string {
  const analysis = target.bug ? readAnalysis(target.bug)?.result : undefined;
  const text = [target.title, analysis?.affectedArea].filter(Boolean).join(' ');
  const words = text.toLowerCase().match(/[a-z][a-z0-9_]{3,}/g) ?? [];
  const stop = new Set([
    'when',
    'with',
    'that',
    'this',
    'from',
    'have',
    'does',
    'page',
    'crash',
    'crashes',
    'error',
    'button',
    'bug',
  ]);
  return [...new Set(words.filter((word) => !stop.has(word)))].slice(0, 4).join(' ');
}
