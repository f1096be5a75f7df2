import { BUG_STATUSES, type BugStatus } from './bug.js';

/**
 * Which status changes a bug may go through. Storage writes a transition as a conditional update
 * ("status is still one of allowedSources(to)"), so a refused or raced transition is never
 * applied; callers log it and tell the user why (describeRefusal).
 *
 *   new ──► analyzing ──► triaged ──► issue_created ──► fix_requested ──► fix_drafted ──► resolved
 *    ▲          │            │  ╰───────────────────────► fix_requested      │
 *    ╰──────────╯            ╰──(create_issue also from new/analyzing)       ╰──► fix_requested (again)
 *
 * Decisions beyond the happy path:
 * - `analyzing → new`: the analysis gave up (model unavailable); the bug waits as "analysis
 *   pending" and a retry moves it to `analyzing` again. A retry that finds it still `analyzing`
 *   (a crashed attempt) goes straight to `triaged`.
 * - Create Issue works from `new` and `analyzing` too: the card, with its buttons, is posted even
 *   while the analysis is pending, and a maintainer must not be blocked by a slow model. The late
 *   analysis then only stores its result: its `analyzing → triaged` write no longer matches.
 * - Draft Fix works from `triaged` (no issue needed: the fix task carries the analysis), from
 *   `issue_created`, and from `fix_drafted` (another attempt after reviewing the first PR).
 * - A fix that fails or stops returns the bug to where it was: `fix_requested → issue_created`
 *   when it has an issue, else `→ triaged` (stateAfterFailedFix).
 * - `resolved` from every open state (the fix merged, or the tracker issue was completed: a
 *   person may close an issue whatever bugbot thought of the bug).
 * - A fix pull request closed unmerged returns the bug to where it was before the fix
 *   (`fix_drafted → triaged | issue_created | regressed`, stateAfterClosedFix).
 * - `dismissed` from every open state; `duplicate` only before work starts on the bug (new,
 *   analyzing, triaged, regressed): once an issue or a fix exists, merging it away would orphan them.
 * - `resolved → regressed`: a new report with the crash fingerprint of a resolved bug reopens it
 *   (a text-only match does not). From `regressed` on, the bug is worked on as from `triaged`.
 * - `dismissed` is final; `resolved` is final except for a regression. The duplicate detector
 *   never folds into a closed bug.
 * - `duplicate → new`: a maintainer split the report back out (fold-reports.ts); it is triaged as
 *   a bug of its own from there (`new → triaged` when it already has an analysis).
 */

/** Where a bug worked on "as if triaged" may go: shared by `triaged` and `regressed`. */
const FROM_TRIAGED: readonly BugStatus[] = [
  'issue_created',
  'fix_requested',
  'resolved',
  'dismissed',
  'duplicate',
];

export const BUG_TRANSITIONS: Readonly<Record<BugStatus, readonly BugStatus[]>> = {
  new: ['analyzing', 'triaged', 'issue_created', 'resolved', 'dismissed', 'duplicate'],
  analyzing: ['triaged', 'new', 'issue_created', 'resolved', 'dismissed', 'duplicate'],
  triaged: FROM_TRIAGED,
  issue_created: ['fix_requested', 'resolved', 'dismissed'],
  fix_requested: ['fix_drafted', 'issue_created', 'triaged', 'regressed', 'resolved', 'dismissed'],
  fix_drafted: ['fix_requested', 'issue_created', 'triaged', 'regressed', 'resolved', 'dismissed'],
  resolved: ['regressed'],
  dismissed: [],
  duplicate: ['new'],
  regressed: FROM_TRIAGED,
};

export function canTransition(from: BugStatus, to: BugStatus): boolean {
  return BUG_TRANSITIONS[from].includes(to);
}

/** Every status `to` may be reached from: the condition of the conditional write. */
export function allowedSources(to: BugStatus): BugStatus[] {
  return BUG_STATUSES.filter((from) => canTransition(from, to));
}

/** Statuses with no way out. */
export function isFinalStatus(status: BugStatus): boolean {
  return BUG_TRANSITIONS[status].length === 0;
}

/** The statuses a fix attempt returns a bug to when it does not land. */
export type StatusBeforeFix = 'issue_created' | 'triaged' | 'regressed';

/**
 * Where a failed or stopped fix attempt leaves the bug: where it was before the fix (when that
 * was a state to go back to), else `issue_created` when it has an issue, else `triaged`.
 */
export function stateAfterFailedFix(bug: {
  readonly issue?: unknown;
  readonly fix?: { readonly fromStatus?: BugStatus };
}): StatusBeforeFix {
  const from = bug.fix?.fromStatus;
  if (from === 'regressed') return 'regressed';
  if (from === 'issue_created' || bug.issue) return 'issue_created';
  return 'triaged';
}

/** A fix pull request closed without merging: the bug goes back as if the fix had failed. */
export const stateAfterClosedFix = stateAfterFailedFix;

/** Statuses that are open: every one a merged fix or a completed issue may resolve. */
export const RESOLVABLE_STATUSES: readonly BugStatus[] = BUG_STATUSES.filter((status) =>
  canTransition(status, 'resolved'),
);

/** The bug card buttons that change a bug's status (`details` only reads). */
export const BUG_CARD_ACTIONS = ['create_issue', 'draft_fix', 'dismiss'] as const;

export type BugCardAction = (typeof BUG_CARD_ACTIONS)[number];

export function isBugCardAction(value: unknown): value is BugCardAction {
  return typeof value === 'string' && (BUG_CARD_ACTIONS as readonly string[]).includes(value);
}

export interface ActionTransition {
  readonly to: BugStatus;
  /** Statuses the action may start from: the condition of its conditional write. */
  readonly from: readonly BugStatus[];
}

const ACTION_TARGETS: Readonly<Record<BugCardAction, BugStatus>> = {
  create_issue: 'issue_created',
  draft_fix: 'fix_requested',
  dismiss: 'dismissed',
};

const ACTION_SOURCES: Readonly<Record<BugCardAction, readonly BugStatus[]>> = {
  create_issue: ['new', 'analyzing', 'triaged', 'regressed'],
  draft_fix: ['triaged', 'issue_created', 'fix_drafted', 'regressed'],
  dismiss: allowedSources('dismissed'),
};

/**
 * The transition a button asks for. `from` is narrower than allowedSources(to) where a status
 * reaches `to` by other means than the button: a failed fix returns to `issue_created` from
 * `fix_requested`, but clicking Create Issue on a bug whose fix is running must not.
 */
export function transitionFor(action: BugCardAction): ActionTransition {
  return { to: ACTION_TARGETS[action], from: ACTION_SOURCES[action] };
}

export function canPerform(action: BugCardAction, current: BugStatus): boolean {
  return transitionFor(action).from.includes(current);
}

const ACTION_OUTCOMES: Readonly<Record<BugCardAction, string>> = {
  create_issue: 'no issue can be created',
  draft_fix: 'no fix can be drafted',
  dismiss: 'it cannot be dismissed',
};

/**
 * Why a button did nothing, in words for the person who clicked it (an ephemeral reply). Null
 * when the action is allowed from `current`.
 */
export function describeRefusal(action: BugCardAction, current: BugStatus): string | null {
  if (canPerform(action, current)) return null;
  const outcome = ACTION_OUTCOMES[action];
  switch (current) {
    case 'dismissed':
      return `This bug was dismissed, so ${outcome}.`;
    case 'resolved':
      return `This bug is already resolved, so ${outcome}. If it is back, a new report of the same crash reopens it.`;
    case 'duplicate':
      return `This bug was marked as a duplicate of another bug, so ${outcome}. Use the original bug's card.`;
    default:
      break;
  }
  if (action === 'create_issue') {
    if (current === 'issue_created') return 'An issue was already created for this bug.';
    if (current === 'fix_requested')
      return 'A fix is being drafted for this bug; try again once it has finished.';
    return 'A fix was already drafted for this bug; review its pull request instead.';
  }
  if (action === 'draft_fix') {
    if (current === 'fix_requested') return 'A fix is already being drafted for this bug.';
    return 'This bug is still being analyzed; a fix can be drafted once it is triaged.';
  }
  return `This bug cannot be dismissed while it is ${describeStatus(current)}.`;
}

const STATUS_DESCRIPTIONS: Readonly<Record<BugStatus, string>> = {
  new: 'new',
  analyzing: 'being analyzed',
  triaged: 'triaged',
  issue_created: 'tracked in an issue',
  fix_requested: 'waiting for a fix',
  fix_drafted: 'waiting for review of a drafted fix',
  resolved: 'resolved',
  dismissed: 'dismissed',
  duplicate: 'a duplicate',
  regressed: 'back after being resolved (regressed)',
};

/** A status in words: "waiting for a fix". */
export function describeStatus(status: BugStatus): string {
  return STATUS_DESCRIPTIONS[status];
}
