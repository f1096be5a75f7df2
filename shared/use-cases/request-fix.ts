import { createHash } from 'node:crypto';
import { isPathAllowed } from '../domain/allowlist-gate.js';
import type { Bug } from '../domain/bug.js';
import { describeRefusal, stateAfterFailedFix, transitionFor } from '../domain/bug-state-machine.js';
import { renderThreadNote } from '../domain/bug-views.js';
import { describeFailure } from '../domain/describe-failure.js';
import { ServiceError } from '../domain/errors.js';
import { budgetMonthOf, checkBudget, describeMonthSpend, toMicros } from '../domain/fix-budget.js';
import { renderFixRequestedNote, withSpend } from '../domain/fix-notes.js';
import { extractReferences } from '../domain/references.js';
import { toPlainLine } from '../domain/untrusted-text.js';
import { FIX_BRANCH_PREFIX } from '../jobs/fix-branch.js';
import type { FixJobSpec } from '../jobs/fix-job-spec.js';
import type { DiscordCommandJob, DiscordComponentJob } from '../jobs/job-schemas.js';
import type { OutgoingMessage } from '../ports/chat-platform.js';
import type { CodeHost, RepositoryRef } from '../ports/code-host.js';
import type { FixJobRecord, FixJobs, FixTargetHolder } from '../ports/fix-jobs.js';
import type { FixLauncher } from '../ports/fix-launcher.js';
import type { IssueTracker } from '../ports/issue-tracker.js';
import { audit, type BugFlowContext, postInThread, readAnalysis, refreshCard } from './bug-context.js';
import { findCandidateFiles } from './candidate-files.js';

export interface FixSettings {
  readonly repo: RepositoryRef;
  /** Where the runner clones from; `https://github.com/<owner>/<repo>.git` unless set. */
  readonly cloneUrl?: string;
  /**
   * A fork the runner pushes fix branches to instead of `repo` (README, "Fixes from a fork"); the
   * pull request is then opened from `<fork owner>:<branch>`.
   */
  readonly pushRepo?: RepositoryRef;
  /** The fork's git URL; `https://github.com/<owner>/<repo>.git` of `pushRepo` unless set. */
  readonly pushUrl?: string;
  readonly allowlist: readonly string[];
  readonly limits: FixJobSpec['limits'];
  readonly verifyCommand?: string;
  /** Fixes one person may ask for per hour. */
  readonly perUserPerHour: number;
  /** Dollars all fixes together may cost per calendar month (UTC); checked before each launch. */
  readonly monthlyBudgetUsd: number;
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
  /**
   * What "one fix at a time" counts on: the bug, else the tracker issue, else the message. Ten
   * variants of `/bugbot fix issue:ENG-12` share `issue:linear:<id>`, so one runner starts.
   */
  readonly targetKey: string;
}

/** The task body is a report anyone could make long; the runner and the model get this much. */
export const MAX_TASK_BODY_CHARS = 20_000;
/** A claim on a target outlives the longest run; a holder that never released it loses it then. */
const CLAIM_SLACK_SECONDS = 2 * 3600;

/**
 * The fix job's id is derived from the request, so a redelivered request launches at most one
 * runner; the outcome comes back later as `fix.result` / `fix.task-stopped`.
 */
export function fixJobIdFor(idempotencyKey: string): string {
  return `fix_${createHash('sha256').update(idempotencyKey).digest('hex').slice(0, 24)}`;
}

/**
 * A maintainer asked for a fix (the ingress checked the role). In order, each step safe to repeat
 * on a redelivery:
 * 1. what to fix, and whether it may be fixed now — refusals spend nothing;
 * 2. one fix per target: the bug moves to `fix_requested` for this job, or the issue/message is
 *    claimed; a target already being fixed is answered with where that fix is;
 * 3. the person's hourly allowance and the month's budget, each counted once per job (set
 *    members in DynamoDB) and given back if a later step refuses — only a fix that launches spends;
 * 4. the runner is launched.
 */
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
    if (bug && bug.status !== 'fix_requested') {
      const refusal = describeRefusal('draft_fix', bug.status);
      if (refusal) {
        await audit(bug.bugId, actor, 'transition_refused', `draft_fix: ${refusal}`, deps);
        return { content: refusal, ephemeral: true };
      }
    }
    // Cheap checks first, so a refused or "already drafting" request stores and spends nothing.
    const busy = findFixInProgress(resolved);
    if (busy) return busy;
    const used = await deps.fixJobs.peekAllowance(allowanceOf(member.userId, deps.now()));
    if (used >= deps.settings.perUserPerHour) return allowanceRefusal(deps);
    const month = budgetMonthOf(deps.now());
    const spend = await deps.fixJobs.readMonthSpend(month);
    if (!checkBudget(spend, deps.settings.monthlyBudgetUsd, deps.settings.limits.maxBudgetUsd).allowed)
      return budgetRefusal(spend, deps);
    const stored = await deps.fixJobs.createFixJob(await buildRecord(jobId, resolved, member, deps));
    record = stored.job;
    if (record.status !== 'requested') return describeFixJob(record);
  }

  const claim = await claimTarget(record, actor, deps);
  if (!claim.claimed) {
    await deps.fixJobs.updateFixJob(jobId, ['requested'], {
      status: 'refused',
      reason: 'another fix holds the target',
    });
    return claim.answer;
  }

  const allowance = await deps.fixJobs.consumeAllowance({
    ...allowanceOf(record.requestedById ?? member.userId, new Date(allowanceTime(record))),
    limit: deps.settings.perUserPerHour,
    expiresAt: Math.floor(deps.now().getTime() / 1000) + 2 * 3600,
    useId: jobId,
  });
  if (!allowance.allowed) {
    await refuseClaimed(record, 'the hourly allowance is used up', deps);
    return allowanceRefusal(deps);
  }
  const month = record.budgetMonth ?? budgetMonthOf(deps.now());
  const reservation = await deps.fixJobs.reserveBudget({
    month,
    jobId,
    amountMicros: toMicros(record.spec.limits.maxBudgetUsd),
    limitMicros: toMicros(deps.settings.monthlyBudgetUsd),
  });
  if (!reservation.reserved) {
    await refundAllowance(record, deps);
    await refuseClaimed(record, 'the monthly fix budget is spent', deps);
    return budgetRefusal(reservation.spend, deps);
  }

  if (claim.bug) {
    await postInThread(
      claim.bug,
      `fix-requested:${jobId}`,
      renderFixRequestedNote(
        record.requestedBy,
        describeMonthSpend(reservation.spend, deps.settings.monthlyBudgetUsd),
      ),
      deps,
    );
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
  if (!launched.ok && launched.current?.status === 'cancelled') {
    // Dismissed while the launch was under way: the task it started must not run on.
    await deps.launcher.stop(taskId, 'bugbot: the bug was dismissed while its fix was starting');
    return describeFixJob(launched.current);
  }
  if (launched.ok) deps.metrics?.record('FixesRequested', 1);
  return describeFixJob(launched.ok ? launched.job : record);
}

/**
 * A fix request that will not run (its launch failed for good, or kept failing): the job is
 * marked failed, the allowance and budget it held are given back, the bug goes back to where it
 * was (or the target is released), and the thread says why.
 */
export async function abandonFixRequest(jobId: string, deps: RequestFixDeps, reason: string): Promise<void> {
  const failed = await deps.fixJobs.updateFixJob(jobId, ['requested'], { status: 'failed', reason });
  if (!failed.ok) return;
  const record = failed.job;
  await refundAllowance(record, deps);
  const spend = await releaseBudget(record, deps);
  const note = withSpend(
    renderThreadNote('fix_failed', { reasons: [`the fix could not start: ${reason}`] }),
    describeMonthSpend(spend, deps.settings.monthlyBudgetUsd),
  );
  if (!record.bugId) {
    if (record.targetKey) await deps.fixJobs.releaseFixTarget(record.targetKey, jobId);
    await deps.chat.postMessage(record.notifyChannelId, note, { nonce: `fix-outcome:${jobId}` });
    return;
  }
  const bug = await deps.records.getBug(record.bugId);
  if (bug?.status !== 'fix_requested' || bug.fix?.jobId !== jobId) return;
  const to = stateAfterFailedFix(bug);
  const moved = await deps.records.transitionBug(bug.bugId, ['fix_requested'], to, {
    fix: { ...bug.fix, jobId, status: 'failed', branch: record.spec.branch },
  });
  if (!moved.ok) return;
  await audit(bug.bugId, 'system', 'transition', `fix_requested → ${to} (the fix could not start)`, deps);
  await refreshCard(moved.bug, deps);
  await postInThread(moved.bug, `fix-outcome:${jobId}`, note, deps);
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
    case 'cancelled':
      return { content: `The fix for ${title} was stopped: its bug was dismissed.`, ephemeral: true };
    case 'refused':
      return {
        content: `The fix for ${title} was not started (${record.reason ?? 'refused'}).`,
        ephemeral: true,
      };
    default:
      return {
        content: `Drafting a fix for ${title} on \`${record.spec.branch}\`; the pull request (or what stopped it) will be posted in <#${record.notifyChannelId}>.`,
      };
  }
}

function allowanceOf(userId: string, at: Date) {
  return { scope: 'fix', userId, window: at.toISOString().slice(0, 13) }; // one-hour windows
}

/** The window the request falls in: when it was stored, so a retry an hour later counts there. */
function allowanceTime(record: FixJobRecord): string {
  return record.allowanceWindow ? `${record.allowanceWindow}:00:00.000Z` : record.createdAt;
}

function allowanceRefusal(deps: RequestFixDeps): OutgoingMessage {
  return {
    content: `You have asked for ${deps.settings.perUserPerHour} fixes this hour, the most one person may; try again next hour. Nothing was started or counted.`,
    ephemeral: true,
  };
}

function budgetRefusal(
  spend: { spentMicros: number; committedMicros: number },
  deps: RequestFixDeps,
): OutgoingMessage {
  return {
    content: `This month's fix budget is spent: ${describeMonthSpend(spend, deps.settings.monthlyBudgetUsd)}, and a fix may cost up to $${deps.settings.limits.maxBudgetUsd.toFixed(2)}. No fix was started; an admin can raise the budget (deployment setting fixMonthlyBudgetUsd).`,
    ephemeral: false,
  };
}

/**
 * Where a fix for the same bug already runs, if one does: "already drafting, see there". For an
 * issue or a message the claim itself tells (one conditional write).
 */
function findFixInProgress(target: FixTarget): OutgoingMessage | null {
  const { bug } = target;
  if (bug?.status !== 'fix_requested') return null;
  return alreadyDrafting(bug.card?.threadId ?? target.notifyChannelId);
}

function alreadyDrafting(channelId: string, holder?: FixTargetHolder): OutgoingMessage {
  const who = holder ? ` (asked for by ${toPlainLine(holder.requestedBy, 80)})` : '';
  return {
    content: `A fix is already being drafted for this bug${who}. Its pull request, or what stopped it, will be posted in <#${channelId}>.`,
    ephemeral: true,
  };
}

type Claim =
  | { readonly claimed: true; readonly bug?: Bug }
  | { readonly claimed: false; readonly answer: OutgoingMessage };

/**
 * One fix at a time: a bug is claimed by moving it to `fix_requested` for this job (conditional
 * on its status), anything else by a claim item for its target key.
 */
async function claimTarget(record: FixJobRecord, actor: string, deps: RequestFixDeps): Promise<Claim> {
  const { jobId } = record;
  if (!record.bugId) {
    if (!record.targetKey) return { claimed: true };
    const claim = await deps.fixJobs.claimFixTarget({
      targetKey: record.targetKey,
      holder: { jobId, notifyChannelId: record.notifyChannelId, requestedBy: record.requestedBy },
      expiresAt:
        Math.floor(deps.now().getTime() / 1000) +
        record.spec.limits.timeoutSeconds +
        (record.spec.verify?.timeoutSeconds ?? 600) * 2 +
        CLAIM_SLACK_SECONDS,
      now: Math.floor(deps.now().getTime() / 1000),
    });
    return claim.claimed
      ? { claimed: true }
      : { claimed: false, answer: alreadyDrafting(claim.holder.notifyChannelId, claim.holder) };
  }
  const bug = await deps.records.getBug(record.bugId);
  if (!bug) return { claimed: false, answer: { content: 'That bug no longer exists.', ephemeral: true } };
  if (bug.fix?.jobId === jobId && bug.status === 'fix_requested') return { claimed: true, bug };
  const { from, to } = transitionFor('draft_fix');
  const moved = await deps.records.transitionBug(bug.bugId, [...from], to, {
    // fromStatus: where a fix that does not land (failed, or its PR closed) returns the bug.
    fix: { jobId, status: 'requested', branch: record.spec.branch, fromStatus: bug.status },
  });
  if (moved.ok) {
    await audit(bug.bugId, actor, 'transition', `${bug.status} → fix_requested (${jobId})`, deps);
    await refreshCard(moved.bug, deps);
    return { claimed: true, bug: moved.bug };
  }
  if (moved.current?.fix?.jobId === jobId && moved.current.status === 'fix_requested')
    return { claimed: true, bug: moved.current };
  const status = moved.current?.status ?? bug.status;
  const refusal =
    status === 'fix_requested'
      ? alreadyDrafting(moved.current?.card?.threadId ?? record.notifyChannelId)
      : { content: describeRefusal('draft_fix', status) ?? 'The bug changed meanwhile.', ephemeral: true };
  await audit(bug.bugId, actor, 'transition_refused', `draft_fix: ${refusal.content}`, deps);
  return { claimed: false, answer: refusal };
}

/**
 * A claimed request that may not run after all (allowance or budget): the job is refused, and
 * the bug goes back to exactly where it was (its status and its previous fix link), or the target
 * claim is released.
 */
async function refuseClaimed(record: FixJobRecord, reason: string, deps: RequestFixDeps): Promise<void> {
  await deps.fixJobs.updateFixJob(record.jobId, ['requested'], { status: 'refused', reason });
  if (!record.bugId) {
    if (record.targetKey) await deps.fixJobs.releaseFixTarget(record.targetKey, record.jobId);
    return;
  }
  const bug = await deps.records.getBug(record.bugId);
  if (bug?.status !== 'fix_requested' || bug.fix?.jobId !== record.jobId) return;
  const previous = record.previousBug;
  const to = previous && previous.status !== 'fix_requested' ? previous.status : stateAfterFailedFix(bug);
  const moved = await deps.records.transitionBug(bug.bugId, ['fix_requested'], to, {
    fix: previous?.fix ?? { jobId: record.jobId, status: 'refused', branch: record.spec.branch },
  });
  if (moved.ok) {
    await audit(bug.bugId, 'system', 'transition', `fix_requested → ${to} (${reason})`, deps);
    await refreshCard(moved.bug, deps);
  }
}

async function refundAllowance(record: FixJobRecord, deps: RequestFixDeps): Promise<void> {
  if (!record.requestedById) return;
  await deps.fixJobs.refundAllowance({
    ...allowanceOf(record.requestedById, new Date(allowanceTime(record))),
    useId: record.jobId,
  });
}

/** Gives back a reservation that was never used: the job never ran, so it cost nothing. */
async function releaseBudget(record: FixJobRecord, deps: RequestFixDeps) {
  return deps.fixJobs.settleBudget({
    month: record.budgetMonth ?? budgetMonthOf(new Date(record.createdAt)),
    jobId: record.jobId,
    reservedMicros: toMicros(record.spec.limits.maxBudgetUsd),
    costMicros: 0,
  });
}

async function buildRecord(
  jobId: string,
  resolved: FixTarget,
  member: { readonly userId: string; readonly username: string },
  deps: RequestFixDeps,
): Promise<FixJobRecord> {
  const { bug } = resolved;
  const { settings } = deps;
  const baseBranch = await deps.codeHost.getDefaultBranch(settings.repo);
  const candidateFiles = (await findCandidateFiles(resolved, deps)).filter((path) =>
    isPathAllowed(path, settings.allowlist),
  );
  const slug = (bug?.bugId ?? resolved.issue?.identifier ?? jobId)
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .slice(0, 40);
  const pushUrl = settings.pushRepo
    ? (settings.pushUrl ?? `https://github.com/${settings.pushRepo.owner}/${settings.pushRepo.repo}.git`)
    : undefined;
  const spec: FixJobSpec = {
    jobId,
    repo: {
      cloneUrl: settings.cloneUrl ?? `https://github.com/${settings.repo.owner}/${settings.repo.repo}.git`,
      ...(pushUrl ? { pushUrl } : {}),
      baseBranch,
    },
    branch: `${FIX_BRANCH_PREFIX}${slug}-${jobId.slice(4, 12)}`,
    task: {
      title: toPlainLine(resolved.title, 500) || 'Bug reported in Discord',
      body: boundTaskBody(resolved.body),
      ...(resolved.url ? { url: resolved.url } : {}),
    },
    allowlist: [...settings.allowlist],
    limits: settings.limits,
    ...(settings.verifyCommand ? { verify: { command: settings.verifyCommand } } : {}),
    ...(candidateFiles.length > 0 ? { candidateFiles } : {}),
  };
  const now = deps.now();
  return {
    jobId,
    spec,
    bugId: bug?.bugId,
    issue: resolved.issue,
    notifyChannelId: resolved.notifyChannelId,
    requestedBy: member.username,
    requestedById: member.userId,
    status: 'requested',
    createdAt: now.toISOString(),
    targetKey: resolved.targetKey,
    ...(bug ? { previousBug: { status: bug.status, ...(bug.fix ? { fix: bug.fix } : {}) } } : {}),
    budgetMonth: budgetMonthOf(now),
    allowanceWindow: now.toISOString().slice(0, 13),
  };
}

/**
 * A Linear issue or a report can be any length; the spec is stored in one DynamoDB item and read
 * by a model with a budget. Cut at the end, saying so, so the agent knows it did not see it all.
 */
export function boundTaskBody(body: string): string {
  if (body.length <= MAX_TASK_BODY_CHARS) return body;
  const note = `\n\n[bugbot cut this text here: ${body.length - MAX_TASK_BODY_CHARS + 200} more characters were left out]`;
  return `${body.slice(0, MAX_TASK_BODY_CHARS - 200)}${note}`;
}

async function resolveTarget(
  job: DiscordCommandJob | DiscordComponentJob,
  bug: Bug | undefined,
  deps: RequestFixDeps,
): Promise<FixTarget | { readonly refusal: string }> {
  const notifyChannelId = bug?.card?.threadId ?? job.interaction.threadId ?? job.interaction.channelId;
  const forBug = (target: Bug): FixTarget => ({
    bug: target,
    issue: target.issue,
    title: target.title,
    body: bugBody(target),
    url: target.issue?.url,
    notifyChannelId: target.card?.threadId ?? notifyChannelId,
    targetKey: `bug:${target.bugId}`,
  });
  if (bug) return forBug(bug);
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
    if (linkedBug) return forBug(linkedBug);
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
      targetKey: `issue:linear:${issue.id}`,
    };
  }
  const message = job.command.targetMessage;
  if (!message?.content && job.interaction.threadId) {
    // `/bugbot fix` inside a bug card's thread: that bug.
    const threadBugId = await deps.records.findBugIdByReference('thread', job.interaction.threadId);
    const threadBug = threadBugId ? await deps.records.getBug(threadBugId) : null;
    if (threadBug) return forBug(threadBug);
  }
  if (message?.content) {
    const title = toPlainLine(message.content.split('\n')[0] ?? '', 100) || 'Bug reported in Discord';
    return {
      title,
      body: [message.content, job.command.instructions].filter(Boolean).join('\n\n'),
      notifyChannelId,
      targetKey: `message:${message.channelId}:${message.id}`,
    };
  }
  return {
    refusal:
      'Name the issue to fix (`/bugbot fix issue:ENG-12`), or use "Draft fix" on the message that describes the bug.',
  };
}

function bugBody(bug: Bug): string {
  const analysis = readAnalysis(bug)?.result;
  const parts = [bug.description];
  if (bug.report?.url) parts.push(`Page: ${bug.report.url}`);
  if (bug.report?.appVersion) parts.push(`App version: ${bug.report.appVersion}`);
  if (bug.report?.consoleLogs) parts.push(`Console logs (tail):\n${bug.report.consoleLogs.slice(-3000)}`);
  if (analysis) {
    parts.push(
      `Triage (by bugbot, from the report): root cause hypothesis: ${analysis.rootCauseHypothesis}\nAffected area: ${analysis.affectedArea}\nSuggested fix: ${analysis.suggestedFix}`,
    );
  }
  return parts.join('\n\n');
}
