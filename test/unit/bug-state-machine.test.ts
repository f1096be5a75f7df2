import { describe, expect, it } from 'vitest';
import { BUG_STATUSES, type BugStatus, CLOSED_BUG_STATUSES } from '../../shared/domain/bug.js';
import {
  allowedSources,
  BUG_CARD_ACTIONS,
  BUG_TRANSITIONS,
  canPerform,
  canTransition,
  describeRefusal,
  describeStatus,
  isBugCardAction,
  isFinalStatus,
  stateAfterFailedFix,
  transitionFor,
} from '../../shared/domain/bug-state-machine.js';

const VALID: ReadonlyArray<readonly [BugStatus, BugStatus]> = [
  ['new', 'analyzing'],
  ['new', 'triaged'],
  ['new', 'issue_created'],
  ['new', 'resolved'],
  ['new', 'dismissed'],
  ['new', 'duplicate'],
  ['analyzing', 'triaged'],
  ['analyzing', 'new'],
  ['analyzing', 'issue_created'],
  ['analyzing', 'resolved'],
  ['analyzing', 'dismissed'],
  ['analyzing', 'duplicate'],
  ['triaged', 'issue_created'],
  ['triaged', 'fix_requested'],
  ['triaged', 'resolved'],
  ['triaged', 'dismissed'],
  ['triaged', 'duplicate'],
  ['issue_created', 'fix_requested'],
  ['issue_created', 'resolved'],
  ['issue_created', 'dismissed'],
  ['fix_requested', 'fix_drafted'],
  ['fix_requested', 'issue_created'],
  ['fix_requested', 'triaged'],
  ['fix_requested', 'regressed'],
  ['fix_requested', 'resolved'],
  ['fix_requested', 'dismissed'],
  ['fix_drafted', 'fix_requested'],
  // A fix pull request closed unmerged: back to where the bug was before the fix.
  ['fix_drafted', 'issue_created'],
  ['fix_drafted', 'triaged'],
  ['fix_drafted', 'regressed'],
  ['fix_drafted', 'resolved'],
  ['fix_drafted', 'dismissed'],
  // A maintainer splits a folded report back out (issue 12).
  ['duplicate', 'new'],
  // The same crash reported again after the fix: open again…
  ['resolved', 'regressed'],
  // …and from there on as from triaged.
  ['regressed', 'issue_created'],
  ['regressed', 'fix_requested'],
  ['regressed', 'resolved'],
  ['regressed', 'dismissed'],
  ['regressed', 'duplicate'],
];

describe('canTransition', () => {
  it('allows exactly the documented transitions', () => {
    const valid = new Set(VALID.map(([from, to]) => `${from}->${to}`));
    for (const from of BUG_STATUSES) {
      for (const to of BUG_STATUSES) {
        expect(canTransition(from, to), `${from} -> ${to}`).toBe(valid.has(`${from}->${to}`));
      }
    }
  });

  it('refuses the invalid ones the issue names, self-loops and leaving a final state', () => {
    expect(canTransition('resolved', 'dismissed')).toBe(false);
    expect(canTransition('dismissed', 'issue_created')).toBe(false);
    expect(canTransition('issue_created', 'duplicate')).toBe(false);
    expect(canTransition('triaged', 'triaged')).toBe(false);
    expect(canTransition('new', 'fix_requested')).toBe(false);
    expect(canTransition('resolved', 'triaged')).toBe(false);
    expect(canTransition('dismissed', 'regressed')).toBe(false);
    for (const closed of CLOSED_BUG_STATUSES.filter(
      (status) => status !== 'resolved' && status !== 'duplicate',
    )) {
      expect(isFinalStatus(closed)).toBe(true);
      expect(BUG_STATUSES.some((to) => canTransition(closed, to))).toBe(false);
    }
    // A duplicate only leaves by being split out, back to `new`.
    expect(BUG_STATUSES.filter((to) => canTransition('duplicate', to))).toEqual(['new']);
    // Resolved is closed, and left only when the same crash comes back.
    expect(BUG_STATUSES.filter((to) => canTransition('resolved', to))).toEqual(['regressed']);
  });

  it('works on a regressed bug as on a triaged one', () => {
    expect(BUG_TRANSITIONS.regressed).toEqual(BUG_TRANSITIONS.triaged);
    expect(canPerform('draft_fix', 'regressed')).toBe(true);
    expect(canPerform('create_issue', 'regressed')).toBe(true);
    expect(canPerform('dismiss', 'regressed')).toBe(true);
  });

  it('resolves from every open state', () => {
    for (const status of BUG_STATUSES.filter((s) => !CLOSED_BUG_STATUSES.includes(s))) {
      expect(canTransition(status, 'resolved'), status).toBe(true);
    }
  });

  it('lets every open status be dismissed and reach a final state', () => {
    for (const status of BUG_STATUSES.filter((s) => !CLOSED_BUG_STATUSES.includes(s))) {
      expect(canTransition(status, 'dismissed')).toBe(true);
      expect(isFinalStatus(status)).toBe(false);
    }
  });

  it('only moves between known statuses', () => {
    for (const targets of Object.values(BUG_TRANSITIONS))
      for (const to of targets) expect(BUG_STATUSES).toContain(to);
  });
});

describe('allowedSources', () => {
  it('lists the from-statuses of a conditional write', () => {
    expect(allowedSources('analyzing')).toEqual(['new']);
    expect(allowedSources('triaged')).toEqual(['new', 'analyzing', 'fix_requested', 'fix_drafted']);
    expect(allowedSources('duplicate')).toEqual(['new', 'analyzing', 'triaged', 'regressed']);
    expect(allowedSources('dismissed')).toEqual([
      'new',
      'analyzing',
      'triaged',
      'issue_created',
      'fix_requested',
      'fix_drafted',
      'regressed',
    ]);
    expect(allowedSources('regressed')).toEqual(['fix_requested', 'fix_drafted', 'resolved']);
    expect(allowedSources('new')).toEqual(['analyzing', 'duplicate']);
  });
});

describe('transitionFor', () => {
  it('maps each button to its target and the statuses it may start from', () => {
    expect(transitionFor('create_issue')).toEqual({
      to: 'issue_created',
      from: ['new', 'analyzing', 'triaged', 'regressed'],
    });
    expect(transitionFor('draft_fix')).toEqual({
      to: 'fix_requested',
      from: ['triaged', 'issue_created', 'fix_drafted', 'regressed'],
    });
    expect(transitionFor('dismiss')).toEqual({ to: 'dismissed', from: allowedSources('dismissed') });
  });

  it('never asks for a transition the machine refuses', () => {
    for (const action of BUG_CARD_ACTIONS) {
      const { to, from } = transitionFor(action);
      for (const source of from) expect(canTransition(source, to), `${action} from ${source}`).toBe(true);
    }
  });

  it('recognises button actions', () => {
    expect(isBugCardAction('dismiss')).toBe(true);
    expect(isBugCardAction('details')).toBe(false);
    expect(isBugCardAction(undefined)).toBe(false);
  });
});

describe('describeRefusal', () => {
  it('is null when the action is allowed', () => {
    expect(describeRefusal('create_issue', 'triaged')).toBeNull();
    expect(describeRefusal('dismiss', 'fix_drafted')).toBeNull();
    expect(canPerform('draft_fix', 'issue_created')).toBe(true);
  });

  it('says plainly why an action is refused', () => {
    expect(describeRefusal('create_issue', 'dismissed')).toBe(
      'This bug was dismissed, so no issue can be created.',
    );
    expect(describeRefusal('dismiss', 'resolved')).toBe(
      'This bug is already resolved, so it cannot be dismissed. If it is back, a new report of the same crash reopens it.',
    );
    expect(describeRefusal('draft_fix', 'duplicate')).toMatch(
      /duplicate of another bug, so no fix can be drafted/,
    );
    expect(describeRefusal('create_issue', 'issue_created')).toBe(
      'An issue was already created for this bug.',
    );
    expect(describeRefusal('draft_fix', 'fix_requested')).toBe(
      'A fix is already being drafted for this bug.',
    );
    expect(describeRefusal('draft_fix', 'analyzing')).toMatch(/once it is triaged/);
  });

  it('explains every refused action from every status', () => {
    for (const action of BUG_CARD_ACTIONS) {
      for (const status of BUG_STATUSES) {
        const refusal = describeRefusal(action, status);
        expect(refusal === null, `${action} from ${status}`).toBe(canPerform(action, status));
        if (refusal !== null) expect(refusal).toMatch(/^[A-Z].*\.$/);
      }
    }
  });
});

describe('helpers', () => {
  it('returns a failed fix to where it came from', () => {
    expect(stateAfterFailedFix({ issue: { id: 'x' } })).toBe('issue_created');
    expect(stateAfterFailedFix({})).toBe('triaged');
    for (const status of [stateAfterFailedFix({}), stateAfterFailedFix({ issue: 1 })]) {
      expect(canTransition('fix_requested', status)).toBe(true);
    }
  });

  it('returns a fix that did not land to where the bug was before it', () => {
    expect(stateAfterFailedFix({ fix: { fromStatus: 'regressed' } })).toBe('regressed');
    expect(stateAfterFailedFix({ issue: 1, fix: { fromStatus: 'regressed' } })).toBe('regressed');
    expect(stateAfterFailedFix({ fix: { fromStatus: 'issue_created' } })).toBe('issue_created');
    // A redraft started from fix_drafted: its own PR is gone, so back to the issue.
    expect(stateAfterFailedFix({ issue: 1, fix: { fromStatus: 'fix_drafted' } })).toBe('issue_created');
    expect(stateAfterFailedFix({ fix: { fromStatus: 'triaged' } })).toBe('triaged');
    for (const to of ['regressed', 'issue_created', 'triaged'] as const) {
      expect(canTransition('fix_drafted', to)).toBe(true);
    }
  });

  it('describes every status in words', () => {
    for (const status of BUG_STATUSES) expect(describeStatus(status).length).toBeGreaterThan(0);
    expect(describeStatus('fix_requested')).toBe('waiting for a fix');
  });
});
