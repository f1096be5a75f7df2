import { describe, expect, it } from 'vitest';
import {
  CUSTOM_ID_MAX_LENGTH,
  formatBugCustomId,
  isBugAction,
  parseBugCustomId,
} from '../../shared/discord/custom-id.js';
import { bugActions } from '../../shared/jobs/job-schemas.js';

describe('bug card custom ids', () => {
  it.each(bugActions)('round-trips the %s action', (action) => {
    const customId = formatBugCustomId(action, 'bug_01HZX-7k');
    expect(customId).toBe(`bug:${action}:bug_01HZX-7k`);
    expect(parseBugCustomId(customId)).toEqual({ ok: true, action, bugId: 'bug_01HZX-7k' });
  });

  it('knows exactly the actions of the job schema', () => {
    for (const action of bugActions) expect(isBugAction(action)).toBe(true);
    for (const other of ['explode', 'toString', 'constructor', '__proto__', ''])
      expect(isBugAction(other)).toBe(false);
  });

  it('fits the longest action with the longest bug id in 100 characters', () => {
    const longestAction = [...bugActions].sort((a, b) => b.length - a.length)[0]!;
    const customId = formatBugCustomId(longestAction, 'x'.repeat(80));
    expect(customId.length).toBeLessThanOrEqual(CUSTOM_ID_MAX_LENGTH);
    expect(parseBugCustomId(customId).ok).toBe(true);
  });

  it.each([
    ['bug:create_issue', 'malformed'],
    ['bug:create_issue:', 'malformed'],
    ['bug::b1', 'malformed'],
    ['bug:create_issue:b1:extra', 'malformed'],
    ['Bug:create_issue:b1', 'malformed'],
    ['ticket:create_issue:b1', 'malformed'],
    ['bug:create_issue:b 1', 'malformed'],
    ['bug:create_issue:b/1', 'malformed'],
    ['bug:create_issue:b1\n', 'malformed'],
    [`bug:create_issue:${'b'.repeat(81)}`, 'malformed'],
    ['bug:explode:b1', 'unknown_action'],
    ['bug:constructor:b1', 'unknown_action'],
    [`bug:details:${'b'.repeat(89)}`, 'too_long'],
  ])('rejects %j as %s', (customId, problem) => {
    expect(parseBugCustomId(customId)).toEqual({ ok: false, problem });
  });

  it('refuses to format a bug id outside the charset', () => {
    expect(() => formatBugCustomId('details', 'has space')).toThrow(RangeError);
    expect(() => formatBugCustomId('details', '')).toThrow(RangeError);
  });
});
