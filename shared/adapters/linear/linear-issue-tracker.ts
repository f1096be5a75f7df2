import type { LinearClient } from '@linear/sdk';
import { ServiceError } from '../../domain/errors.js';
import type { IssueTracker, TrackerIssue } from '../../ports/issue-tracker.js';
import { toLinearServiceError } from './linear-errors.js';

/**
 * IssueTracker on Linear through `@linear/sdk`. Each operation is one GraphQL request: the SDK's
 * typed methods return models whose relations are lazy getters (`await payload.issue`,
 * `await issue.state`), each another round trip, so we send our own small documents through the
 * SDK's GraphQL client (`client.client.rawRequest`, the documented way to run custom queries),
 * keeping its auth, endpoint and error parsing.
 *
 * Creates are idempotent by caller-chosen id: if a create fails for any reason but the id turns
 * out to exist (an earlier delivery got through, a timeout hid a success, Linear refused the
 * duplicate), the existing entity is returned. Retryable failures (network, timeout, 5xx, rate
 * limits) are retried a few times with backoff within a small time budget; the job queue's
 * redelivery handles longer waits.
 */

export interface LinearIssueTrackerOptions {
  /** The team new issues go to (a UUID, not the key). */
  readonly teamId: string;
  /** Attempts per request, the first included. Default 3. */
  readonly maxAttempts?: number;
  /** First backoff step; doubles per attempt, with jitter. Default 250 ms. */
  readonly baseDelayMs?: number;
  /** Cap on the waits of one request, `retry-after` included; beyond it the error surfaces. Default 5 s. */
  readonly maxTotalDelayMs?: number;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly random?: () => number;
  readonly now?: () => number;
}

const ISSUE_FIELDS = /* GraphQL */ `
  fragment BugbotIssueFields on Issue {
    id
    identifier
    title
    description
    url
    state {
      name
    }
  }
`;

const ISSUE_QUERY = /* GraphQL */ `
  query BugbotIssue($id: String!) {
    issue(id: $id) {
      ...BugbotIssueFields
    }
  }
  ${ISSUE_FIELDS}
`;

const ISSUE_CREATE = /* GraphQL */ `
  mutation BugbotIssueCreate($input: IssueCreateInput!) {
    issueCreate(input: $input) {
      success
      issue {
        ...BugbotIssueFields
      }
    }
  }
  ${ISSUE_FIELDS}
`;

const COMMENT_QUERY = /* GraphQL */ `
  query BugbotComment($id: String!) {
    comment(id: $id) {
      id
      url
    }
  }
`;

const COMMENT_CREATE = /* GraphQL */ `
  mutation BugbotCommentCreate($input: CommentCreateInput!) {
    commentCreate(input: $input) {
      success
      comment {
        id
        url
      }
    }
  }
`;

// attachmentCreate, not attachmentLinkURL: it takes a subtitle, and Linear documents it as an
// upsert on (issueId, url), which is what makes repeating a link harmless.
const ATTACHMENT_CREATE = /* GraphQL */ `
  mutation BugbotAttachmentCreate($input: AttachmentCreateInput!) {
    attachmentCreate(input: $input) {
      success
      attachment {
        id
      }
    }
  }
`;

interface IssueFields {
  readonly id: string;
  readonly identifier: string;
  readonly title: string;
  readonly description?: string | null;
  readonly url: string;
  readonly state?: { readonly name?: string | null } | null;
}

interface CommentFields {
  readonly id: string;
  readonly url?: string | null;
}

const IDENTIFIER = /^[A-Za-z][A-Za-z0-9_]*-\d+$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export class LinearIssueTracker implements IssueTracker {
  private readonly teamId: string;
  private readonly maxAttempts: number;
  private readonly baseDelayMs: number;
  private readonly maxTotalDelayMs: number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;
  private readonly now: () => number;

  constructor(
    private readonly client: LinearClient,
    options: LinearIssueTrackerOptions,
  ) {
    this.teamId = options.teamId;
    this.maxAttempts = Math.max(1, options.maxAttempts ?? 3);
    this.baseDelayMs = options.baseDelayMs ?? 250;
    this.maxTotalDelayMs = options.maxTotalDelayMs ?? 5_000;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.random = options.random ?? Math.random;
    this.now = options.now ?? Date.now;
  }

  async getIssue(reference: string): Promise<TrackerIssue | null> {
    const trimmed = reference.trim();
    // Anything else cannot name an issue; asking Linear would only cost a request.
    if (!IDENTIFIER.test(trimmed) && !UUID.test(trimmed)) return null;
    return this.findIssue(trimmed);
  }

  async createIssue(input: { id: string; title: string; description: string }): Promise<TrackerIssue> {
    let created: IssueFields | null | undefined;
    try {
      const data = await this.send<{ issueCreate: { issue?: IssueFields | null } }>(
        'issueCreate',
        ISSUE_CREATE,
        {
          input: { id: input.id, teamId: this.teamId, title: input.title, description: input.description },
        },
      );
      created = data.issueCreate.issue;
    } catch (error) {
      return this.recoverCreate(error, () => this.findIssue(input.id));
    }
    if (created) return toTrackerIssue(created);
    return this.requireCreated(await this.findIssue(input.id), 'issueCreate');
  }

  async addComment(input: {
    id: string;
    issueId: string;
    body: string;
  }): Promise<{ id: string; url?: string }> {
    let created: CommentFields | null | undefined;
    try {
      const data = await this.send<{ commentCreate: { comment?: CommentFields | null } }>(
        'commentCreate',
        COMMENT_CREATE,
        { input: { id: input.id, issueId: input.issueId, body: input.body } },
      );
      created = data.commentCreate.comment;
    } catch (error) {
      return this.recoverCreate(error, () => this.findComment(input.id));
    }
    if (created) return toComment(created);
    return this.requireCreated(await this.findComment(input.id), 'commentCreate');
  }

  async attachLink(input: {
    issueId: string;
    url: string;
    title: string;
    subtitle?: string;
  }): Promise<{ id: string }> {
    const data = await this.send<{ attachmentCreate: { attachment?: { id: string } | null } }>(
      'attachmentCreate',
      ATTACHMENT_CREATE,
      { input: { issueId: input.issueId, url: input.url, title: input.title, subtitle: input.subtitle } },
    );
    const attachment = data.attachmentCreate.attachment;
    if (!attachment) {
      throw new ServiceError('linear', 'attachmentCreate returned no attachment', {
        status: 502,
        retryable: true,
      });
    }
    return { id: attachment.id };
  }

  private async findIssue(reference: string): Promise<TrackerIssue | null> {
    try {
      const data = await this.send<{ issue: IssueFields | null }>('issue', ISSUE_QUERY, { id: reference });
      return data.issue ? toTrackerIssue(data.issue) : null;
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
  }

  private async findComment(id: string): Promise<{ id: string; url?: string } | null> {
    try {
      const data = await this.send<{ comment: CommentFields | null }>('comment', COMMENT_QUERY, { id });
      return data.comment ? toComment(data.comment) : null;
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
  }

  /**
   * A failed create may still have happened (or happened before, on an earlier delivery): look the
   * id up. Rate limits and credential refusals are answered before anything runs, so they skip the
   * lookup. When the lookup itself cannot answer, the more retryable of the two errors wins, so a
   * flaky lookup never turns a create we could retry into a permanent failure.
   */
  private async recoverCreate<T>(error: unknown, lookup: () => Promise<T | null>): Promise<T> {
    if (!(error instanceof ServiceError)) throw error;
    if (error.status === 429 || error.status === 401 || error.status === 403) throw error;
    let existing: T | null;
    try {
      existing = await lookup();
    } catch (lookupError) {
      throw lookupError instanceof ServiceError && lookupError.retryable && !error.retryable
        ? lookupError
        : error;
    }
    if (existing !== null) return existing;
    throw error;
  }

  private requireCreated<T>(found: T | null, operation: string): T {
    if (found !== null) return found;
    // Linear said success but returned nothing and cannot find it: let the job try again.
    throw new ServiceError('linear', `${operation} returned nothing to read back`, {
      status: 502,
      retryable: true,
    });
  }

  /** One GraphQL request, retried on retryable failures; throws ServiceError. */
  private async send<Data>(
    operation: string,
    query: string,
    variables: Record<string, unknown>,
  ): Promise<Data> {
    let waited = 0;
    for (let attempt = 1; ; attempt += 1) {
      try {
        const response = await this.client.client.rawRequest<Data, Record<string, unknown>>(query, variables);
        if (response.data === undefined || response.data === null) {
          throw new ServiceError('linear', `${operation} answered without data`, {
            status: 502,
            retryable: true,
          });
        }
        return response.data;
      } catch (error) {
        const failure = toLinearServiceError(error, operation, this.now());
        if (!failure.retryable || attempt >= this.maxAttempts) throw failure;
        const backoff = this.baseDelayMs * 2 ** (attempt - 1) * (0.5 + this.random() / 2);
        const delay = Math.round(Math.max(failure.retryAfterMs ?? 0, backoff));
        if (waited + delay > this.maxTotalDelayMs) throw failure;
        waited += delay;
        await this.sleep(delay);
      }
    }
  }
}

function isNotFound(error: unknown): boolean {
  return error instanceof ServiceError && error.status === 404;
}

function toTrackerIssue(issue: IssueFields): TrackerIssue {
  const state = issue.state?.name ?? undefined;
  return {
    id: issue.id,
    identifier: issue.identifier,
    title: issue.title,
    description: issue.description ?? '',
    url: issue.url,
    ...(state ? { state } : {}),
  };
}

function toComment(comment: CommentFields): { id: string; url?: string } {
  return comment.url ? { id: comment.id, url: comment.url } : { id: comment.id };
}
