import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createGitHubStandIn,
  GITHUB_SANDBOX,
  type GitHubStandIn,
} from '../../local/stand-ins/github-stand-in.js';
import { createFixtureOrigin, FIXED_CART, type FixtureOrigin } from '../support/git-fixtures.js';
import { type ServedStandIn, serveStandIn } from '../support/serve-stand-in.js';
import { buildJobSpec, createTempDir, runDirs, runRunnerCli, writeFakeClaude } from './runner-support.js';

/**
 * The runner against the GitHub stand-in's smart HTTP (as the local stack runs it): it clones
 * and pushes with the token as a header, and the token never lands in a file or reaches the agent.
 */

const execFile$ = promisify(execFile);
let origin: FixtureOrigin;
let temp: Awaited<ReturnType<typeof createTempDir>>;
let github: GitHubStandIn;
let served: ServedStandIn;
let cloneUrl: string;

beforeEach(async () => {
  origin = await createFixtureOrigin();
  temp = await createTempDir('bugbot-github-http-test-');
  github = createGitHubStandIn();
  github.addRepository({ owner: 'acme', repo: 'shop', bareDir: origin.originPath, defaultBranch: 'main' });
  served = await serveStandIn(github);
  cloneUrl = `${served.baseUrl}/acme/shop.git`;
});

afterEach(async () => {
  await served.close();
  await temp.cleanup();
  await origin.cleanup();
});

async function run(env: Record<string, string>) {
  const claudeBin = await writeFakeClaude(
    `${temp.path}/bin`,
    `env > "$HOME/env.txt"\nsed -i 's/let i = 1;/let i = 0;/' src/cart.js`,
  );
  return runRunnerCli({
    job: buildJobSpec(origin, { repo: { cloneUrl, baseBranch: 'main' } }),
    workDir: temp.path,
    env: { CLAUDE_BIN: claudeBin, ...env },
  });
}

describe('the runner over smart HTTP with a token', () => {
  it('clones and pushes with the token in a header; it is nowhere on disk and not in the agent env', async () => {
    const result = await run({ GITHUB_TOKEN: GITHUB_SANDBOX.token });
    expect(result.result).toMatchObject({ status: 'pushed', baseCommit: origin.baseCommit });
    expect(await origin.readFile('bugbot/job-test-1', 'src/cart.js')).toBe(FIXED_CART);
    const receivePack = github.calls.filter((call) => call.path.includes('git-receive-pack'));
    expect(receivePack.length).toBeGreaterThan(0);
    expect(receivePack.every((call) => call.status === 200)).toBe(true);

    const encoded = Buffer.from(`x-access-token:${GITHUB_SANDBOX.token}`).toString('base64');
    for (const needle of [GITHUB_SANDBOX.token, encoded]) {
      const { stdout } = await execFile$('grep', ['-rlF', needle, runDirs(temp.path).root]).catch(
        (error: { stdout: string }) => error,
      );
      expect(stdout).toBe('');
    }
  });

  it('without a token the clone works but the push is refused: failed, nothing on the origin', async () => {
    const result = await run({});
    expect(result.exitCode).toBe(1);
    expect(result.result.status).toBe('failed');
    expect(result.result.error).toMatch(/^git push failed/);
    expect(await origin.listBranches()).toEqual(['refs/heads/main']);
  });
});
