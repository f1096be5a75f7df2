import { describe, expect, it } from 'vitest';
import {
  computePriority,
  normalizeSeverity,
  PRIORITY_THRESHOLDS,
  type PriorityInput,
  priorityColor,
  priorityForScore,
  priorityLabel,
  reprioritize,
  toBugSeverity,
} from '../../shared/domain/priority.js';

const base: PriorityInput = { severity: 3, crashEvidence: false, reportCount: 1, distinctReporters: 1 };

describe('computePriority', () => {
  it('makes a critical bug P1 on its own and a cosmetic one P4', () => {
    expect(computePriority({ ...base, severity: 5 }).priority).toBe(1);
    expect(computePriority({ ...base, severity: 4 }).priority).toBe(2);
    expect(computePriority({ ...base, severity: 3 }).priority).toBe(3);
    expect(computePriority({ ...base, severity: 1 }).priority).toBe(4);
  });

  it('raises a bug with crash evidence and with many reporters', () => {
    expect(
      computePriority({ ...base, severity: 4, crashEvidence: true, reportCount: 2, distinctReporters: 2 })
        .priority,
    ).toBe(1);
    expect(computePriority({ ...base, severity: 3, crashEvidence: true }).priority).toBe(2);
    expect(computePriority({ ...base, severity: 2, reportCount: 8, distinctReporters: 6 }).priority).toBe(2);
  });

  it('counts an unassessed bug as severity 3 and says so', () => {
    const pending = computePriority({ ...base, severity: null });
    expect(pending.score).toBe(computePriority(base).score);
    expect(pending.breakdown[0]).toMatchObject({ factor: 'severity' });
    expect(pending.breakdown[0]!.reason).toMatch(/not assessed/);
  });

  it('explains every point in a readable breakdown that adds up to the score', () => {
    const result = computePriority({
      severity: 4,
      crashEvidence: true,
      reportCount: 5,
      distinctReporters: 3,
      rageClicks: 7,
    });
    expect(result.breakdown.map((factor) => factor.factor)).toEqual([
      'severity',
      'crash',
      'reporters',
      'reports',
      'rage_clicks',
    ]);
    expect(result.breakdown.reduce((sum, factor) => sum + factor.points, 0)).toBe(result.score);
    expect(result.breakdown.map((factor) => factor.reason)).toEqual([
      'Severity 4/5 (high) from the analysis.',
      'The report shows a crash: an exception, a stack trace or console errors.',
      'Reported by 3 different people.',
      '5 reports in total, duplicates included.',
      'The session replay shows 7 rage clicks: the reporter was stuck.',
    ]);
    expect(result.score).toBeLessThanOrEqual(100);
  });

  it('ignores a couple of impatient clicks and bad counts', () => {
    expect(computePriority({ ...base, rageClicks: 2 }).breakdown.map((f) => f.factor)).not.toContain(
      'rage_clicks',
    );
    const odd = computePriority({ ...base, reportCount: Number.NaN, distinctReporters: -3 });
    expect(odd.breakdown.find((f) => f.factor === 'reporters')?.reason).toBe(
      'The reporter is not identified.',
    );
    expect(odd.breakdown.find((f) => f.factor === 'reports')?.points).toBe(0);
  });

  it('is monotonic: more reporters, reports, severity or crash evidence never lowers the priority', () => {
    for (const severity of [null, 1, 2, 3, 4, 5]) {
      for (const crashEvidence of [false, true]) {
        let previous = computePriority({ severity, crashEvidence, reportCount: 1, distinctReporters: 0 });
        for (let people = 1; people <= 40; people++) {
          for (const extra of [0, 1, 5]) {
            const next = computePriority({
              severity,
              crashEvidence,
              reportCount: people + extra,
              distinctReporters: people,
            });
            const fewerReports = computePriority({
              severity,
              crashEvidence,
              reportCount: people,
              distinctReporters: people,
            });
            expect(next.score).toBeGreaterThanOrEqual(fewerReports.score);
            expect(next.priority).toBeLessThanOrEqual(fewerReports.priority);
          }
          const current = computePriority({
            severity,
            crashEvidence,
            reportCount: people,
            distinctReporters: people,
          });
          expect(current.score).toBeGreaterThanOrEqual(previous.score);
          expect(current.priority).toBeLessThanOrEqual(previous.priority);
          previous = current;
        }
        if (!crashEvidence) {
          const withCrash = computePriority({
            severity,
            crashEvidence: true,
            reportCount: 3,
            distinctReporters: 2,
          });
          expect(withCrash.priority).toBeLessThanOrEqual(
            computePriority({ severity, crashEvidence: false, reportCount: 3, distinctReporters: 2 })
              .priority,
          );
        }
      }
    }
    for (let severity = 1; severity < 5; severity++) {
      expect(computePriority({ ...base, severity: severity + 1 }).score).toBeGreaterThan(
        computePriority({ ...base, severity }).score,
      );
    }
  });
});

describe('priorityForScore', () => {
  it('puts each band boundary in the more urgent band', () => {
    expect(priorityForScore(PRIORITY_THRESHOLDS[1])).toBe(1);
    expect(priorityForScore(PRIORITY_THRESHOLDS[1] - 1)).toBe(2);
    expect(priorityForScore(PRIORITY_THRESHOLDS[2])).toBe(2);
    expect(priorityForScore(PRIORITY_THRESHOLDS[2] - 1)).toBe(3);
    expect(priorityForScore(PRIORITY_THRESHOLDS[3])).toBe(3);
    expect(priorityForScore(PRIORITY_THRESHOLDS[3] - 1)).toBe(4);
    expect(priorityForScore(0)).toBe(4);
    expect(priorityForScore(100)).toBe(1);
  });
});

describe('severity helpers', () => {
  it('normalizes severities and maps them to the stored words', () => {
    expect(normalizeSeverity(7)).toBe(5);
    expect(normalizeSeverity(0)).toBe(1);
    expect(normalizeSeverity(3.6)).toBe(4);
    expect(normalizeSeverity(undefined)).toBeNull();
    expect(normalizeSeverity(Number.NaN)).toBeNull();
    expect([5, 4, 3, 2, 1].map(toBugSeverity)).toEqual(['critical', 'high', 'medium', 'low', 'low']);
  });
});

describe('priorityLabel and priorityColor', () => {
  it('labels and colours each band, and a bug without priority', () => {
    expect([1, 2, 3, 4].map(priorityLabel)).toEqual(['P1 · Urgent', 'P2 · High', 'P3 · Medium', 'P4 · Low']);
    expect(priorityLabel(null)).toBe('Not prioritised yet');
    const colors = [1, 2, 3, 4, null].map(priorityColor);
    expect(new Set(colors).size).toBe(5);
    for (const color of colors) {
      expect(Number.isInteger(color)).toBe(true);
      expect(color).toBeGreaterThanOrEqual(0);
      expect(color).toBeLessThanOrEqual(0xffffff);
    }
    expect(priorityColor(1)).toBe(0xed4245);
    expect(priorityLabel(9)).toBe('P4 · Low');
  });
});

describe('reprioritize', () => {
  it('gives what computePriority would have for the new counts, without the analysis again', () => {
    for (const severity of [1, 2, 3, 4, 5]) {
      for (const crashEvidence of [false, true]) {
        for (const rageClicks of [undefined, 7]) {
          const first = computePriority({
            severity,
            crashEvidence,
            reportCount: 1,
            distinctReporters: 1,
            rageClicks,
          });
          for (const [reportCount, distinctReporters] of [
            [2, 2],
            [50, 48],
            [300, 300],
            [5000, 4100],
          ] as const) {
            expect(reprioritize(first, { reportCount, distinctReporters })).toEqual(
              computePriority({ severity, crashEvidence, reportCount, distinctReporters, rageClicks }),
            );
          }
        }
      }
    }
  });

  it('raises a surge: a medium crash reported by hundreds moves up a band', () => {
    const first = computePriority({ severity: 3, crashEvidence: true, reportCount: 1, distinctReporters: 1 });
    const surge = reprioritize(first, { reportCount: 300, distinctReporters: 300 });
    expect(surge.priority).toBeLessThan(first.priority);
    expect(surge.breakdown.find((factor) => factor.factor === 'reporters')?.reason).toBe(
      'Reported by 300 different people.',
    );
  });
});
