import type { AuditEntry, Bug, BugPatch, BugReportRef, BugStatus } from '../domain/bug.js';

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
   * Counts one more report of the bug (and its reporter, if known). Returns the updated bug, or
   * null if it does not exist. Does not bump `version`: counters commute with other writes.
   */
  incrementDuplicate(bugId: string, duplicateBugId: string, reporterId?: string): Promise<Bug | null>;
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

/**
 * `issue`: a tracker issue (`ENG-12`, `#45`); `thread`: a bug card's Discord thread; `branch` and
 * `commit`: a pushed fix branch and its head commit, so GitHub's events about them find the bug.
 */
export type BugReferenceKind = 'issue' | 'thread' | 'branch' | 'commit';
