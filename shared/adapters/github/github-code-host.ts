import type { Octokit } from '@octokit/rest';
import * as z from 'zod';
import { ServiceError } from '../../domain/errors.js';
import type {
  CodeHost,
  CodeHostIssue,
  CodeSearchHit,
  PullRequest,
  RepositoryRef,
} from '../../ports/code-host.js';
import { CodeSearchBudget } from './code-search-budget.js';
import { buildCodeSearchQuery } from './code-search-query.js';
import { classifyGitHubFailure, type GitHubFailure, toGitHubServiceError } from './github-errors.js';

/**
 * `CodeHost` on GitHub's REST API through an Octokit built by `createGitHubClient` (timeouts,
 * retries and rate-limit handling live there). Failures become `ServiceError('github', …)`;
 * responses are checked for the fields read, so a truncated body is a retryable failure rather
 * than an `undefined` downstream.
 */

export type SearchSkipReason = 'budget' | 'rate-limited' | 'failed' | 'no-terms';

export interface GitHubCodeHostOptions {
  /** Epoch milliseconds, for `retryAfterMs` and the search budget. */
  readonly now?: () => number;
  /** Default: 10 a minute on `now`. Pass one to share it or to test with another clock. */
  readonly searchBudget?: CodeSearchBudget;
  /** Told when a search returns [] without asking GitHub or because GitHub failed (for logs/metrics). */
  readonly onSearchSkipped?: (reason: SearchSkipReason, error?: ServiceError) => void;
}

const issueSchema = z.object({
  number: z.number().int(),
  html_url: z.string(),
  title: z.string(),
  labels: z.array(z.union([z.string(), z.object({ name: z.string().optional() })])).default([]),
  pull_request: z.unknown().optional(),
});

const pullSchema = z.object({
  number: z.number().int(),
  html_url: z.string(),
  draft: z.boolean().optional(),
  state: z.enum(['open', 'closed']),
  base: z.object({ ref: z.string() }),
});

const searchSchema = z.object({
  items: z.array(z.object({ path: z.string(), score: z.number().optional() })),
});

const repositorySchema = z.object({ default_branch: z.string().min(1) });

export class GitHubCodeHost implements CodeHost {
  private readonly now: () => number;
  private readonly searchBudget: CodeSearchBudget;

  constructor(
    private readonly octokit: Octokit,
    private readonly options: GitHubCodeHostOptions = {},
  ) {
    this.now = options.now ?? Date.now;
    this.searchBudget = options.searchBudget ?? new CodeSearchBudget({ now: this.now });
  }

  /**
   * Lists issues carrying the label `key` (any state) and returns the oldest; creates one only when
   * there is none. The issue list reads the database, so an issue created a moment ago is there —
   * unlike search, whose index lags. What this cannot close is two creators both listing before
   * either creates: the caller serializes creators with a conditional DynamoDB claim. Should two
   * ever exist, everyone converges on the oldest.
   */
  async createIssueOnce(
    repo: RepositoryRef,
    input: { key: string; title: string; body: string; labels?: readonly string[] },
  ): Promise<CodeHostIssue> {
    const existing = await this.call('list issues', async () => {
      const response = await this.octokit.rest.issues.listForRepo({
        owner: repo.owner,
        repo: repo.repo,
        labels: input.key,
        state: 'all',
        sort: 'created',
        direction: 'asc',
        per_page: 100,
      });
      return parse(z.array(issueSchema), response.data, 'list issues');
    });
    const found = existing.find(
      (issue) =>
        issue.pull_request === undefined && issue.labels.some((label) => labelName(label) === input.key),
    );
    if (found) return toIssue(found);

    const labels = [input.key, ...(input.labels ?? []).filter((label) => label !== input.key)];
    const created = await this.call('create issue', async () => {
      const response = await this.octokit.rest.issues.create({
        owner: repo.owner,
        repo: repo.repo,
        title: input.title,
        body: input.body,
        labels: [...new Set(labels)],
      });
      return parse(issueSchema, response.data, 'create issue');
    });
    return toIssue(created);
  }

  /**
   * Creates the PR; when GitHub answers 422 "A pull request already exists for owner:branch", the
   * open PR for that head (and base) is returned instead, so a redelivered job makes no second PR.
   *
   * A head in a fork goes as `owner:branch` ("For cross-repository pull requests in the same
   * network, namespace `head` with a user like this: `username:branch`"), with `head_repo` when
   * the fork has the same owner ("required for cross-repository pull requests if both
   * repositories are owned by the same organization") — GitHub's OpenAPI for pulls/create.
   *
   * Drafts: private repositories on some plans refuse them with 422 and the top-level message
   * "Draft pull requests are not supported in this repository." (no `errors` array; seen in the
   * wild, e.g. SWE-agent/SWE-agent#179, getsentry/seer#1493). Then `notDraft` is opened instead.
   */
  async openPullRequest(
    repo: RepositoryRef,
    input: {
      head: string;
      headRepo?: RepositoryRef;
      base: string;
      title: string;
      body: string;
      draft: boolean;
      notDraft?: { title: string; body: string };
    },
  ): Promise<PullRequest> {
    const crossRepository =
      input.headRepo !== undefined &&
      `${input.headRepo.owner}/${input.headRepo.repo}`.toLowerCase() !==
        `${repo.owner}/${repo.repo}`.toLowerCase();
    const head = crossRepository && input.headRepo ? `${input.headRepo.owner}:${input.head}` : input.head;
    const sameOwnerFork = crossRepository && input.headRepo?.owner.toLowerCase() === repo.owner.toLowerCase();
    const create = async (title: string, body: string, draft: boolean) => {
      const response = await this.octokit.rest.pulls.create({
        owner: repo.owner,
        repo: repo.repo,
        head,
        ...(sameOwnerFork && input.headRepo
          ? { head_repo: `${input.headRepo.owner}/${input.headRepo.repo}` }
          : {}),
        base: input.base,
        title,
        body,
        draft,
      });
      return toPullRequest(parse(pullSchema, response.data, 'create pull request'));
    };
    let draftRefused = false;
    try {
      return await create(input.title, input.body, input.draft);
    } catch (error) {
      if (error instanceof ServiceError) throw error;
      const failure = classifyGitHubFailure(error, this.now());
      if (input.draft && isDraftRefusal(failure)) {
        draftRefused = true;
        const fallback = input.notDraft ?? { title: input.title, body: input.body };
        try {
          return { ...(await create(fallback.title, fallback.body, false)), draftRefused };
        } catch (retryError) {
          if (retryError instanceof ServiceError) throw retryError;
          if (!isAlreadyOpen(classifyGitHubFailure(retryError, this.now())))
            throw toGitHubServiceError(retryError, 'create pull request', this.now());
        }
      } else if (!isAlreadyOpen(failure)) {
        throw toGitHubServiceError(error, 'create pull request', this.now());
      }
    }

    const listHead = head.includes(':') ? head : `${repo.owner}:${head}`;
    const open = await this.call('list pull requests', async () => {
      const response = await this.octokit.rest.pulls.list({
        owner: repo.owner,
        repo: repo.repo,
        head: listHead,
        state: 'open',
        per_page: 100,
      });
      return parse(z.array(pullSchema), response.data, 'list pull requests');
    });
    const match = open.find((pull) => pull.base.ref === input.base) ?? open[0];
    if (!match) {
      // Closed between the two calls: another receive will open a fresh one.
      throw new ServiceError(
        'github',
        `create pull request: GitHub reported an open PR for ${listHead} but lists none`,
        {
          status: 422,
          retryable: true,
        },
      );
    }
    const found = toPullRequest(match);
    return draftRefused || (input.draft && !found.draft)
      ? { ...found, draftRefused: input.draft && !found.draft }
      : found;
  }

  /**
   * Comments why, then closes. Safe to repeat: a pull request found closed already is left alone
   * (a crash between the comment and the close may comment twice; never closes silently).
   */
  async closePullRequest(repo: RepositoryRef, number: number, comment: string): Promise<void> {
    const pull = await this.call('get pull request', async () => {
      const response = await this.octokit.rest.pulls.get({
        owner: repo.owner,
        repo: repo.repo,
        pull_number: number,
      });
      return parse(pullSchema, response.data, 'get pull request');
    });
    if (pull.state === 'closed') return;
    await this.call('comment on pull request', () =>
      this.octokit.rest.issues.createComment({
        owner: repo.owner,
        repo: repo.repo,
        issue_number: number,
        body: comment,
      }),
    );
    await this.call('close pull request', () =>
      this.octokit.rest.pulls.update({
        owner: repo.owner,
        repo: repo.repo,
        pull_number: number,
        state: 'closed',
      }),
    );
  }

  /**
   * Best effort: [] when the query has no usable words, the budget is spent, or GitHub refuses or
   * fails — candidate files are a hint for the agent, never a reason to fail a job. Not retried
   * (a retry would spend budget); the default branch is the only one GitHub indexes.
   */
  async searchCode(
    repo: RepositoryRef,
    query: string,
    limit: number,
    options: { readonly in?: 'file' | 'path' | 'file,path' } = {},
  ): Promise<CodeSearchHit[]> {
    const q = buildCodeSearchQuery(repo, query, options);
    const perPage = Math.min(100, Math.max(1, Math.floor(limit)));
    if (q === null || limit < 1) return this.skip('no-terms');
    if (!this.searchBudget.tryTake()) return this.skip('budget');
    try {
      const response = await this.octokit.rest.search.code({
        q,
        per_page: perPage,
        request: { retries: 0 },
      });
      const { items } = parse(searchSchema, response.data, 'search code');
      return items.slice(0, perPage).map((item) => ({
        path: item.path,
        ...(item.score === undefined ? {} : { score: item.score }),
      }));
    } catch (error) {
      const serviceError = toGitHubServiceError(error, 'search code', this.now());
      const failure = error instanceof ServiceError ? undefined : classifyGitHubFailure(error, this.now());
      if (failure?.kind === 'rate-limited') {
        this.searchBudget.exhaustUntil(this.now() + (failure.retryAfterMs ?? 60_000));
        return this.skip('rate-limited', serviceError);
      }
      return this.skip('failed', serviceError);
    }
  }

  async getDefaultBranch(repo: RepositoryRef): Promise<string> {
    return this.call('get repository', async () => {
      const response = await this.octokit.rest.repos.get({ owner: repo.owner, repo: repo.repo });
      return parse(repositorySchema, response.data, 'get repository').default_branch;
    });
  }

  private async call<T>(operation: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      throw toGitHubServiceError(error, operation, this.now());
    }
  }

  private skip(reason: SearchSkipReason, error?: ServiceError): CodeSearchHit[] {
    this.options.onSearchSkipped?.(reason, error);
    return [];
  }
}

function parse<T>(schema: z.ZodType<T>, data: unknown, operation: string): T {
  const result = schema.safeParse(data);
  if (result.success) return result.data;
  // Most likely a body cut short by the deadline (Octokit then hands over "" as data).
  throw new ServiceError('github', `${operation} returned an unexpected response`, {
    retryable: true,
    cause: result.error,
  });
}

function isAlreadyOpen(failure: GitHubFailure): boolean {
  return (
    failure.status === 422 && failure.messages.some((message) => /pull request already exists/i.test(message))
  );
}

function isDraftRefusal(failure: GitHubFailure): boolean {
  return failure.status === 422 && /draft pull requests are not supported/i.test(failure.detail);
}

function labelName(label: string | { name?: string | undefined }): string | undefined {
  return typeof label === 'string' ? label : label.name;
}

function toIssue(issue: z.infer<typeof issueSchema>): CodeHostIssue {
  return { number: issue.number, url: issue.html_url, title: issue.title };
}

function toPullRequest(pull: z.infer<typeof pullSchema>): PullRequest {
  return { number: pull.number, url: pull.html_url, draft: pull.draft ?? false, state: pull.state };
}
