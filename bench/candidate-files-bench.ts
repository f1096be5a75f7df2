import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureSandboxRepo } from '../local/sandbox-repo.js';
import { createGitHubStandIn, GITHUB_SANDBOX } from '../local/stand-ins/github-stand-in.js';
import { CodeSearchBudget } from '../shared/adapters/github/code-search-budget.js';
import { createGitHubClient } from '../shared/adapters/github/create-github-client.js';
import { GitHubCodeHost } from '../shared/adapters/github/github-code-host.js';
import { createNewBug } from '../shared/domain/bug.js';
import type { CodeHost, RepositoryRef } from '../shared/ports/code-host.js';
import { findCandidateFiles, MAX_SEARCH_QUERIES } from '../shared/use-cases/candidate-files.js';
import { serveStandIn } from '../test/support/serve-stand-in.js';
import { median } from './support/stats.js';
import type { BenchRow } from './support/table.js';

/**
 * How often the candidate files handed to the fix agent contain the file the sandbox fix changes
 * (`src/cart.js`), over realistic reports of the sandbox bug — in the words people use, with and
 * without console logs (production logs name bundles, not sources) and with the triage analysis
 * the stand-in would give — searched through the real Octokit against the GitHub stand-in, which
 * searches like GitHub (every term in one file, whole words, contents unless `in:path`, default
 * branch). "before" is the single four-word query bugbot used to send; "now" is one query per
 * distinctive term, ranked (shared/domain/code-search-terms.ts). The sandbox repository has six
 * files, so this measures whether the terms reach the file at all, not ranking in a large tree.
 */

const TARGET = 'src/cart.js';
const SHOP: RepositoryRef = { owner: 'acme', repo: 'shop' };
const BUNDLE_LOGS = [
  "TypeError: Cannot read properties of undefined (reading 'map')",
  '    at CheckoutForm (https://shop.example.com/assets/main.3f2a9c1b.js:12:345)',
  '    at renderWithHooks (https://shop.example.com/assets/vendor.js:1:2)',
].join('\n');
const SOURCE_LOGS = [
  "TypeError: Cannot read properties of undefined (reading 'map')",
  '    at cartTotal (webpack:///./src/cart.js:11:22)',
  '    at buildOrderSummary (webpack:///./src/checkout.js:8:17)',
].join('\n');
const ANALYSIS = {
  rootCauseHypothesis:
    'cartTotal maps over cart.items, which is undefined for a cart restored before its lines load',
  affectedArea: 'checkout / cart total',
  suggestedFix: 'Treat a missing items list as empty in cartTotal',
};

interface Report {
  readonly title: string;
  readonly logs?: string;
  readonly analysis?: typeof ANALYSIS;
}

const REPORTS: readonly Report[] = [
  { title: 'Checkout crashes when I press Pay' },
  { title: 'Checkout crashes when I press Pay', logs: BUNDLE_LOGS },
  { title: 'Checkout crashes when I press Pay', logs: BUNDLE_LOGS, analysis: ANALYSIS },
  { title: 'paying makes the checkout page go white' },
  { title: 'paying makes the checkout page go white', logs: BUNDLE_LOGS, analysis: ANALYSIS },
  { title: 'Place order button does nothing for guests' },
  { title: 'Place order button does nothing for guests', analysis: ANALYSIS },
  { title: 'Cart total shows an error when the cart was restored' },
  { title: 'White screen after login when my saved cart loads', logs: SOURCE_LOGS },
  { title: "TypeError: Cannot read properties of undefined (reading 'map')", logs: BUNDLE_LOGS },
  { title: 'Order summary never appears on the payment step', analysis: ANALYSIS },
  { title: 'App broken at checkout', logs: SOURCE_LOGS, analysis: ANALYSIS },
];

/** The query bugbot used to send: up to four words of the title and affected area, one search. */
function formerQuery(report: Report): string {
  const text = [report.title, report.analysis?.affectedArea].filter(Boolean).join(' ');
  const stop = new Set([
    'when',
    'with',
    'that',
    'this',
    'from',
    'have',
    'does',
    'page',
    'crash',
    'crashes',
    'error',
    'button',
    'bug',
  ]);
  const words = text.toLowerCase().match(/[a-z][a-z0-9_]{3,}/g) ?? [];
  return [...new Set(words.filter((word) => !stop.has(word)))].slice(0, 4).join(' ');
}

export async function runCandidateFilesBench(): Promise<BenchRow[]> {
  const root = await mkdtemp(join(tmpdir(), 'bugbot-candidates-'));
  const repo = await ensureSandboxRepo(root);
  // A clock moved 7 s per search, so the stand-in's 10-a-minute limit costs no waiting here.
  let clock = Date.now();
  const standIn = createGitHubStandIn({ repositories: [{ ...SHOP, ...repo }], now: () => new Date(clock) });
  const served = await serveStandIn(standIn);
  try {
    const host: CodeHost = new GitHubCodeHost(
      createGitHubClient({ token: GITHUB_SANDBOX.token, baseUrl: `${served.baseUrl}/api/v3`, pacing: false }),
      { searchBudget: new CodeSearchBudget({ capacity: 1_000_000, now: () => clock }) },
    );
    const spaced: CodeHost = {
      ...host,
      searchCode: async (...args) => {
        clock += 7_000;
        return host.searchCode(...args);
      },
    } as CodeHost;
    let formerHits = 0;
    let currentHits = 0;
    const ranks: number[] = [];
    const queries: number[] = [];
    const sizes: number[] = [];
    for (const report of REPORTS) {
      const before = standIn.calls.filter((call) => call.path.includes('/search/code')).length;
      const former = await spaced.searchCode(SHOP, formerQuery(report), 10);
      if (former.some((hit) => hit.path === TARGET)) formerHits += 1;
      const mid = standIn.calls.filter((call) => call.path.includes('/search/code')).length;
      const bug = {
        ...createNewBug(
          { bugId: 'bug_bench', title: report.title, description: report.title, reporter: {} },
          new Date().toISOString(),
        ),
        ...(report.logs ? { report: { consoleLogs: report.logs } } : {}),
        ...(report.analysis ? { analysis: { state: 'done', result: report.analysis } } : {}),
      };
      const candidates = await findCandidateFiles(
        { bug, title: report.title, body: report.title },
        { codeHost: spaced, settings: { repo: SHOP } },
      );
      queries.push(standIn.calls.filter((call) => call.path.includes('/search/code')).length - mid);
      void before;
      sizes.push(candidates.length);
      const rank = candidates.indexOf(TARGET);
      if (rank >= 0) {
        currentHits += 1;
        ranks.push(rank + 1);
      }
    }
    const percent = (hits: number) => `${Math.round((100 * hits) / REPORTS.length)}%`;
    return [
      {
        name: 'reports of the sandbox bug',
        value: REPORTS.length,
        note: 'titles people write, ± console logs, ± triage analysis',
      },
      {
        name: `candidates contain ${TARGET}: before`,
        value: percent(formerHits),
        note: `${formerHits}/${REPORTS.length}; one query of up to four words, all in one file`,
      },
      {
        name: `candidates contain ${TARGET}: now`,
        value: percent(currentHits),
        note: `${currentHits}/${REPORTS.length}; one query per distinctive term, ranked`,
      },
      {
        name: `rank of ${TARGET} when found (median)`,
        value: ranks.length ? median(ranks) : '-',
        note: '1 = first',
      },
      {
        name: 'searches per fix request (median)',
        value: median(queries),
        note: `at most ${MAX_SEARCH_QUERIES}; GitHub allows 10 a minute`,
      },
      { name: 'candidate files per request (median)', value: median(sizes) },
    ];
  } finally {
    await served.close();
    await rm(root, { recursive: true, force: true });
  }
}
