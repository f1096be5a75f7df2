/**
 * What the GitHub stand-in holds: served repositories and, per repository, labels, issues and pull
 * requests sharing one number sequence (as on GitHub, PR #3 and issue #3 cannot both exist).
 * Branches are not held here: they live in the bare repository, read through git on demand.
 */

export interface RepositoryRegistration {
  readonly owner: string;
  readonly repo: string;
  /**
   * The bare repository served over smart HTTP, searched by code search and consulted for
   * branches. Without it the repository has no branches: pull requests are refused (head invalid)
   * and code search finds nothing in it.
   */
  readonly bareDir?: string;
  /** Default `main`. */
  readonly defaultBranch?: string;
  /**
   * False for a repository that refuses draft pull requests (private repositories on GitHub Free
   * and Pro): creating one answers 422 "Draft pull requests are not supported in this repository."
   */
  readonly draftPullRequests?: boolean;
  /**
   * `owner/repo` this repository is a fork of: its branches may be the head of a pull request in
   * that repository (`head: "<this owner>:<branch>"`). Its bare repository should borrow the
   * parent's objects (git alternates), as forks share one network on GitHub.
   */
  readonly forkOf?: string;
}

export interface LabelRecord {
  readonly id: number;
  readonly name: string;
  readonly color: string;
}

export interface IssueRecord {
  readonly id: number;
  readonly number: number;
  readonly title: string;
  readonly body: string | null;
  readonly labels: readonly LabelRecord[];
  readonly state: 'open' | 'closed';
  readonly createdAt: string;
}

export interface PullRecord {
  readonly id: number;
  readonly number: number;
  readonly title: string;
  readonly body: string | null;
  readonly head: string;
  /** The repository the head branch is in (`owner/repo`): this one, or a fork of it. */
  readonly headRepository: string;
  readonly headSha: string;
  readonly base: string;
  readonly baseSha: string;
  readonly draft: boolean;
  state: 'open' | 'closed';
  readonly createdAt: string;
  /** Set when the pull request was merged (a closed one without it was closed unmerged). */
  readonly mergedAt?: string;
  readonly mergeCommitSha?: string;
  closedAt?: string;
  readonly comments: { readonly id: number; readonly body: string; readonly createdAt: string }[];
}

/** A deployment and its latest status, as GitHub's Deployments API keeps them. */
export interface DeploymentRecord {
  readonly id: number;
  readonly ref: string;
  readonly sha: string;
  readonly environment: string;
  readonly environmentUrl: string;
  readonly createdAt: string;
}

export class ServedRepository {
  readonly owner: string;
  readonly repo: string;
  readonly fullName: string;
  readonly bareDir: string | undefined;
  readonly defaultBranch: string;
  readonly draftPullRequests: boolean;
  readonly forkOf: string | undefined;
  readonly labels = new Map<string, LabelRecord>();
  readonly issues: IssueRecord[] = [];
  readonly pulls: PullRecord[] = [];
  readonly deployments: DeploymentRecord[] = [];
  private lastNumber = 0;

  constructor(
    readonly id: number,
    registration: RepositoryRegistration,
    private readonly nextId: () => number,
  ) {
    this.owner = registration.owner;
    this.repo = registration.repo;
    this.fullName = `${registration.owner}/${registration.repo}`;
    this.bareDir = registration.bareDir;
    this.defaultBranch = registration.defaultBranch ?? 'main';
    this.draftPullRequests = registration.draftPullRequests ?? true;
    this.forkOf = registration.forkOf;
  }

  /** Finds a label by name (case-insensitive, as GitHub compares them), creating it when new. */
  ensureLabel(name: string): LabelRecord {
    const key = name.toLowerCase();
    const existing = this.labels.get(key);
    if (existing) return existing;
    const label = { id: this.nextId(), name, color: labelColor(name) };
    this.labels.set(key, label);
    return label;
  }

  addIssue(input: Omit<IssueRecord, 'id' | 'number'>): IssueRecord {
    const issue = { ...input, id: this.nextId(), number: this.takeNumber() };
    this.issues.push(issue);
    return issue;
  }

  addPull(input: Omit<PullRecord, 'id' | 'number' | 'comments'>): PullRecord {
    const pull: PullRecord = { ...input, id: this.nextId(), number: this.takeNumber(), comments: [] };
    this.pulls.push(pull);
    return pull;
  }

  updatePull(number: number, patch: Partial<Omit<PullRecord, 'id' | 'number'>>): PullRecord | undefined {
    const index = this.pulls.findIndex((pull) => pull.number === number);
    const current = this.pulls[index];
    if (!current) return undefined;
    const updated = { ...current, ...patch };
    this.pulls[index] = updated;
    return updated;
  }

  addDeployment(input: Omit<DeploymentRecord, 'id'>): DeploymentRecord {
    const deployment = { ...input, id: this.nextId() };
    this.deployments.push(deployment);
    return deployment;
  }

  newId(): number {
    return this.nextId();
  }

  private takeNumber(): number {
    this.lastNumber += 1;
    return this.lastNumber;
  }
}

export class GitHubStore {
  private readonly repositories = new Map<string, ServedRepository>();
  private lastId = 1000;

  addRepository(registration: RepositoryRegistration): ServedRepository {
    const key = keyOf(registration.owner, registration.repo);
    const existing = this.repositories.get(key);
    const repository = new ServedRepository(existing?.id ?? this.nextId(), registration, () => this.nextId());
    this.repositories.set(key, repository);
    return repository;
  }

  find(owner: string, repo: string): ServedRepository | undefined {
    return this.repositories.get(keyOf(owner, repo.replace(/\.git$/, '')));
  }

  all(): ServedRepository[] {
    return [...this.repositories.values()];
  }

  private nextId(): number {
    this.lastId += 1;
    return this.lastId;
  }
}

function keyOf(owner: string, repo: string): string {
  return `${owner}/${repo}`.toLowerCase();
}

/** A stable colour per label name, like the ones GitHub picks for auto-created labels. */
function labelColor(name: string): string {
  let hash = 0;
  for (const char of name) hash = (hash * 31 + (char.codePointAt(0) ?? 0)) >>> 0;
  return (hash & 0xffffff).toString(16).padStart(6, '0');
}
