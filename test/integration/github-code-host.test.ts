import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  createGitHubStandIn,
  GITHUB_SANDBOX,
  type GitHubStandIn,
} from '../../local/stand-ins/github-stand-in.js';
import { CodeSearchBudget } from '../../shared/adapters/github/code-search-budget.js';
import {
  createGitHubClient,
  type GitHubClientSettings,
} from '../../shared/adapters/github/create-github-client.js';
import { GitHubCodeHost, type SearchSkipReason } from '../../shared/adapters/github/github-code-host.js';
import { ServiceError } from '../../shared/domain/errors.js';
import type { RepositoryRef } from '../../shared/ports/code-host.js';
import { type ServedStandIn, serveStandIn } from '../support/serve-stand-in.js';

/** The real Octokit, built by `createGitHubClient`, against the GitHub stand-in. */

const execFileAsync = promisify(execFile);
const SHOP: RepositoryRef = { owner: 'acme', repo: 'shop' };

let root: string;
let bareDir: string;
let standIn: GitHubStandIn;
let served: ServedStandIn;
let clock: number;
let skipped: SearchSkipReason[];

async function git(cwd: string, args: readonly string[]): Promise<string> {
  const { stdout } = await execFileAsync('git', args, {
    cwd,
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: cwd,
      GIT_CONFIG_NOSYSTEM: '1',
      GIT_CONFIG_GLOBAL: '/dev/null',
      GIT_AUTHOR_NAME: 'Test',
      GIT_AUTHOR_EMAIL: 'test@example.test',
      GIT_COMMITTER_NAME: 'Test',
      GIT_COMMITTER_EMAIL: 'test@example.test',
    },
  });
  return stdout;
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'bugbot-github-host-'));
  const seed = join(root, 'seed');
  const files: Record<string, string> = {
    'src/cart.ts': 'export function cartTotal(items: Item[]) {\n  return 0;\n}\n',
    'src/components/CartView.tsx':
      "import { cartTotal } from '../cart';\nexport const CartView = () => cartTotal([]);\n",
    'app/checkout/page.tsx': 'export default function Checkout() { return null; }\n',
    'package.json': '{ "name": "shop" }\n',
  };
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(seed, path)), { recursive: true });
    await writeFile(join(seed, path), content);
  }
  await git(seed, ['init', '--quiet', '--initial-branch=main']);
  await git(seed, ['add', '--all']);
  await git(seed, ['commit', '--quiet', '-m', 'Initial']);
  await git(seed, ['switch', '--quiet', '-c', 'bugbot/fix-1']);
  await writeFile(join(seed, 'src/cart.ts'), 'export function cartTotal(items: Item[]) {\n  return 1;\n}\n');
  await git(seed, ['commit', '--quiet', '-am', 'Fix']);
  bareDir = join(root, 'shop.git');
  await git(root, ['clone', '--quiet', '--bare', '--', seed, bareDir]);
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

beforeEach(async () => {
  clock = Date.now();
  skipped = [];
  standIn = createGitHubStandIn({ now: () => new Date(clock) });
  standIn.addRepository({ ...SHOP, bareDir, defaultBranch: 'main' });
  served = await serveStandIn(standIn);
});

afterEach(async () => {
  await served.close();
});

function hostWith(settings: Partial<GitHubClientSettings> = {}, budget?: CodeSearchBudget): GitHubCodeHost {
  const octokit = createGitHubClient({
    token: GITHUB_SANDBOX.token,
    baseUrl: `${served.baseUrl}/api/v3`,
    timeoutMs: 2_000,
    backoffUnitMs: 1,
    pacing: false,
    ...settings,
  });
  return new GitHubCodeHost(octokit, {
    now: () => clock,
    searchBudget: budget ?? new CodeSearchBudget({ now: () => clock }),
    onSearchSkipped: (reason) => skipped.push(reason),
  });
}

async function failureOf(promise: Promise<unknown>): Promise<ServiceError> {
  const error = await promise.then(
    () => expect.fail('expected the call to fail'),
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(ServiceError);
  return error as ServiceError;
}

function callsTo(pathStart: string) {
  return standIn.calls.filter((call) => call.path.startsWith(`/api/v3${pathStart}`));
}

describe('GitHubCodeHost against the GitHub stand-in', () => {
  it('reads the default branch', async () => {
    expect(await hostWith().getDefaultBranch(SHOP)).toBe('main');
  });

  it('creates an issue once per key: the second call returns the first issue', async () => {
    const host = hostWith();
    const input = { key: 'bugbot:bug_abc', title: 'Cart total is wrong', body: 'Steps…', labels: ['bug'] };
    const first = await host.createIssueOnce(SHOP, input);
    const second = await host.createIssueOnce(SHOP, { ...input, title: 'Another title' });

    expect(second).toEqual(first);
    expect(first).toEqual({
      number: 1,
      url: 'https://github.com/acme/shop/issues/1',
      title: 'Cart total is wrong',
    });
    expect(standIn.snapshot().issues).toEqual([
      expect.objectContaining({ number: 1, body: 'Steps…', labels: ['bugbot:bug_abc', 'bug'] }),
    ]);
    expect(standIn.calls.map((call) => `${call.method} ${call.path.split('?')[0]}`)).toEqual([
      'GET /api/v3/repos/acme/shop/issues',
      'POST /api/v3/repos/acme/shop/issues',
      'GET /api/v3/repos/acme/shop/issues',
    ]);
    expect(standIn.calls[0]?.path).toContain('labels=bugbot%3Abug_abc');
    expect(standIn.calls[0]?.path).toContain('state=all');
  });

  it('keeps keys apart: another key makes another issue', async () => {
    const host = hostWith();
    const a = await host.createIssueOnce(SHOP, { key: 'bugbot:bug_a', title: 'A', body: 'a' });
    const b = await host.createIssueOnce(SHOP, { key: 'bugbot:bug_b', title: 'B', body: 'b' });
    expect(b.number).not.toBe(a.number);
  });

  it('opens one pull request per head: the second call returns the first PR', async () => {
    const host = hostWith();
    const input = {
      head: 'bugbot/fix-1',
      base: 'main',
      title: 'Fix cart total',
      body: 'Summary…',
      draft: true,
    };
    const first = await host.openPullRequest(SHOP, input);
    const second = await host.openPullRequest(SHOP, input);

    expect(first).toEqual({
      number: 1,
      url: 'https://github.com/acme/shop/pull/1',
      draft: true,
      state: 'open',
    });
    expect(second).toEqual(first);
    expect(standIn.snapshot().pulls).toEqual([
      expect.objectContaining({
        number: 1,
        head: 'bugbot/fix-1',
        base: 'main',
        draft: true,
        body: 'Summary…',
      }),
    ]);
    expect(callsTo('/repos/acme/shop/pulls').map((call) => `${call.method} ${call.status}`)).toEqual([
      'POST 201',
      'POST 422',
      'GET 200',
    ]);
    expect(callsTo('/repos/acme/shop/pulls').at(-1)?.path).toContain('head=acme%3Abugbot%2Ffix-1');
  });

  it('fails with a final 422 when the head branch does not exist', async () => {
    const error = await failureOf(
      hostWith().openPullRequest(SHOP, {
        head: 'bugbot/missing',
        base: 'main',
        title: 'x',
        body: 'y',
        draft: false,
      }),
    );
    expect(error).toMatchObject({ service: 'github', status: 422, retryable: false });
    expect(error.message).toContain('Validation Failed');
    expect(callsTo('/repos/acme/shop/pulls')).toHaveLength(1);
  });

  it('searches code in the repository and returns its paths', async () => {
    const hits = await hostWith().searchCode(SHOP, 'cartTotal', 10);
    expect(hits.map((hit) => hit.path).sort()).toEqual(['src/cart.ts', 'src/components/CartView.tsx']);
    expect(hits.every((hit) => hit.path.startsWith('src/') || hit.path.startsWith('app/'))).toBe(true);
    expect(await hostWith().searchCode(SHOP, 'cartTotal', 1)).toHaveLength(1);
  });

  it('keeps untrusted text from widening the search to other repositories', async () => {
    await hostWith().searchCode(SHOP, 'cartTotal repo:evil/secrets org:evil "user:x"', 5);
    const q = new URL(callsTo('/search/code')[0]?.path ?? '', 'http://x').searchParams.get('q');
    expect(q).toBe('cartTotal repo:acme/shop');
  });

  it('allows 10 searches a minute, then returns [] without asking GitHub until the budget refills', async () => {
    const host = hostWith();
    for (let i = 0; i < 10; i += 1) {
      expect(await host.searchCode(SHOP, 'cartTotal', 5)).not.toEqual([]);
      clock += 1_000;
    }
    expect(await host.searchCode(SHOP, 'cartTotal', 5)).toEqual([]);
    expect(skipped).toEqual(['budget']);
    expect(callsTo('/search/code')).toHaveLength(10);

    clock += 60_000;
    expect(await host.searchCode(SHOP, 'cartTotal', 5)).not.toEqual([]);
    expect(callsTo('/search/code')).toHaveLength(11);
  });

  it('degrades to [] when GitHub refuses a search for its rate limit, and waits for the reset', async () => {
    // Two processes sharing one token: each within its own budget, together over GitHub's.
    const first = hostWith();
    const second = hostWith();
    for (let i = 0; i < 6; i += 1) await first.searchCode(SHOP, 'cartTotal', 5);
    for (let i = 0; i < 4; i += 1) await second.searchCode(SHOP, 'cartTotal', 5);

    expect(await second.searchCode(SHOP, 'cartTotal', 5)).toEqual([]);
    expect(skipped).toEqual(['rate-limited']);
    expect(
      callsTo('/search/code')
        .map((call) => call.status)
        .slice(-1),
    ).toEqual([403]);

    expect(await second.searchCode(SHOP, 'cartTotal', 5)).toEqual([]);
    expect(skipped).toEqual(['rate-limited', 'budget']);
    expect(callsTo('/search/code')).toHaveLength(11);
  });

  it('never throws for search, even when GitHub fails', async () => {
    standIn.setFault({ failRate: 1, status: 500, latencyMs: 0 });
    expect(await hostWith().searchCode(SHOP, 'cartTotal', 5)).toEqual([]);
    expect(skipped).toEqual(['failed']);
    // Not retried: a retry would spend the search budget.
    expect(callsTo('/search/code')).toHaveLength(1);
  });

  it('retries a 500 and gives up with a retryable error when it persists', async () => {
    standIn.setFault({ failRate: 1, status: 500, latencyMs: 0 });
    const error = await failureOf(hostWith({ retries: 2 }).getDefaultBranch(SHOP));
    expect(error).toMatchObject({ service: 'github', status: 500, retryable: true });
    expect(standIn.calls).toHaveLength(3);
  });

  it('takes a 200 with an HTML page for a failure: retried, then a retryable error', async () => {
    standIn.setFault({ failRate: 1, status: 200, latencyMs: 0, body: 'html' });
    const error = await failureOf(hostWith({ retries: 2 }).getDefaultBranch(SHOP));
    expect(error).toMatchObject({ service: 'github', status: 502, retryable: true });
    expect(standIn.calls).toHaveLength(3);
  });

  it('opens one pull request when the answer to the create was cut off', async () => {
    standIn.setFault({ failRate: 0, status: 200, latencyMs: 0, body: 'truncated', failNext: 1 });
    const pull = await hostWith({ retries: 2 }).openPullRequest(SHOP, {
      head: 'bugbot/fix-1',
      base: 'main',
      title: 'Fix cart total',
      body: 'Summary…',
      draft: true,
    });
    expect(pull.number).toBe(1);
    expect(standIn.snapshot().pulls).toHaveLength(1);
  });

  it('recovers when GitHub fails twice and then answers', async () => {
    standIn.setFault({ failRate: 0, status: 502, latencyMs: 0, failNext: 2 });
    expect(await hostWith({ retries: 2 }).getDefaultBranch(SHOP)).toBe('main');
    expect(standIn.calls.map((call) => call.status)).toEqual([502, 502, 200]);
  });

  it('fails with a final 401 for a bad token and never echoes the token', async () => {
    const token = 'ghp_definitelyNotValid1234567890';
    const error = await failureOf(hostWith({ token }).getDefaultBranch(SHOP));
    expect(error).toMatchObject({ service: 'github', status: 401, retryable: false });
    expect(error.message).toContain('Bad credentials');
    expect(error.message).not.toContain(token);
    expect(JSON.stringify({ message: error.message, stack: error.stack })).not.toContain(token);
    expect(standIn.calls).toHaveLength(1);
  });

  it('retries once after a short secondary rate limit', async () => {
    standIn.limitNext(1, { kind: 'secondary', retryAfterSeconds: 1 });
    expect(await hostWith().getDefaultBranch(SHOP)).toBe('main');
    expect(standIn.calls.map((call) => call.status)).toEqual([403, 200]);
  });

  it('gives a long secondary rate limit back to the queue with its retry-after', async () => {
    standIn.limitNext(1, { kind: 'secondary', retryAfterSeconds: 120 });
    const error = await failureOf(hostWith().getDefaultBranch(SHOP));
    expect(error).toMatchObject({ status: 403, retryable: true, retryAfterMs: 120_000 });
    expect(standIn.calls).toHaveLength(1);
  });

  it('gives a spent primary rate limit back to the queue until the reset', async () => {
    standIn.limitNext(1, { kind: 'primary', retryAfterSeconds: 1800 });
    const error = await failureOf(hostWith().getDefaultBranch(SHOP));
    expect(error).toMatchObject({ status: 403, retryable: true });
    expect(error.retryAfterMs).toBeGreaterThan(1_790_000);
    expect(error.retryAfterMs).toBeLessThanOrEqual(1_801_000);
  });

  it('times out a slow answer as a retryable failure', async () => {
    standIn.setFault({ failRate: 0, status: 500, latencyMs: 400 });
    const error = await failureOf(hostWith({ timeoutMs: 100, retries: 0 }).getDefaultBranch(SHOP));
    expect(error).toMatchObject({ status: undefined, retryable: true });
    expect(error.message).toContain('timed out');
  });

  it('works with the production defaults (pacing and backoff on)', async () => {
    const host = new GitHubCodeHost(
      createGitHubClient({ token: GITHUB_SANDBOX.token, baseUrl: `${served.baseUrl}/api/v3/` }),
    );
    const issue = await host.createIssueOnce(SHOP, { key: 'bugbot:bug_defaults', title: 'T', body: 'B' });
    expect(issue.number).toBe(1);
    expect(await host.searchCode(SHOP, 'cartTotal', 3)).toHaveLength(2);
    expect(await host.getDefaultBranch(SHOP)).toBe('main');
  });

  it('is not found for a repository GitHub does not have', async () => {
    const error = await failureOf(hostWith().getDefaultBranch({ owner: 'acme', repo: 'nope' }));
    expect(error).toMatchObject({ status: 404, retryable: false });
  });
});

describe('GitHubCodeHost: drafts refused, forks, closing', () => {
  it('opens the not-ready normal pull request when the repository refuses drafts, once however often asked', async () => {
    standIn.addRepository({ ...SHOP, bareDir, defaultBranch: 'main', draftPullRequests: false });
    const host = hostWith();
    const input = {
      head: 'bugbot/fix-1',
      base: 'main',
      title: 'Fix: cart',
      body: 'draft body',
      draft: true,
      notDraft: { title: '[Not ready for review] Fix: cart', body: '> **Not ready for review.**' },
    };
    const pull = await host.openPullRequest(SHOP, input);
    expect(pull).toMatchObject({ draft: false, draftRefused: true, state: 'open' });
    const again = await host.openPullRequest(SHOP, input);
    expect(again.number).toBe(pull.number);
    expect(again.draftRefused).toBe(true);
    const pulls = standIn.snapshot().pulls as { title: string; body: string }[];
    expect(pulls).toEqual([
      expect.objectContaining({
        title: '[Not ready for review] Fix: cart',
        body: '> **Not ready for review.**',
      }),
    ]);
  });

  it('opens a pull request from a fork with `owner:branch` (and `head_repo` when the owner is the same)', async () => {
    const forkDir = join(root, `fork-${Date.now()}.git`);
    await git(root, ['init', '--quiet', '--bare', forkDir]);
    await mkdir(join(forkDir, 'objects', 'info'), { recursive: true });
    await writeFile(join(forkDir, 'objects', 'info', 'alternates'), `${join(bareDir, 'objects')}\n`);
    const head = (await git(root, [`--git-dir=${bareDir}`, 'rev-parse', 'refs/heads/bugbot/fix-1'])).trim();
    await git(root, [`--git-dir=${forkDir}`, 'update-ref', 'refs/heads/bugbot/fix-2', head]);
    standIn.addRepository({ owner: 'acme-bugbot', repo: 'shop', bareDir: forkDir, forkOf: 'acme/shop' });
    const host = hostWith();
    const input = {
      head: 'bugbot/fix-2',
      headRepo: { owner: 'acme-bugbot', repo: 'shop' },
      base: 'main',
      title: 'Fix',
      body: 'b',
      draft: true,
    };
    const pull = await host.openPullRequest(SHOP, input);
    expect((await host.openPullRequest(SHOP, input)).number).toBe(pull.number);
    const create = callsTo('/repos/acme/shop/pulls').find((call) => call.method === 'POST');
    expect(create?.body).toMatchObject({ head: 'acme-bugbot:bugbot/fix-2' });
    expect(create?.body).not.toHaveProperty('head_repo');
    expect(standIn.snapshot().pulls).toEqual([
      expect.objectContaining({ headRepository: 'acme-bugbot/shop', draft: true }),
    ]);

    await host.closePullRequest(SHOP, pull.number, 'Closed by bugbot: the bug was dismissed.');
    await host.closePullRequest(SHOP, pull.number, 'Closed by bugbot: the bug was dismissed.');
    expect(standIn.snapshot().pulls).toEqual([
      expect.objectContaining({ state: 'closed', comments: ['Closed by bugbot: the bug was dismissed.'] }),
    ]);
  });

  it('searches paths with `in:path`, words that must all be in one file otherwise', async () => {
    const host = hostWith();
    expect((await host.searchCode(SHOP, 'cart.ts', 10, { in: 'path' })).map((hit) => hit.path)).toEqual([
      'src/cart.ts',
    ]);
    expect(await host.searchCode(SHOP, 'cartTotal Checkout', 10)).toEqual([]);
    expect(callsTo('/search/code').at(0)?.path).toContain(encodeURIComponent('in:path'));
  });
});
