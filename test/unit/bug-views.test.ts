import { describe, expect, it } from 'vitest';
import { DISCORD_LIMITS } from '../../shared/adapters/discord/render-message.js';
import { type AuditEntry, BUG_STATUSES, type Bug } from '../../shared/domain/bug.js';
import {
  formatAge,
  renderBugDetails,
  renderBugStatus,
  renderDashboard,
  renderThreadNote,
  type ThreadNoteData,
  type ThreadNoteKind,
} from '../../shared/domain/bug-views.js';
import { computePriority, priorityLabel } from '../../shared/domain/priority.js';
import type { OutgoingMessage } from '../../shared/ports/chat-platform.js';
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

const audit: AuditEntry[] = [
  { actor: 'webhook', action: 'reported', detail: 'report rep_1 received', at: '2026-11-20T09:58:00.000Z' },
  { actor: 'system', action: 'transition', detail: 'new → analyzing', at: '2026-11-20T09:58:01.000Z' },
  { actor: 'system', action: 'transition', detail: 'analyzing → triaged', at: '2026-11-20T09:58:09.000Z' },
  { actor: '246813579024681357', action: 'create_issue', detail: 'ENG-42', at: '2026-11-20T10:02:00.000Z' },
];

function field(message: OutgoingMessage, name: string): string | undefined {
  return message.embeds?.[0]?.fields?.find((f) => f.name === name)?.value;
}

function fieldNames(message: OutgoingMessage): string[] {
  return (message.embeds?.[0]?.fields ?? []).map((f) => f.name);
}

const FACTORS = ['severity', 'crash', 'reporters', 'reports', 'rage_clicks'] as const;

describe('renderBugDetails', () => {
  const priority = computePriority({
    severity: 4,
    crashEvidence: true,
    reportCount: 3,
    distinctReporters: 2,
  });

  it('golden: full details', () => {
    const details = renderBugDetails(
      makeBug({ status: 'issue_created', issue, reportCount: 3, distinctReporters: ['user_42', 'user_7'] }),
      {
        analysis: makeAnalysis(),
        priority,
        duplicates: [
          { bugId: 'bug_dup1', reporter: 'sam', at: '2026-11-20T11:00:00.000Z' },
          { bugId: 'bug_dup2', at: '2026-11-21T08:30:00.000Z' },
        ],
        audit,
        deviceInfo: { os: 'iOS 18.1', model: 'iPhone 15', app_version: '3.14.1', screen: { w: 390, h: 844 } },
        links: {
          pullRequestUrl: 'https://github.com/acme/shop/pull/314',
          replayUrl: 'https://us.posthog.com/project/1/replay/0190a1b2',
          threadUrl: 'https://discord.com/channels/1/2',
        },
      },
    );
    expect(details.ephemeral).toBe(true);
    expectWithinDiscordLimits(details);
    expectGolden('bug-details', describeMessage(details));
  });

  it('golden: pending analysis, nothing else known', () => {
    const details = renderBugDetails(makeBug({ status: 'analyzing', priority: null }), {
      analysis: 'pending',
    });
    expect(details.ephemeral).toBe(true);
    expectWithinDiscordLimits(details);
    expectGolden('bug-details-pending', describeMessage(details));
  });

  it('lists every priority factor with signed points and its reason', () => {
    const details = renderBugDetails(makeBug(), { analysis: makeAnalysis(), priority });
    const value = field(details, 'Priority') ?? '';
    expect(value.split('\n')[0]).toBe(`**${priorityLabel(priority.priority)}** · score ${priority.score}`);
    for (const factor of priority.breakdown) {
      const points = factor.points > 0 ? `+${factor.points}` : String(factor.points);
      expect(value).toContain(`\`${points}\``);
      expect(value).toContain(factor.reason);
    }
  });

  it('renders device info as escaped key: value lines, objects as JSON', () => {
    const details = renderBugDetails(makeBug(), {
      deviceInfo: { os_version: '18.1', gpu: null, flags: ['a', 'b'], nested: { deep: true } },
    });
    expect(field(details, 'Device info')).toBe(
      'os\\_version: 18.1\ngpu: null\nflags: \\["a","b"\\]\nnested: {"deep":true}',
    );
  });

  it('fits 40 of everything and a 20 KB report', () => {
    const many = Array.from({ length: 40 }, (_, i) => i);
    const details = renderBugDetails(makeBug({ description: 'r'.repeat(20_480), title: 't'.repeat(1000) }), {
      analysis: makeAnalysis({
        rootCauseHypothesis: 'x'.repeat(20_000),
        suggestedFix: 'y'.repeat(20_000),
        severityReason: 'z'.repeat(5000),
        affectedArea: 'a'.repeat(5000),
        model: 'm'.repeat(5000),
      }),
      priority: {
        priority: 1,
        score: 99,
        breakdown: many.map((i) => ({
          factor: FACTORS[i % FACTORS.length] ?? 'severity',
          points: i,
          reason: 'because '.repeat(30),
        })),
      },
      duplicates: many.map((i) => ({
        bugId: `bug_${i}`,
        reporter: `reporter ${i}`,
        at: '2026-11-20T11:00:00Z',
      })),
      audit: many.map((i) => ({
        actor: `a${i}`,
        action: 'transition',
        detail: 'd'.repeat(500),
        at: '2026-11-20T11:00:00Z',
      })),
      deviceInfo: Object.fromEntries(many.map((i) => [`key_${i}`, 'v'.repeat(500)])),
      links: {
        pullRequestUrl: `https://github.com/acme/shop/pull/1?${'q'.repeat(480)}`,
        replayUrl: `https://us.posthog.com/${'r'.repeat(480)}`,
        threadUrl: `https://discord.com/${'t'.repeat(480)}`,
      },
    });
    expectWithinDiscordLimits(details);
    expect(field(details, 'Priority')).toMatch(/…and \d+ more factors$/);
    expect(fieldNames(details)).toContain('Duplicates (40)');
    expect(field(details, 'Duplicates (40)')).toMatch(/…and \d+ more$/);
    expect(field(details, 'Device info')).toMatch(/…and \d+ more$/);
  });

  it('neutralizes hostile report, analysis, names and device info', () => {
    const details = renderBugDetails(makeBug({ title: HOSTILE, description: HOSTILE }), {
      analysis: makeAnalysis({
        rootCauseHypothesis: HOSTILE,
        suggestedFix: HOSTILE,
        severityReason: HOSTILE,
        affectedArea: HOSTILE,
        model: HOSTILE,
      }),
      duplicates: [{ bugId: 'bug_1', reporter: HOSTILE, at: '2026-11-20T11:00:00Z' }],
      audit: [{ actor: HOSTILE, action: HOSTILE, detail: HOSTILE, at: HOSTILE }],
      deviceInfo: { [HOSTILE]: HOSTILE },
      links: { replayUrl: 'javascript:alert(1)' },
    });
    expectNeutralized(details);
    expectWithinDiscordLimits(details);
    expect(field(details, 'Links')).toBe('None yet');
  });
});

describe('renderBugDetails: folds', () => {
  const crash = {
    kind: 'fingerprint' as const,
    errorType: 'TypeError',
    frames: ['CheckoutForm', 'PaymentStep'],
  };
  const folded = Array.from({ length: 7 }, (_, i) => ({
    bugId: `bug_dup${i}`,
    reporter: `u_${i}`,
    at: `2026-11-20T10:0${i}:00.000Z`,
    reason:
      i === 1
        ? { kind: 'similar' as const, score: 0.41, threshold: 0.34, sharedTerms: ['checkout', 'pay'] }
        : crash,
  }));

  it('lists folded reports with why each was folded in, and offers to split the newest out', () => {
    const details = renderBugDetails(makeBug({ reportCount: 301 }), {
      duplicates: folded,
      duplicateCount: 300,
      splitButtons: true,
    });
    expectWithinDiscordLimits(details);
    const lines = field(details, 'Duplicates (300)')?.split('\n') ?? [];
    expect(lines[0]).toBe(
      '• `bug_dup0` · u\\_0 · 2026-11-20 10:00 UTC — same crash: TypeError at CheckoutForm › PaymentStep',
    );
    expect(lines[1]).toBe(
      '• `bug_dup1` · u\\_1 · 2026-11-20 10:01 UTC — similar text (score 0.41 ≥ 0.34; in common: checkout, pay)',
    );
    const row = details.buttonRows?.[0] ?? [];
    expect(row.map((button) => button.id)).toEqual(folded.slice(0, 5).map((dup) => `bug:split:${dup.bugId}`));
    expect(row[0]?.label).toBe('Split bug_dup0');
    // Without the split flow (or for a bug with nothing folded in) there is nothing to press.
    expect(renderBugDetails(makeBug(), { duplicates: folded }).buttonRows).toBeUndefined();
    expect(renderBugDetails(makeBug(), { splitButtons: true }).buttonRows).toBeUndefined();
  });

  it('tells a folded report where it went and why, and lets it be split out', () => {
    const details = renderBugDetails(
      makeBug({ status: 'duplicate', duplicateOf: 'bug_orig', foldReason: crash }),
      { splitButtons: true },
    );
    expect(field(details, 'Folded into')).toBe(
      '`bug_orig` — same crash: TypeError at CheckoutForm › PaymentStep',
    );
    expect(details.buttonRows).toEqual([
      [{ id: 'bug:split:bug_7Kq2xN', label: 'Split out', style: 'secondary' }],
    ]);
  });

  it('keeps hostile reporters and shared words inert', () => {
    const details = renderBugDetails(makeBug(), {
      duplicates: [
        {
          bugId: 'bug_x',
          reporter: HOSTILE,
          at: '2026-11-20T10:00:00.000Z',
          reason: { kind: 'similar', score: 0.5, threshold: 0.34, sharedTerms: [HOSTILE] },
        },
      ],
      splitButtons: true,
    });
    expectNeutralized(details);
    expectWithinDiscordLimits(details);
  });
});

describe('renderBugStatus', () => {
  it('golden: state, priority, issue and history newest last', () => {
    const status = renderBugStatus(
      makeBug({ status: 'issue_created', issue, reportCount: 2, distinctReporters: ['a', 'b'] }),
      audit,
    );
    expectWithinDiscordLimits(status);
    expectGolden('bug-status', describeMessage(status));
  });

  it('keeps the newest entries of a long history and says how many are left out', () => {
    const long = Array.from(
      { length: 500 },
      (_, i): AuditEntry => ({
        actor: 'system',
        action: 'transition',
        detail: `step ${i} ${'x'.repeat(100)}`,
        at: new Date(Date.UTC(2026, 10, 1) + i * 60_000).toISOString(),
      }),
    );
    const status = renderBugStatus(makeBug({ title: 'T'.repeat(5000) }), long);
    expectWithinDiscordLimits(status);
    const description = status.embeds?.[0]?.description ?? '';
    const lines = description.split('\n');
    expect(lines[1]).toMatch(/^…\d+ earlier entries not shown$/);
    expect(lines.at(-1)).toContain('step 499 ');
    const shown = lines.slice(2).map((line) => Number(/step (\d+)/.exec(line)?.[1]));
    expect(shown).toEqual([...shown].sort((a, b) => a - b));
    expect(Number(/…(\d+) earlier/.exec(lines[1] ?? '')?.[1]) + shown.length).toBe(500);
  });

  it('says when there is no history, and names the original of a duplicate', () => {
    const status = renderBugStatus(
      makeBug({ status: 'duplicate', duplicateOf: 'bug_orig', priority: null }),
      [],
    );
    expect(status.embeds?.[0]?.description).toBe('No history recorded.');
    expect(field(status, 'Duplicate of')).toBe('`bug_orig`');
    expect(field(status, 'Priority')).toBe('Not prioritised');
  });
});

describe('renderDashboard', () => {
  const now = '2026-11-22T12:00:00.000Z';
  const open: Bug[] = [
    makeBug({
      bugId: 'b1',
      title: 'Checkout crashes',
      priority: 1,
      status: 'issue_created',
      issue,
      reportCount: 5,
      distinctReporters: ['a', 'b', 'c'],
      createdAt: '2026-11-20T12:00:00.000Z',
      updatedAt: '2026-11-22T11:00:00.000Z',
      card: { channelId: '200', messageId: '300' },
    }),
    makeBug({
      bugId: 'b2',
      title: 'Avatar upload spins forever',
      priority: 2,
      status: 'triaged',
      createdAt: '2026-11-22T09:00:00.000Z',
      updatedAt: '2026-11-22T09:01:00.000Z',
      card: { channelId: '200', messageId: '301' },
    }),
    makeBug({
      bugId: 'b3',
      title: 'Typo on pricing page',
      priority: 4,
      status: 'triaged',
      distinctReporters: [],
      createdAt: '2026-11-01T12:00:00.000Z',
      updatedAt: '2026-11-01T12:05:00.000Z',
    }),
    makeBug({
      bugId: 'b4',
      title: 'Dark mode **flickers**',
      priority: null,
      status: 'analyzing',
      createdAt: '2026-11-22T11:58:00.000Z',
      updatedAt: '2026-11-22T11:58:30.000Z',
    }),
    makeBug({
      bugId: 'b5',
      title: 'Search ignores accents',
      priority: 2,
      status: 'fix_requested',
      issue: { ...issue, identifier: 'ENG-50', url: 'https://linear.app/acme/issue/ENG-50' },
      createdAt: '2026-11-18T12:00:00.000Z',
      updatedAt: '2026-11-22T10:00:00.000Z',
    }),
  ];
  const closed: Bug[] = [
    makeBug({
      bugId: 'c1',
      title: 'Old login loop',
      priority: 2,
      status: 'resolved',
      updatedAt: '2026-11-21T12:00:00.000Z',
    }),
    makeBug({
      bugId: 'c2',
      title: 'Not a bug',
      priority: 4,
      status: 'dismissed',
      updatedAt: '2026-11-22T11:30:00.000Z',
    }),
    makeBug({
      bugId: 'c3',
      title: 'Checkout crash again',
      priority: null,
      status: 'duplicate',
      duplicateOf: 'b1',
      updatedAt: '2026-11-22T11:59:00.000Z',
    }),
  ];

  it('golden: groups by priority, counts by status, recent activity', () => {
    const dashboard = renderDashboard({ open, closed, now, guildId: '100' });
    expectWithinDiscordLimits(dashboard);
    expect(fieldNames(dashboard)).toEqual([
      'P1 · Urgent (1)',
      'P2 · High (2)',
      'P4 · Low (1)',
      'Unprioritised (1)',
      'Recent activity',
    ]);
    expectGolden('bug-dashboard', describeMessage(dashboard));
  });

  it('counts every status, zeros included', () => {
    const description = renderDashboard({ open, closed, now }).embeds?.[0]?.description ?? '';
    for (const status of BUG_STATUSES) expect(description).toMatch(new RegExp(`${statusWord(status)} \\d+`));
    expect(description).toContain('Triaged 2');
    expect(description).toContain('New 0');
  });

  it('lists recent activity newest first with the status reached', () => {
    const recent = field(renderDashboard({ open, closed, now }), 'Recent activity') ?? '';
    expect(recent.split('\n').slice(0, 3)).toEqual([
      'Checkout crash again → Duplicate · 1m ago',
      'Dark mode flickers → Analyzing · 1m ago',
      'Not a bug → Dismissed · 30m ago',
    ]);
  });

  it('links to the issue, else to the card, else names the bug id', () => {
    const p4 = field(renderDashboard({ open, closed, now, guildId: '100' }), 'P4 · Low (1)');
    expect(p4).toBe('Typo on pricing page — Triaged — 1 report — 21d — `b3`');
    const p2 = field(renderDashboard({ open, closed, now, guildId: '100' }), 'P2 · High (2)') ?? '';
    expect(p2).toContain('— [card](https://discord.com/channels/100/200/301)');
    expect(p2).toContain('— [ENG-50](https://linear.app/acme/issue/ENG-50)');
  });

  it('says when nothing is open', () => {
    const dashboard = renderDashboard({ open: [], closed: [], now });
    expect(dashboard.embeds?.[0]?.description).toMatch(/^No open bugs · 0 closed/);
    expect(dashboard.embeds?.[0]?.fields).toBeUndefined();
  });

  it('stays within one message with hundreds of bugs and odd priorities', () => {
    const lots = Array.from({ length: 300 }, (_, i) =>
      makeBug({
        bugId: `bug_${i}`,
        title: `${HOSTILE} ${'long title '.repeat(20)}`,
        priority: i % 7 === 0 ? null : (i % 40) + 1,
        status: BUG_STATUSES[i % 6] ?? 'new',
        issue: i % 2 ? { ...issue, url: `https://linear.app/acme/issue/${'x'.repeat(300)}` } : undefined,
      }),
    );
    const dashboard = renderDashboard({ open: lots, closed: lots.slice(0, 50), now, guildId: '1' });
    expectWithinDiscordLimits(dashboard);
    expectNeutralized(dashboard);
    // Priorities past 4 read as P4, so there are at most five groups.
    expect(fieldNames(dashboard).filter((name) => name !== 'Recent activity')).toHaveLength(5);
    expect(field(dashboard, 'P1 · Urgent (6)')).toBeDefined();
  });
});

describe('renderThreadNote', () => {
  const cases: { [K in ThreadNoteKind]: [ThreadNoteData[K], string] } = {
    duplicate_linked: [
      { reportNumber: 3, newReporter: true },
      'Another report of this bug (#3, from a new user).',
    ],
    issue_created: [
      { issue, by: 'maya' },
      'Issue ENG-42 created by maya: <https://linear.app/acme/issue/ENG-42/checkout-crashes>',
    ],
    fix_requested: [
      { by: 'maya' },
      'Fix requested by maya. bugbot is drafting a pull request; the result will be posted here.',
    ],
    fix_drafted: [
      {
        pullRequestUrl: 'https://github.com/acme/shop/pull/314',
        summary: 'Guard cart.total in OrderSummary',
      },
      'Fix drafted: PR #314 <https://github.com/acme/shop/pull/314>\nGuard cart.total in OrderSummary',
    ],
    fix_rejected: [
      {
        reasons: [
          'infra/stack.ts: outside the allowlist',
          '.github/workflows/ci.yml: .git* files are refused',
        ],
      },
      'Fix rejected; nothing was pushed.\n- infra/stack.ts: outside the allowlist\n- .github/workflows/ci.yml: .git\\* files are refused',
    ],
    fix_failed: [
      { reasons: ['checks failed: npm test exited 1'] },
      'Fix failed; nothing was pushed.\n- checks failed: npm test exited 1',
    ],
    dismissed: [{ by: 'maya', reason: 'Works as intended' }, 'Dismissed by maya: Works as intended'],
    reports_folded: [
      {
        newReports: 1,
        total: 2,
        people: 2,
        reporters: ['u_devon'],
        othersCount: 0,
        byFingerprint: { count: 1, errorType: 'TypeError', frames: ['CheckoutForm', 'PaymentStep'] },
        lastReportAt: '2026-05-01T12:00:05.000Z',
      },
      'Another report of this bug (#2, from u\\_devon; 2 people so far).\nWhy it was folded in: the same crash (TypeError at CheckoutForm › PaymentStep).\nNot the same bug? A maintainer can split a report out from View Details or with `/bugbot split`.',
    ],
    report_split: [
      { by: 'maya', bugId: 'bug_ABC', reports: 119, people: 117 },
      'maya split `bug_ABC` out of this bug: it was not the same bug, and is a bug of its own now. This bug counts 119 reports from 117 people.',
    ],
    merged_into: [
      { by: 'maya', intoId: 'bug_B' },
      "maya marked this bug a duplicate of `bug_B`: its reports count there now; follow that bug's thread. (Split it out again from View Details.)",
    ],
    bug_merged: [
      { by: 'maya', bugId: 'bug_A', mergedReports: 3, reports: 10, people: 1 },
      'maya merged `bug_A` (3 reports) into this bug: 10 reports from 1 person now.',
    ],
    fix_closed: [
      { pullRequestUrl: 'https://github.com/acme/shop/pull/314', backTo: 'tracked in an issue' },
      'PR #314 <https://github.com/acme/shop/pull/314> was closed without merging, so the bug is tracked in an issue again. Draft Fix can try again.',
    ],
    preview: [
      { url: 'https://shop-git-fix.vercel.app/', pullRequestUrl: 'https://github.com/acme/shop/pull/314' },
      'Preview of PR #314 is ready to try: <https://shop-git-fix.vercel.app/>',
    ],
    regressed: [
      {
        reportNumber: 4,
        fixedBy: {
          by: 'github',
          at: '2025-03-01T10:00:00.000Z',
          pullRequestUrl: 'https://github.com/acme/shop/pull/314',
        },
      },
      '🔁 Regressed: the same crash was reported again (report #4), so this bug is open again. It had been fixed by [PR #314](https://github.com/acme/shop/pull/314) merged · 2025-03-01 10:00 UTC.',
    ],
  };

  it('sums up a storm in one note: how many, who, and why they were folded in', () => {
    const note = renderThreadNote('reports_folded', {
      newReports: 57,
      total: 120,
      people: 118,
      reporters: ['u_1', 'u_2', 'u_3', 'u_4', 'u_5'],
      othersCount: 52,
      byFingerprint: { count: 55, errorType: 'TypeError', frames: ['CheckoutForm', 'PaymentStep'] },
      bySimilarity: {
        count: 2,
        best: { score: 0.52, threshold: 0.34, sharedTerms: ['checkout', 'pay', 'crash'] },
      },
      lastReportAt: '2026-05-01T12:03:00.000Z',
    }).content;
    expect(note).toBe(
      [
        '**57 more reports** of this bug since the last note: **120 reports from 118 people** in all (latest 2026-05-01 12:03 UTC).',
        'From u\\_1, u\\_2, u\\_3, u\\_4, u\\_5 and 52 others.',
        'Why they were folded in: 55 × the same crash (TypeError at CheckoutForm › PaymentStep); 2 × similar text (best score 0.52 ≥ 0.34; in common: checkout, pay, crash).',
        'Not the same bug? A maintainer can split a report out from View Details or with `/bugbot split`.',
      ].join('\n'),
    );
  });

  it('keeps reporter names, frames and shared words from a hostile report inert', () => {
    const note = renderThreadNote('reports_folded', {
      newReports: 3,
      total: 4,
      people: 4,
      reporters: [HOSTILE, '<@123>', '@everyone'],
      othersCount: 0,
      byFingerprint: { count: 2, errorType: HOSTILE, frames: ['`x`', HOSTILE] },
      bySimilarity: { count: 1, best: { score: 0.4, threshold: 0.34, sharedTerms: [HOSTILE] } },
      byHand: { count: 1, by: [HOSTILE] },
      lastReportAt: '2026-05-01T12:03:00.000Z',
    });
    expectNeutralized(note);
    expectWithinDiscordLimits(note);
  });

  it.each(Object.keys(cases) as ThreadNoteKind[])('renders %s', (kind) => {
    const [data, content] = cases[kind];
    expect(renderThreadNote(kind, data as never)).toEqual({ content });
  });

  it('says who reported a duplicate before only when known', () => {
    expect(renderThreadNote('duplicate_linked', { reportNumber: 4, newReporter: false }).content).toBe(
      'Another report of this bug (#4, from someone who reported it before).',
    );
    expect(renderThreadNote('duplicate_linked', { reportNumber: 2 }).content).toBe(
      'Another report of this bug (#2).',
    );
  });

  it('shows names as plain text, never mentions, and bounds long reason lists', () => {
    const notes = [
      renderThreadNote('dismissed', { by: HOSTILE, reason: HOSTILE }),
      renderThreadNote('fix_requested', { by: '<@123>' }),
      renderThreadNote('issue_created', { issue: { identifier: HOSTILE, url: 'javascript:x' }, by: HOSTILE }),
      renderThreadNote('fix_rejected', { reasons: Array.from({ length: 200 }, () => HOSTILE) }),
      renderThreadNote('fix_drafted', { pullRequestUrl: 'not a url', summary: HOSTILE.repeat(100) }),
    ];
    for (const note of notes) {
      expectNeutralized(note);
      expectWithinDiscordLimits(note);
    }
    expect(notes[3]?.content?.length).toBeLessThanOrEqual(DISCORD_LIMITS.content);
    expect(notes[3]?.content).toMatch(/…and \d+ more$/);
    expect(notes[1]?.content).toBe(
      'Fix requested by \\<@123\\>. bugbot is drafting a pull request; the result will be posted here.',
    );
  });
});

describe('formatAge', () => {
  it('uses the largest whole unit', () => {
    const now = Date.parse('2026-11-22T12:00:00.000Z');
    expect(formatAge('2026-11-22T11:59:15.000Z', now)).toBe('45s');
    expect(formatAge('2026-11-22T11:48:00.000Z', now)).toBe('12m');
    expect(formatAge('2026-11-22T07:00:00.000Z', now)).toBe('5h');
    expect(formatAge('2026-11-19T12:00:00.000Z', now)).toBe('3d');
    expect(formatAge('2026-11-23T12:00:00.000Z', now)).toBe('0s');
    expect(formatAge('yesterday', now)).toBe('?');
  });
});

function statusWord(status: string): string {
  const words: Record<string, string> = {
    new: 'New',
    analyzing: 'Analyzing',
    triaged: 'Triaged',
    issue_created: 'Issue created',
    fix_requested: 'Fix requested',
    fix_drafted: 'Fix drafted',
    resolved: 'Resolved',
    dismissed: 'Dismissed',
    duplicate: 'Duplicate',
    regressed: 'Regressed',
  };
  return words[status] ?? status;
}
