/** Where the code lives (GitHub): issues (when it is the tracker), pull requests, code search. */

export interface RepositoryRef {
  readonly owner: string;
  readonly repo: string;
}

export interface CodeHostIssue {
  readonly number: number;
  readonly url: string;
  readonly title: string;
}

export interface PullRequest {
  readonly number: number;
  readonly url: string;
  readonly draft: boolean;
  readonly state: 'open' | 'closed';
}

export interface CodeSearchHit {
  readonly path: string;
  readonly score?: number;
}

export interface CodeHost {
  /**
   * Creates an issue carrying the label `key` (e.g. `bugbot:bug_abc`); when an open or closed issue
   * with that label already exists it is returned instead, so a retried create makes no second
   * issue.
   */
  createIssueOnce(
    repo: RepositoryRef,
    input: { key: string; title: string; body: string; labels?: readonly string[] },
  ): Promise<CodeHostIssue>;
  /**
   * Opens a pull request from `head` into `base`; if one is already open for `head`, returns it
   * (one PR per fix job, even under redelivery).
   */
  openPullRequest(
    repo: RepositoryRef,
    input: { head: string; base: string; title: string; body: string; draft: boolean },
  ): Promise<PullRequest>;
  /** Best effort, within GitHub's code-search limit (10 requests a minute); default branch only. */
  searchCode(repo: RepositoryRef, query: string, limit: number): Promise<CodeSearchHit[]>;
  getDefaultBranch(repo: RepositoryRef): Promise<string>;
}
