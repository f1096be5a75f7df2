import { execFile } from 'node:child_process';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  createGitHubStandIn,
  GITHUB_SANDBOX,
  type GitHubStandIn,
} from '../../local/stand-ins/github-stand-in.js';
import { type ServedStandIn, serveStandIn } from '../support/serve-stand-in.js';

/** GitHub's REST wire format as the stand-in speaks it, checked with plain `fetch`. */

const execFileAsync = promisify(execFile);

let root: string;
let bareDir: string;
let standIn: GitHubStandIn;
let served: ServedStandIn;
let api: string;
let clock: number;

async function git(cwd: string, args: readonly string[]): Promise<void> {
  await execFileAsync('git', args, {
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
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'bugbot-github-wire-'));
  const seed = join(root, 'seed');
  const write = async (path: string, content: string) => {
    await mkdir(dirname(join(seed, path)), { recursive: true });
    await writeFile(join(seed, path), content);
  };
  await write('src/cart.ts', 'export function cartTotal() { return 0; }\n');
  await write('src/checkout/Checkout.tsx', 'export const Checkout = () => "Pay now";\n');
  await write('docs/cart.md', 'How the cart works.\n');
  await git(seed, ['init', '--quiet', '--initial-branch=main']);
  await git(seed, ['add', '--all']);
  await git(seed, ['commit', '--quiet', '-m', 'Initial']);
  await git(seed, ['branch', 'same-as-main']);
  await git(seed, ['switch', '--quiet', '-c', 'feature']);
  await write('src/cart.ts', 'export function cartTotal() { return 1; }\n');
  await git(seed, ['commit', '--quiet', '-am', 'Feature']);
  bareDir = join(root, 'shop.git');
  await git(root, ['clone', '--quiet', '--bare', '--', seed, bareDir]);
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

beforeEach(async () => {
  clock = Date.parse('2025-06-01T12:00:00Z');
  standIn = createGitHubStandIn({ now: () => new Date(clock), random: () => 0.5 });
  standIn.addRepository({ owner: 'acme', repo: 'shop', bareDir, defaultBranch: 'main' });
  served = await serveStandIn(standIn);
  api = `${served.baseUrl}/api/v3`;
});

afterEach(async () => {
  await served.close();
});

async function call(
  method: string,
  path: string,
  body?: unknown,
  authorization: string | null = `token ${GITHUB_SANDBOX.token}`,
): Promise<{ status: number; headers: Headers; json: unknown }> {
  const response = await fetch(`${api}${path}`, {
    method,
    headers: {
      accept: 'application/vnd.github+json',
      ...(authorization ? { authorization } : {}),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, headers: response.headers, json: await response.json() };
}

describe('GitHub stand-in: REST wire format', () => {
  it('requires credentials, with GitHub’s 401 bodies', async () => {
    const missing = await call('GET', '/repos/acme/shop', undefined, null);
    expect(missing.status).toBe(401);
    expect(missing.json).toEqual({
      message: 'Requires authentication',
      documentation_url: 'https://docs.github.com/rest',
      status: '401',
    });
    const wrong = await call('GET', '/repos/acme/shop', undefined, 'Bearer ghp_wrong');
    expect(wrong.status).toBe(401);
    expect(wrong.json).toMatchObject({ message: 'Bad credentials' });
  });

  it('accepts `token`, `Bearer` and basic auth with the token as password', async () => {
    const basic = `Basic ${Buffer.from(`x-access-token:${GITHUB_SANDBOX.token}`).toString('base64')}`;
    for (const authorization of [`token ${GITHUB_SANDBOX.token}`, `Bearer ${GITHUB_SANDBOX.token}`, basic]) {
      const answer = await call('GET', '/repos/acme/shop', undefined, authorization);
      expect(answer.status).toBe(200);
      expect(answer.json).toMatchObject({
        full_name: 'acme/shop',
        default_branch: 'main',
        clone_url: `${served.baseUrl}/acme/shop.git`,
      });
    }
  });

  it('puts rate-limit headers on every answer, counting the core budget', async () => {
    const first = await call('GET', '/repos/acme/shop');
    const notFound = await call('GET', '/repos/acme/missing');
    expect(notFound.status).toBe(404);
    expect(notFound.json).toMatchObject({ message: 'Not Found' });
    expect(first.headers.get('x-ratelimit-limit')).toBe('5000');
    expect(first.headers.get('x-ratelimit-remaining')).toBe('4999');
    expect(notFound.headers.get('x-ratelimit-remaining')).toBe('4998');
    expect(notFound.headers.get('x-ratelimit-resource')).toBe('core');
    expect(Number(notFound.headers.get('x-ratelimit-reset'))).toBe(Math.ceil((clock + 3_600_000) / 1000));
  });

  it('creates issues with auto-created labels and filters the list by labels and state', async () => {
    const created = await call('POST', '/repos/acme/shop/issues', {
      title: 'Crash',
      body: 'Details',
      labels: ['bugbot:bug_1', 'bug'],
    });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({
      number: 1,
      state: 'open',
      html_url: 'https://github.com/acme/shop/issues/1',
      labels: [{ name: 'bugbot:bug_1' }, { name: 'bug' }],
    });
    await call('POST', '/repos/acme/shop/issues', { title: 'Other', labels: ['bug'] });

    const labels = await call('GET', '/repos/acme/shop/labels');
    expect((labels.json as { name: string }[]).map((label) => label.name).sort()).toEqual([
      'bug',
      'bugbot:bug_1',
    ]);
    const byKey = await call('GET', '/repos/acme/shop/issues?labels=bugbot%3Abug_1&state=all');
    expect((byKey.json as { number: number }[]).map((issue) => issue.number)).toEqual([1]);
    const byBoth = await call('GET', '/repos/acme/shop/issues?labels=bug,bugbot:bug_1');
    expect((byBoth.json as unknown[]).length).toBe(1);
    const closed = await call('GET', '/repos/acme/shop/issues?state=closed');
    expect(closed.json).toEqual([]);
    expect((await call('GET', '/repos/acme/shop/issues/2')).json).toMatchObject({ title: 'Other' });

    const missingTitle = await call('POST', '/repos/acme/shop/issues', { body: 'no title' });
    expect(missingTitle.status).toBe(422);
    expect(missingTitle.json).toMatchObject({
      message: 'Validation Failed',
      errors: [{ resource: 'Issue', code: 'missing_field', field: 'title' }],
    });
  });

  it('refuses a second open PR for the same head with GitHub’s exact 422', async () => {
    const input = { title: 'Feature', head: 'feature', base: 'main', body: 'Body', draft: true };
    const first = await call('POST', '/repos/acme/shop/pulls', input);
    expect(first.status).toBe(201);
    expect(first.json).toMatchObject({
      number: 1,
      state: 'open',
      draft: true,
      html_url: 'https://github.com/acme/shop/pull/1',
      head: { ref: 'feature', label: 'acme:feature' },
      base: { ref: 'main' },
    });

    const second = await call('POST', '/repos/acme/shop/pulls', input);
    expect(second.status).toBe(422);
    expect(second.json).toEqual({
      message: 'Validation Failed',
      errors: [
        {
          resource: 'PullRequest',
          code: 'custom',
          message: 'A pull request already exists for acme:feature.',
        },
      ],
      documentation_url: 'https://docs.github.com/rest/pulls/pulls#create-a-pull-request',
      status: '422',
    });

    const listed = await call('GET', '/repos/acme/shop/pulls?head=acme:feature&state=open');
    expect((listed.json as { number: number }[]).map((pull) => pull.number)).toEqual([1]);
    expect((await call('GET', '/repos/acme/shop/pulls?head=acme:other')).json).toEqual([]);
    // The issue list includes PRs, marked as such.
    const issues = await call('GET', '/repos/acme/shop/issues');
    expect(issues.json).toEqual([expect.objectContaining({ number: 1, pull_request: expect.any(Object) })]);
  });

  it('refuses PRs whose head is missing or has no commits beyond the base', async () => {
    const missing = await call('POST', '/repos/acme/shop/pulls', { title: 'x', head: 'nope', base: 'main' });
    expect(missing.status).toBe(422);
    expect(missing.json).toMatchObject({
      errors: [{ resource: 'PullRequest', field: 'head', code: 'invalid' }],
    });
    const empty = await call('POST', '/repos/acme/shop/pulls', {
      title: 'x',
      head: 'same-as-main',
      base: 'main',
    });
    expect(empty.status).toBe(422);
    expect(empty.json).toMatchObject({ errors: [{ message: 'No commits between main and same-as-main' }] });
    const badBase = await call('POST', '/repos/acme/shop/pulls', {
      title: 'x',
      head: 'feature',
      base: 'nope',
    });
    expect(badBase.json).toMatchObject({ errors: [{ field: 'base', code: 'invalid' }] });
    const tricky = await call('POST', '/repos/acme/shop/pulls', {
      title: 'x',
      head: '--upload-pack=x',
      base: 'main',
    });
    expect(tricky.status).toBe(422);
  });

  it('searches code in the default branch, by content and path, with qualifiers', async () => {
    const search = async (q: string) => {
      const answer = await call('GET', `/search/code?q=${encodeURIComponent(q)}`);
      expect(answer.status).toBe(200);
      return (answer.json as { items: { path: string }[] }).items.map((item) => item.path).sort();
    };
    expect(await search('cartTotal repo:acme/shop')).toEqual(['src/cart.ts']);
    // As GitHub: whole words only (`cart` is not in `cartTotal`), file contents unless `in:path`.
    expect(await search('cart repo:acme/shop')).toEqual(['docs/cart.md']);
    expect(await search('cart in:path repo:acme/shop')).toEqual(['docs/cart.md', 'src/cart.ts']);
    expect(await search('cart in:file,path repo:acme/shop path:src/')).toEqual(['src/cart.ts']);
    expect(await search('cart repo:acme/shop extension:md')).toEqual(['docs/cart.md']);
    clock += 61_000; // past the 10-a-minute code-search limit
    // Every term in one file: the two words are in different files, so nothing.
    expect(await search('cartTotal Checkout repo:acme/shop')).toEqual([]);
    // The symbols code search ignores split words: `cart.md` is `cart` and `md`.
    expect(await search('cart.md in:path repo:acme/shop')).toEqual(['docs/cart.md']);
    // The default branch only: `return 1` is on the feature branch alone.
    expect(await search('"return 1" repo:acme/shop')).toEqual([]);
    expect(await search('"return 0" repo:acme/shop')).toEqual(['src/cart.ts']);
    expect(await search('"pay now" repo:acme/shop')).toEqual(['src/checkout/Checkout.tsx']);
    expect(await search('cartTotal repo:other/repo')).toEqual([]);

    const noTerms = await call('GET', `/search/code?q=${encodeURIComponent('repo:acme/shop')}`);
    expect(noTerms.status).toBe(422);
  });

  it('allows 10 code searches a minute, then answers 403 with the rate-limit headers', async () => {
    const q = `/search/code?q=${encodeURIComponent('cart repo:acme/shop')}`;
    for (let i = 0; i < 10; i += 1) {
      const answer = await call('GET', q);
      expect(answer.status).toBe(200);
      expect(answer.headers.get('x-ratelimit-remaining')).toBe(String(9 - i));
      clock += 1_000;
    }
    const refused = await call('GET', q);
    expect(refused.status).toBe(403);
    expect(refused.json).toMatchObject({ message: expect.stringContaining('API rate limit exceeded') });
    expect(refused.headers.get('x-ratelimit-limit')).toBe('10');
    expect(refused.headers.get('x-ratelimit-remaining')).toBe('0');
    expect(refused.headers.get('x-ratelimit-resource')).toBe('code_search');
    const reset = Number(refused.headers.get('x-ratelimit-reset')) * 1000;
    expect(reset).toBeGreaterThan(clock);

    // Other endpoints have their own budget.
    expect((await call('GET', '/repos/acme/shop')).status).toBe(200);
    clock = reset;
    expect((await call('GET', q)).status).toBe(200);
  });

  it('answers an injected secondary rate limit like GitHub', async () => {
    standIn.limitNext(1, { kind: 'secondary', retryAfterSeconds: 30 });
    const limited = await call('GET', '/repos/acme/shop');
    expect(limited.status).toBe(403);
    expect(limited.headers.get('retry-after')).toBe('30');
    expect((limited.json as { message: string }).message).toMatch(/secondary rate limit/);
    expect((await call('GET', '/repos/acme/shop')).status).toBe(200);
  });

  it('honours faults and records every call with its body', async () => {
    standIn.setFault({ failRate: 1, status: 503, latencyMs: 0 });
    const failed = await call('POST', '/repos/acme/shop/issues', { title: 'x' });
    expect(failed.status).toBe(503);
    standIn.setFault(null);
    await call('POST', '/repos/acme/shop/issues', { title: 'y' });
    expect(standIn.calls.map(({ method, path, status, body }) => ({ method, path, status, body }))).toEqual([
      { method: 'POST', path: '/api/v3/repos/acme/shop/issues', status: 503, body: undefined },
      { method: 'POST', path: '/api/v3/repos/acme/shop/issues', status: 201, body: { title: 'y' } },
    ]);
  });

  it('refuses draft pull requests in a repository that does not support them, as GitHub answers', async () => {
    standIn.addRepository({
      owner: 'acme',
      repo: 'shop',
      bareDir,
      defaultBranch: 'main',
      draftPullRequests: false,
    });
    const draft = await call('POST', '/repos/acme/shop/pulls', {
      title: 'x',
      head: 'feature',
      base: 'main',
      draft: true,
    });
    expect(draft.status).toBe(422);
    expect(draft.json).toEqual({
      message: 'Draft pull requests are not supported in this repository.',
      documentation_url: 'https://docs.github.com/rest/pulls/pulls#create-a-pull-request',
      status: '422',
    });
    const normal = await call('POST', '/repos/acme/shop/pulls', {
      title: 'x',
      head: 'feature',
      base: 'main',
    });
    expect(normal.status).toBe(201);
  });

  it('opens a pull request from a fork’s branch (`owner:branch`), lists it by that head, and closes it with a comment', async () => {
    const forkDir = join(root, `fork-${Date.now()}.git`);
    await git(root, ['init', '--quiet', '--bare', forkDir]);
    await mkdir(join(forkDir, 'objects', 'info'), { recursive: true });
    await writeFile(join(forkDir, 'objects', 'info', 'alternates'), `${join(bareDir, 'objects')}\n`);
    const { stdout } = await execFileAsync('git', [
      `--git-dir=${bareDir}`,
      'rev-parse',
      'refs/heads/feature',
    ]);
    await git(root, [`--git-dir=${forkDir}`, 'update-ref', 'refs/heads/fix-1', stdout.trim()]);
    standIn.addRepository({ owner: 'acme-bot', repo: 'shop', bareDir: forkDir, forkOf: 'acme/shop' });
    // Not a fork of acme/shop: refused as an unknown head.
    standIn.addRepository({ owner: 'stranger', repo: 'shop', bareDir: forkDir });
    const foreign = await call('POST', '/repos/acme/shop/pulls', {
      title: 'x',
      head: 'stranger:fix-1',
      base: 'main',
    });
    expect(foreign.status).toBe(422);
    // The fork's branch is no branch of the parent.
    const plain = await call('POST', '/repos/acme/shop/pulls', { title: 'x', head: 'fix-1', base: 'main' });
    expect(plain.status).toBe(422);

    const created = await call('POST', '/repos/acme/shop/pulls', {
      title: 'Fix',
      head: 'acme-bot:fix-1',
      base: 'main',
    });
    expect(created.status).toBe(201);
    const pull = created.json as { number: number; head: { label: string; repo: { full_name: string } } };
    expect(pull.head.label).toBe('acme-bot:fix-1');
    expect(pull.head.repo.full_name).toBe('acme-bot/shop');
    const listed = await call('GET', '/repos/acme/shop/pulls?head=acme-bot:fix-1');
    expect((listed.json as { number: number }[]).map((entry) => entry.number)).toEqual([pull.number]);
    expect((await call('GET', '/repos/acme/shop/pulls?head=acme:fix-1')).json).toEqual([]);

    const comment = await call('POST', `/repos/acme/shop/issues/${pull.number}/comments`, {
      body: 'Closed: dismissed',
    });
    expect(comment.status).toBe(201);
    const closed = await call('PATCH', `/repos/acme/shop/pulls/${pull.number}`, { state: 'closed' });
    expect(closed.json).toMatchObject({ state: 'closed', closed_at: expect.any(String) });
    expect(standIn.snapshot().pulls).toEqual([
      expect.objectContaining({
        headRepository: 'acme-bot/shop',
        state: 'closed',
        comments: ['Closed: dismissed'],
      }),
    ]);
  });

  it('delivers the signed `pull_request` closed (merged false) when the REST API closes a pull request, and reopened when it reopens', async () => {
    // A hook receiver that keeps what GitHub would send: headers and the exact bytes.
    const heard: { event: string; signature: string; body: string }[] = [];
    const receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        heard.push({
          event: String(req.headers['x-github-event']),
          signature: String(req.headers['x-hub-signature-256']),
          body: Buffer.concat(chunks).toString('utf8'),
        });
        res.writeHead(202).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    const secret = 'hook-secret';
    const { port } = receiver.address() as AddressInfo;
    standIn.setWebhook({ url: `http://127.0.0.1:${port}/hook`, secret, baseUrl: served.origin });
    const heardAfter = async (count: number) => {
      const deadline = Date.now() + 20_000;
      while (heard.length < count) {
        if (Date.now() > deadline) throw new Error(`heard ${heard.length} deliveries, wanted ${count}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      return heard.slice(0, count);
    };
    let restoreMain: string | undefined;
    try {
      const created = await call('POST', '/repos/acme/shop/pulls', {
        title: 'Fix',
        head: 'feature',
        base: 'main',
      });
      const number = (created.json as { number: number }).number;
      const closed = await call('PATCH', `/repos/acme/shop/pulls/${number}`, { state: 'closed' });
      expect(closed.status).toBe(200);
      const [first] = await heardAfter(1);
      const expected = `sha256=${createHmac('sha256', secret)
        .update(first?.body ?? '')
        .digest('hex')}`;
      expect(timingSafeEqual(Buffer.from(first?.signature ?? ''), Buffer.from(expected))).toBe(true);
      expect(first?.event).toBe('pull_request');
      expect(JSON.parse(first?.body ?? '{}')).toMatchObject({
        action: 'closed',
        number,
        pull_request: { number, state: 'closed', merged: false, head: { ref: 'feature' } },
        repository: { full_name: 'acme/shop' },
      });
      // Closing what is closed changes nothing and says nothing.
      await call('PATCH', `/repos/acme/shop/pulls/${number}`, { state: 'closed' });
      await call('PATCH', `/repos/acme/shop/pulls/${number}`, { state: 'open' });
      const [, second] = await heardAfter(2);
      expect(JSON.parse(second?.body ?? '{}')).toMatchObject({
        action: 'reopened',
        pull_request: { number, state: 'open' },
      });
      // Merged (the merge button), then asked to reopen: refused as GitHub does, and nothing said.
      // The merge moves main in the bare repository the other tests share: put it back after.
      const { stdout: mainBefore } = await execFileAsync('git', [
        `--git-dir=${bareDir}`,
        'rev-parse',
        'refs/heads/main',
      ]);
      restoreMain = mainBefore.trim();
      expect((await standIn.mergePull('acme/shop', number)).ok).toBe(true);
      const reopen = await call('PATCH', `/repos/acme/shop/pulls/${number}`, { state: 'open' });
      expect(reopen.status).toBe(422);
      expect(reopen.json).toMatchObject({ message: 'Validation Failed' });
      // The API's deliveries are recorded when the hook has answered, after the API call.
      const deadline = Date.now() + 20_000;
      const recorded = () => (standIn.snapshot() as { deliveries: unknown[] }).deliveries;
      while (recorded().length < 3 && Date.now() < deadline)
        await new Promise((resolve) => setTimeout(resolve, 20));
      expect(standIn.snapshot().deliveries).toEqual([
        expect.objectContaining({ event: 'pull_request', action: 'closed', status: 202 }),
        expect.objectContaining({ event: 'pull_request', action: 'reopened', status: 202 }),
        expect.objectContaining({ event: 'pull_request', action: 'closed', status: 202 }),
      ]);
      expect(JSON.parse(heard[2]?.body ?? '{}')).toMatchObject({ pull_request: { merged: true } });
    } finally {
      if (restoreMain)
        await git(root, [`--git-dir=${bareDir}`, 'update-ref', 'refs/heads/main', restoreMain]);
      await new Promise((resolve) => receiver.close(resolve));
    }
  });

  it('snapshots pulls and issues with their bodies', async () => {
    await call('POST', '/repos/acme/shop/issues', { title: 'Crash', body: 'Issue body', labels: ['bug'] });
    await call('POST', '/repos/acme/shop/pulls', {
      title: 'Fix',
      head: 'feature',
      base: 'main',
      body: 'PR body',
    });
    expect(standIn.snapshot()).toEqual({
      issues: [
        {
          repository: 'acme/shop',
          number: 1,
          title: 'Crash',
          body: 'Issue body',
          labels: ['bug'],
          state: 'open',
          url: 'https://github.com/acme/shop/issues/1',
        },
      ],
      pulls: [
        {
          repository: 'acme/shop',
          number: 2,
          title: 'Fix',
          body: 'PR body',
          head: 'feature',
          headRepository: 'acme/shop',
          base: 'main',
          comments: [],
          draft: false,
          state: 'open',
          merged: false,
          url: 'https://github.com/acme/shop/pull/2',
        },
      ],
      deployments: [],
      deliveries: [],
    });
  });
});
