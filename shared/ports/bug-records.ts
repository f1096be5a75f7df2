import type { AuditEntry, Bug, BugPatch, BugReportRef, BugStatus } from '../domain/bug.js';
import type { PriorityResult } from '../domain/priority.js';

/**
 * Bugs, their audit trail and their fingerprints. Like BugStore, every "create once" and every
 * state change is a single-item conditional write, so two processors racing on the same bug
 * cannot both win; the loser gets the current state back instead of an exception.
 */

export type PutNewBugResult =
  | { readonly created: true; readonly bug: Bug }
  | { readonly created: false; readonly existing: Bug };

/** `current` is null when the bug does not exist. */
export type BugWriteResult =
  | { readonly ok: true; readonly bug: Bug }
  | { readonly ok: false; readonly current: Bug | null };

/** `bugId` is always the bug that owns the fingerprint: this one if claimed, else the winner. */
export type FingerprintClaim =
  | { readonly claimed: true; readonly bugId: string }
  | { readonly claimed: false; readonly bugId: string };

export interface BugRecords {
  /** Creates the bug unless one with its bugId exists (then returns that one, unchanged). */
  putNewBug(bug: Bug): Promise<PutNewBugResult>;
  getBug(bugId: string): Promise<Bug | null>;
  /**
   * Moves the bug to `to` (applying `patch`) only if its status is still one of `from`.
   * Whether `from → to` is a legal move is the state machine's call, not storage's.
   */
  transitionBug(
    bugId: string,
    from: readonly BugStatus[],
    to: BugStatus,
    patch?: BugPatch,
  ): Promise<BugWriteResult>;
  /** Applies `patch` only if the stored version is `expectedVersion` (optimistic lock). */
  updateBug(bugId: string, patch: BugPatch, expectedVersion: number): Promise<BugWriteResult>;
  appendAudit(bugId: string, entry: AuditEntry): Promise<void>;
  /** The latest `limit` entries, oldest first. */
  listAudit(bugId: string, limit: number): Promise<AuditEntry[]>;
  /** Open bugs, most urgent first (null priority last), then oldest first. */
  listOpenBugs(limit: number): Promise<Bug[]>;
  /** Resolved, dismissed and duplicate bugs, in the same order. */
  listClosedBugs(limit: number): Promise<Bug[]>;
  /** Binds a fingerprint to a bug once; later claims learn the winner. */
  claimFingerprint(fingerprint: string, bugId: string): Promise<FingerprintClaim>;
  /**
   * The original's counts as a refresh recounted them from the fold records (see FoldLedger).
   * Applied only if no later count was saved (`countedAt`, ISO-8601): two refreshes racing never
   * leave the older count. With `priority`, the analysis's priority is raised (or lowered, after a
   * split) to match, when the analysis is done. Does not bump `version`: counters commute with
   * other writes. Null when the bug does not exist.
   */
  saveFoldCounts(
    bug: Pick<Bug, 'bugId' | 'createdAt'>,
    counts: FoldCounts,
    options: { readonly countedAt: string; readonly priority?: PriorityResult },
  ): Promise<Bug | null>;
  /**
   * A maintainer split `bugId` out of `originalId`: `duplicate → new` only if it is still a
   * duplicate of that original, remembering the original in `notDuplicateOf`.
   */
  splitOut(bugId: string, originalId: string): Promise<BugWriteResult>;
  /**
   * Moves a fingerprint from a closed bug to a new one, only if `fromBugId` still owns it: a crash
   * whose bug was closed starts a new bug rather than being folded into a closed one.
   */
  takeOverFingerprint(fingerprint: string, fromBugId: string, toBugId: string): Promise<boolean>;
  /**
   * Remembers one product report behind the bug (so the product can be told about it), once per
   * `report.bugId` and while the bug holds fewer than `max`. Does not bump `version`.
   */
  rememberReport(bugId: string, report: BugReportRef, max: number): Promise<void>;
  /**
   * Remembers the Discord user who wrote a reported message, while the bug holds fewer than
   * `max`. Does not bump `version`.
   */
  addDiscordReporter(bugId: string, userId: string, max: number): Promise<void>;
  /**
   * Remembers which bug a tracker issue (`ENG-12`, `#45`) or a Discord thread belongs to, so
   * `/bugbot status ENG-12` and commands inside a bug's thread find it.
   */
  linkReference(kind: BugReferenceKind, value: string, bugId: string): Promise<void>;
  findBugIdByReference(kind: BugReferenceKind, value: string): Promise<string | null>;
}

export interface FoldCounts {
  readonly reportCount: number;
  readonly reporterCount: number;
  /** ISO-8601 */
  readonly lastReportAt: string;
  /** Newest first, bounded. */
  readonly recentReporters: readonly string[];
}

/**
 * `issue`: a tracker issue (`ENG-12`, `#45`); `thread`: a bug card's Discord thread; `branch` and
 * `commit`: a pushed fix branch and its head commit, so GitHub's events about them find the bug.
 */
export type BugReferenceKind = 'issue' | 'thread' | 'branch' | 'commit';
