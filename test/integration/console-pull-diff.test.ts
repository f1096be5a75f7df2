import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readPullDiff } from '../../local/console/pull-diff.js';
import { ensureSandboxRepo } from '../../local/sandbox-repo.js';
import { createGitRunner, scrubbedGitEnv } from '../../local/stand-ins/github/bare-repository.js';

const run = promisify(execFile);
const git = createGitRunner();
let root: string;
let bareDir: string;

async function gitIn(cwd: string, args: string[]) {
  await run('git', args, {
    cwd,
    env: scrubbedGitEnv({
      GIT_AUTHOR_NAME: 't',
      GIT_AUTHOR_EMAIL: 't@example.com',
      GIT_COMMITTER_NAME: 't',
      GIT_COMMITTER_EMAIL: 't@example.com',
      GIT_CONFIG_GLOBAL: '/dev/null',
      GIT_CONFIG_NOSYSTEM: '1',
    }),
  });
}

beforeAll(async () => {
  // The sandbox's own repository, and a fix branch pushed to it as the runner would.
  root = await mkdtemp(join(tmpdir(), 'bugbot-console-diff-'));
  ({ bareDir } = await ensureSandboxRepo(root));
  const work = join(root, 'work');
  await gitIn(root, ['clone', '--quiet', bareDir, work]);
  await gitIn(work, ['checkout', '--quiet', '-b', 'bugbot/fix-1']);
  const cart = join(work, 'src', 'cart.js');
  await writeFile(cart, (await readFile(cart, 'utf8')).replace('items.map', '(items ?? []).map'));
  await gitIn(work, ['commit', '--quiet', '-am', 'Guard cartTotal']);
  await gitIn(work, ['push', '--quiet', 'origin', 'bugbot/fix-1']);
}, 60_000);
afterAll(async () => rm(root, { recursive: true, force: true }));

describe("a pull request's diff, from the bare repository", () => {
  it('is what the head branch changed since the merge base (base...head)', async () => {
    const diff = await readPullDiff(git, bareDir, { base: 'main', head: 'bugbot/fix-1' });
    expect(diff.kind).toBe('diff');
    if (diff.kind !== 'diff') return;
    expect(diff.text).toContain('diff --git a/src/cart.js b/src/cart.js');
    expect(diff.text).toContain('-  const total = items.map(lineTotal)');
    expect(diff.text).toContain('+  const total = (items ?? []).map(lineTotal)');
    expect(diff.baseSha).toMatch(/^[0-9a-f]{40}$/);
    expect(diff.truncated).toBe(false);
  });

  it('is cut at a line end beyond the limit, and says so', async () => {
    const diff = await readPullDiff(git, bareDir, { base: 'main', head: 'bugbot/fix-1' }, 200);
    expect(diff.kind === 'diff' && diff.truncated).toBe(true);
    if (diff.kind !== 'diff') return;
    expect(diff.text.length).toBeLessThanOrEqual(200);
    expect(diff.text.endsWith('\n')).toBe(true);
  });

  it('refuses branch names that are not branches or that git could read as options', async () => {
    for (const head of ['--output=/tmp/owned', 'nope', 'main..HEAD', '-p']) {
      expect(await readPullDiff(git, bareDir, { base: 'main', head })).toEqual({
        kind: 'missing',
        reason: 'the head branch is not in the repository (deleted?)',
      });
    }
    expect((await readPullDiff(git, bareDir, { base: '--stat', head: 'bugbot/fix-1' })).kind).toBe('missing');
  });
});
