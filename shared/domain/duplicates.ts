import { type BugStatus, type FoldReason, queueOfStatus } from './bug.js';
import { type ErrorSignature, extractReportSignature, type ReportErrorText } from './fingerprint.js';
import { DUPLICATE_SIMILARITY_THRESHOLD, listSharedTerms, type SimilarityIndex } from './similarity.js';

/**
 * Is a new report a duplicate of an open bug? Two signals, strongest first:
 *  1. the crash fingerprint (fingerprint.ts) equals an open bug's: the same error at the same
 *     in-app code — a duplicate however differently it is described (other language, a vague
 *     "it broke");
 *  2. otherwise the most similar recent open bug by text (similarity.ts), if it scores at least
 *     the threshold — unless both reports carry crash evidence that disagrees (other fingerprint
 *     or other error type): two crashes at different code are different bugs even when described
 *     alike ("Pay crashes the checkout" from a TypeError in the order summary vs a RangeError in
 *     card validation).
 */

export interface DuplicateReport extends ReportErrorText {
  readonly description: string;
}

/** What the detector needs to know of a stored bug. */
export interface DuplicateCandidate {
  readonly bugId: string;
  readonly status: BugStatus;
  readonly fingerprint?: string | null;
  /** The error type of the bug's report (`TypeError`, `HTTP 500`), when it had one. */
  readonly errorType?: string | null;
  /** ISO-8601; the later of this and `updatedAt` decides whether the bug is recent. */
  readonly createdAt: string;
  readonly updatedAt?: string;
}

export type DuplicateMatch =
  | { readonly kind: 'fingerprint'; readonly bugId: string }
  | { readonly kind: 'similar'; readonly bugId: string; readonly score: number }
  | { readonly kind: 'none' };

export interface FindDuplicateOptions {
  /** Default DUPLICATE_SIMILARITY_THRESHOLD. */
  readonly threshold?: number;
  /** "Now" for the recency window, ISO-8601 or epoch ms. Without it every open bug is recent. */
  readonly now?: string | number;
  /** Text matches only against bugs active within this many days. Default 30. */
  readonly recentDays?: number;
  /** The report's signature when the caller already computed it. */
  readonly signature?: ErrorSignature | null;
}

export const DEFAULT_RECENT_DAYS = 30;

/**
 * The text a report (or a stored bug) contributes to the similarity index: its description and
 * its error's type and normalized message — not the raw console logs, whose stack frames, URLs
 * and ids would make every trace look alike.
 */
export function buildDuplicateText(report: DuplicateReport, signature?: ErrorSignature | null): string {
  const error = signature === undefined ? extractReportSignature(report) : signature;
  return error ? `${report.description}\n${error.errorType}: ${error.normalizedMessage}` : report.description;
}

/**
 * `index` holds the candidates' texts (buildDuplicateText) under their bug ids; `candidates` says
 * which of them are open and recent. An exact fingerprint match wins (the earliest such bug, the
 * original); else the best text match at or above the threshold among recent open bugs.
 */
export function findDuplicate<M>(
  report: DuplicateReport,
  index: SimilarityIndex<M>,
  candidates: Iterable<DuplicateCandidate>,
  options: FindDuplicateOptions = {},
): DuplicateMatch {
  const signature = options.signature === undefined ? extractReportSignature(report) : options.signature;
  const fingerprint = signature?.fingerprint ?? null;
  const open = new Map<string, DuplicateCandidate>();
  let original: DuplicateCandidate | undefined;
  for (const candidate of candidates) {
    if (queueOfStatus(candidate.status) !== 'open') continue;
    open.set(candidate.bugId, candidate);
    if (
      fingerprint &&
      candidate.fingerprint === fingerprint &&
      (!original || isEarlier(candidate, original))
    ) {
      original = candidate;
    }
  }
  if (original) return { kind: 'fingerprint', bugId: original.bugId };

  const threshold = options.threshold ?? DUPLICATE_SIMILARITY_THRESHOLD;
  const recentSince = recentCutoff(options);
  const eligible = (id: string): boolean => {
    const candidate = open.get(id);
    if (!candidate) return false;
    if (recentSince !== null && lastActivity(candidate) < recentSince) return false;
    return !hasConflictingCrash(signature, candidate);
  };
  const [best] = index.query(buildDuplicateText(report, signature), {
    limit: 1,
    threshold,
    filter: eligible,
  });
  return best ? { kind: 'similar', bugId: best.id, score: best.score } : { kind: 'none' };
}

/**
 * Both reports carry crash evidence and it disagrees: another fingerprint (the same error at
 * other code) or another error type (a ChunkLoadError and a TypeError behind the same white
 * screen). Text similarity must not merge them.
 */
export function hasConflictingCrash(
  signature: ErrorSignature | null,
  candidate: Pick<DuplicateCandidate, 'fingerprint' | 'errorType'>,
): boolean {
  if (!signature) return false;
  if (signature.fingerprint && candidate.fingerprint && signature.fingerprint !== candidate.fingerprint)
    return true;
  return Boolean(candidate.errorType && signature.errorType !== candidate.errorType);
}

function isEarlier(a: DuplicateCandidate, b: DuplicateCandidate): boolean {
  return a.createdAt < b.createdAt || (a.createdAt === b.createdAt && a.bugId < b.bugId);
}

function recentCutoff(options: FindDuplicateOptions): number | null {
  if (options.now === undefined) return null;
  const now = typeof options.now === 'number' ? options.now : Date.parse(options.now);
  if (Number.isNaN(now)) return null;
  return now - (options.recentDays ?? DEFAULT_RECENT_DAYS) * 24 * 60 * 60 * 1000;
}

function lastActivity(candidate: DuplicateCandidate): number {
  const created = Date.parse(candidate.createdAt);
  const updated = candidate.updatedAt ? Date.parse(candidate.updatedAt) : Number.NaN;
  return Math.max(Number.isNaN(created) ? 0 : created, Number.isNaN(updated) ? 0 : updated);
}

// ---------------------------------------------------------------------------------------------
// Why a report was folded in

/** The crash matched: the error type and the in-app frames the fingerprint is made of. */
export function explainFingerprintMatch(signature: Pick<ErrorSignature, 'errorType' | 'frames'>): FoldReason {
  return { kind: 'fingerprint', errorType: signature.errorType, frames: [...signature.frames] };
}

/**
 * The text was similar: the score, the threshold it passed, and the words the report has in
 * common with the bug it was folded into (`candidateText` as built by buildDuplicateText).
 */
export function explainSimilarMatch(
  report: DuplicateReport,
  candidateText: string,
  score: number,
  options: { readonly signature?: ErrorSignature | null; readonly threshold?: number } = {},
): FoldReason {
  return {
    kind: 'similar',
    score: Math.round(score * 100) / 100,
    threshold: options.threshold ?? DUPLICATE_SIMILARITY_THRESHOLD,
    sharedTerms: listSharedTerms(candidateText, buildDuplicateText(report, options.signature)),
  };
}

/**
 * One plain line (no Markdown; the views escape it): "same crash: TypeError at CheckoutForm ›
 * PaymentStep", "similar text (score 0.52 ≥ 0.34; in common: checkout, pay)", "merged by maya".
 */
export function describeFoldReason(reason: FoldReason): string {
  switch (reason.kind) {
    case 'fingerprint': {
      const frames = reason.frames.length > 0 ? ` at ${reason.frames.join(' › ')}` : '';
      return `same crash: ${reason.errorType}${frames}`;
    }
    case 'similar': {
      const words = reason.sharedTerms.length > 0 ? `; in common: ${reason.sharedTerms.join(', ')}` : '';
      return `similar text (score ${reason.score.toFixed(2)} ≥ ${reason.threshold.toFixed(2)}${words})`;
    }
    case 'manual':
      return `merged by ${reason.by}`;
  }
}
