import { describe, expect, it } from 'vitest';
import { DISCORD_LIMITS } from '../../shared/adapters/discord/render-message.js';
import { parseBugCustomId } from '../../shared/discord/custom-id.js';
import { BUG_STATUSES, type BugStatus } from '../../shared/domain/bug.js';
import {
  bugCardButtonStates,
  clipText,
  composeEmbed,
  fixedPart,
  renderBugCard,
  toFencedExcerpt,
  toSafeBlock,
  toSafeLine,
  toSafeTitle,
  toSafeUrl,
} from '../../shared/domain/bug-card.js';
import { computePriority, priorityColor } from '../../shared/domain/priority.js';
import type { MessageButton, OutgoingMessage } from '../../shared/ports/chat-platform.js';
import {
  describeMessage,
  expectGolden,
  expectNeutralized,
  expectWithinDiscordLimits,
  HOSTILE,
  makeAnalysis,
  makeBug,
} from '../factories/bug-rendering.js';

const issue = {
  tracker: 'linear' as const,
  id: 'a1b2',
  identifier: 'ENG-42',
  url: 'https://linear.app/acme/issue/ENG-42/checkout-crashes',
};
const priority = computePriority({ severity: 4, crashEvidence: true, reportCount: 1, distinctReporters: 1 });

function buttons(message: OutgoingMessage): MessageButton[] {
  return (message.buttonRows ?? []).flat();
}

function actionButton(message: OutgoingMessage, action: string): MessageButton {
  const found = buttons(message).find((button) => button.id?.startsWith(`bug:${action}:`));
  if (!found) throw new Error(`no ${action} button`);
  return found;
}

function fieldValue(message: OutgoingMessage, name: string): string | undefined {
  return message.embeds?.[0]?.fields?.find((field) => field.name === name)?.value;
}

describe('renderBugCard: golden cards', () => {
  it('analysis pending', () => {
    const card = renderBugCard(makeBug({ status: 'analyzing', priority: null, severity: undefined }), {
      analysis: 'pending',
    });
    expectWithinDiscordLimits(card);
    expectGolden('bug-card-pending', describeMessage(card));
  });

  it('analysis failed', () => {
    const card = renderBugCard(makeBug({ status: 'analyzing', priority: null, severity: undefined }), {
      analysis: 'failed',
    });
    expectWithinDiscordLimits(card);
    expectGolden('bug-card-failed', describeMessage(card));
  });

  it('triaged', () => {
    const card = renderBugCard(makeBug(), { analysis: makeAnalysis(), priority });
    expectWithinDiscordLimits(card);
    expectGolden('bug-card-triaged', describeMessage(card));
  });

  it('issue created, then a fix drafted', () => {
    const created = renderBugCard(makeBug({ status: 'issue_created', issue }), {
      analysis: makeAnalysis(),
      priority,
    });
    expectWithinDiscordLimits(created);
    expectGolden('bug-card-issue-created', describeMessage(created));

    const drafted = renderBugCard(makeBug({ status: 'fix_drafted', issue }), {
      analysis: makeAnalysis(),
      priority,
      links: { pullRequestUrl: 'https://github.com/acme/shop/pull/314' },
    });
    expectWithinDiscordLimits(drafted);
    expectGolden('bug-card-fix-drafted', describeMessage(drafted));
  });

  it('dismissed', () => {
    const card = renderBugCard(makeBug({ status: 'dismissed' }), {
      analysis: makeAnalysis(),
      priority,
      dismissed: { by: 'maya', reason: 'Works as intended: the cart loads first on supported browsers.' },
    });
    expectWithinDiscordLimits(card);
    expectGolden('bug-card-dismissed', describeMessage(card));
  });

  it('duplicate-heavy', () => {
    const reporters = Array.from({ length: 17 }, (_, i) => `user_${i}`);
    const bug = makeBug({ reportCount: 23, distinctReporters: reporters, priority: 1 });
    const card = renderBugCard(bug, {
      analysis: makeAnalysis({ severity: 5 }),
      priority: computePriority({ severity: 5, crashEvidence: true, reportCount: 23, distinctReporters: 17 }),
    });
    expectWithinDiscordLimits(card);
    expect(fieldValue(card, 'Reports')).toBe('23 reports · 17 users');
    expectGolden('bug-card-duplicate-heavy', describeMessage(card));
  });
});

describe('renderBugCard: folds', () => {
  it('keeps the counters current: reports, people (counted, not listed) and the last report', () => {
    const card = renderBugCard(
      makeBug({
        reportCount: 300,
        reporterCount: 298,
        distinctReporters: ['user_42'],
        lastReportAt: '2026-11-20T10:07:42.000Z',
      }),
      { analysis: makeAnalysis() },
    );
    expect(fieldValue(card, 'Reports')).toBe('300 reports · 298 users · last 2026-11-20 10:07 UTC');
    // One report: no "last" (it is the card's own timestamp).
    expect(fieldValue(renderBugCard(makeBug({ lastReportAt: '2026-11-20T10:07:42.000Z' })), 'Reports')).toBe(
      '1 report · 1 user',
    );
  });

  it('says whose duplicate a merged bug is and why, with only View Details left to press', () => {
    const card = renderBugCard(
      makeBug({ status: 'duplicate', duplicateOf: 'bug_orig1', foldReason: { kind: 'manual', by: 'maya' } }),
      { analysis: makeAnalysis() },
    );
    expect(fieldValue(card, 'Duplicate of')).toBe('`bug_orig1` · merged by maya');
    expect(
      buttons(card)
        .filter((button) => !button.disabled)
        .map((button) => button.label),
    ).toEqual(['View Details']);
  });
});

describe('renderBugCard: content', () => {
  it('colours by priority, grey while pending or closed', () => {
    const triaged = renderBugCard(makeBug({ priority: 3 }), { analysis: makeAnalysis() });
    expect(triaged.embeds?.[0]?.color).toBe(priorityColor(3));
    const fromResult = renderBugCard(makeBug({ priority: 3 }), { analysis: makeAnalysis(), priority });
    expect(fromResult.embeds?.[0]?.color).toBe(priorityColor(priority.priority));
    const grey = priorityColor(null);
    expect(renderBugCard(makeBug({ priority: 1 }), { analysis: 'pending' }).embeds?.[0]?.color).toBe(grey);
    expect(renderBugCard(makeBug({ priority: 1 }), { analysis: 'failed' }).embeds?.[0]?.color).toBe(grey);
    expect(
      renderBugCard(makeBug({ status: 'dismissed' }), { analysis: makeAnalysis() }).embeds?.[0]?.color,
    ).toBe(grey);
    expect(grey).not.toBe(priorityColor(1));
  });

  it('treats a missing analysis as pending only while the bug waits for one', () => {
    const waiting = renderBugCard(makeBug({ status: 'new', priority: null, severity: undefined }));
    expect(waiting.embeds?.[0]?.description).toContain('Analysis pending');
    expect(fieldValue(waiting, 'Severity')).toBe('Pending');
    const later = renderBugCard(makeBug({ status: 'triaged' }));
    expect(later.embeds?.[0]?.description).not.toContain('Analysis pending');
    expect(fieldValue(later, 'Severity')).toBe('high');
  });

  it('shows the analysis, the issue link, the bug id and the report fenced', () => {
    const card = renderBugCard(makeBug({ status: 'issue_created', issue }), {
      analysis: makeAnalysis({ confidence: 0.456 }),
      priority,
    });
    const embed = card.embeds?.[0];
    expect(embed?.title).toBe('Checkout crashes when pressing Pay');
    expect(embed?.url).toBe(issue.url);
    expect(embed?.footer).toBe('Bug bug_7Kq2xN');
    expect(embed?.description).toContain('```text\nI press Pay');
    expect(fieldValue(card, 'Confidence')).toBe('46%');
    expect(fieldValue(card, 'Severity')).toBe('4/5');
    expect(fieldValue(card, 'Issue')).toBe(`[ENG-42](${issue.url})`);
    expect(fieldValue(card, 'Priority')).toBe('P2 · High');
  });

  it('names the original of a duplicate', () => {
    const card = renderBugCard(makeBug({ status: 'duplicate', duplicateOf: 'bug_orig1' }));
    expect(fieldValue(card, 'Duplicate of')).toBe('`bug_orig1`');
  });

  it('leaves out links that are not http(s)', () => {
    const card = renderBugCard(
      makeBug({ status: 'issue_created', issue: { ...issue, url: 'javascript:alert(1)' } }),
      {
        links: { pullRequestUrl: 'ftp://example.com/pr' },
      },
    );
    expect(card.embeds?.[0]?.url).toBeUndefined();
    expect(fieldValue(card, 'Issue')).toBe('ENG-42');
    expect(fieldValue(card, 'Fix')).toBe('—');
    expect(buttons(card).filter((button) => button.style === 'link')).toEqual([]);
  });
});

describe('renderBugCard: buttons', () => {
  it('carries bug:<action>:<bugId> ids the ingress parses back', () => {
    const card = renderBugCard(makeBug(), { analysis: makeAnalysis() });
    const row = card.buttonRows?.[0] ?? [];
    expect(row.map((button) => button.label)).toEqual([
      'Create Issue',
      'Draft Fix',
      'Dismiss',
      'View Details',
    ]);
    expect(row.map((button) => button.style)).toEqual(['primary', 'success', 'secondary', 'secondary']);
    expect(row.map((button) => parseBugCustomId(button.id ?? ''))).toEqual([
      { ok: true, action: 'create_issue', bugId: 'bug_7Kq2xN' },
      { ok: true, action: 'draft_fix', bugId: 'bug_7Kq2xN' },
      { ok: true, action: 'dismiss', bugId: 'bug_7Kq2xN' },
      { ok: true, action: 'details', bugId: 'bug_7Kq2xN' },
    ]);
  });

  const expected: Record<BugStatus, { create: boolean; fix: boolean; dismiss: boolean }> = {
    new: { create: true, fix: true, dismiss: true },
    analyzing: { create: true, fix: true, dismiss: true },
    triaged: { create: true, fix: true, dismiss: true },
    issue_created: { create: false, fix: true, dismiss: true },
    fix_requested: { create: false, fix: false, dismiss: true },
    fix_drafted: { create: false, fix: true, dismiss: true },
    resolved: { create: false, fix: false, dismiss: false },
    dismissed: { create: false, fix: false, dismiss: false },
    duplicate: { create: false, fix: false, dismiss: false },
    regressed: { create: true, fix: true, dismiss: true },
  };

  it.each(BUG_STATUSES)('enables the right buttons when %s', (status) => {
    const card = renderBugCard(makeBug({ status }), { analysis: makeAnalysis() });
    const want = expected[status];
    expect(actionButton(card, 'create_issue').disabled).toBe(!want.create);
    expect(actionButton(card, 'draft_fix').disabled).toBe(!want.fix);
    expect(actionButton(card, 'dismiss').disabled).toBe(!want.dismiss);
    expect(actionButton(card, 'details').disabled).toBe(false);
    expect(bugCardButtonStates(status, false)).toEqual({
      createIssue: want.create,
      draftFix: want.fix,
      dismiss: want.dismiss,
      details: true,
    });
  });

  it('disables Create Issue once an issue exists, whatever the status says', () => {
    const card = renderBugCard(makeBug({ status: 'triaged', issue }));
    expect(actionButton(card, 'create_issue').disabled).toBe(true);
    const viaView = renderBugCard(makeBug({ status: 'triaged' }), { issue });
    expect(actionButton(viaView, 'create_issue').disabled).toBe(true);
  });

  it('adds link buttons to the issue and the pull request in a second row', () => {
    const card = renderBugCard(makeBug({ status: 'fix_drafted', issue }), {
      links: { pullRequestUrl: 'https://github.com/acme/shop/pull/314' },
    });
    expect(card.buttonRows?.[1]).toEqual([
      { label: 'Open ENG-42', style: 'link', url: issue.url },
      { label: 'Open PR #314', style: 'link', url: 'https://github.com/acme/shop/pull/314' },
    ]);
    expect(renderBugCard(makeBug()).buttonRows).toHaveLength(1);
  });
});

describe('renderBugCard: limits', () => {
  const huge = (seed: string, length: number) =>
    seed.repeat(Math.ceil(length / seed.length)).slice(0, length);

  it('fits a 20 KB report and oversized everything else', () => {
    const bug = makeBug({
      status: 'dismissed',
      title: huge('Title that goes on ', 5000),
      description: huge('word ', 20_480),
      bugId: 'b'.repeat(80),
      issue: { ...issue, identifier: huge('ENG-', 300), url: `https://linear.app/${'x'.repeat(400)}` },
      duplicateOf: 'd'.repeat(80),
      reportCount: 123_456,
      distinctReporters: Array.from({ length: 5000 }, (_, i) => `u${i}`),
    });
    const card = renderBugCard(bug, {
      analysis: makeAnalysis({
        rootCauseHypothesis: huge('because ', 20_000),
        affectedArea: huge('area ', 5000),
        severityReason: huge('reason ', 5000),
        suggestedFix: huge('fix ', 20_000),
        model: huge('m', 1000),
      }),
      priority,
      dismissed: { by: huge('name ', 1000), reason: huge('no ', 20_000) },
      links: { pullRequestUrl: `https://github.com/acme/shop/pull/1?${'q'.repeat(450)}` },
    });
    expectWithinDiscordLimits(card);
    const embed = card.embeds?.[0];
    expect(embed?.title?.length).toBeLessThanOrEqual(DISCORD_LIMITS.embedTitle);
    expect(embed?.description).toContain('**Report** (excerpt of 20,480 characters)');
    expect(embed?.description).toMatch(/```text\n(word )+word…\n```/);
    expect(embed?.description).toContain('**Root cause hypothesis**');
  });

  it('fits a 20 KB report of a single unbroken line and one of many short lines', () => {
    for (const description of ['x'.repeat(20_480), 'line\n'.repeat(4096), '`'.repeat(20_480)]) {
      const card = renderBugCard(makeBug({ description }), { analysis: makeAnalysis() });
      expectWithinDiscordLimits(card);
      expect(card.embeds?.[0]?.description?.split('\n').length).toBeLessThan(40);
    }
  });
});

describe('renderBugCard: untrusted text', () => {
  it('neutralizes mentions, masked links and formatting in every reported part', () => {
    const card = renderBugCard(
      makeBug({ status: 'dismissed', title: HOSTILE, description: `${HOSTILE}\n\`\`\`\n${HOSTILE}\n\`\`\`` }),
      {
        analysis: makeAnalysis({ rootCauseHypothesis: HOSTILE, affectedArea: HOSTILE, model: HOSTILE }),
        dismissed: { by: HOSTILE, reason: HOSTILE },
      },
    );
    expectNeutralized(card);
    expectWithinDiscordLimits(card);
    // The report's own ``` cannot close our fence: a longer one wraps it.
    expect(card.embeds?.[0]?.description).toContain('````text\n');
    expect(card.embeds?.[0]?.title).toBe(
      '@\u200beveryone @123 @&456 @\u200bhere click(http://evil) bold Heading quote',
    );
  });
});

describe('safe text helpers', () => {
  it('toSafeLine escapes Markdown on one line and breaks mass mentions', () => {
    expect(toSafeLine('**os_v** <@1> @here\n[x](http://e)', 100)).toBe(
      '\\*\\*os\\_v\\*\\* \\<@1\\> @\u200bhere \\[x\\](http://e)',
    );
    expect(toSafeLine('a_b_c_d', 5)).toBe('a\\_b…');
    // Cutting right after an escape's backslash would escape the ellipsis instead.
    expect(toSafeLine('ab_cd', 4)).toBe('ab…');
  });

  it('toSafeTitle removes Markdown instead', () => {
    expect(toSafeTitle('**Pay** <@1> @everyone', 100)).toBe('Pay @1 @\u200beveryone');
  });

  it('toSafeBlock escapes Markdown, keeps lines, never ends in half an escape', () => {
    expect(toSafeBlock('# T\n> q [a](b) *x*', 100)).toBe('\\# T\n\\> q \\[a\\](b) \\*x\\*');
    const clipped = toSafeBlock('aaaa[[[[[[[', 8);
    expect(clipped).toHaveLength(7);
    expect(clipped).toBe('aaaa\\[…');
  });

  it('toFencedExcerpt stays within max, fence included, and reports whether it is complete', () => {
    const short = toFencedExcerpt('hello', 100, 5);
    expect(short).toEqual({ fenced: '```text\nhello\n```', complete: true });
    const cut = toFencedExcerpt('a'.repeat(500), 60, 5);
    expect(cut.fenced.length).toBeLessThanOrEqual(60);
    expect(cut.complete).toBe(false);
    const lines = toFencedExcerpt('1\n2\n3\n4', 100, 2);
    expect(lines).toEqual({ fenced: '```text\n1\n2\n…\n```', complete: false });
  });

  it('toSafeUrl accepts http(s) only, without credentials, with parentheses encoded', () => {
    expect(toSafeUrl('https://example.com/a_(b)')).toBe('https://example.com/a_%28b%29');
    expect(toSafeUrl('javascript:alert(1)')).toBeUndefined();
    expect(toSafeUrl('https://user:pw@example.com/')).toBeUndefined();
    expect(toSafeUrl('not a url')).toBeUndefined();
    expect(toSafeUrl(`https://example.com/${'a'.repeat(600)}`)).toBeUndefined();
  });

  it('clipText does not split a surrogate pair', () => {
    expect(clipText('ab😀cd', 4)).toBe('ab…');
  });

  it('composeEmbed shrinks the longest parts first when the total is over budget', () => {
    const embed = composeEmbed({
      title: 't',
      description: [fixedPart('d'.repeat(4000))],
      fields: [
        { name: 'short', inline: true, ...fixedPart('kept whole') },
        ...Array.from({ length: 30 }, (_, i) => ({ name: `f${i}`, ...fixedPart('v'.repeat(1000)) })),
      ],
      budget: 6000,
    });
    expect(embed.fields).toHaveLength(25);
    expect(embed.fields?.[0]?.value).toBe('kept whole');
    expectWithinDiscordLimits({ embeds: [embed] });
  });
});
