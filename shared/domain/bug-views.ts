import { formatBugCustomId } from '../discord/custom-id.js';
import type { MessageButton, OutgoingMessage } from '../ports/chat-platform.js';
import {
  type AuditEntry,
  BUG_STATUSES,
  type Bug,
  type BugStatus,
  type FoldReason,
  MAX_DISCORD_REPORTERS,
} from './bug.js';
import {
  type BugAnalysisView,
  type BugIssueRef,
  type BugLinks,
  blockPart,
  bugStatusLabel,
  CUT_FIELD_NAME,
  cardColor,
  clipText,
  composeEmbed,
  confidenceText,
  describeResolution,
  EMBED_LIMITS,
  type FieldPart,
  field,
  fixedPart,
  formatUtc,
  joinLastLinesWithin,
  joinLinesWithin,
  linePart,
  linesPart,
  linkField,
  NEUTRAL_COLOR,
  pullRequestLabel,
  reportExcerptPart,
  reportsText,
  resolveAnalysis,
  resolveIssue,
  sectionPart,
  type TextPart,
  toCodeSpan,
  toSafeLine,
  toSafeTitle,
  toSafeUrl,
} from './bug-card.js';
import { describeFoldReason } from './duplicates.js';
import type { FoldNoteSummary } from './fold.js';
import { type PriorityResult, priorityLabel } from './priority.js';
import { describeCuts } from './report-bounds.js';

/**
 * Everything else bugbot shows about bugs: the View Details answer, `/bugbot status`,
 * `/bugbot dashboard` and the short notes in a card's thread. Pure and bounded like the card
 * (see bug-card.ts for how text is made safe and fitted).
 */

// ---------------------------------------------------------------------------------------------
// View Details

export interface LinkedDuplicate {
  readonly bugId: string;
  /** A display name (never an e-mail address: the answer is shown in Discord). */
  readonly reporter?: string;
  /** ISO-8601 */
  readonly at: string;
  /** Why it was folded in. */
  readonly reason?: FoldReason;
}

export interface BugDetailsView {
  readonly analysis?: BugAnalysisView;
  /** Why the analysis failed, when known. */
  readonly analysisFailure?: string;
  readonly priority?: PriorityResult;
  readonly duplicates?: readonly LinkedDuplicate[];
  /** How many reports are folded in, when more than `duplicates` lists (newest first). */
  readonly duplicateCount?: number;
  /**
   * Offer a Split button for each listed duplicate (and, on a duplicate, for itself): the viewer
   * may be a maintainer (the ingress refuses the click to anyone else).
   */
  readonly splitButtons?: boolean;
  readonly audit?: readonly AuditEntry[];
  /** From the report; untrusted, so keys and values are shown as plain text. */
  readonly deviceInfo?: Readonly<Record<string, unknown>>;
  /** Defaults to `bug.issue`. */
  readonly issue?: BugIssueRef;
  readonly links?: BugLinks;
}

const DETAILS_EXCERPT_CAP = 1200;
const DETAILS_EXCERPT_LINES = 20;
const DETAILS_RECENT_AUDIT = 5;
const DEVICE_KEY_CAP = 40;
const DEVICE_VALUE_CAP = 120;
const LINE_CAP = 200;

export function renderBugDetails(bug: Bug, view: BugDetailsView = {}): OutgoingMessage {
  const analysis = resolveAnalysis(bug, view.analysis);
  const result = typeof analysis === 'object' ? analysis : undefined;
  const issue = resolveIssue(bug, view.issue);

  const description: TextPart[] = [];
  if (analysis === 'pending')
    description.push(fixedPart('**Analysis pending.** The details fill in once it is done.'));
  if (analysis === 'failed')
    description.push(
      fixedPart(
        view.analysisFailure
          ? `**Analysis failed:** ${toSafeLine(view.analysisFailure, 200)}.`
          : '**Analysis failed.** The model could not analyse this report.',
      ),
    );
  description.push(reportExcerptPart(bug.description, DETAILS_EXCERPT_CAP, DETAILS_EXCERPT_LINES));

  const fields: FieldPart[] = [];
  if (result) {
    fields.push(
      { name: 'Root cause hypothesis', inline: false, ...blockPart(result.rootCauseHypothesis, 1024) },
      { name: 'Suggested fix', inline: false, ...blockPart(result.suggestedFix, 1024) },
      {
        name: 'Severity',
        inline: false,
        ...linePart(`**${result.severity}/5** · `, result.severityReason, 500),
      },
      field('Affected area', toSafeLine(result.affectedArea, 200), true),
      field('Confidence', confidenceText(result.confidence), true),
      field('Model', toSafeLine(result.model, 100), true),
    );
  }
  fields.push({ name: 'Priority', inline: false, ...priorityPart(view.priority, bug.priority) });
  if (bug.status === 'duplicate' && bug.duplicateOf) {
    const why = bug.foldReason ? ` — ${toSafeLine(describeFoldReason(bug.foldReason), 400)}` : '';
    fields.push(field('Folded into', `${toCodeSpan(bug.duplicateOf, 100)}${why}`, false));
  }
  fields.push({
    name: `Duplicates (${view.duplicateCount ?? view.duplicates?.length ?? 0})`,
    inline: false,
    ...duplicatesPart(view.duplicates ?? [], bug),
  });
  fields.push({ name: 'Device info', inline: false, ...deviceInfoPart(view.deviceInfo) });
  const cut = describeCuts(bug.report?.cuts);
  if (cut) fields.push(field(CUT_FIELD_NAME, cut, false));
  if (view.audit && view.audit.length > 0) {
    fields.push({
      name: 'Recent activity',
      inline: false,
      ...fixedPart(
        joinLastLinesWithin(view.audit.slice(-DETAILS_RECENT_AUDIT).map(auditLine), 1024, (n) =>
          n > 0 ? `… ${n} earlier` : '',
        ),
      ),
    });
  }
  if (bug.lastFailure) {
    const failure = bug.lastFailure;
    fields.push(
      field(
        'Last failure',
        `${formatUtc(failure.at)} · \`${toSafeLine(failure.job, 40)}\`: ${toSafeLine(failure.what, 300)}${failure.told ? '' : ' (nobody could be told in Discord)'}`,
        false,
      ),
    );
  }
  fields.push({ name: 'Links', inline: false, ...linksPart(issue, view.links) });

  const embed = composeEmbed({
    title: `Details · ${toSafeTitle(bug.title, 200) || 'Untitled bug report'}`,
    url: issue ? toSafeUrl(issue.url) : undefined,
    color: cardColor(bug, analysis, view.priority?.priority ?? bug.priority),
    description,
    fields,
    footer: `Bug ${bug.bugId} · ${bugStatusLabel(bug.status)} · reported ${formatUtc(bug.createdAt)}`,
  });
  const buttons = view.splitButtons ? splitButtons(bug, view.duplicates ?? []) : [];
  return { embeds: [embed], ephemeral: true, ...(buttons.length > 0 ? { buttonRows: [buttons] } : {}) };
}

/** Discord allows five buttons in a row: the newest folded reports, or the duplicate itself. */
const SPLIT_BUTTONS = 5;

function splitButtons(bug: Bug, duplicates: readonly LinkedDuplicate[]): MessageButton[] {
  if (bug.status === 'duplicate' && bug.duplicateOf) {
    return [{ id: formatBugCustomId('split', bug.bugId), label: 'Split out', style: 'secondary' }];
  }
  return duplicates.slice(0, SPLIT_BUTTONS).map((duplicate) => ({
    id: formatBugCustomId('split', duplicate.bugId),
    label: `Split ${toPlainLineLabel(duplicate.bugId)}`,
    style: 'secondary',
  }));
}

function toPlainLineLabel(bugId: string): string {
  return bugId.replace(/[^A-Za-z0-9_-]/g, '').slice(0, 60);
}

function priorityPart(priority: PriorityResult | undefined, stored: number | null): TextPart {
  if (!priority) return fixedPart(stored === null ? 'Not prioritised yet' : priorityLabel(stored));
  const head = `**${priorityLabel(priority.priority)}** · score ${formatPoints(priority.score, false)}`;
  const lines = priority.breakdown.map(
    (factor) =>
      `\`${formatPoints(factor.points, true)}\` ${toSafeLine(factor.factor, 40)} — ${toSafeLine(factor.reason, 150)}`,
  );
  return linesPart([head, ...lines], 1024, (n) => `…and ${n} more ${n === 1 ? 'factor' : 'factors'}`);
}

function formatPoints(points: number, signed: boolean): string {
  const rounded = Number.isFinite(points) ? Math.round(points * 10) / 10 : 0;
  return signed && rounded > 0 ? `+${rounded}` : String(rounded);
}

function duplicatesPart(duplicates: readonly LinkedDuplicate[], bug: Bug): TextPart {
  if (duplicates.length === 0) {
    return fixedPart(bug.reportCount > 1 ? `${reportsText(bug)}; none linked yet` : 'None');
  }
  const lines = duplicates.map((duplicate) => {
    const reporter = duplicate.reporter ? ` · ${toSafeLine(duplicate.reporter, 60)}` : '';
    const why = duplicate.reason ? ` — ${toSafeLine(describeFoldReason(duplicate.reason), 160)}` : '';
    return `• ${toCodeSpan(duplicate.bugId, 100)}${reporter} · ${formatUtc(duplicate.at)}${why}`;
  });
  return linesPart(lines, 1024, (n) => `…and ${n} more`);
}

function deviceInfoPart(deviceInfo: Readonly<Record<string, unknown>> | undefined): TextPart {
  const entries = Object.entries(deviceInfo ?? {});
  if (entries.length === 0) return fixedPart('None reported');
  const lines = entries.map(
    ([key, value]) =>
      `${toSafeLine(key, DEVICE_KEY_CAP) || '?'}: ${toSafeLine(describeValue(value), DEVICE_VALUE_CAP) || '—'}`,
  );
  return linesPart(lines, 1024, (n) => `…and ${n} more`);
}

function describeValue(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value);
  try {
    // Bounded before stringifying whole: a reported object may be huge.
    return clipText(JSON.stringify(value) ?? String(value), DEVICE_VALUE_CAP * 2);
  } catch {
    return String(value);
  }
}

function linksPart(issue: BugIssueRef | undefined, links: BugLinks | undefined): TextPart {
  const parts: string[] = [];
  const add = (label: string, url: string | undefined): void => {
    const safe = toSafeUrl(url);
    if (safe) parts.push(`[${label}](${safe})`);
  };
  if (issue) add(`Issue ${toSafeLine(issue.identifier, 40)}`, issue.url);
  if (links?.pullRequestUrl) add(pullRequestLabel(links.pullRequestUrl), links.pullRequestUrl);
  add('Session replay', links?.replayUrl);
  add('Discord thread', links?.threadUrl);
  return fixedPart(parts.length > 0 ? parts.join(' · ') : 'None yet');
}

function auditLine(entry: AuditEntry): string {
  const detail = entry.detail ? ` — ${toSafeLine(entry.detail, LINE_CAP)}` : '';
  return `${formatUtc(entry.at)} · ${toSafeLine(entry.actor, 60)} · ${toSafeLine(entry.action, 60)}${detail}`;
}

// ---------------------------------------------------------------------------------------------
// /bugbot status

export interface BugStatusView {
  /** Defaults to `bug.issue`. */
  readonly issue?: BugIssueRef;
}

const STATUS_HISTORY_CAP = 3000;

/** The bug's state and its history; `audit` oldest first, the newest kept when it is long. */
export function renderBugStatus(
  bug: Bug,
  audit: readonly AuditEntry[],
  view: BugStatusView = {},
): OutgoingMessage {
  const issue = resolveIssue(bug, view.issue);
  const history: TextPart = {
    cap: STATUS_HISTORY_CAP,
    render: (max) =>
      joinLastLinesWithin(audit.map(auditLine), max, (n) =>
        n > 0 ? `…${n} earlier ${n === 1 ? 'entry' : 'entries'} not shown` : '',
      ),
  };
  const fields: FieldPart[] = [
    field('Status', bugStatusLabel(bug.status), true),
    field('Priority', bug.priority === null ? 'Not prioritised' : priorityLabel(bug.priority), true),
    linkField('Issue', issue ? { label: toSafeLine(issue.identifier, 40), url: issue.url } : undefined, true),
    field('Reports', reportsText(bug), true),
    field('Reported', formatUtc(bug.createdAt), true),
    field('Updated', formatUtc(bug.updatedAt), true),
  ];
  if (bug.status === 'duplicate' && bug.duplicateOf) {
    fields.push(field('Duplicate of', toCodeSpan(bug.duplicateOf, 100), true));
  }
  if (bug.status === 'resolved' && bug.resolution) {
    fields.push({ name: 'Resolved', inline: false, ...describeResolution(bug.resolution) });
  }
  if ((bug.regressionCount ?? 0) > 0) {
    fields.push(field('Regressions', String(bug.regressionCount), true));
  }
  const embed = composeEmbed({
    title: toSafeTitle(bug.title, EMBED_LIMITS.title) || 'Untitled bug report',
    url: issue ? toSafeUrl(issue.url) : undefined,
    color: cardColor(bug, resolveAnalysis(bug, undefined), bug.priority),
    description:
      audit.length > 0 ? [sectionPart('**History**', history)] : [fixedPart('No history recorded.')],
    fields,
    footer: `Bug ${bug.bugId}`,
  });
  return { embeds: [embed] };
}

// ---------------------------------------------------------------------------------------------
// /bugbot dashboard

export interface DashboardInput {
  /** As listed by the store: most urgent first, then oldest. */
  readonly open: readonly Bug[];
  readonly closed: readonly Bug[];
  /** ISO-8601; ages are measured from it. */
  readonly now: string;
  /** Lets bugs without an issue link to their card message. */
  readonly guildId?: string;
  /** The month's spend on fixes against the budget (`describeMonthSpend`), when fixes are set up. */
  readonly fixSpend?: string;
}

const DASHBOARD_TITLE_CAP = 60;
const RECENT_ACTIVITY = 8;

export function renderDashboard(input: DashboardInput): OutgoingMessage {
  const now = Date.parse(input.now);
  // Room is kept for the activity field: more priority groups than that fold into "…".
  const groups = groupByPriority(input.open).slice(0, EMBED_LIMITS.fields - 1);
  const fields: FieldPart[] = groups.map((group) => ({
    name: `${group.priority === null ? 'Unprioritised' : priorityLabel(group.priority)} (${group.bugs.length})`,
    inline: false,
    ...linesPart(
      group.bugs.map((bug) => dashboardLine(bug, now, input.guildId)),
      EMBED_LIMITS.fieldValue,
      (n) => `…and ${n} more`,
    ),
  }));

  const all = [...input.open, ...input.closed];
  if (all.length > 0) {
    const recent = [...all]
      .sort((a, b) => Date.parse(b.updatedAt) - Date.parse(a.updatedAt) || a.bugId.localeCompare(b.bugId))
      .slice(0, RECENT_ACTIVITY)
      .map(
        (bug) =>
          `${toSafeTitle(bug.title, DASHBOARD_TITLE_CAP) || 'Untitled'} → ${bugStatusLabel(bug.status)} · ${formatAge(bug.updatedAt, now)} ago`,
      );
    fields.push({
      name: 'Recent activity',
      inline: false,
      ...linesPart(recent, EMBED_LIMITS.fieldValue, (n) => `…and ${n} more`),
    });
  }

  const summary =
    input.open.length === 0
      ? `No open bugs · ${input.closed.length} closed`
      : `**${input.open.length} open** · ${input.closed.length} closed`;
  const embed = composeEmbed({
    title: 'Bug dashboard',
    color: NEUTRAL_COLOR,
    description: [
      fixedPart(summary),
      fixedPart(statusCounts(all)),
      ...(input.fixSpend ? [fixedPart(`Fixes: ${input.fixSpend}.`)] : []),
    ],
    fields,
    footer: `As of ${formatUtc(input.now)}`,
  });
  return { embeds: [embed] };
}

interface PriorityGroup {
  readonly priority: number | null;
  readonly bugs: Bug[];
}

function groupByPriority(bugs: readonly Bug[]): PriorityGroup[] {
  const groups = new Map<number | null, Bug[]>();
  for (const bug of bugs) {
    const band = priorityBand(bug.priority);
    const list = groups.get(band) ?? [];
    list.push(bug);
    groups.set(band, list);
  }
  return [...groups.entries()]
    .sort(([a], [b]) => (a ?? Number.POSITIVE_INFINITY) - (b ?? Number.POSITIVE_INFINITY))
    .map(([priority, list]) => ({ priority, bugs: list }));
}

/** Stored priorities past P4 read as P4, as `priorityLabel` shows them. */
function priorityBand(priority: number | null): number | null {
  if (priority === null || !Number.isFinite(priority)) return null;
  return Math.min(4, Math.max(1, Math.round(priority)));
}

function dashboardLine(bug: Bug, now: number, guildId: string | undefined): string {
  const title = toSafeTitle(bug.title, DASHBOARD_TITLE_CAP) || 'Untitled';
  const parts = [
    title,
    bugStatusLabel(bug.status),
    reportsText(bug),
    formatAge(bug.createdAt, now),
    dashboardLink(bug, guildId),
  ];
  return parts.join(' — ');
}

function dashboardLink(bug: Bug, guildId: string | undefined): string {
  const issueUrl = toSafeUrl(bug.issue?.url);
  if (bug.issue && issueUrl) return `[${toSafeLine(bug.issue.identifier, 40)}](${issueUrl})`;
  if (guildId && bug.card) {
    const cardUrl = toSafeUrl(
      `https://discord.com/channels/${encodeURIComponent(guildId)}/${encodeURIComponent(bug.card.channelId)}/${encodeURIComponent(bug.card.messageId)}`,
    );
    if (cardUrl) return `[card](${cardUrl})`;
  }
  return toCodeSpan(bug.bugId, 100);
}

function statusCounts(bugs: readonly Bug[]): string {
  const counts = new Map<BugStatus, number>();
  for (const bug of bugs) counts.set(bug.status, (counts.get(bug.status) ?? 0) + 1);
  return BUG_STATUSES.map((status) => `${bugStatusLabel(status)} ${counts.get(status) ?? 0}`).join(' · ');
}

/** `45s`, `12m`, `5h`, `3d`: compact enough for one line per bug. */
export function formatAge(iso: string, now: number): string {
  const then = Date.parse(iso);
  if (Number.isNaN(then) || Number.isNaN(now)) return '?';
  const seconds = Math.max(0, Math.floor((now - then) / 1000));
  if (seconds < 60) return `${seconds}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)}h`;
  return `${Math.floor(seconds / 86_400)}d`;
}

// ---------------------------------------------------------------------------------------------
// Thread notes

export interface ThreadNoteData {
  /** `reportNumber`: this report's number among the bug's reports (its new report count). */
  readonly duplicate_linked: { readonly reportNumber: number; readonly newReporter?: boolean };
  readonly issue_created: { readonly issue: BugIssueRef; readonly by?: string };
  readonly fix_requested: { readonly by: string };
  readonly fix_drafted: { readonly pullRequestUrl: string; readonly summary?: string };
  readonly fix_rejected: { readonly reasons: readonly string[] };
  readonly fix_failed: { readonly reasons: readonly string[] };
  readonly dismissed: { readonly by: string; readonly reason: string };
  /** Reports folded in since the last note (domain/fold.ts decides when). */
  readonly reports_folded: FoldNoteSummary;
  readonly report_split: {
    readonly by: string;
    readonly bugId: string;
    readonly reports: number;
    readonly people: number;
  };
  readonly merged_into: { readonly by: string; readonly intoId: string };
  readonly bug_merged: {
    readonly by: string;
    readonly bugId: string;
    readonly mergedReports: number;
    readonly reports: number;
    readonly people: number;
  };
  /** The fix's pull request was closed without merging. */
  readonly fix_closed: { readonly pullRequestUrl: string; readonly backTo: string };
  readonly preview: { readonly url: string; readonly pullRequestUrl?: string };
  /** The same crash again after the bug was resolved; `fixedBy` is what had resolved it. */
  readonly regressed: {
    readonly reportNumber: number;
    readonly fixedBy?: {
      readonly by: 'github' | 'linear';
      readonly at: string;
      readonly pullRequestUrl?: string;
      readonly issueIdentifier?: string;
    };
  };
}

export type ThreadNoteKind = keyof ThreadNoteData;

const NOTE_NAME_CAP = 80;
const NOTE_REASON_CAP = 300;
const NOTE_SUMMARY_CAP = 600;

const NOTES: { readonly [K in ThreadNoteKind]: (data: ThreadNoteData[K]) => string } = {
  duplicate_linked: ({ reportNumber, newReporter }) => {
    const who =
      newReporter === undefined
        ? ''
        : newReporter
          ? ', from a new user'
          : ', from someone who reported it before';
    return `Another report of this bug (#${reportNumber}${who}).`;
  },
  issue_created: ({ issue, by }) => {
    const url = toSafeUrl(issue.url);
    const who = by ? ` by ${toSafeLine(by, NOTE_NAME_CAP)}` : '';
    return `Issue ${toSafeLine(issue.identifier, 40)} created${who}${url ? `: <${url}>` : '.'}`;
  },
  fix_requested: ({ by }) =>
    `Fix requested by ${toSafeLine(by, NOTE_NAME_CAP)}. bugbot is drafting a pull request; the result will be posted here.`,
  fix_drafted: ({ pullRequestUrl, summary }) => {
    const url = toSafeUrl(pullRequestUrl);
    const head = url ? `Fix drafted: ${pullRequestLabel(url)} <${url}>` : 'Fix drafted.';
    return summary ? `${head}\n${toSafeLine(summary, NOTE_SUMMARY_CAP)}` : head;
  },
  fix_rejected: ({ reasons }) => reasonsNote('Fix rejected; nothing was pushed.', reasons),
  fix_failed: ({ reasons }) => reasonsNote('Fix failed; nothing was pushed.', reasons),
  dismissed: ({ by, reason }) =>
    `Dismissed by ${toSafeLine(by, NOTE_NAME_CAP)}: ${toSafeLine(reason, NOTE_REASON_CAP) || 'no reason given'}`,
  reports_folded: (summary) => foldedNote(summary),
  report_split: ({ by, bugId, reports, people }) =>
    `${toSafeLine(by, NOTE_NAME_CAP)} split ${toCodeSpan(bugId, 100)} out of this bug: it was not the same bug, and is a bug of its own now. This bug counts ${plural(reports, 'report')} from ${plural(people, 'person', 'people')}.`,
  merged_into: ({ by, intoId }) =>
    `${toSafeLine(by, NOTE_NAME_CAP)} marked this bug a duplicate of ${toCodeSpan(intoId, 100)}: its reports count there now; follow that bug's thread. (Split it out again from View Details.)`,
  bug_merged: ({ by, bugId, mergedReports, reports, people }) =>
    `${toSafeLine(by, NOTE_NAME_CAP)} merged ${toCodeSpan(bugId, 100)} (${plural(mergedReports, 'report')}) into this bug: ${plural(reports, 'report')} from ${plural(people, 'person', 'people')} now.`,
  fix_closed: ({ pullRequestUrl, backTo }) => {
    const url = toSafeUrl(pullRequestUrl);
    const pull = url ? `${pullRequestLabel(url)} <${url}>` : 'The fix pull request';
    return `${pull} was closed without merging, so the bug is ${toSafeLine(backTo, 80)} again. Draft Fix can try again.`;
  },
  preview: ({ url, pullRequestUrl }) => {
    const safe = toSafeUrl(url);
    const pull = toSafeUrl(pullRequestUrl);
    const of = pull ? ` of ${pullRequestLabel(pull)}` : ' of the fix';
    return safe ? `Preview${of} is ready to try: <${safe}>` : `A preview${of} was deployed.`;
  },
  regressed: ({ reportNumber, fixedBy }) => {
    const how = fixedBy ? describeResolution(fixedBy).render(400) : undefined;
    const fixed = how ? ` It had been fixed by ${how}.` : '';
    return `🔁 Regressed: the same crash was reported again (report #${reportNumber}), so this bug is open again.${fixed}`;
  },
};

const SPLIT_HINT =
  'Not the same bug? A maintainer can split a report out from View Details or with `/bugbot split`.';

function foldedNote(summary: FoldNoteSummary): string {
  const why = foldReasonsText(summary);
  if (summary.newReports === 1) {
    const who = summary.reporters[0] ? toSafeLine(summary.reporters[0], NOTE_NAME_CAP) : 'someone unnamed';
    return [
      `Another report of this bug (#${summary.total}, from ${who}; ${plural(summary.people, 'person', 'people')} so far).`,
      why ? `Why it was folded in: ${why}.` : '',
      SPLIT_HINT,
    ]
      .filter(Boolean)
      .join('\n');
  }
  const names = summary.reporters.map((name) => toSafeLine(name, 40));
  const others = summary.othersCount > 0 ? ` and ${plural(summary.othersCount, 'other')}` : '';
  return [
    `**${summary.newReports} more reports** of this bug since the last note: **${plural(summary.total, 'report')} from ${plural(summary.people, 'person', 'people')}** in all (latest ${formatUtc(summary.lastReportAt)}).`,
    names.length > 0 ? `From ${names.join(', ')}${others}.` : '',
    why ? `Why they were folded in: ${why}.` : '',
    SPLIT_HINT,
  ]
    .filter(Boolean)
    .join('\n');
}

function foldReasonsText(summary: FoldNoteSummary): string {
  const parts: string[] = [];
  const fingerprint = summary.byFingerprint;
  if (fingerprint) {
    const frames = fingerprint.frames.map((frame) => toSafeLine(frame, 60)).join(' › ');
    const where = frames ? ` at ${frames}` : '';
    parts.push(
      `${countPrefix(fingerprint.count, summary)}the same crash (${toSafeLine(fingerprint.errorType, 60)}${where})`,
    );
  }
  const similar = summary.bySimilarity;
  if (similar) {
    const words = similar.best.sharedTerms.map((term) => toSafeLine(term, 30)).join(', ');
    parts.push(
      `${countPrefix(similar.count, summary)}similar text (best score ${similar.best.score.toFixed(2)} ≥ ${similar.best.threshold.toFixed(2)}${words ? `; in common: ${words}` : ''})`,
    );
  }
  const manual = summary.byHand;
  if (manual) {
    parts.push(
      `${countPrefix(manual.count, summary)}merged by ${manual.by.map((name) => toSafeLine(name, 40)).join(', ')}`,
    );
  }
  return parts.join('; ');
}

/** "12 × " when several reasons are listed or several reports share one; nothing for a lone report. */
function countPrefix(count: number, summary: FoldNoteSummary): string {
  return summary.newReports === 1 ? '' : `${count} × `;
}

function plural(count: number, singular: string, many = `${singular}s`): string {
  return `${count} ${count === 1 ? singular : many}`;
}

/** A short plain post for a card's thread; names are plain text, never mentions. */
export function renderThreadNote<K extends ThreadNoteKind>(
  kind: K,
  data: ThreadNoteData[K],
): OutgoingMessage {
  const render: (data: ThreadNoteData[K]) => string = NOTES[kind];
  return { content: clipText(render(data), EMBED_LIMITS.content) };
}

function reasonsNote(head: string, reasons: readonly string[]): string {
  if (reasons.length === 0) return head;
  const lines = reasons.map((reason) => `- ${toSafeLine(reason, NOTE_REASON_CAP) || '(no reason given)'}`);
  return `${head}\n${joinLinesWithin(lines, EMBED_LIMITS.content - head.length - 1, (n) => `…and ${n} more`)}`;
}

// ---------------------------------------------------------------------------------------------
// Resolved

export interface ResolvedNoteInput {
  readonly pullRequestUrl?: string;
  readonly issue?: BugIssueRef;
  /** Discord user ids of the people who reported the bug; each is mentioned once. */
  readonly reporterIds: readonly string[];
}

/** As many as a bug remembers; with the text around them they fit Discord's 2000 characters. */
const MAX_MENTIONS = MAX_DISCORD_REPORTERS;
const SNOWFLAKE = /^\d{15,22}$/;

/**
 * "Fixed" in the bug's thread, with the pull request (or the issue that was completed), and the
 * Discord reporters mentioned once: the only message bugbot sends that pings anyone, and it may
 * ping exactly the ids it names (never a role, never @everyone).
 */
export function renderResolvedNote(input: ResolvedNoteInput): OutgoingMessage {
  const url = toSafeUrl(input.pullRequestUrl);
  const issueUrl = toSafeUrl(input.issue?.url);
  const head = url
    ? `✅ Fixed: ${pullRequestLabel(url)} <${url}> was merged, so this bug is resolved.`
    : input.issue
      ? `✅ Resolved: ${toSafeLine(input.issue.identifier, 40)}${issueUrl ? ` <${issueUrl}>` : ''} was completed.`
      : '✅ Resolved.';
  const ids = [...new Set(input.reporterIds.filter((id) => SNOWFLAKE.test(id)))].slice(0, MAX_MENTIONS);
  if (ids.length === 0) return { content: clipText(head, EMBED_LIMITS.content) };
  const mentions = ids.map((id) => `<@${id}>`).join(' ');
  const content = `${head}\n${mentions} — you reported this; thank you. If it happens again, report it and the bug reopens.`;
  // Never cut: a clipped mention list would ping a different set than `mentionUserIds` says.
  return { content, mentionUserIds: ids };
}
