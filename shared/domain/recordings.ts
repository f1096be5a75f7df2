import type { SessionException, SessionInsights, SessionRecording } from '../ports/session-replay.js';

/**
 * Choosing and describing session recordings for a bug's context packet. Pure: callers pass `now`.
 * Everything here may quote what the reporter's browser sent (URLs, exception messages, element
 * text), so the describers neutralize Markdown and the packet still fences them as data.
 */

/**
 * Session ids are UUIDs (v7 in current SDKs). Anything else cannot be a PostHog session, and we
 * refuse it before it reaches a URL path or a query, whatever escaping happens downstream.
 */
const SESSION_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;

export function isValidSessionId(id: string): boolean {
  return SESSION_ID.test(id);
}

/** PostHog person UUIDs and distinct ids we accept in a path or filter. */
const PERSON_ID = /^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,199}$/;

export function isValidPersonId(id: string): boolean {
  return PERSON_ID.test(id);
}

/** How far back to look for a person's recordings by default (PostHog alone would look 3 days). */
export const RECORDINGS_LOOKBACK_DAYS = 14;

export function computeRecordingsDateFrom(now: Date, days: number = RECORDINGS_LOOKBACK_DAYS): Date {
  return new Date(now.getTime() - days * 24 * 60 * 60 * 1000);
}

export interface RankedRecording {
  readonly recording: SessionRecording;
  readonly score: number;
}

/** Tunables of `scoreRecording`; the defaults are explained there. */
export interface RankingWeights {
  readonly halfLifeHours: number;
  readonly errorWeight: number;
  readonly errorsForFullWeight: number;
  readonly activityWeight: number;
  readonly activeSecondsForFullWeight: number;
}

export const DEFAULT_RANKING_WEIGHTS: RankingWeights = {
  halfLifeHours: 24,
  errorWeight: 2,
  errorsForFullWeight: 3,
  activityWeight: 0.5,
  activeSecondsForFullWeight: 300,
};

/**
 * score = recency × (1 + errorWeight × errors + activityWeight × activity)
 *
 * - recency = 0.5^(age / halfLife), age measured from the recording's end (it was still showing
 *   the bug then). A report usually follows the session it describes, so recency dominates: with
 *   a one-day half-life, a session from three days ago counts an eighth of one from just now.
 * - errors = min(1, console errors / 3). Console errors are the strongest sign that a session
 *   shows the bug, so a session with three or more errors weighs three times a clean one: it
 *   still wins when it is up to ~1.5 days older than the clean one, not when it is a week older.
 * - activity = min(1, active seconds / 300) (duration at half value when PostHog gave no active
 *   seconds). Someone who spent five minutes doing things is more likely to have met the bug
 *   than an idle tab; the weight is small so it mostly breaks near-ties.
 *
 * Multiplying (rather than adding) keeps old sessions from climbing back on activity alone.
 */
export function scoreRecording(
  recording: SessionRecording,
  now: Date,
  weights: RankingWeights = DEFAULT_RANKING_WEIGHTS,
): number {
  const endedAt = parseTime(recording.endTime) ?? parseTime(recording.startTime);
  const ageHours =
    endedAt === undefined ? Number.POSITIVE_INFINITY : Math.max(0, now.getTime() - endedAt) / 3_600_000;
  const recency = 0.5 ** (ageHours / weights.halfLifeHours);
  const errors = Math.min(1, Math.max(0, recording.consoleErrorCount) / weights.errorsForFullWeight);
  const activeSeconds = recording.activeSeconds ?? recording.durationSeconds / 2;
  const activity = Math.min(1, Math.max(0, activeSeconds) / weights.activeSecondsForFullWeight);
  return recency * (1 + weights.errorWeight * errors + weights.activityWeight * activity);
}

/** Recordings with their scores, best first; ties go to the later start, then to the id. */
export function scoreRecordings(
  recordings: readonly SessionRecording[],
  now: Date,
  weights: RankingWeights = DEFAULT_RANKING_WEIGHTS,
): RankedRecording[] {
  return recordings
    .map((recording) => ({ recording, score: scoreRecording(recording, now, weights) }))
    .sort(
      (a, b) =>
        b.score - a.score ||
        (parseTime(b.recording.startTime) ?? 0) - (parseTime(a.recording.startTime) ?? 0) ||
        a.recording.id.localeCompare(b.recording.id),
    );
}

/** The recordings most likely to show the reported bug first (see `scoreRecording`). */
export function rankRecordings(
  recordings: readonly SessionRecording[],
  now: Date,
  weights: RankingWeights = DEFAULT_RANKING_WEIGHTS,
): SessionRecording[] {
  return scoreRecordings(recordings, now, weights).map((ranked) => ranked.recording);
}

/** `42s`, `3m 05s`, `1h 02m`. */
export function formatDuration(seconds: number): string {
  const total = Math.max(0, Math.round(seconds));
  if (total < 60) return `${total}s`;
  const minutes = Math.floor(total / 60);
  if (minutes < 60) return `${minutes}m ${String(total % 60).padStart(2, '0')}s`;
  return `${Math.floor(minutes / 60)}h ${String(minutes % 60).padStart(2, '0')}m`;
}

/** `just now`, `12 min ago`, `5 h ago`, `3 days ago`. */
export function formatAge(iso: string, now: Date): string {
  const at = parseTime(iso);
  if (at === undefined) return 'at an unknown time';
  const minutes = Math.floor(Math.max(0, now.getTime() - at) / 60_000);
  if (minutes < 1) return 'just now';
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h ago`;
  return `${Math.floor(hours / 24)} days ago`;
}

/**
 * One Markdown list line for a recording, e.g.
 * ``[Replay](https://…) · 2 h ago · 4m 12s (3m 01s active) · 3 console errors · starts at `/checkout` ``
 */
export function describeRecording(recording: SessionRecording, now: Date): string {
  const parts = [`[Replay](${recording.replayUrl})`, formatAge(recording.startTime, now)];
  const active =
    recording.activeSeconds === undefined ? '' : ` (${formatDuration(recording.activeSeconds)} active)`;
  parts.push(`${formatDuration(recording.durationSeconds)}${active}`);
  parts.push(pluralize(recording.consoleErrorCount, 'console error'));
  if (recording.startUrl) parts.push(`starts at ${inlineCode(shortenUrl(recording.startUrl))}`);
  return parts.join(' · ');
}

export interface ExceptionGroup {
  readonly type: string;
  readonly message: string;
  readonly count: number;
  readonly firstSeen: string;
  readonly lastSeen: string;
  readonly urls: readonly string[];
}

/** Same type and message → one group, most frequent first (then earliest). */
export function groupExceptions(exceptions: readonly SessionException[]): ExceptionGroup[] {
  const groups = new Map<string, { type: string; message: string; times: string[]; urls: Set<string> }>();
  for (const exception of exceptions) {
    const key = `${exception.type}\u0000${exception.message}`;
    const group = groups.get(key) ?? {
      type: exception.type,
      message: exception.message,
      times: [],
      urls: new Set(),
    };
    group.times.push(exception.timestamp);
    if (exception.url) group.urls.add(exception.url);
    groups.set(key, group);
  }
  return [...groups.values()]
    .map((group) => {
      const times = [...group.times].sort();
      return {
        type: group.type,
        message: group.message,
        count: times.length,
        firstSeen: times[0] ?? '',
        lastSeen: times[times.length - 1] ?? '',
        urls: [...group.urls],
      };
    })
    .sort((a, b) => b.count - a.count || a.firstSeen.localeCompare(b.firstSeen));
}

export interface RageClickTarget {
  readonly element?: string;
  readonly url?: string;
  readonly count: number;
}

export interface SessionInsightsSummary {
  readonly sessionId: string;
  readonly exceptionGroups: readonly ExceptionGroup[];
  readonly exceptionCount: number;
  readonly rageClickCount: number;
  readonly rageClickTargets: readonly RageClickTarget[];
  readonly pages: readonly string[];
  /** Distinct pages left out by `maxPages`. */
  readonly morePages: number;
}

export function summarizeSessionInsights(
  insights: SessionInsights,
  limits: { maxPages?: number; maxExceptionGroups?: number; maxRageClickTargets?: number } = {},
): SessionInsightsSummary {
  const maxPages = limits.maxPages ?? 10;
  const targets = new Map<string, { element?: string; url?: string; count: number }>();
  for (const click of insights.rageClicks) {
    const key = `${click.element ?? ''}\u0000${click.url ?? ''}`;
    const target = targets.get(key) ?? { element: click.element, url: click.url, count: 0 };
    target.count += 1;
    targets.set(key, target);
  }
  const pages = [...new Set(insights.pagesVisited)];
  return {
    sessionId: insights.sessionId,
    exceptionGroups: groupExceptions(insights.exceptions).slice(0, limits.maxExceptionGroups ?? 5),
    exceptionCount: insights.exceptions.length,
    rageClickCount: insights.rageClicks.length,
    rageClickTargets: [...targets.values()]
      .sort((a, b) => b.count - a.count)
      .slice(0, limits.maxRageClickTargets ?? 3)
      .map((target) => ({ ...target })),
    pages: pages.slice(0, maxPages),
    morePages: Math.max(0, pages.length - maxPages),
  };
}

/** Markdown lines (a list) for the context packet; empty sections are left out. */
export function describeSessionInsights(summary: SessionInsightsSummary): string[] {
  const lines: string[] = [];
  if (summary.exceptionCount > 0) {
    lines.push(`- ${pluralize(summary.exceptionCount, 'exception')}:`);
    for (const group of summary.exceptionGroups) {
      const times = group.count > 1 ? ` ×${group.count}` : '';
      const where = group.urls[0] ? ` on ${inlineCode(shortenUrl(group.urls[0]))}` : '';
      lines.push(`  - ${inlineCode(truncate(`${group.type}: ${group.message}`, 200))}${times}${where}`);
    }
  }
  if (summary.rageClickCount > 0) {
    const targets = summary.rageClickTargets
      .map((target) => {
        const element = target.element ? inlineCode(truncate(target.element, 60)) : 'an element';
        const where = target.url ? ` on ${inlineCode(shortenUrl(target.url))}` : '';
        return `${element}${where}${target.count > 1 ? ` ×${target.count}` : ''}`;
      })
      .join(', ');
    lines.push(`- ${pluralize(summary.rageClickCount, 'rage click')}: ${targets}`);
  }
  if (summary.pages.length > 0) {
    const more = summary.morePages > 0 ? ` and ${summary.morePages} more` : '';
    lines.push(`- Pages: ${summary.pages.map((page) => inlineCode(shortenUrl(page))).join(' → ')}${more}`);
  }
  return lines;
}

function parseTime(iso: string | undefined): number | undefined {
  if (!iso) return undefined;
  const time = Date.parse(iso);
  return Number.isNaN(time) ? undefined : time;
}

function pluralize(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/**
 * The path of a URL, capped in length. The host is the app's own and adds noise; the query string
 * and fragment often carry tokens or emails (reset links, magic links) that must not reach Linear.
 */
export function shortenUrl(url: string): string {
  try {
    return truncate(new URL(url).pathname, 120);
  } catch {
    return truncate(url.split(/[?#]/, 1)[0] ?? '', 120);
  }
}

/** Backticks and line breaks would let quoted text escape its code span. */
function inlineCode(text: string): string {
  return `\`${text.replace(/[`\r\n]+/g, ' ')}\``;
}
