import { formatBugCustomId } from '../discord/custom-id.js';
import type { BugAnalysisResult } from '../ports/analyst.js';
import type { MessageButton, MessageEmbed, MessageField, OutgoingMessage } from '../ports/chat-platform.js';
import { type Bug, type BugIssueLink, type BugStatus, countReporters, queueOfStatus } from './bug.js';
import { describeFoldReason } from './duplicates.js';
import { type PriorityResult, priorityColor, priorityLabel } from './priority.js';
import { describeCuts } from './report-bounds.js';
import { fenceUntrusted, toPlainLine } from './untrusted-text.js';

/**
 * The bug card: the one embed and the buttons bugbot posts (and later edits) for a triaged bug.
 * Pure, so golden files pin it. Everything reported — the title, the report, and the model's
 * analysis of it, which the report may have steered — is shown so it cannot pose as our own
 * markup: titles lose their Markdown, other text has it escaped, the report itself is fenced.
 *
 * The renderers fit Discord's limits on their own (the adapter's cuts are a last resort that
 * would chop a closing fence or a link in half): each part has a cap, and when the parts
 * together exceed the 6000-character budget the longest ones give way first.
 */

// ---------------------------------------------------------------------------------------------
// Inputs shared with bug-views.ts

/** `pending`: not analysed yet (or being retried); `failed`: the model gave up on it. */
export type BugAnalysisView = BugAnalysisResult | 'pending' | 'failed';

export type BugIssueRef = Pick<BugIssueLink, 'identifier' | 'url'>;

/** Links only render when they are absolute http(s) URLs; anything else is left out. */
export interface BugLinks {
  readonly pullRequestUrl?: string;
  readonly replayUrl?: string;
  /** The bug card's Discord thread. */
  readonly threadUrl?: string;
}

export interface BugCardView {
  /** Absent: pending while the bug is `new`/`analyzing`, otherwise simply not shown. */
  readonly analysis?: BugAnalysisView;
  /** Absent: the label comes from `bug.priority` alone. */
  readonly priority?: PriorityResult;
  /** Defaults to `bug.issue`. */
  readonly issue?: BugIssueRef;
  readonly dismissed?: { readonly by: string; readonly reason: string };
  readonly links?: BugLinks;
  /** Why the analysis failed, when known (a refusal, an answer too long); plain text of ours. */
  readonly analysisFailure?: string;
  /** Said on the card when the session replay could not be read for the analysis. */
  readonly replayUnavailable?: string;
}

// ---------------------------------------------------------------------------------------------
// The card

const CARD_EXCERPT_CAP = 700;
const CARD_EXCERPT_LINES = 12;
const CARD_HYPOTHESIS_CAP = 1200;
const CARD_AREA_CAP = 200;
const CARD_DISMISS_REASON_CAP = 400;
/** The field that says what of the report was not kept (shared/domain/report-bounds.ts). */
export const CUT_FIELD_NAME = 'Report cut to fit';

export function renderBugCard(bug: Bug, view: BugCardView = {}): OutgoingMessage {
  const analysis = resolveAnalysis(bug, view.analysis);
  const issue = resolveIssue(bug, view.issue);
  const pullRequestUrl = toSafeUrl(view.links?.pullRequestUrl);
  const result = typeof analysis === 'object' ? analysis : undefined;

  const description: TextPart[] = [];
  if (analysis === 'pending') {
    description.push(
      fixedPart('**Analysis pending.** bugbot is analysing this report; this card updates when it is done.'),
    );
  } else if (analysis === 'failed') {
    description.push(
      fixedPart(
        view.analysisFailure
          ? `**Analysis failed:** ${toSafeLine(view.analysisFailure, 200)}. Triage it from the report below.`
          : '**Analysis failed.** The model could not analyse this report; triage it from the report below.',
      ),
    );
  }
  if (view.replayUnavailable) {
    description.push(
      fixedPart(`_Analysed without the session replay: ${toSafeLine(view.replayUnavailable, 160)}._`),
    );
  }
  description.push(reportExcerptPart(bug.description, CARD_EXCERPT_CAP, CARD_EXCERPT_LINES));
  if (result) {
    description.push(
      sectionPart('**Root cause hypothesis**', blockPart(result.rootCauseHypothesis, CARD_HYPOTHESIS_CAP)),
    );
  }

  const fields: FieldPart[] = [
    field('Priority', priorityText(view.priority?.priority ?? bug.priority, analysis), true),
    field('Severity', severityText(bug, analysis), true),
    field('Confidence', result ? confidenceText(result.confidence) : '—', true),
    field('Affected area', result ? toSafeLine(result.affectedArea, CARD_AREA_CAP) : notYet(analysis), false),
    field('Status', bugStatusLabel(bug.status), true),
    field('Reports', reportsText(bug), true),
    linkField('Issue', issue ? { label: toSafeLine(issue.identifier, 40), url: issue.url } : undefined, true),
    { name: 'Fix', inline: true, ...fixPart(bug.status, pullRequestUrl) },
  ];
  if (bug.status === 'duplicate' && bug.duplicateOf) {
    // A bug merged by hand keeps its card: it says whose duplicate it is, and why.
    const why = bug.foldReason ? ` · ${toSafeLine(describeFoldReason(bug.foldReason), 200)}` : '';
    fields.push(field('Duplicate of', `${toCodeSpan(bug.duplicateOf, 100)}${why}`, true));
  }
  if (bug.status === 'resolved' && bug.resolution) {
    fields.push({ name: 'Resolved', inline: false, ...resolutionPart(bug.resolution) });
  }
  if (bug.status === 'regressed' || (bug.regressionCount ?? 0) > 0) {
    fields.push({ name: 'Regressed', inline: false, ...regressionPart(bug) });
  }
  if (bug.status === 'dismissed' && view.dismissed) {
    const by = toSafeLine(view.dismissed.by, 80);
    fields.push({
      name: 'Dismissed',
      inline: false,
      ...linePart(`by ${by}: `, view.dismissed.reason, CARD_DISMISS_REASON_CAP),
    });
  }
  const cut = describeCuts(bug.report?.cuts);
  if (cut) fields.push(field(CUT_FIELD_NAME, cut, false));

  const embed = composeEmbed({
    title: toSafeTitle(bug.title, EMBED_LIMITS.title) || 'Untitled bug report',
    url: issue ? toSafeUrl(issue.url) : undefined,
    color: cardColor(bug, analysis, view.priority?.priority ?? bug.priority),
    description,
    fields,
    footer: `Bug ${bug.bugId}`,
    timestamp: bug.createdAt,
  });

  return { embeds: [embed], buttonRows: cardButtonRows(bug, issue, pullRequestUrl) };
}

/** Which card buttons may be pressed in a given state; the handlers refuse the rest anyway. */
export interface BugCardButtonStates {
  readonly createIssue: boolean;
  readonly draftFix: boolean;
  readonly dismiss: boolean;
  readonly details: boolean;
}

export function bugCardButtonStates(status: BugStatus, hasIssue: boolean): BugCardButtonStates {
  const closed = queueOfStatus(status) === 'closed';
  const issueExists =
    hasIssue || status === 'issue_created' || status === 'fix_requested' || status === 'fix_drafted';
  return {
    createIssue: !closed && !issueExists,
    // A drafted fix may be redrafted; only one may be in flight at a time.
    draftFix: !closed && status !== 'fix_requested',
    dismiss: !closed,
    details: true,
  };
}

function cardButtonRows(
  bug: Bug,
  issue: BugIssueRef | undefined,
  pullRequestUrl: string | undefined,
): MessageButton[][] {
  const enabled = bugCardButtonStates(bug.status, issue !== undefined);
  const actions: MessageButton[] = [
    {
      id: formatBugCustomId('create_issue', bug.bugId),
      label: 'Create Issue',
      style: 'primary',
      disabled: !enabled.createIssue,
    },
    // Green, not red: drafting a fix opens a pull request for review, it destroys nothing.
    {
      id: formatBugCustomId('draft_fix', bug.bugId),
      label: 'Draft Fix',
      style: 'success',
      disabled: !enabled.draftFix,
    },
    {
      id: formatBugCustomId('dismiss', bug.bugId),
      label: 'Dismiss',
      style: 'secondary',
      disabled: !enabled.dismiss,
    },
    {
      id: formatBugCustomId('details', bug.bugId),
      label: 'View Details',
      style: 'secondary',
      disabled: false,
    },
  ];
  const links: MessageButton[] = [];
  const issueUrl = toSafeUrl(issue?.url);
  if (issue && issueUrl)
    links.push({ label: `Open ${toPlainLine(issue.identifier, 40)}`, style: 'link', url: issueUrl });
  if (pullRequestUrl)
    links.push({ label: `Open ${pullRequestLabel(pullRequestUrl)}`, style: 'link', url: pullRequestUrl });
  const previewUrl = toSafeUrl(bug.fix?.previewUrl);
  if (previewUrl && queueOfStatus(bug.status) === 'open')
    links.push({ label: 'Try the preview', style: 'link', url: previewUrl });
  return links.length > 0 ? [actions, links] : [actions];
}

// ---------------------------------------------------------------------------------------------
// Pieces the card and the other views share

const STATUS_LABELS: Record<BugStatus, string> = {
  new: 'New',
  analyzing: 'Analyzing',
  triaged: 'Triaged',
  issue_created: 'Issue created',
  fix_requested: 'Fix requested',
  fix_drafted: 'Fix drafted',
  resolved: 'Resolved',
  dismissed: 'Dismissed',
  duplicate: 'Duplicate',
  regressed: 'Regressed',
};

export function bugStatusLabel(status: BugStatus): string {
  return STATUS_LABELS[status];
}

/** The grey of an unprioritised card, also used once a bug is off the queue. */
export const NEUTRAL_COLOR = priorityColor(null);

/** Grey while nothing is known yet and once the bug is off the queue: colour means "act on me". */
export function cardColor(bug: Bug, analysis: ResolvedAnalysis, priority: number | null): number {
  if (queueOfStatus(bug.status) === 'closed' || analysis === 'pending' || analysis === 'failed') {
    return NEUTRAL_COLOR;
  }
  return priorityColor(priority);
}

export type ResolvedAnalysis = BugAnalysisView | 'none';

/** An absent analysis is pending while the bug waits for one, and simply missing afterwards. */
export function resolveAnalysis(bug: Bug, analysis: BugAnalysisView | undefined): ResolvedAnalysis {
  if (analysis !== undefined) return analysis;
  return bug.status === 'new' || bug.status === 'analyzing' ? 'pending' : 'none';
}

export function resolveIssue(bug: Bug, issue: BugIssueRef | undefined): BugIssueRef | undefined {
  return issue ?? (bug.issue ? { identifier: bug.issue.identifier, url: bug.issue.url } : undefined);
}

function notYet(analysis: ResolvedAnalysis): string {
  return analysis === 'pending' ? 'Pending' : '—';
}

function priorityText(priority: number | null, analysis: ResolvedAnalysis): string {
  return priority === null ? notYet(analysis) : priorityLabel(priority);
}

function severityText(bug: Bug, analysis: ResolvedAnalysis): string {
  if (typeof analysis === 'object') return `${analysis.severity}/5`;
  return bug.severity ?? notYet(analysis);
}

export function confidenceText(confidence: number): string {
  const clamped = Number.isFinite(confidence) ? Math.min(1, Math.max(0, confidence)) : 0;
  return `${Math.round(clamped * 100)}%`;
}

/** `300 reports · 298 users · last 2026-05-01 12:34 UTC` (the last report only once there are several). */
export function reportsText(bug: Bug): string {
  const reports = `${bug.reportCount} ${bug.reportCount === 1 ? 'report' : 'reports'}`;
  const users = countReporters(bug);
  const people = users === 0 ? reports : `${reports} · ${users} ${users === 1 ? 'user' : 'users'}`;
  return bug.reportCount > 1 && bug.lastReportAt ? `${people} · last ${formatUtc(bug.lastReportAt)}` : people;
}

/** `PR #12` for a GitHub pull request URL, else `PR`. */
export function pullRequestLabel(url: string): string {
  const number = /\/pull\/(\d{1,9})(?:[/?#]|$)/.exec(url)?.[1];
  return number ? `PR #${number}` : 'PR';
}

/** `PR #12 merged · 2025-03-01 10:00 UTC`, or the tracker issue that was completed. */
export function describeResolution(resolution: {
  readonly by: 'github' | 'linear';
  readonly at: string;
  readonly pullRequestUrl?: string;
  readonly issueIdentifier?: string;
}): TextPart {
  const url = toSafeUrl(resolution.pullRequestUrl);
  if (resolution.by === 'github' && url) {
    const link = `[${pullRequestLabel(url)}](${url}) merged`;
    return fixedPart(`${link} · ${formatUtc(resolution.at)}`);
  }
  const issue = resolution.issueIdentifier ? toSafeLine(resolution.issueIdentifier, 40) : 'its issue';
  return fixedPart(`${issue} completed in Linear · ${formatUtc(resolution.at)}`);
}

function resolutionPart(resolution: NonNullable<Bug['resolution']>): TextPart {
  return describeResolution(resolution);
}

function regressionPart(bug: Bug): TextPart {
  const count = bug.regressionCount ?? 0;
  const times = `${count} ${count === 1 ? 'time' : 'times'}`;
  const fixedBy = bug.regression?.fixedBy;
  if (!fixedBy) return fixedPart(`Back ${times} after being resolved.`);
  const how = describeResolution(fixedBy).render(400);
  return fixedPart(`Back ${times} after being resolved; it had been fixed by ${how}.`);
}

function fixPart(status: BugStatus, pullRequestUrl: string | undefined): TextPart {
  if (pullRequestUrl) return markdownLinkPart(pullRequestLabel(pullRequestUrl), pullRequestUrl);
  if (status === 'fix_requested') return fixedPart('Drafting…');
  return fixedPart('—');
}

// ---------------------------------------------------------------------------------------------
// Safe text

const ZERO_WIDTH_SPACE = '\u200b';
/** What Discord Markdown acts on; `(` needs no escape once `[` and `]` have one. */
const MARKDOWN_CHARACTERS = /[\\`*_~|<>[\]#]/g;

/**
 * `@everyone`/`@here` broken with a zero-width space: the adapter already sends no pings, but
 * text copied elsewhere keeps them inert too. `<@id>` forms are handled by removing or escaping
 * their `<`.
 */
export function breakMentions(text: string): string {
  return text.replace(/@(everyone|here)/gi, `@${ZERO_WIDTH_SPACE}$1`);
}

/**
 * One line of untrusted text (names, reasons, device info) with its Markdown escaped rather than
 * removed, so `os_version` stays `os_version`; no mentions; at most `max` characters.
 */
export function toSafeLine(text: string, max: number): string {
  const line = breakMentions(stripControl(text))
    .replace(/\s+/g, ' ')
    .trim()
    .replace(MARKDOWN_CHARACTERS, '\\$&');
  return clipText(line, max);
}

/** A bug's title: one line with the Markdown removed (titles read better without escapes). */
export function toSafeTitle(text: string, max: number): string {
  return toPlainLine(stripControl(breakMentions(text)), max);
}

/** Our own identifiers (bug ids) in a code span, where nothing renders. */
export function toCodeSpan(text: string, max: number): string {
  return `\`${clipText(stripControl(text).replace(/[`\s]+/g, ''), Math.max(1, max - 2))}\``;
}

/**
 * Multi-line text shown as our prose but not trusted (the model's analysis of a report): every
 * Markdown character escaped — so no masked links, headings, quotes or mentions — and at most
 * `max` characters, never ending in half an escape.
 */
export function toSafeBlock(text: string, max: number): string {
  const escaped = breakMentions(stripControl(normalizeNewlines(text)))
    .trim()
    .replace(MARKDOWN_CHARACTERS, '\\$&');
  return clipText(escaped, max);
}

/**
 * The report quoted as data in a code block it cannot close (see untrusted-text.ts), at most
 * `max` characters including the fence, and at most `maxLines` lines so a card stays short.
 * `complete` says whether all of the report is in it.
 */
export function toFencedExcerpt(
  text: string,
  max: number,
  maxLines: number,
): { readonly fenced: string; readonly complete: boolean } {
  // Capping backtick runs bounds the fence at four characters; the excerpt is a preview anyway.
  const full = breakMentions(stripControl(normalizeNewlines(text)))
    .replace(/`{4,}/g, '```')
    .trim();
  const lines = full.split('\n');
  const body = lines.length > maxLines ? `${lines.slice(0, maxLines).join('\n')}\n…` : full;
  const overhead = fenceUntrusted(body).length - body.length;
  if (max - overhead < 1) return { fenced: '', complete: false };
  const clipped = clipText(body, max - overhead);
  return { fenced: fenceUntrusted(clipped), complete: clipped === full };
}

/** Absolute http(s) URLs without credentials, with parentheses encoded for Markdown links. */
export function toSafeUrl(raw: string | undefined): string | undefined {
  if (!raw || raw.length > MAX_URL_LENGTH) return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return undefined;
  if (url.username || url.password) return undefined;
  const href = url.href.replace(/\(/g, '%28').replace(/\)/g, '%29');
  return href.length <= MAX_URL_LENGTH ? href : undefined;
}

const MAX_URL_LENGTH = 512;

/** Cuts to `max` characters with an ellipsis, never inside a surrogate pair or after a lone `\`. */
export function clipText(text: string, max: number): string {
  if (text.length <= max) return text;
  if (max <= 0) return '';
  if (max === 1) return '…';
  let cut = max - 1;
  const last = text.charCodeAt(cut - 1);
  if (last >= 0xd800 && last <= 0xdbff) cut -= 1;
  let kept = text.slice(0, cut);
  const trailingBackslashes = /\\+$/.exec(kept)?.[0].length ?? 0;
  if (trailingBackslashes % 2 === 1) kept = kept.slice(0, -1);
  return `${kept.trimEnd()}…`;
}

/**
 * As many whole lines as fit in `max`, then `more(n)` for the n left out (it is given room).
 * Lines should already be safe and short.
 */
export function joinLinesWithin(
  lines: readonly string[],
  max: number,
  more: (left: number) => string,
): string {
  const all = lines.join('\n');
  if (all.length <= max) return all;
  const kept: string[] = [];
  let used = 0;
  for (const [index, line] of lines.entries()) {
    const tail = more(lines.length - index - 1);
    const next = used + (kept.length > 0 ? 1 : 0) + line.length;
    if (next + 1 + tail.length > max) break;
    kept.push(line);
    used = next;
  }
  const note = more(lines.length - kept.length);
  const result = kept.length > 0 ? `${kept.join('\n')}\n${note}` : note;
  return result.length <= max ? result : clipText(result, max);
}

/** Like joinLinesWithin, but keeps the newest (last) lines and says how many earlier ones are left out. */
export function joinLastLinesWithin(
  lines: readonly string[],
  max: number,
  earlier: (left: number) => string,
): string {
  const all = lines.join('\n');
  if (all.length <= max) return all;
  const kept: string[] = [];
  let used = 0;
  for (let index = lines.length - 1; index >= 0; index -= 1) {
    const line = lines[index] ?? '';
    const head = earlier(index);
    const next = used + (kept.length > 0 ? 1 : 0) + line.length;
    if (next + 1 + head.length > max) break;
    kept.unshift(line);
    used = next;
  }
  const note = earlier(lines.length - kept.length);
  const result = kept.length > 0 ? `${note}\n${kept.join('\n')}` : note;
  return result.length <= max ? result : clipText(result, max);
}

/** `YYYY-MM-DD HH:MM UTC`, or the raw value made safe when it is not a date. */
export function formatUtc(iso: string): string {
  const time = Date.parse(iso);
  if (Number.isNaN(time)) return toSafeLine(iso, 40);
  return `${new Date(time).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

function normalizeNewlines(text: string): string {
  return text
    .replace(/\r\n?/g, '\n')
    .replace(/[ \t]+\n/g, '\n')
    .replace(/\n{3,}/g, '\n\n');
}

function stripControl(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: removing control characters is the point
  return text.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g, '');
}

// ---------------------------------------------------------------------------------------------
// Fitting an embed into Discord's limits

/** Discord's embed limits (the adapter holds the same numbers; the domain may not import it). */
export const EMBED_LIMITS = {
  title: 256,
  description: 4096,
  fields: 25,
  fieldName: 256,
  fieldValue: 1024,
  footer: 2048,
  /** Summed over every embed of one message. */
  total: 6000,
  content: 2000,
} as const;

/** A piece of text that can render itself within any `max`; `cap` is its natural size. */
export interface TextPart {
  readonly cap: number;
  readonly render: (max: number) => string;
}

export interface FieldPart extends TextPart {
  readonly name: string;
  readonly inline?: boolean;
}

export interface EmbedSpec {
  readonly title: string;
  readonly url?: string | undefined;
  readonly color?: number;
  /** Joined by blank lines; empty parts are left out. */
  readonly description: readonly TextPart[];
  readonly fields: readonly FieldPart[];
  readonly footer?: string;
  readonly timestamp?: string;
  /** Of the 6000 shared by a message's embeds; default all of it. */
  readonly budget?: number;
}

export function fixedPart(text: string): TextPart {
  return { cap: text.length, render: (max) => clipText(text, max) };
}

export function blockPart(text: string, cap: number): TextPart {
  return { cap, render: (max) => toSafeBlock(text, Math.min(cap, max)) };
}

/** The report, fenced, under a heading that says when only part of it is shown. */
export function reportExcerptPart(text: string, cap: number, maxLines: number): TextPart {
  const partial = `**Report** (excerpt of ${formatCount(text.length)} characters)`;
  return {
    cap,
    render: (max) => {
      const limit = Math.min(cap, max);
      const excerpt = toFencedExcerpt(text, limit - partial.length - 1, maxLines);
      if (!excerpt.fenced) return '';
      return `${excerpt.complete ? '**Report**' : partial}\n${excerpt.fenced}`;
    },
  };
}

/** 20480 → `20,480`, without depending on the runtime's locale data. */
export function formatCount(count: number): string {
  return String(count).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** A bold heading over a body; drops out entirely when too little room is left for the body. */
export function sectionPart(heading: string, body: TextPart): TextPart {
  const minBody = 40;
  return {
    cap: heading.length + 1 + body.cap,
    render: (max) => {
      const room = max - heading.length - 1;
      if (room < Math.min(minBody, body.cap)) return '';
      const text = body.render(room);
      return text ? `${heading}\n${text}` : '';
    },
  };
}

/** A one-line prefix (already safe) followed by untrusted text escaped as a block. */
export function linePart(prefix: string, text: string, cap: number): TextPart {
  return { cap: prefix.length + cap, render: (max) => clipText(`${prefix}${toSafeBlock(text, cap)}`, max) };
}

export function linesPart(lines: readonly string[], cap: number, more: (left: number) => string): TextPart {
  return { cap, render: (max) => joinLinesWithin(lines, Math.min(cap, max), more) };
}

/** `[label](url)`, or the bare label when the link does not fit (or the URL is not safe). */
export function markdownLinkPart(label: string, url: string | undefined): TextPart {
  const safeUrl = toSafeUrl(url);
  const link = safeUrl ? `[${label}](${safeUrl})` : label;
  return { cap: link.length, render: (max) => (link.length <= max ? link : clipText(label, max)) };
}

export function field(name: string, value: string, inline: boolean): FieldPart {
  return { name, inline, ...fixedPart(value) };
}

export function linkField(
  name: string,
  link: { readonly label: string; readonly url: string } | undefined,
  inline: boolean,
): FieldPart {
  return { name, inline, ...(link ? markdownLinkPart(link.label, link.url) : fixedPart('—')) };
}

/**
 * Builds the embed so every limit holds: caps per part first, then — when the parts together are
 * over the shared budget — the longest parts shrink to a common size ("water-filling"), so short
 * facts survive intact and only long prose is cut.
 */
export function composeEmbed(spec: EmbedSpec): MessageEmbed {
  const title = clipText(spec.title, EMBED_LIMITS.title);
  const footer = spec.footer ? clipText(spec.footer, EMBED_LIMITS.footer) : undefined;
  const fields = spec.fields.slice(0, EMBED_LIMITS.fields).map((part) => ({
    ...part,
    name: clipText(part.name, EMBED_LIMITS.fieldName) || '—',
    cap: Math.min(part.cap, EMBED_LIMITS.fieldValue),
  }));
  const description = spec.description.map((part) => ({
    ...part,
    cap: Math.min(part.cap, EMBED_LIMITS.description),
  }));
  const parts = [...description, ...fields];

  const separators = Math.max(0, description.length - 1) * 2;
  // One character per field is kept back for the "—" an emptied field value falls back to.
  const fixed =
    title.length + (footer?.length ?? 0) + separators + fields.reduce((n, f) => n + f.name.length + 1, 0);
  const available = Math.max(0, (spec.budget ?? EMBED_LIMITS.total) - fixed);
  const texts = renderWithin(parts, available);

  let descriptionTexts = texts.slice(0, description.length);
  if (joinDescription(descriptionTexts).length > EMBED_LIMITS.description) {
    descriptionTexts = renderWithin(description, EMBED_LIMITS.description - separators);
  }
  const fieldTexts = texts.slice(description.length);

  const out: {
    -readonly [K in keyof MessageEmbed]: MessageEmbed[K];
  } = { title };
  const descriptionText = joinDescription(descriptionTexts);
  if (descriptionText) out.description = descriptionText;
  if (spec.url) out.url = spec.url;
  if (spec.color !== undefined) out.color = spec.color;
  if (fields.length > 0) {
    out.fields = fields.map(
      (part, index): MessageField => ({
        name: part.name,
        value: fieldTexts[index] || '—',
        ...(part.inline !== undefined ? { inline: part.inline } : {}),
      }),
    );
  }
  if (footer) out.footer = footer;
  if (spec.timestamp) out.timestamp = spec.timestamp;
  return out;
}

function joinDescription(texts: readonly string[]): string {
  return texts.filter((text) => text !== '').join('\n\n');
}

function renderWithin(parts: readonly TextPart[], available: number): string[] {
  const natural = parts.map((part) => part.render(part.cap));
  const total = natural.reduce((n, text) => n + text.length, 0);
  if (total <= available) return natural;
  const cap = waterLevel(
    natural.map((text) => text.length),
    available,
  );
  return parts.map((part, index) => {
    const text = natural[index] ?? '';
    return text.length <= cap ? text : part.render(Math.min(part.cap, cap));
  });
}

/** The largest c with Σ min(length, c) ≤ available. */
function waterLevel(lengths: readonly number[], available: number): number {
  const sorted = [...lengths].sort((a, b) => a - b);
  let remaining = available;
  let left = sorted.length;
  for (const length of sorted) {
    if (length * left > remaining) break;
    remaining -= length;
    left -= 1;
  }
  return left === 0 ? Number.POSITIVE_INFINITY : Math.floor(remaining / left);
}
