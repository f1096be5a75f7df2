import type { Bug, BugReportDetails } from '../domain/bug.js';
import { renderBugCard } from '../domain/bug-card.js';
import type { BugStatusEventOptions } from '../domain/bug-status-event.js';
import type { PriorityResult } from '../domain/priority.js';
import type { ReportCut } from '../domain/report-bounds.js';
import type { BugStatusEventType } from '../jobs/job-schemas.js';
import type { BugAnalysisResult } from '../ports/analyst.js';
import type { BugRecords } from '../ports/bug-records.js';
import type { BugStore } from '../ports/bug-store.js';
import type { BusinessMetrics } from '../ports/business-metrics.js';
import type { ChatPlatform, OutgoingMessage, OwnPost } from '../ports/chat-platform.js';

/**
 * What the bug flows share: the stored analysis shape, the card, audit entries and thread posts.
 * Every post carries a nonce derived from what it is about, so a redelivered job cannot post it
 * twice; every "done once" step is recorded.
 */

export interface StoredAnalysis {
  readonly state: 'done' | 'pending' | 'failed';
  readonly result?: BugAnalysisResult;
  readonly priority?: PriorityResult;
  readonly replayUrl?: string;
  /** Why a failed analysis failed, said plainly (e.g. "Claude declined to analyse this report"). */
  readonly failure?: string;
  /** Set when the reporter's session could not be read: the analysis went ahead without it. */
  readonly replayUnavailable?: string;
}

export function readAnalysis(bug: Bug): StoredAnalysis | undefined {
  const analysis = bug.analysis as StoredAnalysis | undefined;
  return analysis && typeof analysis === 'object' && 'state' in analysis ? analysis : undefined;
}

export interface BugFlowContext {
  readonly records: BugRecords;
  readonly store: BugStore;
  readonly chat: ChatPlatform;
  readonly now: () => Date;
  /** Business metrics for the dashboard; absent in tests that do not count. */
  readonly metrics?: BusinessMetrics;
  /**
   * Tells the product about its users' bugs (`BUG_STATUS_WEBHOOK_URL`); absent when the
   * deployment has no status webhook. Safe to call again for the same occasion: the event's
   * `webhook-id` is derived from it, and its delivery happens once.
   */
  readonly announce?: ProductAnnouncer;
}

export type ProductAnnouncer = (
  type: BugStatusEventType,
  bug: Bug,
  options?: BugStatusEventOptions,
) => Promise<void>;

export function cardFor(bug: Bug): OutgoingMessage {
  const analysis = readAnalysis(bug);
  return renderBugCard(bug, {
    analysis:
      analysis?.state === 'done' && analysis.result
        ? analysis.result
        : analysis?.state === 'failed'
          ? 'failed'
          : analysis?.state === 'pending'
            ? 'pending'
            : undefined,
    priority: analysis?.priority,
    analysisFailure: analysis?.state === 'failed' ? analysis.failure : undefined,
    replayUnavailable: analysis?.replayUnavailable,
    dismissed: bug.dismissal ? { by: bug.dismissal.by, reason: bug.dismissal.reason } : undefined,
    links: {
      pullRequestUrl: bug.fix?.pullRequestUrl,
      replayUrl: analysis?.replayUrl,
    },
  });
}

/** Re-renders the card where it was posted; a card that was never posted is left alone. */
export async function refreshCard(bug: Bug, context: BugFlowContext): Promise<void> {
  if (!bug.card) return;
  await context.chat.editMessage(bug.card.channelId, bug.card.messageId, cardFor(bug));
}

/** Posts in the bug's thread once per `key` (see `postOnce`). */
export async function postInThread(
  bug: Bug,
  key: string,
  message: OutgoingMessage,
  context: BugFlowContext,
): Promise<void> {
  const threadId = bug.card?.threadId;
  if (!threadId) return;
  await postOnce(
    {
      channelId: threadId,
      message,
      nonce: `${bug.bugId}:${key}`,
      stepKey: `bug:${bug.bugId}`,
      step: `thread:${key}`,
    },
    context,
  );
}

/**
 * How long a retried post may rely on Discord's enforced nonce alone. Discord dedupes "in the
 * past few minutes" (Create Message, `enforce_nonce`); a retry later than this first reads the
 * channel back for the earlier post.
 */
export const NONCE_TRUSTED_MS = 60_000;

export interface PostOnceInput {
  readonly channelId: string;
  readonly message: OutgoingMessage;
  readonly nonce: string;
  /** The step record (`stepKey`, `step`) that says the post happened. */
  readonly stepKey: string;
  readonly step: string;
  /** Recognises the earlier post when read back; default: the same text and embeds. */
  readonly recognize?: (post: OwnPost) => boolean;
}

/**
 * Posts a message at most once, however often (and however late) the job is retried:
 *
 * 1. a step record says it was posted → nothing to do;
 * 2. otherwise an intent record is written before the first attempt, so a retry knows an
 *    earlier attempt may have posted even though its answer was lost (a timeout, a cut-off body);
 * 3. a retry within `NONCE_TRUSTED_MS` of that intent relies on the enforced nonce (Discord
 *    returns the earlier message instead of posting again);
 * 4. a later retry reads the channel back from the intent's time and takes a post of ours that
 *    matches as the earlier one: Discord keeps no nonce on a message, so it is recognised by
 *    what it says.
 */
export async function postOnce(input: PostOnceInput, context: BugFlowContext): Promise<{ id: string }> {
  const { stepKey, step } = input;
  const done = await context.store.getStep(stepKey, step);
  if (done) return { id: typeof done.result.messageId === 'string' ? done.result.messageId : '' };
  const intentStep = `${step}:intent`;
  const intent = await context.store.getStep(stepKey, intentStep);
  const now = context.now();
  let found: OwnPost | undefined;
  if (!intent) {
    await context.store.recordStep({
      key: stepKey,
      step: intentStep,
      result: { channelId: input.channelId },
      completedAt: now.toISOString(),
    });
  } else {
    const since = Date.parse(intent.completedAt);
    if (!(now.getTime() - since < NONCE_TRUSTED_MS)) {
      const recognize = input.recognize ?? sameText(input.message);
      const posts = await context.chat.listOwnPostsSince(input.channelId, new Date(since - 5_000));
      found = posts.find(recognize);
    }
  }
  const posted =
    found ?? (await context.chat.postMessage(input.channelId, input.message, { nonce: input.nonce }));
  await context.store.recordStep({
    key: stepKey,
    step,
    result: { messageId: posted.id },
    completedAt: context.now().toISOString(),
  });
  return { id: posted.id };
}

function sameText(message: OutgoingMessage): (post: OwnPost) => boolean {
  const content = (message.content ?? '').trim();
  const titles = (message.embeds ?? []).map((embed) => embed.title ?? '');
  return (post) =>
    post.content.trim() === content &&
    post.embeds.length === titles.length &&
    post.embeds.every((embed, index) => (embed.title ?? '') === titles[index]);
}

export async function audit(
  bugId: string,
  actor: string,
  action: string,
  detail: string,
  context: BugFlowContext,
): Promise<void> {
  await context.records.appendAudit(bugId, { actor, action, detail, at: context.now().toISOString() });
}

/**
 * The parts of a report worth keeping with the bug, from a report already bounded for storage
 * (shared/domain/report-bounds.ts), with what was cut on the way.
 */
export function reportDetails(
  report: {
    app_version?: string;
    device_info?: Record<string, unknown>;
    console_logs?: string;
    url?: string;
    posthog_session_id?: string;
    screenshot_url?: string;
    created_at?: string;
  },
  cuts: readonly ReportCut[] = [],
): BugReportDetails {
  return {
    appVersion: report.app_version,
    deviceInfo: report.device_info,
    consoleLogs: report.console_logs,
    url: report.url,
    posthogSessionId: report.posthog_session_id,
    screenshotUrl: report.screenshot_url,
    reportedAt: report.created_at,
    ...(cuts.length > 0 ? { cuts } : {}),
  };
}
