import { createHash } from 'node:crypto';
import { isPathAllowed } from '../domain/allowlist-gate.js';
import type { Bug } from '../domain/bug.js';
import { describeRefusal, transitionFor } from '../domain/bug-state-machine.js';
import { renderThreadNote } from '../domain/bug-views.js';
import { extractReferences } from '../domain/references.js';
import { toPlainLine } from '../domain/untrusted-text.js';
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
export async function requestFix(
  job: DiscordCommandJob | DiscordComponentJob,
  target: { bug?: Bug },
  deps: RequestFixDeps,
): Promise<OutgoingMessage> {
  const member = job.interaction.member;
  const jobId = `fix_${createHash('sha256').update(job.idempotencyKey).digest('hex').slice(0, 24)}`;
  const existing = await deps.fixJobs.getFixJob(jobId);
  if (existing) return launchOnce(existing, deps);

  const resolved = await resolveTarget(job, target.bug, deps);
  if ('refusal' in resolved) return { content: resolved.refusal, ephemeral: true };
  const { bug } = resolved;
  if (bug) {
    const refusal = describeRefusal('draft_fix', bug.status);
    if (refusal) {
      await audit(
        bug.bugId,
        `${member.username} (${member.userId})`,
        'transition_refused',
        `draft_fix: ${refusal}`,
        deps,
      );
      return { content: refusal, ephemeral: true };
    }
  }

  const now = deps.now();
  const window = now.toISOString().slice(0, 13); // one-hour windows
  const allowance = await deps.fixJobs.consumeAllowance({
    scope: 'fix',
    userId: member.userId,
    window,
    limit: deps.settings.perUserPerHour,
    expiresAt: Math.floor(now.getTime() / 1000) + 2 * 3600,
  });
  if (!allowance.allowed) {
    return {
      content: `You have asked for ${deps.settings.perUserPerHour} fixes this hour, the most one person may; try again next hour.`,
      ephemeral: true,
    };
  }

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
    branch: `bugbot/fix-${slug}-${jobId.slice(4, 12)}`,
    task: { title: resolved.title, body: resolved.body, ...(resolved.url ? { url: resolved.url } : {}) },
    allowlist: [...deps.settings.allowlist],
    limits: deps.settings.limits,
    ...(deps.settings.verifyCommand ? { verify: { command: deps.settings.verifyCommand } } : {}),
    ...(candidateFiles.length > 0 ? { candidateFiles } : {}),
  };
  const record: FixJobRecord = {
    jobId,
    spec,
    bugId: bug?.bugId,
    issue: resolved.issue,
    notifyChannelId: resolved.notifyChannelId,
    requestedBy: member.username,
    status: 'requested',
    createdAt: now.toISOString(),
  };
  const stored = await deps.fixJobs.createFixJob(record);

  if (bug) {
    const { from, to } = transitionFor('draft_fix');
    const moved = await deps.records.transitionBug(bug.bugId, [...from], to, {
      fix: { jobId, status: 'requested', branch: spec.branch },
    });
    if (moved.ok) {
      await audit(
        bug.bugId,
        `${member.username} (${member.userId})`,
        'transition',
        `${bug.status} → fix_requested (${jobId})`,
        deps,
      );
      await refreshCard(moved.bug, deps);
      await postInThread(
        moved.bug,
        `fix-requested:${jobId}`,
        renderThreadNote('fix_requested', { by: member.username }),
        deps,
      );
    }
  }
  return launchOnce(stored.job, deps);
}

async function launchOnce(record: FixJobRecord, deps: RequestFixDeps): Promise<OutgoingMessage> {
  if (record.status === 'requested') {
    const { taskId } = await deps.launcher.launch(record.spec);
    await deps.fixJobs.updateFixJob(record.jobId, ['requested'], { status: 'launched', taskId });
    deps.metrics?.record('FixesRequested', 1);
  }
  return {
    content: `Drafting a fix for ${toPlainLine(record.spec.task.title, 80)} on \`${record.spec.branch}\`; the pull request (or what stopped it) will be posted in the thread.`,
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
