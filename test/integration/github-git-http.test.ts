import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createGitHubStandIn,
  GITHUB_SANDBOX,
  type GitHubStandIn,
} from '../../local/stand-ins/github-stand-in.js';
import { createGitHubClient } from '../../shared/adapters/github/create-github-client.js';
import { type ServedStandIn, serveStandIn } from '../support/serve-stand-in.js';

/** Real git (argument arrays) against the stand-in's smart HTTP, the way the fix runner uses it. */

let root: string;
let bareDir: string;
let standIn: GitHubStandIn;
let served: ServedStandIn;
let cloneUrl: string;

interface GitResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function runGit(cwd: string, args: readonly string[], env: Record<string, string> = {}): Promise<GitResult> {
  return new Promise((resolve) => {
    execFile(
      'git',
      args,
      {
        cwd,
        encoding: 'utf8',
        env: {
          PATH: process.env.PATH ?? '/usr/bin:/bin',
          HOME: root,
          LANG: 'C',
          GIT_CONFIG_NOSYSTEM: '1',
          GIT_CONFIG_GLOBAL: '/dev/null',
          GIT_TERMINAL_PROMPT: '0',
          GIT_AUTHOR_NAME: 'Test',
          GIT_AUTHOR_EMAIL: 'test@example.test',
          GIT_COMMITTER_NAME: 'Test',
          GIT_COMMITTER_EMAIL: 'test@example.test',
          ...env,
        },
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

async function git(cwd: string, args: readonly string[], env: Record<string, string> = {}): Promise<string> {
  const result = await runGit(cwd, args, env);
  if (result.code !== 0) throw new Error(`git ${args.join(' ')} failed (${result.code}): ${result.stderr}`);
  return result.stdout;
}

async function writeFiles(dir: string, files: Record<string, string>): Promise<void> {
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), content);
  }
}

const bearer = ['-c', `http.extraHeader=Authorization: Bearer ${GITHUB_SANDBOX.token}`];

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'bugbot-github-git-'));
  const seed = join(root, 'seed');
  bareDir = join(root, 'served', 'shop.git');
  await writeFiles(seed, {
    'src/cart.js': 'export const total = (items) => items.length;\n',
    'src/big.txt': `${'a large blob line\n'.repeat(2000)}`,
    'README.md': '# shop\n',
  });
  await git(seed, ['init', '--quiet', '--initial-branch=main']);
  await git(seed, ['add', '--all']);
  await git(seed, ['commit', '--quiet', '-m', 'Initial']);
  await mkdir(dirname(bareDir), { recursive: true });
  // Deliberately no uploadpack/receivepack settings: the stand-in must supply what GitHub allows.
  await git(root, ['clone', '--quiet', '--bare', '--', seed, bareDir]);

  standIn = createGitHubStandIn();
  standIn.addRepository({ owner: 'acme', repo: 'shop', bareDir, defaultBranch: 'main' });
  served = await serveStandIn(standIn);
  cloneUrl = `${served.baseUrl}/acme/shop.git`;
});

afterEach(async () => {
  await served.close();
  await rm(root, { recursive: true, force: true });
});

describe('GitHub stand-in: git smart HTTP', () => {
  it('clones anonymously, then pushes a new branch with a bearer token', async () => {
    const work = join(root, 'work');
    await git(root, ['clone', '--quiet', '--', cloneUrl, work]);
    expect(await readFile(join(work, 'src/cart.js'), 'utf8')).toContain('items.length');

    await git(work, ['switch', '--quiet', '-c', 'bugbot/fix-1']);
    await writeFiles(work, {
      'src/cart.js': 'export const total = (items) => items.reduce((a, b) => a + b, 0);\n',
    });
    await git(work, ['commit', '--quiet', '-am', 'Fix total']);
    const pushed = (await git(work, ['rev-parse', 'HEAD'])).trim();
    await git(work, [...bearer, 'push', '--quiet', cloneUrl, 'HEAD:refs/heads/bugbot/fix-1']);

    expect((await git(bareDir, ['rev-parse', 'refs/heads/bugbot/fix-1'])).trim()).toBe(pushed);
    const receivePack = standIn.calls.filter((call) => call.path.includes('receive-pack'));
    expect(receivePack.map((call) => call.status)).toEqual([200, 200]);
  });

  it('pushes with basic auth as x-access-token:<token>', async () => {
    const work = join(root, 'work');
    await git(root, ['clone', '--quiet', '--', cloneUrl, work]);
    await writeFiles(work, { 'src/new.js': 'export {};\n' });
    await git(work, ['add', '--all']);
    await git(work, ['commit', '--quiet', '-m', 'Add file']);
    const withCredentials = cloneUrl.replace('http://', `http://x-access-token:${GITHUB_SANDBOX.token}@`);
    await git(work, ['push', '--quiet', withCredentials, 'HEAD:refs/heads/basic-auth']);

    expect((await git(bareDir, ['rev-parse', 'refs/heads/basic-auth'])).trim()).toBe(
      (await git(work, ['rev-parse', 'HEAD'])).trim(),
    );
  });

  it('refuses a push without credentials or with a wrong token, and the origin is unchanged', async () => {
    const work = join(root, 'work');
    await git(root, ['clone', '--quiet', '--', cloneUrl, work]);
    await writeFiles(work, { 'src/evil.js': 'export {};\n' });
    await git(work, ['add', '--all']);
    await git(work, ['commit', '--quiet', '-m', 'Sneaky']);

    const anonymous = await runGit(work, ['push', cloneUrl, 'HEAD:refs/heads/sneaky']);
    expect(anonymous.code).not.toBe(0);
    const wrongToken = await runGit(work, [
      '-c',
      'http.extraHeader=Authorization: Bearer ghs_wrong',
      'push',
      cloneUrl,
      'HEAD:refs/heads/sneaky',
    ]);
    expect(wrongToken.code).not.toBe(0);

    const refs = await git(bareDir, ['for-each-ref', '--format=%(refname)']);
    expect(refs.split('\n').filter(Boolean)).toEqual(['refs/heads/main']);
    expect(
      standIn.calls.filter((call) => call.path.includes('receive-pack')).map((call) => call.status),
    ).toEqual([401, 401]);
  });

  it('serves a partial clone (--filter=blob:none) and fetches missing blobs lazily', async () => {
    const work = join(root, 'partial');
    await git(root, ['clone', '--quiet', '--filter=blob:none', '--no-checkout', '--', cloneUrl, work]);
    expect((await git(work, ['config', 'remote.origin.promisor'])).trim()).toBe('true');
    const missing = await git(work, ['rev-list', '--objects', '--all', '--missing=print']);
    expect(missing.split('\n').filter((line) => line.startsWith('?')).length).toBeGreaterThanOrEqual(3);

    await git(work, ['checkout', '--quiet', 'main']);
    expect(await readFile(join(work, 'src/cart.js'), 'utf8')).toContain('items.length');
  });

  it('makes a pushed branch a valid pull-request head over REST', async () => {
    const octokit = createGitHubClient({
      token: GITHUB_SANDBOX.token,
      baseUrl: `${served.baseUrl}/api/v3`,
      pacing: false,
    });
    const before = await octokit.rest.pulls
      .create({ owner: 'acme', repo: 'shop', head: 'bugbot/fix-2', base: 'main', title: 'Fix' })
      .then(
        () => 'created',
        (error: { status?: number }) => error.status,
      );
    expect(before).toBe(422);

    const work = join(root, 'work');
    await git(root, ['clone', '--quiet', '--', cloneUrl, work]);
    await writeFiles(work, { 'src/cart.js': 'export const total = () => 0;\n' });
    await git(work, ['commit', '--quiet', '-am', 'Fix']);
    await git(work, [...bearer, 'push', '--quiet', cloneUrl, 'HEAD:refs/heads/bugbot/fix-2']);

    const created = await octokit.rest.pulls.create({
      owner: 'acme',
      repo: 'shop',
      head: 'bugbot/fix-2',
      base: 'main',
      title: 'Fix',
    });
    expect(created.status).toBe(201);
    expect(created.data.head.sha).toBe((await git(bareDir, ['rev-parse', 'refs/heads/bugbot/fix-2'])).trim());
  });

  it('answers 404 for a repository it does not serve', async () => {
    const result = await runGit(root, ['ls-remote', `${served.baseUrl}/acme/unknown.git`]);
    expect(result.code).not.toBe(0);
    expect(standIn.calls.at(-1)?.status).toBe(404);
  });
});
