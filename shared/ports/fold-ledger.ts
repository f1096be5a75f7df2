import type { FoldRecord } from '../domain/fold.js';

/**
 * Where folds are counted and their refreshes coordinated (see domain/fold.ts). Kept apart from
 * the bug items on purpose: one small item per folded report, so a bug item does not grow with its
 * duplicates (DynamoDB items hold at most 400 KB) and is not written once per report (a hot item);
 * every write is a single-item conditional write (no transactions: dynalite has none either).
 */

export interface RefreshState {
  /** Epoch ms of the last refresh that ran. */
  readonly lastRefreshAt?: number;
  /** Epoch ms when the current burst of reports started. */
  readonly stormStartedAt?: number;
  /** The report count the last thread note announced (1 before any note). */
  readonly notedCount: number;
  /** Epoch ms of that note. */
  readonly notedAt?: number;
  /** A note claimed but not yet confirmed posted (posted again, deduplicated, by the next refresh). */
  readonly pendingNote?: PendingFoldNote;
}

export interface PendingFoldNote {
  /** The note's dedup key in the thread (`folds:<count>`). */
  readonly key: string;
  readonly content: string;
  readonly count: number;
}

export type RefreshClaim =
  | { readonly claimed: true; readonly state: RefreshState }
  | { readonly claimed: false };

export interface FoldLedger {
  /** Records a fold once (keyed on the folded bug); false when it was already recorded. */
  recordFold(record: FoldRecord): Promise<boolean>;
  /** Forgets a fold (a split); false when there was none. */
  removeFold(originalId: string, bugId: string): Promise<boolean>;
  /** Every fold into `originalId`, in no particular order. */
  listFolds(originalId: string): Promise<FoldRecord[]>;
  hasFolds(originalId: string): Promise<boolean>;
  /**
   * Marks a refresh of the bug as pending, unless one already is (and is not lost): true means the
   * caller must send the refresh job. `key` names that job; `lostAfter` is epoch ms.
   */
  claimRefresh(bugId: string, claim: { key: string; now: number; lostAfter: number }): Promise<RefreshClaim>;
  /** Corrects the burst start of a claimed refresh (see planRefresh). */
  setStormStart(bugId: string, stormStartedAt: number): Promise<void>;
  /** Gives a claim back (the job could not be sent), so the next fold tries again. */
  abandonRefresh(bugId: string, key: string): Promise<void>;
  /**
   * The refresh job `key` starts: no refresh is pending any more (folds from now on schedule the
   * next one), and this one is the last. Returns the state it read. A release by another key (a
   * retried older job) leaves the pending claim alone.
   */
  releaseRefresh(bugId: string, key: string, now: number): Promise<RefreshState>;
  /**
   * Claims the next thread note (an outbox entry) if the last note announced `expectedNotedCount`;
   * false when another refresh claimed one meanwhile.
   */
  claimNote(bugId: string, expectedNotedCount: number, note: PendingFoldNote, now: number): Promise<boolean>;
  /** The claimed note `key` was posted. */
  finishNote(bugId: string, key: string): Promise<void>;
}
