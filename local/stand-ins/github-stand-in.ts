import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createGitRunner } from './github/bare-repository.js';
import { serveGitHttp } from './github/git-http-backend.js';
import { answerRest } from './github/github-rest.js';
import { GitHubStore, type RepositoryRegistration } from './github/github-store.js';
import {
  closePull,
  deploy,
  type GitHubWebhookContext,
  mergePull,
  type SandboxAnswer,
  sendPullRequestEvent,
} from './github/github-webhooks.js';
import {
  badCredentials,
  faultBody,
  notFound,
  primaryRateLimited,
  type RateLimitState,
  rateLimitHeaders,
  requiresAuthentication,
  secondaryRateLimited,
} from './github/github-wire.js';
import { RateLimitWindow } from './github/rate-limit-window.js';
import {
  cutResponseBody,
  type Fault,
  FaultInjector,
  type RecordedCall,
  readBody,
  type StandIn,
  sendHtmlFault,
  sendJson,
} from './stand-in.js';
import type { DeliveryRecord, WebhookTarget } from './webhook-delivery.js';

export type { RepositoryRegistration } from './github/github-store.js';

/**
 * GitHub as Octokit and git see it, under one prefix (default `/_sandbox/github`):
 *
 * - REST at `<prefix>/api/v3` — the layout of GitHub Enterprise Server, so Octokit's `baseUrl` is
 *   `http://127.0.0.1:<port>/_sandbox/github/api/v3`. Repositories, issues (labels auto-created),
 *   pull requests (the head must be a branch of the bare repository) and code search. Every request
 *   needs `Authorization: token|Bearer <token>` (or basic auth with the token as password); every
 *   answer carries `x-ratelimit-*` headers; code search allows 10 requests a minute, then answers
 *   403 like GitHub's primary limit.
 * - Git smart HTTP at `<prefix>/<owner>/<repo>.git` for repositories registered with a bare
 *   directory: clone and fetch (partial clone included) anonymously or authenticated; push only
 *   authenticated (`http.extraHeader=Authorization: Bearer <token>`, or basic auth as
 *   `x-access-token:<token>`). A pushed branch is at once a valid pull-request head.
 */

export const GITHUB_SANDBOX = {
  /** The token the stand-in accepts unless given others. */
  token: 'ghs_sandboxToken0123456789abcdefghijklmn',
  /** REST base URL below the mount prefix. */
  apiPath: '/api/v3',
} as const;

export interface GitHubStandInOptions {
  readonly now?: () => Date;
  /** For `FaultInjector`'s `failRate`. */
  readonly random?: () => number;
  /** Tokens accepted for REST and push. Default `[GITHUB_SANDBOX.token]`. */
  readonly tokens?: readonly string[];
  /** Base of `html_url`s (and so of `url` in `snapshot()`). Default `https://github.com`. */
  readonly htmlBaseUrl?: string;
  /** Where the stand-in is mounted, for the absolute URLs it answers with. Default `/_sandbox/github`. */
  readonly mountPath?: string;
  /** Default `git`. */
  readonly gitBinary?: string;
  readonly repositories?: readonly RepositoryRegistration[];
}

export interface GitHubStandIn extends StandIn {
  readonly service: 'github';
  /** Serves a repository; registering the same owner/repo again replaces its settings. */
  addRepository(registration: RepositoryRegistration): void;
  /**
   * Answers the next `count` REST requests with GitHub's rate-limit refusal: `secondary` is a 403
   * whose message says "secondary rate limit" with `retry-after`; `primary` a 403 with
   * `x-ratelimit-remaining: 0` and a reset `retryAfterSeconds` away.
   */
  limitNext(count: number, options: { kind: 'primary' | 'secondary'; retryAfterSeconds: number }): void;
  /**
   * Where the repositories' webhook delivers (`pull_request`, `deployment_status`), signed with
   * `secret`; `baseUrl` is where this stand-in is reached (the payloads' API URLs). Null: no hook.
   */
  setWebhook(target: (WebhookTarget & { readonly baseUrl: string }) | null): void;
  /** The merge button: a merge commit on the base branch, then the signed `pull_request` closed. */
  mergePull(repository: string, number: number): Promise<SandboxAnswer>;
  /** Close without merging, then the signed `pull_request` closed (`merged: false`). */
  closePull(repository: string, number: number): Promise<SandboxAnswer>;
  /** A successful deployment of a branch (a preview), then the signed `deployment_status`. */
  deploy(
    repository: string,
    input: { readonly ref: string; readonly environmentUrl: string; readonly environment?: string },
  ): Promise<SandboxAnswer>;
}

const CODE_SEARCH_PER_MINUTE = 10;
const CORE_PER_HOUR = 5000;
const GIT_ROUTE = /^\/([^/]+)\/([^/]+?)(?:\.git)?\/(info\/refs|git-upload-pack|git-receive-pack)$/;

export function createGitHubStandIn(options: GitHubStandInOptions = {}): GitHubStandIn {
  const now = options.now ?? (() => new Date());
  const tokens = new Set(options.tokens ?? [GITHUB_SANDBOX.token]);
  const htmlBaseUrl = (options.htmlBaseUrl ?? 'https://github.com').replace(/\/+$/, '');
  const mountPath = (options.mountPath ?? '/_sandbox/github').replace(/\/+$/, '');
  const gitBinary = options.gitBinary ?? 'git';
  const git = createGitRunner(gitBinary);
  const store = new GitHubStore();
  const faults = new FaultInjector(options.random);
  const calls: RecordedCall[] = [];
  const core = new RateLimitWindow('core', CORE_PER_HOUR, 3_600_000);
  const codeSearch = new RateLimitWindow('code_search', CODE_SEARCH_PER_MINUTE, 60_000);
  let forcedLimit: { remaining: number; kind: 'primary' | 'secondary'; retryAfterSeconds: number } | null =
    null;

  for (const registration of options.repositories ?? []) store.addRepository(registration);
  let webhook: (WebhookTarget & { readonly baseUrl: string }) | null = null;
  const deliveries: DeliveryRecord[] = [];
  const webhookContext = (): GitHubWebhookContext => {
    const origin = (webhook?.baseUrl ?? 'http://127.0.0.1').replace(/\/+$/, '');
    return {
      store,
      git,
      now,
      htmlBaseUrl,
      apiBaseUrl: `${origin}${mountPath}${GITHUB_SANDBOX.apiPath}`,
      gitBaseUrl: `${origin}${mountPath}`,
      target: () => webhook,
      deliveries,
    };
  };
  const withRepository = async (
    fullName: string,
    act: (repository: NonNullable<ReturnType<GitHubStore['find']>>) => Promise<SandboxAnswer>,
  ): Promise<SandboxAnswer> => {
    const [owner = '', repo = ''] = fullName.split('/');
    const repository = store.find(owner, repo);
    return repository ? act(repository) : { ok: false, status: 404, error: `no repository ${fullName}` };
  };

  async function handle(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    const method = req.method ?? 'GET';
    const url = new URL(path, 'http://stand-in');
    const record = (status: number, body?: unknown) =>
      calls.push({ at: now().toISOString(), method, path, ...(body === undefined ? {} : { body }), status });

    const fault = await faults.apply();
    if (fault?.kind === 'html') {
      await readBody(req);
      sendHtmlFault(res, fault.status);
      record(fault.status);
      return;
    }
    if (fault?.kind === 'truncate') cutResponseBody(res);
    if (fault?.kind === 'status') {
      const faultStatus = fault.status;
      await readBody(req);
      const limits = url.pathname.startsWith(`${GITHUB_SANDBOX.apiPath}/`)
        ? rateLimitHeaders(core.peek(now().getTime()))
        : {};
      sendJson(res, faultStatus, faultBody(faultStatus), {
        ...limits,
        ...(faultStatus === 429 ? { 'retry-after': String(fault.retryAfterSeconds ?? 1) } : {}),
      });
      record(faultStatus);
      return;
    }

    const gitRoute = GIT_ROUTE.exec(url.pathname);
    if (gitRoute) {
      record(await handleGit(req, res, url, gitRoute));
      return;
    }

    const raw = await readBody(req);
    const body = parseJson(raw);
    if (body === INVALID_JSON) {
      sendJson(res, 400, {
        message: 'Problems parsing JSON',
        documentation_url: 'https://docs.github.com/rest',
        status: '400',
      });
      record(400);
      return;
    }
    if (!url.pathname.startsWith(`${GITHUB_SANDBOX.apiPath}/`)) {
      sendJson(res, 404, notFound);
      record(404, body);
      return;
    }
    const answer = await handleRest(req, method, url, body);
    sendJson(res, answer.status, answer.body, answer.headers);
    record(answer.status, body);
  }

  async function handleRest(
    req: IncomingMessage,
    method: string,
    url: URL,
    body: unknown,
  ): Promise<{ status: number; body: unknown; headers: Record<string, string> }> {
    const requestId = randomBytes(8).toString('hex').toUpperCase();
    const restUrl = new URL(
      url.pathname.slice(GITHUB_SANDBOX.apiPath.length) + url.search,
      'http://stand-in',
    );
    const isSearch = restUrl.pathname.startsWith('/search/');
    const at = now().getTime();
    const common = { 'x-github-request-id': requestId, 'x-github-api-version-selected': '2022-11-28' };

    const credentials = readCredentials(req.headers.authorization);
    if (credentials === null || !tokens.has(credentials)) {
      const limits = rateLimitHeaders({ resource: 'core', limit: 60, used: 0, resetAt: at + 3_600_000 });
      return {
        status: 401,
        body: credentials === null ? requiresAuthentication : badCredentials,
        headers: { ...common, ...limits },
      };
    }

    if (forcedLimit && forcedLimit.remaining > 0) {
      forcedLimit.remaining -= 1;
      const resetAt = at + forcedLimit.retryAfterSeconds * 1000;
      if (forcedLimit.kind === 'secondary') {
        return {
          status: 403,
          body: secondaryRateLimited(requestId),
          headers: {
            ...common,
            ...rateLimitHeaders(core.peek(at)),
            'retry-after': String(forcedLimit.retryAfterSeconds),
          },
        };
      }
      const spent: RateLimitState = { resource: 'core', limit: CORE_PER_HOUR, used: CORE_PER_HOUR, resetAt };
      return {
        status: 403,
        body: primaryRateLimited(requestId),
        headers: { ...common, ...rateLimitHeaders(spent) },
      };
    }

    const window = isSearch ? codeSearch : core;
    const taken = window.take(at);
    const limits = rateLimitHeaders(taken.state);
    if (!taken.allowed) {
      return { status: 403, body: primaryRateLimited(requestId), headers: { ...common, ...limits } };
    }

    const origin = `http://${req.headers.host ?? '127.0.0.1'}`;
    const answer = await answerRest(
      {
        store,
        git,
        now,
        htmlBaseUrl,
        apiBaseUrl: `${origin}${mountPath}${GITHUB_SANDBOX.apiPath}`,
        gitBaseUrl: `${origin}${mountPath}`,
        pullRequestChanged: (repository, pull, action) => {
          // Delivered after the answer, as GitHub does; deliverWebhook records failures, never throws.
          void sendPullRequestEvent(webhookContext(), repository, pull, action);
        },
      },
      method,
      restUrl,
      body,
    );
    return { status: answer.status, body: answer.body, headers: { ...common, ...limits, ...answer.headers } };
  }

  async function handleGit(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    route: RegExpExecArray,
  ): Promise<number> {
    const [, owner = '', repo = '', endpoint = ''] = route;
    const repository = store.find(owner, repo);
    const service = endpoint === 'info/refs' ? url.searchParams.get('service') : endpoint;
    const validMethod = endpoint === 'info/refs' ? req.method === 'GET' : req.method === 'POST';
    if (
      !repository?.bareDir ||
      !validMethod ||
      (service !== 'git-upload-pack' && service !== 'git-receive-pack')
    ) {
      await readBody(req);
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('Repository not found.\n');
      return 404;
    }
    const credentials = readCredentials(req.headers.authorization);
    const authenticated = credentials !== null && tokens.has(credentials);
    // Clone may be anonymous (a public repository); wrong credentials and anonymous pushes are not.
    if ((credentials !== null && !authenticated) || (service === 'git-receive-pack' && !authenticated)) {
      await readBody(req);
      res.writeHead(401, { 'content-type': 'text/plain', 'www-authenticate': 'Basic realm="GitHub"' });
      res.end(
        credentials === null
          ? 'Authentication required.\n'
          : 'Invalid username or token. Password authentication is not supported for Git operations.\n',
      );
      return 401;
    }
    return serveGitHttp(req, res, {
      bareDir: repository.bareDir,
      endpoint,
      queryString: url.search.replace(/^\?/, ''),
      remoteUser: authenticated ? 'x-access-token' : undefined,
      gitBinary,
    });
  }

  return {
    service: 'github',
    handle,
    calls,
    setFault(fault: Fault | null) {
      faults.set(fault);
    },
    addRepository(registration) {
      store.addRepository(registration);
    },
    limitNext(count, limit) {
      forcedLimit = { remaining: count, kind: limit.kind, retryAfterSeconds: limit.retryAfterSeconds };
    },
    setWebhook(target) {
      webhook = target;
    },
    mergePull: (fullName, number) =>
      withRepository(fullName, (repository) => mergePull(webhookContext(), repository, number)),
    closePull: (fullName, number) =>
      withRepository(fullName, (repository) => closePull(webhookContext(), repository, number)),
    deploy: (fullName, input) =>
      withRepository(fullName, (repository) => deploy(webhookContext(), repository, input)),
    snapshot() {
      const repositories = store.all();
      return {
        pulls: repositories.flatMap((repository) =>
          repository.pulls.map((pull) => ({
            repository: repository.fullName,
            number: pull.number,
            title: pull.title,
            body: pull.body,
            head: pull.head,
            headRepository: pull.headRepository,
            base: pull.base,
            comments: pull.comments.map((comment) => comment.body),
            draft: pull.draft,
            state: pull.state,
            merged: pull.mergedAt !== undefined,
            url: `${htmlBaseUrl}/${repository.fullName}/pull/${pull.number}`,
          })),
        ),
        deployments: repositories.flatMap((repository) =>
          repository.deployments.map((deployment) => ({ repository: repository.fullName, ...deployment })),
        ),
        deliveries: [...deliveries],
        issues: repositories.flatMap((repository) =>
          repository.issues.map((issue) => ({
            repository: repository.fullName,
            number: issue.number,
            title: issue.title,
            body: issue.body,
            labels: issue.labels.map((label) => label.name),
            state: issue.state,
            url: `${htmlBaseUrl}/${repository.fullName}/issues/${issue.number}`,
          })),
        ),
      };
    },
  };
}

/**
 * The token from `token <t>`, `Bearer <t>` or basic auth (GitHub takes the token as the password,
 * or as the user name with an empty password). Null when there is none.
 */
function readCredentials(header: string | undefined): string | null {
  if (!header) return null;
  const match = /^(\w+)\s+(.+)$/.exec(header.trim());
  if (!match) return null;
  const scheme = match[1]?.toLowerCase();
  const value = match[2]?.trim() ?? '';
  if (scheme === 'token' || scheme === 'bearer') return value || null;
  if (scheme !== 'basic') return null;
  const decoded = Buffer.from(value, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  const user = colon >= 0 ? decoded.slice(0, colon) : decoded;
  const password = colon >= 0 ? decoded.slice(colon + 1) : '';
  return password || user || null;
}

const INVALID_JSON = Symbol('invalid JSON');

function parseJson(raw: Buffer): unknown {
  if (raw.length === 0) return undefined;
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch {
    return INVALID_JSON;
  }
}
