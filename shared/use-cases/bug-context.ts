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
import type { ChatPlatform, OutgoingMessage } from '../ports/chat-platform.js';

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

/** Posts in the bug's thread once per `key` (nonce at Discord, step record here). */
export async function postInThread(
  bug: Bug,
  key: string,
  message: OutgoingMessage,
  context: BugFlowContext,
): Promise<void> {
  const threadId = bug.card?.threadId;
  if (!threadId) return;
  const stepKey = `bug:${bug.bugId}`;
  if (await context.store.getStep(stepKey, `thread:${key}`)) return;
  await context.chat.postMessage(threadId, message, { nonce: `${bug.bugId}:${key}` });
  await context.store.recordStep({
    key: stepKey,
    step: `thread:${key}`,
    result: {},
    completedAt: context.now().toISOString(),
  });
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
