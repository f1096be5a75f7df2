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
 * - `resolved` from any triaged-or-later open state (fixed by hand, issue closed, PR merged).
 * - `dismissed` from every open state; `duplicate` only before work starts on the bug (new,
 *   analyzing, triaged): once an issue or a fix exists, merging it away would orphan them.
 * - `resolved` and `dismissed` are final. A regression is a new report, and the duplicate
 *   detector never folds into a closed bug, so it becomes a new bug.
 * - `duplicate → new`: a maintainer split the report back out (fold-reports.ts); it is triaged as
 *   a bug of its own from there (`new → triaged` when it already has an analysis).
 */

export const BUG_TRANSITIONS: Readonly<Record<BugStatus, readonly BugStatus[]>> = {
  new: ['analyzing', 'triaged', 'issue_created', 'dismissed', 'duplicate'],
  analyzing: ['triaged', 'new', 'issue_created', 'dismissed', 'duplicate'],
  triaged: ['issue_created', 'fix_requested', 'resolved', 'dismissed', 'duplicate'],
  issue_created: ['fix_requested', 'resolved', 'dismissed'],
  fix_requested: ['fix_drafted', 'issue_created', 'triaged', 'resolved', 'dismissed'],
  fix_drafted: ['fix_requested', 'resolved', 'dismissed'],
  resolved: [],
  dismissed: [],
  duplicate: ['new'],
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

/** Where a failed or stopped fix attempt leaves the bug. */
export function stateAfterFailedFix(bug: { readonly issue?: unknown }): 'issue_created' | 'triaged' {
  return bug.issue ? 'issue_created' : 'triaged';
}

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
  create_issue: ['new', 'analyzing', 'triaged'],
  draft_fix: ['triaged', 'issue_created', 'fix_drafted'],
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
      return `This bug is already resolved, so ${outcome}.`;
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
};

/** A status in words: "waiting for a fix". */
export function describeStatus(status: BugStatus): string {
  return STATUS_DESCRIPTIONS[status];
}
