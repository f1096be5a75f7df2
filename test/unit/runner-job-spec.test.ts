import { describe, expect, it } from 'vitest';
import {
  findBranchNameProblem,
  findCloneUrlProblem,
  fixJobSpecSchema,
  parseFixJobSpec,
} from '../../shared/jobs/fix-job-spec.js';

const VALID = {
  jobId: 'job-1',
  repo: { cloneUrl: 'https://github.com/acme/shop.git', baseBranch: 'main' },
  branch: 'bugbot/job-1',
  task: {
    title: 'Cart total wrong',
    body: 'It skips the first item.',
    url: 'https://linear.app/acme/issue/SHOP-1',
  },
  allowlist: ['src/', 'app/', 'components/', 'pages/'],
  limits: { maxTurns: 30, maxBudgetUsd: 2.5, timeoutSeconds: 900, maxChangedFiles: 10, maxDiffLines: 300 },
  verify: { command: 'npm ci && npm test' },
  candidateFiles: ['src/cart.ts'],
};

describe('fixJobSpecSchema', () => {
  it('accepts the contract shape, with the optional additions', () => {
    expect(fixJobSpecSchema.parse(VALID)).toEqual(VALID);
    const { verify: _verify, candidateFiles: _candidates, ...minimal } = VALID;
    expect(fixJobSpecSchema.parse({ ...minimal, task: { title: 't', body: '' } }).verify).toBeUndefined();
  });

  it('names every problem at once, without echoing values', () => {
    const parsed = parseFixJobSpec(
      { ...VALID, branch: 'main', limits: { ...VALID.limits, maxBudgetUsd: -1 }, allowlist: [] },
      'fallback',
    );
    expect(parsed).toEqual({
      ok: false,
      jobId: 'job-1',
      branch: 'main',
      error: expect.stringMatching(/^invalid job: /),
    });
    if (!parsed.ok) {
      expect(parsed.error).toContain('allowlist:');
      expect(parsed.error).toContain('limits.maxBudgetUsd:');
    }
  });

  it('refuses a work branch equal to the base branch', () => {
    const parsed = parseFixJobSpec({ ...VALID, branch: 'main' }, 'fallback');
    expect(parsed.ok ? '' : parsed.error).toBe('invalid job: branch: must differ from repo.baseBranch');
  });

  it('keeps the fallback id when the job has none', () => {
    expect(parseFixJobSpec('nonsense', 'job-from-env')).toMatchObject({
      ok: false,
      jobId: 'job-from-env',
      branch: '',
    });
  });
});

describe('findBranchNameProblem', () => {
  it.each(['bugbot/job-1', 'fix/cart_total.v2', 'a'])('accepts %j', (name) => {
    expect(findBranchNameProblem(name)).toBeNull();
  });

  it.each([
    '',
    '-delete',
    '--force',
    'refs/heads/main',
    'HEAD',
    'a..b',
    'a//b',
    'a/.hidden',
    'x.lock',
    'ends/',
    'ends.',
    'has space',
    'main@{1}',
    'a~1',
    'a^',
    'a:b',
    'back\\slash',
  ])('refuses %j', (name) => {
    expect(findBranchNameProblem(name)).not.toBeNull();
  });
});

describe('findCloneUrlProblem', () => {
  it.each([
    'https://github.com/acme/shop.git',
    'file:///srv/git/shop.git',
    'http://127.0.0.1:3000/_sandbox/github/acme/shop.git',
    'http://localhost:8080/shop.git',
  ])('accepts %s', (url) => {
    expect(findCloneUrlProblem(url)).toBeNull();
  });

  it.each([
    ['https://x-access-token:ghp_x@github.com/acme/shop.git', 'must not carry credentials'],
    ['http://github.com/acme/shop.git', 'http is only allowed to this machine'],
    ['ssh://git@github.com/acme/shop.git', 'must be a file:// or https:// URL'],
    ['ext::sh -c touch% /tmp/x', 'must not contain whitespace'],
    ['ext::git-upload-pack', 'must be a file:// or https:// URL'],
    ['--upload-pack=touch /tmp/x', 'must be a URL'],
    ['/srv/git/shop.git', 'must be a URL'],
    ['file:///', 'must name a path'],
  ])('refuses %s: %s', (url, problem) => {
    expect(findCloneUrlProblem(url)).toBe(problem);
  });
});
