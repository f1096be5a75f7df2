import { describe, expect, it } from 'vitest';
import { extractReferences, type References } from '../../shared/domain/references.js';

const S1 = '0196a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b';
const S2 = '0196a1b2-ffff-7000-8000-00000000abcd';
const S3 = '01890a5d-ac96-774b-bcce-b302099a8057';

type Case = [name: string, text: string, expected: Partial<References>];

function check(
  text: string,
  expected: Partial<References>,
  options?: Parameters<typeof extractReferences>[1],
) {
  const refs = extractReferences(text, options);
  expect(refs).toEqual({ linearIssues: [], githubRepos: [], posthogSessions: [], emails: [], ...expected });
}

const repo = (owner: string, name: string) => ({
  owner,
  repo: name,
  url: `https://github.com/${owner}/${name}`,
});

describe('extractReferences: Linear identifiers', () => {
  const cases: Case[] = [
    ['plain', 'see ENG-123', { linearIssues: ['ENG-123'] }],
    ['at the start and end', 'ENG-1 blocks ENG-2', { linearIssues: ['ENG-1', 'ENG-2'] }],
    ['end of sentence', 'Fixed in ENG-123.', { linearIssues: ['ENG-123'] }],
    ['parentheses', 'broken again (ENG-123)', { linearIssues: ['ENG-123'] }],
    [
      'brackets, quotes, colon',
      '[ENG-1] "ENG-2" ENG-3: crash',
      { linearIssues: ['ENG-1', 'ENG-2', 'ENG-3'] },
    ],
    ['comma list', 'ENG-1,ENG-2, ENG-3;ENG-4', { linearIssues: ['ENG-1', 'ENG-2', 'ENG-3', 'ENG-4'] }],
    ['hash prefix', 'dup of #ENG-9', { linearIssues: ['ENG-9'] }],
    ['inline code counts', 'look at `ENG-77`', { linearIssues: ['ENG-77'] }],
    ['lower case is normalised', 'eng-123 again', { linearIssues: ['ENG-123'] }],
    ['mixed case is normalised', 'Eng-123 and eNg-124', { linearIssues: ['ENG-123', 'ENG-124'] }],
    ['deduplicated across case', 'ENG-5 eng-5 Eng-5', { linearIssues: ['ENG-5'] }],
    ['team key with digits', 'T2-15 and A1B-3', { linearIssues: ['T2-15', 'A1B-3'] }],
    ['ten-character key', 'ABCDEFGHIJ-4', { linearIssues: ['ABCDEFGHIJ-4'] }],
    ['eleven-character key is not one', 'ABCDEFGHIJK-4', {}],
    ['one-letter key in upper case', 'E-12 broke', { linearIssues: ['E-12'] }],
    ['one-letter key in lower case is prose', 'option a-1 or b-2', {}],
    ['Linear branch name', 'on branch maya/eng-123-fix-login', { linearIssues: ['ENG-123'] }],
    ['zero is not an issue number', 'ENG-0', {}],
    ['leading zero is not an issue number', 'ENG-007', {}],
    ['too many digits', 'ENG-12345678', {}],
    ['UTF-8', 'encoding is UTF-8, not utf-8', {}],
    ['SHA-256 and SHA-1', 'hash with SHA-256 or sha-1', {}],
    ['ISO-8601', 'dates in ISO-8601 format', {}],
    ['COVID-19', 'since COVID-19 and covid-19', {}],
    ['RFC and CVE', 'per RFC-7231; CVE-2024-3094', {}],
    ['ES versions and prose', 'targets ES-2022, top-10 list, Windows-11, iPhone-15, MP-3, P-256, X-1', {}],
    ['letters glued to the number', 'x-123abc and ENG-12b', {}],
    ['part of a longer token', 'foo-ENG-12 pre_ENG-3 v1.ENG-2 a@ENG-4', {}],
    ['followed by a number part', 'ENG-12-3 ENG-12.5 ENG-12.md', {}],
    ['followed by an @', 'eng-123@example.com wrote', { emails: ['eng-123@example.com'] }],
    [
      'any other WORD-N token counts, versions do not',
      'node v20.1-3 build-42',
      { linearIssues: ['BUILD-42'] },
    ],
  ];
  it.each(cases)('%s', (_name, text, expected) => check(text, expected));

  it('restricts to known team keys when given, skipping the deny-list', () => {
    check(
      'ENG-1 OPS-2 XYZ-3 iso-4',
      { linearIssues: ['ENG-1', 'ISO-4'] },
      { linearTeamKeys: ['eng', 'ISO'] },
    );
  });
});

describe('extractReferences: Linear URLs', () => {
  const cases: Case[] = [
    ['issue URL', 'https://linear.app/acme/issue/ENG-123', { linearIssues: ['ENG-123'] }],
    [
      'with slug',
      'https://linear.app/acme/issue/ENG-123/login-button-does-nothing',
      { linearIssues: ['ENG-123'] },
    ],
    ['angle brackets', '<https://linear.app/acme/issue/ENG-5/x>', { linearIssues: ['ENG-5'] }],
    ['markdown link', '[the bug](https://linear.app/acme/issue/eng-6)', { linearIssues: ['ENG-6'] }],
    ['without scheme', 'linear.app/acme/issue/OPS-7#comment-1', { linearIssues: ['OPS-7'] }],
    ['URL and bare id deduplicated', 'ENG-8 https://linear.app/a/issue/ENG-8/s', { linearIssues: ['ENG-8'] }],
    ['linear.app without issue', 'https://linear.app/acme and https://linear.app/acme/team/ENG/active', {}],
    ['look-alike host', 'https://notlinear.app/acme/issue/ENG-9', {}],
    [
      'identifier-shaped path in another URL is not read',
      'https://example.com/docs/ENG-10 and https://github.com/o/r/tree/eng-11-fix',
      { githubRepos: [repo('o', 'r')] },
    ],
  ];
  it.each(cases)('%s', (_name, text, expected) => check(text, expected));
});

describe('extractReferences: GitHub repositories', () => {
  const cases: Case[] = [
    ['repository URL', 'https://github.com/acme/web', { githubRepos: [repo('acme', 'web')] }],
    ['.git suffix', 'clone https://github.com/acme/web.git', { githubRepos: [repo('acme', 'web')] }],
    ['tree', 'https://github.com/acme/web/tree/main/src', { githubRepos: [repo('acme', 'web')] }],
    ['issue', 'https://github.com/acme/web/issues/12', { githubRepos: [repo('acme', 'web')] }],
    ['pull request', 'https://github.com/acme/web/pull/34/files', { githubRepos: [repo('acme', 'web')] }],
    ['end of sentence', 'It lives at https://github.com/acme/web.', { githubRepos: [repo('acme', 'web')] }],
    ['parentheses', '(https://github.com/acme/web)', { githubRepos: [repo('acme', 'web')] }],
    ['angle brackets', '<https://github.com/acme/web>', { githubRepos: [repo('acme', 'web')] }],
    ['without scheme', 'repo: github.com/acme/web-app', { githubRepos: [repo('acme', 'web-app')] }],
    ['www', 'https://www.github.com/acme/web', { githubRepos: [repo('acme', 'web')] }],
    [
      'dots in the name',
      'https://github.com/acme/acme.github.io',
      { githubRepos: [repo('acme', 'acme.github.io')] },
    ],
    ['ssh remote', 'git@github.com:acme/web.git', { githubRepos: [repo('acme', 'web')] }],
    [
      'several, deduplicated case-insensitively',
      'github.com/a/b github.com/A/B github.com/c/d',
      {
        githubRepos: [repo('a', 'b'), repo('c', 'd')],
      },
    ],
    ['owner only', 'https://github.com/acme and https://github.com/acme/', {}],
    ['gist', 'https://gist.github.com/maya/0123abcd', {}],
    ['api host', 'https://api.github.com/repos/acme/web', {}],
    [
      'GitHub pages that are not repos',
      'https://github.com/settings/tokens https://github.com/orgs/acme/people',
      {},
    ],
    ['look-alike host', 'https://notgithub.com/acme/web https://github.company.com/acme/web', {}],
  ];
  it.each(cases)('%s', (_name, text, expected) => check(text, expected));
});

describe('extractReferences: PostHog sessions', () => {
  const cases: Case[] = [
    ['US cloud replay URL', `https://us.posthog.com/project/123/replay/${S1}`, { posthogSessions: [S1] }],
    ['EU cloud replay URL', `https://eu.posthog.com/project/9/replay/${S1}?t=12`, { posthogSessions: [S1] }],
    ['self-hosted replay URL', `https://posthog.acme.dev/project/1/replay/${S1}`, { posthogSessions: [S1] }],
    [
      'sessionRecordingId parameter',
      `https://us.posthog.com/project/1/replay/recent?filters=x&sessionRecordingId=${S2}`,
      { posthogSessions: [S2] },
    ],
    ['upper-case id is normalised', `session ${S1.toUpperCase()}`, { posthogSessions: [S1] }],
    ['bare id after "session"', `Session: ${S1}`, { posthogSessions: [S1] }],
    ['JSON log field', `{"$session_id": "${S1}", "event": "$pageview"}`, { posthogSessions: [S1] }],
    ['camel case key', `sessionId=${S1}`, { posthogSessions: [S1] }],
    ['a list after one keyword', `session ids: ${S1}, ${S2}, ${S3}`, { posthogSessions: [S1, S2, S3] }],
    ['bare id without context', `order ${S1} failed`, {}],
    ['keyword on another line', `session below\n${S1}`, {}],
    ['keyword too far away', `session ${'x'.repeat(60)} ${S1}`, {}],
    ['not a UUID', 'session 0196a1b2c3d47e5f8a9b0c1d2e3f4a5b and /replay/recent', {}],
    ['UUID inside a longer token', `session x${S1}y`, {}],
    [
      'URL and bare mention deduplicated',
      `session ${S1} https://us.posthog.com/project/1/replay/${S1}`,
      {
        posthogSessions: [S1],
      },
    ],
  ];
  it.each(cases)('%s', (_name, text, expected) => check(text, expected));
});

describe('extractReferences: e-mail addresses', () => {
  const cases: Case[] = [
    ['plain', 'reach me at maya@example.com', { emails: ['maya@example.com'] }],
    ['end of sentence', 'Email maya@example.com.', { emails: ['maya@example.com'] }],
    [
      'angle brackets',
      'Maya <maya.r+bugs@mail.example.co.uk>',
      { emails: ['maya.r+bugs@mail.example.co.uk'] },
    ],
    ['parentheses', '(maya@example.com)', { emails: ['maya@example.com'] }],
    ['mailto', '[mail](mailto:maya@example.com)', { emails: ['maya@example.com'] }],
    ['lower-cased and deduplicated', 'Maya@Example.COM maya@example.com', { emails: ['maya@example.com'] }],
    [
      'followed by a colon and a space',
      'from maya@example.com: it crashed',
      { emails: ['maya@example.com'] },
    ],
    [
      'query parameter',
      'https://app.example.com/invite?email=maya@example.com',
      { emails: ['maya@example.com'] },
    ],
    ['no TLD', 'a@b and root@localhost', {}],
    ['numeric TLD', 'react@18.2.0 and lodash@4.17.21', {}],
    ['asset names', 'icon@2x.png logo@3x.webp', {}],
    ['URL credentials', 'https://user@example.com/x https://user:pass@example.com/', {}],
    ['double dot', 'a..b@example.com', {}],
    ['scoped package', '@acme/ui@1.2.3', {}],
  ];
  it.each(cases)('%s', (_name, text, expected) => check(text, expected));
});

describe('extractReferences: code fences', () => {
  it('reads URLs, e-mails and sessions in fences but not bare identifiers', () => {
    const text = [
      'Crash on save, see ENG-1.',
      '```',
      'Error ERR-500 at build-42 for maya@example.com',
      `posthog session ${S1}`,
      'https://linear.app/acme/issue/ENG-2',
      'https://github.com/acme/web/blob/main/x.ts',
      '```',
      'Also OPS-3.',
    ].join('\n');
    check(text, {
      linearIssues: ['ENG-1', 'ENG-2', 'OPS-3'],
      githubRepos: [repo('acme', 'web')],
      posthogSessions: [S1],
      emails: ['maya@example.com'],
    });
  });

  it('handles tilde fences, info strings, longer closing fences and unclosed fences', () => {
    check('~~~log\nAPP-1\n~~~~\nAPP-2\n````ts\nAPP-3\n```\nAPP-4\n````\nAPP-5\n```\nAPP-6', {
      linearIssues: ['APP-2', 'APP-5'],
    });
  });
});

describe('extractReferences: mixed text', () => {
  it('returns every kind in first-seen order, deduplicated', () => {
    const text = `Hi, maya@example.com here. Since ENG-12 (and eng-9) the save button in
https://github.com/acme/web is dead. Replay: https://us.posthog.com/project/1/replay/${S2}
Also https://linear.app/acme/issue/ENG-9/save. My session ${S1}. Cc: ops@example.com, MAYA@example.com
Repo mirror git@github.com:acme/web.git and github.com/acme/api/pull/3.`;
    check(text, {
      linearIssues: ['ENG-12', 'ENG-9'],
      githubRepos: [repo('acme', 'web'), repo('acme', 'api')],
      posthogSessions: [S2, S1],
      emails: ['maya@example.com', 'ops@example.com'],
    });
  });

  it('returns empty lists for empty or reference-free text', () => {
    check('', {});
    check('The app froze after I tapped Save twice on Android 14.', {});
  });

  it('stays fast on large adversarial input', () => {
    const text = [
      'a.'.repeat(50_000),
      '-a'.repeat(50_000),
      `session ${S1} `.repeat(2_000),
      'x@'.repeat(20_000),
      'ENG-'.repeat(20_000),
      'https://github.com/'.repeat(5_000),
    ].join('\n');
    const started = performance.now();
    const refs = extractReferences(text);
    // ~0.3 s idle. A backtracking pattern takes tens of seconds here; the bound catches that and
    // leaves a busy CI machine 30x room (speed itself is for \`npm run bench\`).
    expect(performance.now() - started).toBeLessThan(10_000);
    expect(refs.posthogSessions).toEqual([S1]);
  });
});
