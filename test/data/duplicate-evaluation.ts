import { readFileSync } from 'node:fs';
import type { BugStatus } from '../../shared/domain/bug.js';
import {
  buildDuplicateText,
  type DuplicateReport,
  findDuplicate,
  hasConflictingCrash,
} from '../../shared/domain/duplicates.js';
import { extractReportSignature } from '../../shared/domain/fingerprint.js';
import {
  createSimilarityIndex,
  DUPLICATE_SIMILARITY_THRESHOLD,
  type SimilarityIndexOptions,
} from '../../shared/domain/similarity.js';

/**
 * Scores the duplicate detector on the labeled pairs in duplicate-pairs.json. Shared by the unit
 * test (which asserts the quality bar) and the bench (which prints it).
 *
 * Protocol: every pair's `a` report is a stored open bug in ONE index (so IDF reflects a realistic
 * set of ~80 open bugs, hard negatives included); each `b` report is then checked with the real
 * findDuplicate against its own `a` only. Predicted duplicate = a fingerprint or a similar match.
 */

export interface LabeledReport extends DuplicateReport {
  readonly console_logs?: string;
  readonly device_info?: Readonly<Record<string, unknown>>;
}

export interface LabeledPair {
  readonly id: string;
  readonly a: LabeledReport;
  readonly b: LabeledReport;
  readonly duplicate: boolean;
  readonly note: string;
}

export function loadDuplicatePairs(): LabeledPair[] {
  const raw = JSON.parse(readFileSync(new URL('./duplicate-pairs.json', import.meta.url), 'utf8')) as {
    pairs: LabeledPair[];
  };
  return raw.pairs;
}

export interface PairOutcome {
  readonly id: string;
  readonly duplicate: boolean;
  readonly predicted: boolean;
  readonly kind: 'fingerprint' | 'similar' | 'none';
  /** Text similarity of b to a, whatever the decision. */
  readonly score: number;
  /** Both reports have fingerprints and they differ: text similarity is not allowed to merge them. */
  readonly conflicting: boolean;
}

export interface DetectorQuality {
  readonly pairs: number;
  readonly truePositives: number;
  readonly falsePositives: number;
  readonly trueNegatives: number;
  readonly falseNegatives: number;
  readonly precision: number;
  readonly recall: number;
  readonly f1: number;
}

export interface EvaluationOptions {
  readonly threshold?: number;
  /** Extra stored bugs (texts) added to the index, e.g. 10,000 synthetic ones, to shift the IDF. */
  readonly background?: readonly string[];
  /** Index settings other than the defaults, for sweeps. */
  readonly index?: SimilarityIndexOptions;
}

const STATUS: BugStatus = 'triaged';
const CREATED_AT = '2025-05-01T00:00:00.000Z';

export function evaluatePairs(pairs: readonly LabeledPair[], options: EvaluationOptions = {}): PairOutcome[] {
  const threshold = options.threshold ?? DUPLICATE_SIMILARITY_THRESHOLD;
  const index = createSimilarityIndex<undefined>(options.index);
  options.background?.forEach((text, i) => {
    index.add(`bg:${i}`, text, undefined);
  });
  const stored = pairs.map((pair) => {
    const signature = extractReportSignature(pair.a);
    index.add(pair.id, buildDuplicateText(pair.a, signature), undefined);
    return {
      bugId: pair.id,
      status: STATUS,
      fingerprint: signature?.fingerprint ?? null,
      errorType: signature?.errorType ?? null,
      createdAt: CREATED_AT,
    };
  });

  return pairs.map((pair, i) => {
    const candidate = stored[i]!;
    const signature = extractReportSignature(pair.b);
    const match = findDuplicate(pair.b, index, [candidate], { threshold, signature });
    return {
      id: pair.id,
      duplicate: pair.duplicate,
      predicted: match.kind !== 'none',
      kind: match.kind,
      score: index.score(buildDuplicateText(pair.b, signature), pair.id),
      conflicting: hasConflictingCrash(signature, candidate),
    };
  });
}

export function summarizeOutcomes(
  outcomes: readonly Pick<PairOutcome, 'duplicate' | 'predicted'>[],
): DetectorQuality {
  let tp = 0;
  let fp = 0;
  let tn = 0;
  let fn = 0;
  for (const { duplicate, predicted } of outcomes) {
    if (predicted && duplicate) tp++;
    else if (predicted) fp++;
    else if (duplicate) fn++;
    else tn++;
  }
  const precision = tp + fp === 0 ? 1 : tp / (tp + fp);
  const recall = tp + fn === 0 ? 1 : tp / (tp + fn);
  const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
  return {
    pairs: outcomes.length,
    truePositives: tp,
    falsePositives: fp,
    trueNegatives: tn,
    falseNegatives: fn,
    precision,
    recall,
    f1,
  };
}

/** The decision findDuplicate makes for an outcome at another threshold (for sweeps and cross-validation). */
export function decideAt(outcome: PairOutcome, threshold: number): boolean {
  if (outcome.kind === 'fingerprint') return true;
  return !outcome.conflicting && outcome.score >= threshold;
}
