import type { BugStatusEvent, BugStatusEventType } from '../jobs/job-schemas.js';
import type { Bug, BugReportRef } from './bug.js';
import { deterministicUuid } from './deterministic-id.js';

/**
 * What the product hears about one of its users' bugs (DESIGN "Telling the reporters"), built
 * from the stored bug. Pure: the use case enqueues it, the delivery job signs and sends it.
 */

export interface BugStatusDelivery {
  /**
   * The Standard Webhooks `webhook-id`: derived from the bug and the occasion (the resolution, the
   * regression), so every retry and every redelivered job that announces it again carries the
   * same id, and a second occasion (resolved again after a regression) a new one.
   */
  readonly webhookId: string;
  readonly event: BugStatusEvent;
}

export interface BugStatusEventOptions {
  /** For `bug.duplicate`: the bug the report was folded into. */
  readonly duplicateOf?: Bug;
}

/** Null when the bug stands for no report the product knows (a bug that came from Discord only). */
export function buildBugStatusEvent(
  type: BugStatusEventType,
  bug: Bug,
  at: string,
  options: BugStatusEventOptions = {},
): BugStatusDelivery | null {
  const reports = bug.reports ?? [];
  if (reports.length === 0) return null;
  const about = options.duplicateOf ?? bug;
  const pullRequestUrl = about.resolution?.pullRequestUrl ?? about.fix?.pullRequestUrl;
  const issueUrl = about.issue?.url;
  return {
    webhookId: `msg_${deterministicUuid('bugbot:bug-status', `${type}\n${bug.bugId}\n${occasionOf(type, bug)}`).replace(/-/g, '')}`,
    event: {
      type,
      timestamp: at,
      data: {
        bugId: bug.bugId,
        status: bug.status,
        title: bug.title.slice(0, 300),
        reports: reports.slice(0, 100).map(toWireReport),
        ...(issueUrl && isHttpUrl(issueUrl) ? { issueUrl } : {}),
        ...(pullRequestUrl && isHttpUrl(pullRequestUrl) ? { pullRequestUrl } : {}),
        ...(options.duplicateOf ? { duplicateOf: options.duplicateOf.bugId } : {}),
      },
    },
  };
}

/** What makes this event a new one for the same bug. */
function occasionOf(type: BugStatusEventType, bug: Bug): string {
  switch (type) {
    case 'bug.triaged':
    case 'bug.duplicate':
      return '';
    case 'bug.resolved':
      return bug.resolution?.key ?? '';
    case 'bug.regressed':
      return bug.regression?.bugId ?? String(bug.regressionCount ?? 0);
  }
}

function toWireReport(report: BugReportRef): BugStatusEvent['data']['reports'][number] {
  return { id: report.id ?? null, user_id: report.userId ?? null, user_email: report.userEmail ?? null };
}

function isHttpUrl(value: string): boolean {
  return /^https?:\/\//i.test(value) && value.length <= 2000;
}
