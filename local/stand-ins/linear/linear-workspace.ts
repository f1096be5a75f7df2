import type { FieldArguments, RootResolvers } from './graphql-executor.js';
import { argumentValidationError, entityAlreadyExists, entityNotFound } from './linear-errors.js';

/**
 * The sandbox Linear workspace: one organization (`acme`), a team `ENG` with its workflow, a few
 * issues people already filed, and the API user bugbot acts as. Records hold the state; views turn
 * a record into the object graph the GraphQL executor walks (relations as functions, so cycles such
 * as issue → team → issues stay lazy).
 */

type View = Record<string, unknown>;

interface UserRecord {
  readonly id: string;
  readonly name: string;
  readonly displayName: string;
  readonly email: string;
  readonly createdAt: Date;
}

interface TeamRecord {
  readonly id: string;
  readonly key: string;
  readonly name: string;
  readonly defaultStateId: string;
  readonly triageStateId: string;
  issueCount: number;
  readonly createdAt: Date;
}

interface StateRecord {
  readonly id: string;
  readonly teamId: string;
  readonly name: string;
  readonly type: 'triage' | 'backlog' | 'unstarted' | 'started' | 'completed' | 'canceled';
  readonly color: string;
  readonly position: number;
}

interface IssueRecord {
  readonly id: string;
  readonly teamId: string;
  readonly number: number;
  readonly identifier: string;
  title: string;
  description: string | null;
  stateId: string;
  priority: number;
  readonly creatorId: string;
  readonly createdAt: Date;
  updatedAt: Date;
}

interface CommentRecord {
  readonly id: string;
  readonly issueId: string;
  readonly body: string;
  readonly userId: string;
  readonly createdAt: Date;
}

interface AttachmentRecord {
  readonly id: string;
  readonly issueId: string;
  readonly url: string;
  title: string;
  subtitle: string | null;
  readonly creatorId: string;
  readonly createdAt: Date;
  updatedAt: Date;
}

export interface WorkspaceOptions {
  readonly now: () => Date;
  readonly newId: () => string;
}

/**
 * An issue whose workflow state changed, as Linear's `Issue` `update` webhook describes it:
 * `data` is the issue now (Linear's `IssueWebhookPayload`: `id`, `identifier`, `url`, `stateId`,
 * `state: { id, name, type, color }`, …) and `updatedFrom` the previous values of what changed.
 */
export interface IssueStateChange {
  readonly data: Record<string, unknown>;
  readonly updatedFrom: Record<string, unknown>;
  readonly url: string;
}

export type WorkflowStateType = 'triage' | 'backlog' | 'unstarted' | 'started' | 'completed' | 'canceled';

/** Ids of the seeded records, for configuration (`teamId`) and tests. */
export const LINEAR_SANDBOX = {
  organizationId: '5d0c7a4e-2f1b-4c8e-9a3d-7b6e1f2a9c01',
  organizationUrlKey: 'acme',
  teamId: '9a1e6f3c-4b2d-4e8a-b7c5-2d3f4a5b6c7d',
  teamKey: 'ENG',
  viewerId: '3c2b1a09-8f7e-4d6c-9b5a-4e3d2c1b0a98',
} as const;

const REPORTER_ID = '7e8f9a0b-1c2d-4e3f-8a4b-5c6d7e8f9a0b';
const STATE_IDS = {
  triage: 'a1b2c3d4-0001-4a00-8000-000000000001',
  backlog: 'a1b2c3d4-0002-4a00-8000-000000000002',
  todo: 'a1b2c3d4-0003-4a00-8000-000000000003',
  inProgress: 'a1b2c3d4-0004-4a00-8000-000000000004',
  inReview: 'a1b2c3d4-0005-4a00-8000-000000000005',
  done: 'a1b2c3d4-0006-4a00-8000-000000000006',
  canceled: 'a1b2c3d4-0007-4a00-8000-000000000007',
} as const;

// Linear documents client-supplied ids as "UUID v4 format"; refusing anything else here keeps us
// from shipping ids the real API might reject.
const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;
const UUID_ANY = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const IDENTIFIER = /^([a-z][a-z0-9_]*)-(\d+)$/i;

const PRIORITY_LABELS = ['No priority', 'Urgent', 'High', 'Medium', 'Low'] as const;

export class LinearWorkspace {
  private readonly users: UserRecord[];
  private readonly teams: TeamRecord[];
  private readonly states: StateRecord[];
  private readonly issues: IssueRecord[] = [];
  private readonly comments: CommentRecord[] = [];
  private readonly attachments: AttachmentRecord[] = [];
  private lastSyncId = 1_000_000;
  private readonly stateListeners: ((change: IssueStateChange) => void)[] = [];

  constructor(private readonly options: WorkspaceOptions) {
    const founded = new Date('2024-03-04T09:00:00.000Z');
    this.users = [
      {
        id: LINEAR_SANDBOX.viewerId,
        name: 'bugbot',
        displayName: 'bugbot',
        email: 'bugbot@acme.dev',
        createdAt: founded,
      },
      {
        id: REPORTER_ID,
        name: 'Dana Whitfield',
        displayName: 'dana',
        email: 'dana@acme.dev',
        createdAt: founded,
      },
    ];
    this.teams = [
      {
        id: LINEAR_SANDBOX.teamId,
        key: LINEAR_SANDBOX.teamKey,
        name: 'Engineering',
        defaultStateId: STATE_IDS.backlog,
        triageStateId: STATE_IDS.triage,
        issueCount: 0,
        createdAt: founded,
      },
    ];
    const teamId = LINEAR_SANDBOX.teamId;
    this.states = [
      { id: STATE_IDS.triage, teamId, name: 'Triage', type: 'triage', color: '#FC7840', position: 0 },
      { id: STATE_IDS.backlog, teamId, name: 'Backlog', type: 'backlog', color: '#bec2c8', position: 1 },
      { id: STATE_IDS.todo, teamId, name: 'Todo', type: 'unstarted', color: '#e2e2e2', position: 2 },
      {
        id: STATE_IDS.inProgress,
        teamId,
        name: 'In Progress',
        type: 'started',
        color: '#f2c94c',
        position: 3,
      },
      { id: STATE_IDS.inReview, teamId, name: 'In Review', type: 'started', color: '#0f783c', position: 4 },
      { id: STATE_IDS.done, teamId, name: 'Done', type: 'completed', color: '#5e6ad2', position: 5 },
      { id: STATE_IDS.canceled, teamId, name: 'Canceled', type: 'canceled', color: '#95a2b3', position: 6 },
    ];
    this.seedIssues();
  }

  private seedIssues(): void {
    const seeds: {
      id: string;
      title: string;
      description: string;
      stateId: string;
      priority: number;
      at: string;
    }[] = [
      {
        id: 'c0ffee01-5a1e-4b0b-9e11-000000000001',
        title: 'Login button unresponsive on Safari 17',
        description:
          'Tapping **Log in** on Safari 17 (macOS and iOS) does nothing. No network request is sent.\n\nWorks on Chrome and Firefox.',
        stateId: STATE_IDS.done,
        priority: 1,
        at: '2025-01-13T10:12:00.000Z',
      },
      {
        id: 'c0ffee02-5a1e-4b0b-9e11-000000000002',
        title: 'Crash when uploading a profile photo larger than 10 MB',
        description:
          'The app closes as soon as the upload starts. Reproducible with any HEIC photo over 10 MB.',
        stateId: STATE_IDS.inProgress,
        priority: 2,
        at: '2025-01-20T15:40:00.000Z',
      },
      {
        id: 'c0ffee03-5a1e-4b0b-9e11-000000000003',
        title: 'Dark mode: settings page text is unreadable',
        description: 'Section headers on Settings render dark grey on black when dark mode is on.',
        stateId: STATE_IDS.todo,
        priority: 3,
        at: '2025-02-02T08:05:00.000Z',
      },
      {
        id: 'c0ffee04-5a1e-4b0b-9e11-000000000004',
        title: 'Push notifications arrive twice on Android',
        description:
          'Every reminder notification is delivered twice, a few seconds apart (Android 14, app 3.8.1).',
        stateId: STATE_IDS.backlog,
        priority: 4,
        at: '2025-02-11T19:27:00.000Z',
      },
      {
        id: 'c0ffee05-5a1e-4b0b-9e11-000000000005',
        title: 'Checkout total ignores discount code after editing cart',
        description:
          'Apply SPRING10, then change a quantity: the total goes back to the undiscounted price while the code still shows as applied.',
        stateId: STATE_IDS.triage,
        priority: 2,
        at: '2025-02-24T12:51:00.000Z',
      },
    ];
    const team = this.teams[0]!;
    for (const seed of seeds) {
      team.issueCount += 1;
      const at = new Date(seed.at);
      this.issues.push({
        id: seed.id,
        teamId: team.id,
        number: team.issueCount,
        identifier: `${team.key}-${team.issueCount}`,
        title: seed.title,
        description: seed.description,
        stateId: seed.stateId,
        priority: seed.priority,
        creatorId: REPORTER_ID,
        createdAt: at,
        updatedAt: at,
      });
    }
  }

  snapshot(): { issues: unknown[]; comments: unknown[]; attachments: unknown[] } {
    return {
      issues: this.issues.map((issue) => ({
        id: issue.id,
        identifier: issue.identifier,
        title: issue.title,
        description: issue.description,
        url: this.issueUrl(issue),
        state: this.stateOf(issue).name,
        team: this.teamOf(issue).key,
        createdAt: issue.createdAt.toISOString(),
      })),
      comments: this.comments.map((comment) => ({
        id: comment.id,
        issueId: comment.issueId,
        body: comment.body,
        createdAt: comment.createdAt.toISOString(),
      })),
      attachments: this.attachments.map((attachment) => ({
        id: attachment.id,
        issueId: attachment.issueId,
        url: attachment.url,
        title: attachment.title,
        subtitle: attachment.subtitle,
        createdAt: attachment.createdAt.toISOString(),
      })),
    };
  }

  readonly resolvers: RootResolvers = {
    query: {
      issue: (args) => this.issueView(this.requireIssue(args.id)),
      issues: (args) => this.issueConnection(this.issues, args),
      issueSearch: (args) => this.issueConnection(this.search(args.query), args),
      searchIssues: (args) => this.searchPayload(args),
      comment: (args) => this.commentView(this.requireComment(args.id)),
      comments: (args) => this.commentConnection(this.comments, args),
      attachment: (args) => this.attachmentView(this.require(this.attachments, args.id, 'Attachment')),
      attachments: (args) => this.attachmentConnection(this.attachments, args),
      attachmentsForURL: (args) =>
        this.attachmentConnection(
          this.attachments.filter((attachment) => attachment.url === args.url),
          args,
        ),
      team: (args) => this.teamView(this.requireTeam(args.id)),
      teams: (args) =>
        connection(
          'Team',
          this.teams.map((team) => this.teamView(team)),
          args,
        ),
      workflowState: (args) => this.stateView(this.require(this.states, args.id, 'WorkflowState')),
      workflowStates: (args) =>
        connection(
          'WorkflowState',
          this.states.map((state) => this.stateView(state)),
          args,
        ),
      viewer: () => this.userView(this.require(this.users, LINEAR_SANDBOX.viewerId, 'User')),
      user: (args) => this.userView(this.require(this.users, args.id, 'User')),
      users: (args) =>
        connection(
          'User',
          this.users.map((user) => this.userView(user)),
          args,
        ),
      organization: () => this.organizationView(),
    },
    mutation: {
      issueCreate: (args) => this.createIssue(objectArgument(args.input)),
      issueUpdate: (args) => this.updateIssue(args.id, objectArgument(args.input)),
      commentCreate: (args) => this.createComment(objectArgument(args.input)),
      attachmentCreate: (args) => this.createAttachment(objectArgument(args.input)),
      attachmentLinkURL: (args) =>
        this.createAttachment({
          issueId: args.issueId,
          url: args.url,
          title: args.title ?? args.url,
          id: args.id,
        }),
    },
  };

  // --- mutations -------------------------------------------------------------------------------

  private createIssue(input: Record<string, unknown>): View {
    const teamId = requiredString(input.teamId, 'teamId must be a UUID.');
    const team = this.teams.find((candidate) => candidate.id === teamId);
    if (!team) throw entityNotFound('Team');
    const title = requiredString(input.title, 'title should not be empty.');
    const id = this.newEntityId(input.id, this.issues, 'Issue');
    const stateId = optionalString(input.stateId, 'stateId must be a UUID.') ?? team.defaultStateId;
    if (!this.states.some((state) => state.id === stateId && state.teamId === team.id)) {
      throw entityNotFound('WorkflowState');
    }
    const now = this.options.now();
    team.issueCount += 1;
    const issue: IssueRecord = {
      id,
      teamId: team.id,
      number: team.issueCount,
      identifier: `${team.key}-${team.issueCount}`,
      title,
      description: optionalString(input.description, 'description must be a string.') ?? null,
      stateId,
      priority: typeof input.priority === 'number' ? input.priority : 0,
      creatorId: LINEAR_SANDBOX.viewerId,
      createdAt: now,
      updatedAt: now,
    };
    this.issues.push(issue);
    return this.payload('IssuePayload', { issue: this.issueView(issue) });
  }

  /** Called after every change of an issue's workflow state (the GraphQL mutation, or setIssueState). */
  onIssueStateChange(listener: (change: IssueStateChange) => void): void {
    this.stateListeners.push(listener);
  }

  /**
   * Moves an issue to its team's first state of `type` (Done for `completed`, Canceled for
   * `canceled`), as a person would in Linear. Null when there is no such issue or state.
   */
  setIssueState(reference: string, type: WorkflowStateType): IssueStateChange | null {
    const issue = this.issues.find(
      (candidate) =>
        candidate.identifier.toLowerCase() === reference.toLowerCase() || candidate.id === reference,
    );
    if (!issue) return null;
    const state = this.states
      .filter((candidate) => candidate.teamId === issue.teamId && candidate.type === type)
      .sort((a, b) => a.position - b.position)[0];
    if (!state) return null;
    let change: IssueStateChange | null = null;
    const capture = (next: IssueStateChange) => {
      change = next;
    };
    this.stateListeners.push(capture);
    try {
      this.updateIssue(issue.id, { stateId: state.id });
    } finally {
      this.stateListeners.splice(this.stateListeners.indexOf(capture), 1);
    }
    return change ?? this.stateChangeOf(issue, { stateId: state.id });
  }

  private stateChangeOf(issue: IssueRecord, updatedFrom: Record<string, unknown>): IssueStateChange {
    const state = this.stateOf(issue);
    const team = this.teamOf(issue);
    const url = this.issueUrl(issue);
    return {
      url,
      updatedFrom,
      data: {
        id: issue.id,
        identifier: issue.identifier,
        number: issue.number,
        title: issue.title,
        description: issue.description,
        priority: issue.priority,
        priorityLabel: PRIORITY_LABELS[issue.priority] ?? 'No priority',
        url,
        createdAt: issue.createdAt.toISOString(),
        updatedAt: issue.updatedAt.toISOString(),
        ...(state.type === 'completed' ? { completedAt: issue.updatedAt.toISOString() } : {}),
        ...(state.type === 'canceled' ? { canceledAt: issue.updatedAt.toISOString() } : {}),
        stateId: state.id,
        state: { id: state.id, name: state.name, type: state.type, color: state.color },
        teamId: team.id,
        team: { id: team.id, key: team.key, name: team.name },
        labelIds: [],
        labels: [],
        subscriberIds: [],
        creatorId: issue.creatorId,
        assigneeId: null,
        previousIdentifiers: [],
        sortOrder: -issue.number,
        prioritySortOrder: issue.number,
        boardOrder: 0,
        slaType: 'all',
        reactionData: [],
      },
    };
  }

  private updateIssue(reference: unknown, input: Record<string, unknown>): View {
    const issue = this.requireIssue(reference);
    const before = { stateId: issue.stateId, updatedAt: issue.updatedAt.toISOString() };
    if (input.title !== undefined) issue.title = requiredString(input.title, 'title should not be empty.');
    if (input.description !== undefined) {
      issue.description = optionalString(input.description, 'description must be a string.') ?? null;
    }
    if (input.stateId !== undefined) {
      const stateId = requiredString(input.stateId, 'stateId must be a UUID.');
      if (!this.states.some((state) => state.id === stateId && state.teamId === issue.teamId)) {
        throw entityNotFound('WorkflowState');
      }
      issue.stateId = stateId;
    }
    if (typeof input.priority === 'number') issue.priority = input.priority;
    issue.updatedAt = this.options.now();
    if (issue.stateId !== before.stateId) {
      const change = this.stateChangeOf(issue, before);
      for (const listener of [...this.stateListeners]) listener(change);
    }
    return this.payload('IssuePayload', { issue: this.issueView(issue) });
  }

  private createComment(input: Record<string, unknown>): View {
    const issue = this.requireIssue(requiredString(input.issueId, 'issueId must be a UUID.'));
    const body = requiredString(input.body, 'body should not be empty.');
    const id = this.newEntityId(input.id, this.comments, 'Comment');
    const comment: CommentRecord = {
      id,
      issueId: issue.id,
      body,
      userId: LINEAR_SANDBOX.viewerId,
      createdAt: this.options.now(),
    };
    this.comments.push(comment);
    return this.payload('CommentPayload', { comment: this.commentView(comment) });
  }

  /** Linear's attachmentCreate is an upsert on (issueId, url): a repeated link updates the first. */
  private createAttachment(input: Record<string, unknown>): View {
    const issue = this.requireIssue(requiredString(input.issueId, 'issueId must be a UUID.'));
    const url = requiredString(input.url, 'url must be a URL address.');
    if (!isHttpUrl(url)) throw argumentValidationError('url must be a URL address.');
    const title = requiredString(input.title, 'title should not be empty.');
    const subtitle = optionalString(input.subtitle, 'subtitle must be a string.');
    const now = this.options.now();
    const existing = this.attachments.find(
      (attachment) => attachment.issueId === issue.id && attachment.url === url,
    );
    if (existing) {
      existing.title = title;
      if (subtitle !== undefined) existing.subtitle = subtitle;
      existing.updatedAt = now;
      return this.payload('AttachmentPayload', { attachment: this.attachmentView(existing) });
    }
    const attachment: AttachmentRecord = {
      id: this.newEntityId(input.id, this.attachments, 'Attachment'),
      issueId: issue.id,
      url,
      title,
      subtitle: subtitle ?? null,
      creatorId: LINEAR_SANDBOX.viewerId,
      createdAt: now,
      updatedAt: now,
    };
    this.attachments.push(attachment);
    return this.payload('AttachmentPayload', { attachment: this.attachmentView(attachment) });
  }

  private newEntityId(requested: unknown, existing: readonly { id: string }[], entity: string): string {
    if (requested === undefined || requested === null) return this.options.newId();
    if (typeof requested !== 'string' || !UUID_V4.test(requested)) {
      throw argumentValidationError('id must be a UUID v4.');
    }
    if (existing.some((record) => record.id.toLowerCase() === requested.toLowerCase())) {
      throw entityAlreadyExists(entity);
    }
    return requested.toLowerCase();
  }

  private payload(typename: string, fields: View): View {
    this.lastSyncId += 1;
    return { __typename: typename, success: true, lastSyncId: this.lastSyncId, ...fields };
  }

  // --- lookups ---------------------------------------------------------------------------------

  private requireIssue(reference: unknown): IssueRecord {
    if (typeof reference !== 'string') throw entityNotFound('Issue');
    const identifier = IDENTIFIER.exec(reference);
    if (identifier) {
      const team = this.teams.find(
        (candidate) => candidate.key.toLowerCase() === identifier[1]!.toLowerCase(),
      );
      const issue =
        team && this.issues.find((i) => i.teamId === team.id && i.number === Number(identifier[2]));
      if (issue) return issue;
      throw entityNotFound('Issue');
    }
    if (!UUID_ANY.test(reference)) throw entityNotFound('Issue');
    return this.require(this.issues, reference, 'Issue');
  }

  private requireComment(reference: unknown): CommentRecord {
    return this.require(this.comments, reference, 'Comment');
  }

  private requireTeam(reference: unknown): TeamRecord {
    const team = this.teams.find(
      (candidate) =>
        candidate.id === reference ||
        (typeof reference === 'string' && candidate.key.toLowerCase() === reference.toLowerCase()),
    );
    if (!team) throw entityNotFound('Team');
    return team;
  }

  private require<T extends { id: string }>(records: readonly T[], id: unknown, entity: string): T {
    const record =
      typeof id === 'string'
        ? records.find((candidate) => candidate.id.toLowerCase() === id.toLowerCase())
        : undefined;
    if (!record) throw entityNotFound(entity);
    return record;
  }

  private teamOf(issue: IssueRecord): TeamRecord {
    return this.teams.find((team) => team.id === issue.teamId)!;
  }

  private stateOf(issue: IssueRecord): StateRecord {
    return this.states.find((state) => state.id === issue.stateId)!;
  }

  private issueUrl(issue: IssueRecord): string {
    return `https://linear.app/${LINEAR_SANDBOX.organizationUrlKey}/issue/${issue.identifier}/${slugify(issue.title)}`;
  }

  private search(term: unknown): IssueRecord[] {
    const needle = typeof term === 'string' ? term.trim().toLowerCase() : '';
    if (needle === '') return [];
    return this.issues.filter((issue) =>
      [issue.identifier, issue.title, issue.description ?? ''].some((text) =>
        text.toLowerCase().includes(needle),
      ),
    );
  }

  private searchPayload(args: FieldArguments): View {
    const results = this.search(args.term).map((issue) => ({
      ...this.issueView(issue),
      __typename: 'IssueSearchResult',
      metadata: {},
    }));
    const page = connection('IssueSearchResult', results, args);
    return {
      ...page,
      __typename: 'IssueSearchPayload',
      totalCount: results.length,
      archivePayload: {
        __typename: 'ArchiveResponse',
        archive: '',
        totalCount: 0,
        databaseVersion: 0,
        success: true,
      },
    };
  }

  // --- views -----------------------------------------------------------------------------------

  private issueConnection(records: readonly IssueRecord[], args: FieldArguments): View {
    const newestFirst = [...records].sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime());
    const views = newestFirst.map((issue) => this.issueView(issue));
    return connection('Issue', filterViews(views, args.filter), args);
  }

  private commentConnection(records: readonly CommentRecord[], args: FieldArguments): View {
    const views = records.map((comment) => this.commentView(comment));
    return connection('Comment', filterViews(views, args.filter), args);
  }

  private attachmentConnection(records: readonly AttachmentRecord[], args: FieldArguments): View {
    const views = records.map((attachment) => this.attachmentView(attachment));
    return connection('Attachment', filterViews(views, args.filter), args);
  }

  private issueView(issue: IssueRecord): View {
    const team = this.teamOf(issue);
    const url = this.issueUrl(issue);
    return {
      __typename: 'Issue',
      id: issue.id,
      identifier: issue.identifier,
      number: issue.number,
      title: issue.title,
      description: issue.description,
      url,
      branchName: `${team.key.toLowerCase()}-${issue.number}-${slugify(issue.title)}`,
      priority: issue.priority,
      priorityLabel: PRIORITY_LABELS[issue.priority] ?? 'No priority',
      estimate: null,
      sortOrder: -issue.number,
      boardOrder: 0,
      prioritySortOrder: issue.number,
      createdAt: issue.createdAt,
      updatedAt: issue.updatedAt,
      archivedAt: null,
      trashed: false,
      labelIds: [],
      previousIdentifiers: [],
      reactionData: [],
      reactions: [],
      customerTicketCount: 0,
      inheritsSharedAccess: false,
      sharedAccess: {
        __typename: 'IssueSharedAccess',
        isShared: false,
        sharedWithCount: 0,
        sharedWithUsers: [],
        disallowedIssueFields: [],
        viewerHasOnlySharedAccess: false,
      },
      team: () => this.teamView(team),
      state: () => this.stateView(this.stateOf(issue)),
      creator: () => this.userView(this.require(this.users, issue.creatorId, 'User')),
      assignee: null,
      comments: (args: FieldArguments) =>
        this.commentConnection(
          this.comments.filter((comment) => comment.issueId === issue.id),
          args,
        ),
      attachments: (args: FieldArguments) =>
        this.attachmentConnection(
          this.attachments.filter((attachment) => attachment.issueId === issue.id),
          args,
        ),
      labels: (args: FieldArguments) => connection('IssueLabel', [], args),
      children: (args: FieldArguments) => connection('Issue', [], args),
      subscribers: (args: FieldArguments) => connection('User', [], args),
    };
  }

  private commentView(comment: CommentRecord): View {
    const issue = this.require(this.issues, comment.issueId, 'Issue');
    return {
      __typename: 'Comment',
      id: comment.id,
      body: comment.body,
      url: `${this.issueUrl(issue)}#comment-${comment.id.slice(0, 8)}`,
      issueId: issue.id,
      createdAt: comment.createdAt,
      updatedAt: comment.createdAt,
      editedAt: null,
      archivedAt: null,
      reactionData: [],
      reactions: [],
      issue: () => this.issueView(issue),
      user: () => this.userView(this.require(this.users, comment.userId, 'User')),
      parent: null,
      children: (args: FieldArguments) => connection('Comment', [], args),
    };
  }

  private attachmentView(attachment: AttachmentRecord): View {
    return {
      __typename: 'Attachment',
      id: attachment.id,
      url: attachment.url,
      title: attachment.title,
      subtitle: attachment.subtitle,
      metadata: {},
      groupBySource: false,
      createdAt: attachment.createdAt,
      updatedAt: attachment.updatedAt,
      archivedAt: null,
      issue: () => this.issueView(this.require(this.issues, attachment.issueId, 'Issue')),
      creator: () => this.userView(this.require(this.users, attachment.creatorId, 'User')),
    };
  }

  private teamView(team: TeamRecord): View {
    const states = () => this.states.filter((state) => state.teamId === team.id);
    return {
      __typename: 'Team',
      id: team.id,
      key: team.key,
      name: team.name,
      displayName: team.name,
      description: null,
      private: false,
      timezone: 'Etc/UTC',
      issueCount: team.issueCount,
      cyclesEnabled: false,
      triageEnabled: true,
      createdAt: team.createdAt,
      updatedAt: team.createdAt,
      archivedAt: null,
      organization: () => this.organizationView(),
      defaultIssueState: () =>
        this.stateView(this.require(this.states, team.defaultStateId, 'WorkflowState')),
      triageIssueState: () => this.stateView(this.require(this.states, team.triageStateId, 'WorkflowState')),
      states: (args: FieldArguments) =>
        connection(
          'WorkflowState',
          filterViews(
            states().map((state) => this.stateView(state)),
            args.filter,
          ),
          args,
        ),
      issues: (args: FieldArguments) =>
        this.issueConnection(
          this.issues.filter((issue) => issue.teamId === team.id),
          args,
        ),
      members: (args: FieldArguments) =>
        connection(
          'User',
          this.users.map((user) => this.userView(user)),
          args,
        ),
      labels: (args: FieldArguments) => connection('IssueLabel', [], args),
    };
  }

  private stateView(state: StateRecord): View {
    return {
      __typename: 'WorkflowState',
      id: state.id,
      name: state.name,
      type: state.type,
      color: state.color,
      position: state.position,
      description: null,
      createdAt: this.teams[0]!.createdAt,
      updatedAt: this.teams[0]!.createdAt,
      archivedAt: null,
      team: () => this.teamView(this.requireTeam(state.teamId)),
      issues: (args: FieldArguments) =>
        this.issueConnection(
          this.issues.filter((issue) => issue.stateId === state.id),
          args,
        ),
    };
  }

  private userView(user: UserRecord): View {
    return {
      __typename: 'User',
      id: user.id,
      name: user.name,
      displayName: user.displayName,
      email: user.email,
      avatarUrl: null,
      initials: initials(user.name),
      active: true,
      admin: user.id === LINEAR_SANDBOX.viewerId,
      owner: false,
      guest: false,
      app: false,
      isMe: user.id === LINEAR_SANDBOX.viewerId,
      isAssignable: true,
      isMentionable: true,
      createdIssueCount: this.issues.filter((issue) => issue.creatorId === user.id).length,
      url: `https://linear.app/${LINEAR_SANDBOX.organizationUrlKey}/profiles/${user.displayName}`,
      timezone: 'Etc/UTC',
      createdAt: user.createdAt,
      updatedAt: user.createdAt,
      archivedAt: null,
      organization: () => this.organizationView(),
      teams: (args: FieldArguments) =>
        connection(
          'Team',
          this.teams.map((team) => this.teamView(team)),
          args,
        ),
      assignedIssues: (args: FieldArguments) => connection('Issue', [], args),
      createdIssues: (args: FieldArguments) =>
        this.issueConnection(
          this.issues.filter((issue) => issue.creatorId === user.id),
          args,
        ),
    };
  }

  private organizationView(): View {
    return {
      __typename: 'Organization',
      id: LINEAR_SANDBOX.organizationId,
      name: 'Acme',
      urlKey: LINEAR_SANDBOX.organizationUrlKey,
      userCount: this.users.length,
      createdIssueCount: this.issues.length,
      projectStatuses: [],
      allowedAuthServices: [],
      previousUrlKeys: [],
      createdAt: this.teams[0]!.createdAt,
      updatedAt: this.teams[0]!.createdAt,
      archivedAt: null,
      teams: (args: FieldArguments) =>
        connection(
          'Team',
          this.teams.map((team) => this.teamView(team)),
          args,
        ),
      users: (args: FieldArguments) =>
        connection(
          'User',
          this.users.map((user) => this.userView(user)),
          args,
        ),
    };
  }
}

// --- helpers -------------------------------------------------------------------------------------

function objectArgument(value: unknown): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw argumentValidationError('input must be an object.');
  }
  return value as Record<string, unknown>;
}

function requiredString(value: unknown, message: string): string {
  if (typeof value !== 'string' || value.trim() === '') throw argumentValidationError(message);
  return value;
}

function optionalString(value: unknown, message: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw argumentValidationError(message);
  return value;
}

function isHttpUrl(value: string): boolean {
  try {
    const { protocol } = new URL(value);
    return protocol === 'https:' || protocol === 'http:';
  } catch {
    return false;
  }
}

function slugify(title: string): string {
  return (
    title
      .toLowerCase()
      .normalize('NFKD')
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 60)
      .replace(/-+$/, '') || 'issue'
  );
}

function initials(name: string): string {
  return name
    .split(/\s+/)
    .map((part) => part[0]?.toUpperCase() ?? '')
    .join('')
    .slice(0, 2);
}

function connection(typename: string, views: readonly View[], args: FieldArguments): View {
  let remaining = [...views];
  const after = args.after;
  if (typeof after === 'string') {
    const index = remaining.findIndex((view) => view.id === after);
    remaining = index >= 0 ? remaining.slice(index + 1) : [];
  }
  const first = typeof args.first === 'number' && args.first >= 0 ? args.first : 50;
  const page = remaining.slice(0, first);
  const cursor = (view: View | undefined) => (typeof view?.id === 'string' ? view.id : null);
  return {
    __typename: `${typename}Connection`,
    nodes: page,
    edges: page.map((node) => ({ __typename: `${typename}Edge`, node, cursor: cursor(node) })),
    pageInfo: {
      __typename: 'PageInfo',
      hasNextPage: remaining.length > page.length,
      hasPreviousPage: typeof after === 'string',
      startCursor: cursor(page[0]),
      endCursor: cursor(page.at(-1)),
    },
  };
}

const COMPARATORS = new Set([
  'eq',
  'neq',
  'in',
  'nin',
  'null',
  'lt',
  'lte',
  'gt',
  'gte',
  'eqIgnoreCase',
  'neqIgnoreCase',
  'contains',
  'containsIgnoreCase',
  'notContains',
  'notContainsIgnoreCase',
  'startsWith',
  'notStartsWith',
  'endsWith',
  'notEndsWith',
]);

/** Linear's filter input (`{ team: { key: { eq: "ENG" } }, number: { in: [1, 2] }, or: [...] }`). */
function filterViews(views: readonly View[], filter: unknown): View[] {
  if (filter === null || typeof filter !== 'object') return [...views];
  return views.filter((view) => matchesFilter(view, filter as Record<string, unknown>));
}

function matchesFilter(subject: View, filter: Record<string, unknown>): boolean {
  for (const [key, condition] of Object.entries(filter)) {
    if (condition === null || condition === undefined) continue;
    if (key === 'and' && Array.isArray(condition)) {
      if (!condition.every((part) => matchesFilter(subject, part as Record<string, unknown>))) return false;
      continue;
    }
    if (key === 'or' && Array.isArray(condition)) {
      if (!condition.some((part) => matchesFilter(subject, part as Record<string, unknown>))) return false;
      continue;
    }
    const raw = subject[key];
    const value = typeof raw === 'function' ? raw({}) : raw;
    if (typeof condition !== 'object') return false;
    const entries = Object.entries(condition as Record<string, unknown>);
    if (entries.every(([operator]) => COMPARATORS.has(operator))) {
      if (!entries.every(([operator, operand]) => compare(value, operator, operand))) return false;
    } else if (
      value === null ||
      typeof value !== 'object' ||
      !matchesFilter(value as View, condition as View)
    ) {
      return false;
    }
  }
  return true;
}

function compare(value: unknown, operator: string, operand: unknown): boolean {
  const left = value instanceof Date ? value.toISOString() : value;
  const text = typeof left === 'string' ? left : String(left ?? '');
  const needle = typeof operand === 'string' ? operand : String(operand ?? '');
  switch (operator) {
    case 'eq':
      return left === operand;
    case 'neq':
      return left !== operand;
    case 'in':
      return Array.isArray(operand) && operand.includes(left);
    case 'nin':
      return Array.isArray(operand) && !operand.includes(left);
    case 'null':
      return (left === null || left === undefined) === operand;
    case 'lt':
      return (left as number | string) < (operand as number | string);
    case 'lte':
      return (left as number | string) <= (operand as number | string);
    case 'gt':
      return (left as number | string) > (operand as number | string);
    case 'gte':
      return (left as number | string) >= (operand as number | string);
    case 'eqIgnoreCase':
      return text.toLowerCase() === needle.toLowerCase();
    case 'neqIgnoreCase':
      return text.toLowerCase() !== needle.toLowerCase();
    case 'contains':
      return text.includes(needle);
    case 'containsIgnoreCase':
      return text.toLowerCase().includes(needle.toLowerCase());
    case 'notContains':
      return !text.includes(needle);
    case 'notContainsIgnoreCase':
      return !text.toLowerCase().includes(needle.toLowerCase());
    case 'startsWith':
      return text.startsWith(needle);
    case 'notStartsWith':
      return !text.startsWith(needle);
    case 'endsWith':
      return text.endsWith(needle);
    case 'notEndsWith':
      return !text.endsWith(needle);
    default:
      return false;
  }
}
