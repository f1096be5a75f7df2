import type { ReportCut } from './report-bounds.js';

/**
 * A bug report as bugbot keeps it. Pure data: the state machine that decides which transitions
 * are allowed lives on top of this; storage only enforces "the status was still X when I wrote".
 */

export const BUG_STATUSES = [
  'new',
  'analyzing',
  'triaged',
  'issue_created',
  'fix_requested',
  'fix_drafted',
  'resolved',
  'dismissed',
  'duplicate',
  /** Resolved, then the same crash was reported again: open again, worked on as if triaged. */
  'regressed',
] as const;

export type BugStatus = (typeof BUG_STATUSES)[number];

/** Statuses that take a bug off the open queue (the dashboard and `listOpenBugs`). */
export const CLOSED_BUG_STATUSES: readonly BugStatus[] = ['resolved', 'dismissed', 'duplicate'];

export type BugQueue = 'open' | 'closed';

export function queueOfStatus(status: BugStatus): BugQueue {
  return CLOSED_BUG_STATUSES.includes(status) ? 'closed' : 'open';
}

export function isBugStatus(value: unknown): value is BugStatus {
  return typeof value === 'string' && (BUG_STATUSES as readonly string[]).includes(value);
}

export type BugSeverity = 'critical' | 'high' | 'medium' | 'low';

export interface BugReporter {
  readonly id?: string;
  readonly email?: string;
}

export interface BugReportDetails {
  readonly appVersion?: string;
  readonly deviceInfo?: Readonly<Record<string, unknown>>;
  /** The tail of the console logs, bounded. */
  readonly consoleLogs?: string;
  /** What was cut to keep the bug within its caps (shown on the card and in View Details). */
  readonly cuts?: readonly ReportCut[];
  readonly url?: string;
  readonly posthogSessionId?: string;
  readonly screenshotUrl?: string;
  readonly reportedAt?: string;
}

export interface BugFixLink {
  readonly jobId: string;
  readonly status:
    | 'requested'
    | 'pushed'
    | 'no_changes'
    | 'rejected'
    | 'failed'
    | 'cancelled'
    | 'refused'
    | 'merged'
    | 'closed';
  readonly pullRequestUrl?: string;
  readonly branch?: string;
  /** Where the bug was when the fix was asked for: a fix closed unmerged returns it there. */
  readonly fromStatus?: BugStatus;
  /** A preview deployment of the fix branch (Vercel and others report them to GitHub). */
  readonly previewUrl?: string;
}

/**
 * One report a bug stands for, as the product knows it (the bug-report webhook's `id`, `user_id`,
 * `user_email`), so the product can be told about its own users' reports. `bugId` is the bug the
 * report was filed as (itself, or a duplicate folded in).
 */
export interface BugReportRef {
  readonly bugId: string;
  readonly id?: string;
  readonly userId?: string;
  readonly userEmail?: string;
}

/** At most this many product reports are remembered per bug (DynamoDB items are at most 400 KB). */
export const MAX_REMEMBERED_REPORTS = 100;

/**
 * At most this many Discord reporters are remembered per bug: all of them are mentioned in one
 * message when it is resolved, and 50 mentions (≤ 25 characters each) fit in Discord's 2000.
 */
export const MAX_DISCORD_REPORTERS = 50;

/** How a bug came to be resolved: the pull request merged, or its tracker issue completed. */
export interface BugResolution {
  readonly by: 'github' | 'linear';
  /** ISO-8601 UTC. */
  readonly at: string;
  readonly pullRequestUrl?: string;
  readonly issueIdentifier?: string;
  /** The delivery that resolved it: a redelivery finishes its own work instead of starting again. */
  readonly key: string;
}

/** The latest time a resolved bug came back. */
export interface BugRegression {
  /** The new report's bug (folded in as a duplicate). */
  readonly bugId: string;
  readonly at: string;
  /** What had fixed it, from the resolution it reopens. */
  readonly fixedBy?: Omit<BugResolution, 'key'>;
}

export interface BugIssueLink {
  readonly tracker: 'linear' | 'github';
  readonly id: string;
  /** What people type: `ENG-123` on Linear, `#45` on GitHub. */
  readonly identifier: string;
  readonly url: string;
}

/** The bug card bugbot posted in Discord, so later flows can edit it and reply in its thread. */
export interface BugCard {
  readonly channelId: string;
  readonly messageId: string;
  readonly threadId?: string;
}

export interface BugFailure {
  /** The job kind that failed (`bug.report`, `discord.component`, `fix.result`, …). */
  readonly job: string;
  /** Said plainly, without raw error text ("Discord had an error (HTTP 503); I tried several times…"). */
  readonly what: string;
  /** ISO-8601 UTC. */
  readonly at: string;
  /** Whether the person waiting was told (false when telling failed too, e.g. Discord down). */
  readonly told: boolean;
}

/** Claude's triage output; its shape belongs to the analysis flow, storage keeps it as a map. */
export type BugAnalysis = Readonly<Record<string, unknown>>;

export interface Bug {
  readonly bugId: string;
  readonly status: BugStatus;
  /**
   * 1 is the most urgent (the seed's 1–5 scale; Linear's 1–4 fits). null = not prioritised yet,
   * which sorts after every number. Must be an integer from 0 to 998.
   */
  readonly priority: number | null;
  readonly severity?: BugSeverity;
  readonly title: string;
  readonly description: string;
  readonly reporter: BugReporter;
  readonly fingerprint?: string;
  /** Set when status is `duplicate`: the bug this one was folded into. */
  readonly duplicateOf?: string;
  /** Set when status is `duplicate`: why it was folded in (shown in its original's thread and details). */
  readonly foldReason?: FoldReason;
  /**
   * Bugs a maintainer split this one out of: it is never folded into them again automatically
   * (a maintainer may still merge it by hand).
   */
  readonly notDuplicateOf?: readonly string[];
  /**
   * How many reports this bug stands for, itself included. Folded reports are counted from their
   * fold records (one item each, see ports/fold-ledger.ts) by the bug's refresh, so this lags a
   * storm by at most one refresh window and is exact once it has run.
   */
  readonly reportCount: number;
  /** How many different people sent those reports; absent on bugs never recounted (see countReporters). */
  readonly reporterCount?: number;
  /**
   * The reporter of this bug's own report, plus (on bugs stored before fold records existed) the
   * reporters of reports folded in then. Not every reporter: see reporterCount and recentReporters.
   */
  readonly distinctReporters: readonly string[];
  /** A few of the latest reporters' ids, newest first (bounded; for display). */
  readonly recentReporters?: readonly string[];
  /** When the latest report of this bug was received (ISO-8601). */
  readonly lastReportAt?: string;
  /**
   * Bugs stored before fold records existed kept the ids of their folded reports here (a set that
   * grew with every duplicate; a DynamoDB item holds at most 400 KB). Read, never written any more.
   */
  readonly duplicateBugIds?: readonly string[];
  /** What the report said beyond its description (device, logs, links); untrusted data. */
  readonly report?: BugReportDetails;
  /** Who dismissed the bug and why. */
  readonly dismissal?: { readonly by: string; readonly reason: string; readonly at: string };
  /** The latest fix attempt. */
  readonly fix?: BugFixLink;
  /** The product's reports behind this bug (its own and folded-in ones), bounded. */
  readonly reports?: readonly BugReportRef[];
  /** Discord user ids of the authors of reported messages (order not meaningful), bounded. */
  readonly discordReporters?: readonly string[];
  /** Set when the bug is (or was last) resolved. */
  readonly resolution?: BugResolution;
  /** How many times the bug came back after being resolved. */
  readonly regressionCount?: number;
  readonly regression?: BugRegression;
  readonly analysis?: BugAnalysis;
  readonly issue?: BugIssueLink;
  readonly card?: BugCard;
  /**
   * The latest job about this bug that failed for good (it is in the DLQ): what failed, when,
   * and whether the person waiting could be told. Kept on the record because when the failing
   * service is Discord itself, nobody can be told in Discord.
   */
  readonly lastFailure?: BugFailure;
  /** ISO-8601 UTC. */
  readonly createdAt: string;
  readonly updatedAt: string;
  /** Bumped by every write except the duplicate counters; the optimistic-lock token. */
  readonly version: number;
}

/** The fields a flow may change on an existing bug (status goes through a transition). */
export const BUG_PATCH_FIELDS = [
  'priority',
  'severity',
  'title',
  'description',
  'reporter',
  'fingerprint',
  'duplicateOf',
  'foldReason',
  'analysis',
  'issue',
  'card',
  'report',
  'dismissal',
  'fix',
  'resolution',
  'regressionCount',
  'regression',
  'lastFailure',
] as const satisfies readonly (keyof Bug)[];

export type BugPatch = Partial<Pick<Bug, (typeof BUG_PATCH_FIELDS)[number]>>;

export interface NewBugInput {
  readonly bugId: string;
  readonly title: string;
  readonly description: string;
  readonly reporter: BugReporter;
  readonly priority?: number | null;
  readonly severity?: BugSeverity;
  readonly fingerprint?: string;
  readonly analysis?: BugAnalysis;
  readonly card?: BugCard;
  readonly report?: BugReportDetails;
  /** The product's report behind this bug, when it came from the bug-report webhook. */
  readonly reportRef?: Omit<BugReportRef, 'bugId'>;
}

/** A freshly reported bug: status `new`, version 1, one report from its reporter. */
export function createNewBug(input: NewBugInput, now: string): Bug {
  const { reportRef, ...fields } = input;
  const ref = reportRef && compactRef({ bugId: input.bugId, ...reportRef });
  return {
    ...fields,
    ...(ref ? { reports: [ref] } : {}),
    status: 'new',
    priority: input.priority ?? null,
    reportCount: 1,
    distinctReporters: input.reporter.id ? [input.reporter.id] : [],
    createdAt: now,
    updatedAt: now,
    version: 1,
  };
}

/**
 * Why a report was folded into another bug, in terms a maintainer can check: the crash fingerprint
 * matched (the error type and the in-app frames it is made of), the text was similar (the score,
 * the threshold it passed and the words the two have in common), or a person merged it by hand.
 */
export type FoldReason =
  | { readonly kind: 'fingerprint'; readonly errorType: string; readonly frames: readonly string[] }
  | {
      readonly kind: 'similar';
      readonly score: number;
      readonly threshold: number;
      readonly sharedTerms: readonly string[];
    }
  | { readonly kind: 'manual'; readonly by: string };

/** Distinct people behind a bug's reports. */
export function countReporters(bug: Pick<Bug, 'reporterCount' | 'distinctReporters'>): number {
  return bug.reporterCount ?? bug.distinctReporters.length;
}

export interface AuditEntry {
  /** Who did it: a Discord user id, `system`, `webhook`... */
  readonly actor: string;
  /** What happened, e.g. `transition`, `transition_refused`, `issue_created`. */
  readonly action: string;
  readonly detail: string;
  /** ISO-8601 UTC; entries list in this order. */
  readonly at: string;
}

/** A report reference with its empty parts left out; null when it names nothing the product knows. */
function compactRef(ref: BugReportRef): BugReportRef | null {
  const out: { -readonly [K in keyof BugReportRef]: BugReportRef[K] } = { bugId: ref.bugId };
  if (ref.id) out.id = ref.id;
  if (ref.userId) out.userId = ref.userId;
  if (ref.userEmail) out.userEmail = ref.userEmail;
  return out.id || out.userId || out.userEmail ? out : null;
}
