/** The team's issue tracker (Linear). */

export interface TrackerIssue {
  /** The tracker's own id (a UUID for Linear). */
  readonly id: string;
  /** The human identifier, e.g. `ENG-123`. */
  readonly identifier: string;
  readonly title: string;
  readonly description: string;
  readonly url: string;
  readonly state?: string;
}

export interface IssueTracker {
  /** By identifier (`ENG-123`) or id; `null` when it does not exist. */
  getIssue(reference: string): Promise<TrackerIssue | null>;
  /**
   * Creates the issue with a caller-chosen UUID `id`. Creating the same `id` twice returns the
   * existing issue instead of a second one: that is what makes redelivered jobs safe even when
   * a crash falls between the create and our own record of it.
   */
  createIssue(input: { id: string; title: string; description: string }): Promise<TrackerIssue>;
  /** Same contract as createIssue: a repeated `id` returns the existing comment. */
  addComment(input: { id: string; issueId: string; body: string }): Promise<{ id: string; url?: string }>;
  /** Links a URL (a pull request, a Discord thread) to the issue; repeating a URL is harmless. */
  attachLink(input: {
    issueId: string;
    url: string;
    title: string;
    subtitle?: string;
  }): Promise<{ id: string }>;
}
