import { countCommitsAhead, type GitRunner, resolveBranch } from './bare-repository.js';
import { parseCodeQuery, searchCode } from './code-search.js';
import type { GitHubStore, IssueRecord, LabelRecord, PullRecord, ServedRepository } from './github-store.js';
import { notFound, type ValidationError, validationFailed } from './github-wire.js';

/**
 * The REST routes the stand-in serves, answering with GitHub's JSON shapes (the fields Octokit's
 * callers read, and enough around them to be recognisable). Routing, auth, rate limits and faults
 * are the stand-in's; this module is only "given an authenticated request, what does GitHub say".
 */

export interface RestContext {
  readonly store: GitHubStore;
  readonly git: GitRunner;
  readonly now: () => Date;
  /** `https://github.com` or the sandbox equivalent: the base of `html_url`s. */
  readonly htmlBaseUrl: string;
  /** This request's API base (`http://host/_sandbox/github/api/v3`): the base of `url`s. */
  readonly apiBaseUrl: string;
  /** This request's git base (`http://host/_sandbox/github`): the base of `clone_url`s. */
  readonly gitBaseUrl: string;
  /**
   * Called when a REST request changes a pull request's state, so the repository's webhook hears
   * of it as GitHub's does whatever closed the pull request (the merge button, the API, a user):
   * `pull_request` `closed` (`merged: false` here) or `reopened`. Not awaited: GitHub answers the
   * API call and delivers the hook on its own, so a caller may not rely on one before the other.
   */
  readonly pullRequestChanged?: (
    repository: ServedRepository,
    pull: PullRecord,
    action: 'closed' | 'reopened',
  ) => void;
}

export interface RestAnswer {
  readonly status: number;
  readonly body: unknown;
  readonly headers?: Record<string, string>;
}

const CREATE_PULL_DOCS = 'https://docs.github.com/rest/pulls/pulls#create-a-pull-request';
const CREATE_ISSUE_DOCS = 'https://docs.github.com/rest/issues/issues#create-an-issue';
const SEARCH_DOCS = 'https://docs.github.com/v3/search';
const UPDATE_PULL_DOCS = 'https://docs.github.com/rest/pulls/pulls#update-a-pull-request';
const COMMENT_DOCS = 'https://docs.github.com/rest/issues/comments#create-an-issue-comment';
export const SANDBOX_USER = {
  login: 'bugbot-sandbox',
  id: 1,
  node_id: 'U_sandbox',
  type: 'Bot',
  site_admin: false,
};

export async function answerRest(
  ctx: RestContext,
  method: string,
  url: URL,
  body: unknown,
): Promise<RestAnswer> {
  const segments = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
  const query = url.searchParams;
  // Absolute, as GitHub's `Link` headers are.
  const self = new URL(`${ctx.apiBaseUrl}${url.pathname}${url.search}`);

  if (method === 'GET' && segments.length === 2 && segments[0] === 'search' && segments[1] === 'code') {
    return searchCodeRoute(ctx, query, self);
  }
  if (segments[0] !== 'repos' || segments.length < 3) return { status: 404, body: notFound };
  const repository = ctx.store.find(segments[1] ?? '', segments[2] ?? '');
  if (!repository) return { status: 404, body: notFound };
  const rest = segments.slice(3);
  const route = `${method} ${rest.map((segment) => (/^\d+$/.test(segment) ? ':n' : segment)).join('/')}`;
  const number = Number(rest[1]);

  switch (route) {
    case 'GET ':
      return { status: 200, body: renderRepository(ctx, repository) };
    case 'GET issues':
      return listIssues(ctx, repository, query, self);
    case 'POST issues':
      return createIssue(ctx, repository, body);
    case 'GET issues/:n': {
      const found = repository.issues.find((issue) => issue.number === number);
      const pull = repository.pulls.find((candidate) => candidate.number === number);
      if (found) return { status: 200, body: renderIssue(ctx, repository, found) };
      if (pull) return { status: 200, body: renderPullAsIssue(ctx, repository, pull) };
      return { status: 404, body: notFound };
    }
    case 'GET pulls':
      return listPulls(ctx, repository, query, self);
    case 'POST pulls':
      return createPull(ctx, repository, body);
    case 'GET pulls/:n': {
      const pull = repository.pulls.find((candidate) => candidate.number === number);
      return pull
        ? { status: 200, body: renderPull(ctx, repository, pull) }
        : { status: 404, body: notFound };
    }
    case 'PATCH pulls/:n': {
      const pull = repository.pulls.find((candidate) => candidate.number === number);
      if (!pull) return { status: 404, body: notFound };
      const input = asObject(body);
      if (input.state !== undefined && input.state !== 'open' && input.state !== 'closed')
        return invalid([{ resource: 'PullRequest', code: 'invalid', field: 'state' }], UPDATE_PULL_DOCS);
      // A merged pull request cannot be reopened: GitHub answers 422 Validation Failed
      // (huboard/huboard-web#361, waffleio/waffle.io#2194, restyled-io/restyled.io#191).
      if (input.state === 'open' && pull.mergedAt !== undefined)
        return invalid(
          [
            {
              resource: 'PullRequest',
              code: 'custom',
              field: 'state',
              message: 'state cannot be changed. The pull request has been merged.',
            },
          ],
          UPDATE_PULL_DOCS,
        );
      if (input.state === 'closed' && pull.state === 'open') {
        pull.state = 'closed';
        pull.closedAt = ctx.now().toISOString();
        ctx.pullRequestChanged?.(repository, pull, 'closed');
      } else if (input.state === 'open' && pull.state === 'closed') {
        pull.state = 'open';
        pull.closedAt = undefined;
        ctx.pullRequestChanged?.(repository, pull, 'reopened');
      }
      return { status: 200, body: renderPull(ctx, repository, pull) };
    }
    case 'POST issues/:n/comments': {
      const pull = repository.pulls.find((candidate) => candidate.number === number);
      const issue = repository.issues.find((candidate) => candidate.number === number);
      if (!pull && !issue) return { status: 404, body: notFound };
      const text = asObject(body).body;
      if (typeof text !== 'string' || text.length === 0)
        return invalid([{ resource: 'IssueComment', code: 'missing_field', field: 'body' }], COMMENT_DOCS);
      const comment = { id: repository.newId(), body: text, createdAt: ctx.now().toISOString() };
      pull?.comments.push(comment);
      return {
        status: 201,
        body: {
          id: comment.id,
          node_id: `IC_${comment.id}`,
          url: `${ctx.apiBaseUrl}/repos/${repository.fullName}/issues/comments/${comment.id}`,
          html_url: `${ctx.htmlBaseUrl}/${repository.fullName}/${pull ? 'pull' : 'issues'}/${number}#issuecomment-${comment.id}`,
          body: comment.body,
          user: SANDBOX_USER,
          created_at: comment.createdAt,
          updated_at: comment.createdAt,
          author_association: 'NONE',
        },
      };
    }
    case 'GET labels':
      return paginate(
        [...repository.labels.values()].map((label) => renderLabel(ctx, repository, label)),
        query,
        self,
      );
    default:
      return { status: 404, body: notFound };
  }
}

function listIssues(
  ctx: RestContext,
  repository: ServedRepository,
  query: URLSearchParams,
  url: URL,
): RestAnswer {
  const state = query.get('state') ?? 'open';
  const wanted = (query.get('labels') ?? '')
    .split(',')
    .map((label) => label.trim().toLowerCase())
    .filter(Boolean);
  // GitHub's issue list includes pull requests (marked by `pull_request`); PRs carry no labels here.
  const items = [
    ...repository.issues.map((issue) => ({ createdAt: issue.createdAt, number: issue.number, issue })),
    ...repository.pulls.map((pull) => ({ createdAt: pull.createdAt, number: pull.number, pull })),
  ]
    .filter((item) => {
      const itemState = 'issue' in item ? item.issue?.state : item.pull?.state;
      if (state !== 'all' && itemState !== state) return false;
      const labels = 'issue' in item ? (item.issue?.labels ?? []) : [];
      return wanted.every((name) => labels.some((label) => label.name.toLowerCase() === name));
    })
    .sort(byCreated(query.get('direction')));
  return paginate(
    items.map((item) =>
      'issue' in item && item.issue
        ? renderIssue(ctx, repository, item.issue)
        : renderPullAsIssue(ctx, repository, (item as { pull: PullRecord }).pull),
    ),
    query,
    url,
  );
}

function createIssue(ctx: RestContext, repository: ServedRepository, body: unknown): RestAnswer {
  const input = asObject(body);
  const title = input.title;
  if (typeof title !== 'string' && typeof title !== 'number') {
    return invalid([{ resource: 'Issue', code: 'missing_field', field: 'title' }], CREATE_ISSUE_DOCS);
  }
  if (String(title).trim() === '') {
    return invalid([{ resource: 'Issue', code: 'missing_field', field: 'title' }], CREATE_ISSUE_DOCS);
  }
  const names = Array.isArray(input.labels) ? input.labels.map(labelName) : [];
  if (names.some((name) => name === null || name.length === 0 || name.length > 50)) {
    return invalid([{ resource: 'Label', code: 'invalid', field: 'name' }], CREATE_ISSUE_DOCS);
  }
  const labels = dedupeLabels((names as string[]).map((name) => repository.ensureLabel(name)));
  const issue = repository.addIssue({
    title: String(title),
    body: typeof input.body === 'string' ? input.body : null,
    labels,
    state: 'open',
    createdAt: ctx.now().toISOString(),
  });
  return { status: 201, body: renderIssue(ctx, repository, issue) };
}

function listPulls(
  ctx: RestContext,
  repository: ServedRepository,
  query: URLSearchParams,
  url: URL,
): RestAnswer {
  const state = query.get('state') ?? 'open';
  const head = query.get('head');
  const base = query.get('base');
  const pulls = repository.pulls
    .filter((pull) => state === 'all' || pull.state === state)
    .filter((pull) => {
      if (!head) return true;
      // `owner:branch`, or `owner` alone for every PR from that owner.
      const [owner, branch] = head.includes(':') ? head.split(/:(.*)/s) : [head, undefined];
      if (owner?.toLowerCase() !== pull.headRepository.split('/')[0]?.toLowerCase()) return false;
      return branch === undefined || pull.head === branch;
    })
    .filter((pull) => !base || pull.base === base)
    .sort(byCreated(query.get('direction')));
  return paginate(
    pulls.map((pull) => renderPull(ctx, repository, pull)),
    query,
    url,
  );
}

async function createPull(
  ctx: RestContext,
  repository: ServedRepository,
  body: unknown,
): Promise<RestAnswer> {
  const input = asObject(body);
  const missing = (['title', 'head', 'base'] as const).filter(
    (field) => typeof input[field] !== 'string' || (input[field] as string).length === 0,
  );
  if (missing.length > 0) {
    return invalid(
      missing.map((field) => ({ resource: 'PullRequest', code: 'missing_field', field })),
      CREATE_PULL_DOCS,
    );
  }
  const headSpec = input.head as string;
  const base = input.base as string;
  const [headOwner, head] = headSpec.includes(':')
    ? (headSpec.split(/:(.*)/s) as [string, string])
    : [repository.owner, headSpec];
  const gitDir = repository.bareDir;
  const baseSha = gitDir ? await resolveBranch(ctx.git, gitDir, base) : null;
  if (!baseSha)
    return invalid([{ resource: 'PullRequest', field: 'base', code: 'invalid' }], CREATE_PULL_DOCS);
  // The head is a branch of this repository, or of a fork of it in the same network
  // (`head: "<fork owner>:<branch>"`; `head_repo` names the fork when both have one owner).
  const headRepository =
    headOwner.toLowerCase() === repository.owner.toLowerCase() && typeof input.head_repo !== 'string'
      ? repository
      : ctx.store
          .all()
          .find(
            (candidate) =>
              candidate.forkOf?.toLowerCase() === repository.fullName.toLowerCase() &&
              candidate.owner.toLowerCase() === headOwner.toLowerCase() &&
              (typeof input.head_repo !== 'string' ||
                candidate.fullName.toLowerCase() === input.head_repo.toLowerCase()),
          );
  const headDir = headRepository?.bareDir;
  const headSha = headDir ? await resolveBranch(ctx.git, headDir, head) : null;
  if (!headSha || !headRepository)
    return invalid([{ resource: 'PullRequest', field: 'head', code: 'invalid' }], CREATE_PULL_DOCS);
  const existing = repository.pulls.find(
    (pull) =>
      pull.state === 'open' &&
      pull.head === head &&
      pull.base === base &&
      pull.headRepository.toLowerCase() === headRepository.fullName.toLowerCase(),
  );
  if (existing) {
    return invalid(
      [
        {
          resource: 'PullRequest',
          code: 'custom',
          message: `A pull request already exists for ${headRepository.owner}:${head}.`,
        },
      ],
      CREATE_PULL_DOCS,
    );
  }
  // A fork borrows the parent's objects, so both commits are reachable from the fork's repository.
  if (headDir && (await countCommitsAhead(ctx.git, headDir, baseSha, headSha)) === 0) {
    return invalid(
      [{ resource: 'PullRequest', code: 'custom', message: `No commits between ${base} and ${head}` }],
      CREATE_PULL_DOCS,
    );
  }
  if (input.draft === true && !repository.draftPullRequests) {
    // What GitHub answers on plans without drafts for private repositories: a bare message, no
    // `errors` array (SWE-agent/SWE-agent#179, getsentry/seer#1493).
    return {
      status: 422,
      body: {
        message: 'Draft pull requests are not supported in this repository.',
        documentation_url: CREATE_PULL_DOCS,
        status: '422',
      },
    };
  }
  const pull = repository.addPull({
    title: input.title as string,
    body: typeof input.body === 'string' ? input.body : null,
    head,
    headRepository: headRepository.fullName,
    headSha,
    base,
    baseSha,
    draft: input.draft === true,
    state: 'open',
    createdAt: ctx.now().toISOString(),
  });
  return { status: 201, body: renderPull(ctx, repository, pull) };
}

async function searchCodeRoute(ctx: RestContext, query: URLSearchParams, url: URL): Promise<RestAnswer> {
  const q = query.get('q') ?? '';
  const parsed = parseCodeQuery(q);
  if (parsed.terms.length === 0) {
    return invalid([{ resource: 'Search', field: 'q', code: 'missing' }], SEARCH_DOCS);
  }
  const repositories = ctx.store.all();
  const matches = await searchCode(
    ctx.git,
    parsed,
    repositories.map((repository) => ({
      fullName: repository.fullName,
      bareDir: repository.bareDir,
      defaultBranch: repository.defaultBranch,
    })),
  );
  const items = matches.map((match) => {
    const repository = ctx.store.find(...(match.repository.fullName.split('/') as [string, string]));
    const name = match.path.split('/').pop() ?? match.path;
    const encodedPath = match.path.split('/').map(encodeURIComponent).join('/');
    return {
      name,
      path: match.path,
      sha: match.sha,
      url: `${ctx.apiBaseUrl}/repos/${match.repository.fullName}/contents/${encodedPath}?ref=${match.repository.defaultBranch}`,
      git_url: `${ctx.apiBaseUrl}/repos/${match.repository.fullName}/git/blobs/${match.sha}`,
      html_url: `${ctx.htmlBaseUrl}/${match.repository.fullName}/blob/${match.repository.defaultBranch}/${encodedPath}`,
      repository: repository ? renderRepository(ctx, repository) : undefined,
      score: match.score,
    };
  });
  const page = pageOf(items, query);
  return {
    status: 200,
    body: { total_count: items.length, incomplete_results: false, items: page.items },
    headers: linkHeader(page, url),
  };
}

export function renderRepository(
  ctx: Pick<RestContext, 'htmlBaseUrl' | 'apiBaseUrl' | 'gitBaseUrl'>,
  repository: ServedRepository,
): Record<string, unknown> {
  return {
    id: repository.id,
    node_id: `R_${repository.id}`,
    name: repository.repo,
    full_name: repository.fullName,
    private: false,
    visibility: 'public',
    owner: { ...SANDBOX_USER, login: repository.owner, type: 'Organization' },
    html_url: `${ctx.htmlBaseUrl}/${repository.fullName}`,
    url: `${ctx.apiBaseUrl}/repos/${repository.fullName}`,
    clone_url: `${ctx.gitBaseUrl}/${repository.fullName}.git`,
    default_branch: repository.defaultBranch,
    fork: repository.forkOf !== undefined,
    has_issues: true,
    archived: false,
    disabled: false,
  };
}

function renderLabel(
  ctx: RestContext,
  repository: ServedRepository,
  label: LabelRecord,
): Record<string, unknown> {
  return {
    id: label.id,
    node_id: `LA_${label.id}`,
    url: `${ctx.apiBaseUrl}/repos/${repository.fullName}/labels/${encodeURIComponent(label.name)}`,
    name: label.name,
    color: label.color,
    default: false,
    description: null,
  };
}

function renderIssue(
  ctx: RestContext,
  repository: ServedRepository,
  issue: IssueRecord,
): Record<string, unknown> {
  return {
    id: issue.id,
    node_id: `I_${issue.id}`,
    url: `${ctx.apiBaseUrl}/repos/${repository.fullName}/issues/${issue.number}`,
    repository_url: `${ctx.apiBaseUrl}/repos/${repository.fullName}`,
    html_url: `${ctx.htmlBaseUrl}/${repository.fullName}/issues/${issue.number}`,
    number: issue.number,
    state: issue.state,
    state_reason: null,
    title: issue.title,
    body: issue.body,
    user: SANDBOX_USER,
    labels: issue.labels.map((label) => renderLabel(ctx, repository, label)),
    assignees: [],
    locked: false,
    comments: 0,
    created_at: issue.createdAt,
    updated_at: issue.createdAt,
    closed_at: null,
    author_association: 'NONE',
  };
}

function renderPullAsIssue(
  ctx: RestContext,
  repository: ServedRepository,
  pull: PullRecord,
): Record<string, unknown> {
  const pullUrl = `${ctx.apiBaseUrl}/repos/${repository.fullName}/pulls/${pull.number}`;
  const htmlUrl = `${ctx.htmlBaseUrl}/${repository.fullName}/pull/${pull.number}`;
  return {
    ...renderIssue(ctx, repository, { ...pull, labels: [] }),
    html_url: htmlUrl,
    draft: pull.draft,
    pull_request: {
      url: pullUrl,
      html_url: htmlUrl,
      diff_url: `${htmlUrl}.diff`,
      patch_url: `${htmlUrl}.patch`,
      merged_at: pull.mergedAt ?? null,
    },
  };
}

export function renderPull(
  ctx: Pick<RestContext, 'store' | 'htmlBaseUrl' | 'apiBaseUrl' | 'gitBaseUrl'>,
  repository: ServedRepository,
  pull: PullRecord,
): Record<string, unknown> {
  const htmlUrl = `${ctx.htmlBaseUrl}/${repository.fullName}/pull/${pull.number}`;
  const headRepository =
    ctx.store.find(...(pull.headRepository.split('/') as [string, string])) ?? repository;
  const branch = (ref: string, sha: string, of: ServedRepository) => ({
    label: `${of.owner}:${ref}`,
    ref,
    sha,
    user: { ...SANDBOX_USER, login: of.owner, type: 'Organization' },
    repo: renderRepository(ctx, of),
  });
  return {
    id: pull.id,
    node_id: `PR_${pull.id}`,
    url: `${ctx.apiBaseUrl}/repos/${repository.fullName}/pulls/${pull.number}`,
    html_url: htmlUrl,
    diff_url: `${htmlUrl}.diff`,
    patch_url: `${htmlUrl}.patch`,
    issue_url: `${ctx.apiBaseUrl}/repos/${repository.fullName}/issues/${pull.number}`,
    number: pull.number,
    state: pull.state,
    locked: false,
    title: pull.title,
    user: SANDBOX_USER,
    body: pull.body,
    labels: [],
    created_at: pull.createdAt,
    updated_at: pull.createdAt,
    closed_at: pull.closedAt ?? null,
    merged_at: pull.mergedAt ?? null,
    merge_commit_sha: pull.mergeCommitSha ?? null,
    draft: pull.draft,
    head: branch(pull.head, pull.headSha, headRepository),
    base: branch(pull.base, pull.baseSha, repository),
    author_association: 'NONE',
    merged: pull.mergedAt !== undefined,
  };
}

function invalid(errors: readonly ValidationError[], docs: string): RestAnswer {
  return { status: 422, body: validationFailed(errors, docs) };
}

function asObject(body: unknown): Record<string, unknown> {
  return body !== null && typeof body === 'object' && !Array.isArray(body)
    ? (body as Record<string, unknown>)
    : {};
}

function labelName(value: unknown): string | null {
  if (typeof value === 'string') return value.trim();
  if (value && typeof value === 'object' && typeof (value as { name?: unknown }).name === 'string') {
    return ((value as { name: string }).name ?? '').trim();
  }
  return null;
}

function dedupeLabels(labels: readonly LabelRecord[]): LabelRecord[] {
  return labels.filter((label, index) => labels.findIndex((other) => other.id === label.id) === index);
}

function byCreated(direction: string | null) {
  const sign = direction === 'asc' ? 1 : -1;
  return (a: { createdAt: string; number: number }, b: { createdAt: string; number: number }) =>
    sign * (a.createdAt.localeCompare(b.createdAt) || a.number - b.number);
}

interface Page<T> {
  readonly items: T[];
  readonly page: number;
  readonly lastPage: number;
}

function pageOf<T>(items: readonly T[], query: URLSearchParams): Page<T> {
  const perPage = Math.min(100, Math.max(1, Number(query.get('per_page')) || 30));
  const page = Math.max(1, Number(query.get('page')) || 1);
  const lastPage = Math.max(1, Math.ceil(items.length / perPage));
  return { items: items.slice((page - 1) * perPage, page * perPage), page, lastPage };
}

function paginate(items: readonly unknown[], query: URLSearchParams, url: URL): RestAnswer {
  const page = pageOf(items, query);
  return { status: 200, body: page.items, headers: linkHeader(page, url) };
}

/** `Link: <…page=2>; rel="next", <…page=5>; rel="last"`, which `octokit.paginate` follows. */
function linkHeader(page: Page<unknown>, url: URL): Record<string, string> {
  if (page.page >= page.lastPage) return {};
  const at = (n: number) => {
    const next = new URL(url);
    next.searchParams.set('page', String(n));
    return next.toString();
  };
  return { link: `<${at(page.page + 1)}>; rel="next", <${at(page.lastPage)}>; rel="last"` };
}
