import type { BugSeverity } from './bug.js';

/**
 * A bug's priority from what we know about it: how bad it is (the analysis's severity), whether
 * it crashes, and how many people hit it. Points add up to a score out of 100; the score's band
 * is the priority, P1 (most urgent) to P4. Every factor explains itself, because the breakdown
 * is shown on the bug card's details and a maintainer should be able to disagree with a reason,
 * not with a number.
 *
 * Severity dominates: a severity-5 bug is P1 on its own, and severity 4 is P2 on its own. Crash
 * evidence and frequency move a bug up one band, rarely two: a severity-2 glitch needs several
 * people and crash evidence to reach P2. More reports or more people never lower the priority.
 */

export type Priority = 1 | 2 | 3 | 4;

export const PRIORITIES: readonly Priority[] = [1, 2, 3, 4];

export interface PriorityInput {
  /** The analysis's severity, 1 (cosmetic) to 5 (critical); null or absent while not analysed. */
  readonly severity?: number | null;
  /** The report carries exceptions, a stack trace or console errors (or the replay shows them). */
  readonly crashEvidence: boolean;
  /** Reports folded into this bug, itself included. */
  readonly reportCount: number;
  /** Distinct people among those reports (0 when reporters are anonymous). */
  readonly distinctReporters: number;
  /** Rage clicks in the reporter's session replay, when there is one. */
  readonly rageClicks?: number;
}

export interface PriorityFactor {
  readonly factor: 'severity' | 'crash' | 'reporters' | 'reports' | 'rage_clicks';
  readonly points: number;
  /** One plain sentence for the card's details. */
  readonly reason: string;
}

export interface PriorityResult {
  readonly priority: Priority;
  /** 0–100. */
  readonly score: number;
  readonly breakdown: readonly PriorityFactor[];
}

/** Points for severity 1..5; an unassessed bug counts as 3. */
const SEVERITY_POINTS: Readonly<Record<number, number>> = { 1: 4, 2: 12, 3: 25, 4: 38, 5: 55 };
const ASSUMED_SEVERITY = 3;
const CRASH_POINTS = 15;
const MAX_REPORTER_POINTS = 20;
const MAX_REPORT_POINTS = 10;
const RAGE_CLICK_POINTS = 5;
/** Fewer rage clicks than this are ordinary impatience. */
const RAGE_CLICK_MINIMUM = 3;

/** The lowest score of each band: P1 from 55, P2 from 38, P3 from 22, P4 below. */
export const PRIORITY_THRESHOLDS: Readonly<Record<Exclude<Priority, 4>, number>> = { 1: 55, 2: 38, 3: 22 };

const SEVERITY_NAMES: Readonly<Record<number, string>> = {
  1: 'cosmetic',
  2: 'low',
  3: 'medium',
  4: 'high',
  5: 'critical',
};

export function computePriority(input: PriorityInput): PriorityResult {
  const breakdown: PriorityFactor[] = [
    severityFactor(input.severity),
    crashFactor(input.crashEvidence),
    reportersFactor(input.distinctReporters),
    reportsFactor(input.reportCount),
  ];
  const rage = rageClickFactor(input.rageClicks);
  if (rage) breakdown.push(rage);
  const score = Math.min(
    100,
    breakdown.reduce((sum, factor) => sum + factor.points, 0),
  );
  return { priority: priorityForScore(score), score, breakdown };
}

/**
 * The same bug, more reports: keeps what the analysis decided (severity, crash evidence, rage
 * clicks, as their points in `previous`) and recomputes the frequency factors from the new counts,
 * so a surge raises the priority as computePriority would have, without another model call.
 */
export function reprioritize(
  previous: PriorityResult,
  counts: Pick<PriorityInput, 'reportCount' | 'distinctReporters'>,
): PriorityResult {
  const kept = previous.breakdown.filter(
    (factor) => factor.factor !== 'reporters' && factor.factor !== 'reports',
  );
  const breakdown: PriorityFactor[] = [];
  for (const factor of kept) {
    breakdown.push(factor);
    // computePriority's order: severity, crash, reporters, reports, then rage clicks.
    if (factor.factor === 'crash') {
      breakdown.push(reportersFactor(counts.distinctReporters), reportsFactor(counts.reportCount));
    }
  }
  if (!breakdown.some((factor) => factor.factor === 'reports')) {
    breakdown.push(reportersFactor(counts.distinctReporters), reportsFactor(counts.reportCount));
  }
  const score = Math.min(
    100,
    breakdown.reduce((sum, factor) => sum + factor.points, 0),
  );
  return { priority: priorityForScore(score), score, breakdown };
}

export function priorityForScore(score: number): Priority {
  if (score >= PRIORITY_THRESHOLDS[1]) return 1;
  if (score >= PRIORITY_THRESHOLDS[2]) return 2;
  if (score >= PRIORITY_THRESHOLDS[3]) return 3;
  return 4;
}

function severityFactor(severity: number | null | undefined): PriorityFactor {
  const level = normalizeSeverity(severity);
  if (level === null) {
    return {
      factor: 'severity',
      points: SEVERITY_POINTS[ASSUMED_SEVERITY]!,
      reason: `Severity not assessed yet, counted as ${ASSUMED_SEVERITY}/5 (${SEVERITY_NAMES[ASSUMED_SEVERITY]}).`,
    };
  }
  return {
    factor: 'severity',
    points: SEVERITY_POINTS[level]!,
    reason: `Severity ${level}/5 (${SEVERITY_NAMES[level]}) from the analysis.`,
  };
}

function crashFactor(crashEvidence: boolean): PriorityFactor {
  return crashEvidence
    ? {
        factor: 'crash',
        points: CRASH_POINTS,
        reason: 'The report shows a crash: an exception, a stack trace or console errors.',
      }
    : { factor: 'crash', points: 0, reason: 'No exception or console error in the report.' };
}

/** Grows with the logarithm: the second person matters more than the twentieth. */
function reportersFactor(distinctReporters: number): PriorityFactor {
  const people = wholeCount(distinctReporters);
  if (people === 0) return { factor: 'reporters', points: 0, reason: 'The reporter is not identified.' };
  const points = Math.min(MAX_REPORTER_POINTS, Math.round(8 * Math.log2(people)));
  return {
    factor: 'reporters',
    points,
    reason: people === 1 ? 'Reported by one person so far.' : `Reported by ${people} different people.`,
  };
}

function reportsFactor(reportCount: number): PriorityFactor {
  const reports = Math.max(1, wholeCount(reportCount));
  const points = Math.min(MAX_REPORT_POINTS, Math.round(4 * Math.log2(reports)));
  return {
    factor: 'reports',
    points,
    reason:
      reports === 1 ? 'One report, no duplicates yet.' : `${reports} reports in total, duplicates included.`,
  };
}

function rageClickFactor(rageClicks: number | undefined): PriorityFactor | null {
  if (rageClicks === undefined) return null;
  const clicks = wholeCount(rageClicks);
  if (clicks < RAGE_CLICK_MINIMUM) return null;
  return {
    factor: 'rage_clicks',
    points: RAGE_CLICK_POINTS,
    reason: `The session replay shows ${clicks} rage clicks: the reporter was stuck.`,
  };
}

/** 1..5, or null when absent or not a number. Out-of-range values are clamped, fractions rounded. */
export function normalizeSeverity(severity: number | null | undefined): 1 | 2 | 3 | 4 | 5 | null {
  if (severity === null || severity === undefined || !Number.isFinite(severity)) return null;
  return Math.min(5, Math.max(1, Math.round(severity))) as 1 | 2 | 3 | 4 | 5;
}

/** The stored severity word (bug.ts) for a 1–5 severity: 5 critical, 4 high, 3 medium, 1–2 low. */
export function toBugSeverity(severity: number): BugSeverity {
  const level = normalizeSeverity(severity) ?? ASSUMED_SEVERITY;
  if (level === 5) return 'critical';
  if (level === 4) return 'high';
  if (level === 3) return 'medium';
  return 'low';
}

function wholeCount(value: number): number {
  return Number.isFinite(value) ? Math.max(0, Math.floor(value)) : 0;
}

const PRIORITY_LABELS: Readonly<Record<Priority, string>> = {
  1: 'P1 · Urgent',
  2: 'P2 · High',
  3: 'P3 · Medium',
  4: 'P4 · Low',
};

/** Discord's own palette, so cards read like the rest of the client. */
const PRIORITY_COLORS: Readonly<Record<Priority, number>> = {
  1: 0xed4245, // red
  2: 0xf0883e, // orange
  3: 0xfee75c, // yellow
  4: 0x57f287, // green
};
const UNPRIORITISED_COLOR = 0x99aab5; // greyple: analysis pending

/** "P1 · Urgent" … "P4 · Low"; "Not prioritised yet" for null (Bug.priority before analysis). */
export function priorityLabel(priority: number | null): string {
  const band = toPriority(priority);
  return band === null ? 'Not prioritised yet' : PRIORITY_LABELS[band];
}

/** The embed colour (0xRRGGBB) for a priority; grey for null. */
export function priorityColor(priority: number | null): number {
  const band = toPriority(priority);
  return band === null ? UNPRIORITISED_COLOR : PRIORITY_COLORS[band];
}

/** A stored priority (any integer, see Bug.priority) as a band; values past P4 count as P4. */
function toPriority(priority: number | null): Priority | null {
  if (priority === null || !Number.isFinite(priority)) return null;
  return Math.min(4, Math.max(1, Math.round(priority))) as Priority;
}
