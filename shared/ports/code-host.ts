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
  /** The repository refused a draft, so it was opened as a normal pull request (`notDraft`). */
  readonly draftRefused?: boolean;
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
    input: {
      head: string;
      /** The fork the head branch is in, when it is not `repo` (`head` then becomes `owner:branch`). */
      headRepo?: RepositoryRef;
      base: string;
      title: string;
      body: string;
      draft: boolean;
      /**
       * What to open instead when the repository refuses drafts (422 "Draft pull requests are
       * not supported in this repository.", some plans' private repositories): a normal pull
       * request whose title and body say plainly that it is not ready.
       */
      notDraft?: { title: string; body: string };
    },
  ): Promise<PullRequest>;
  /** Closes a pull request with a comment saying why (bugbot's own, never untrusted text). */
  closePullRequest(repo: RepositoryRef, number: number, comment: string): Promise<void>;
  /**
   * Best effort, within GitHub's code-search limit (10 requests a minute); default branch only;
   * every word of `query` must be in one file. `options.in: 'path'` searches paths instead of
   * contents (GitHub's default is contents only).
   */
  searchCode(
    repo: RepositoryRef,
    query: string,
    limit: number,
    options?: { readonly in?: 'file' | 'path' | 'file,path' },
  ): Promise<CodeSearchHit[]>;
  getDefaultBranch(repo: RepositoryRef): Promise<string>;
}
