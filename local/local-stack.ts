import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEventV2, Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import * as z from 'zod';
import { SqsJobQueue } from '../shared/adapters/aws-sqs/sqs-job-queue.js';
import { createDocumentClient } from '../shared/adapters/dynamodb/document-client.js';
import { DynamoDbBugRecords } from '../shared/adapters/dynamodb/dynamodb-bug-records.js';
import { DynamoDbFixJobs } from '../shared/adapters/dynamodb/dynamodb-fix-jobs.js';
import { JOBS_QUEUE_MAX_MESSAGE_BYTES } from '../shared/jobs/job-message.js';
import { METRICS_NAMESPACE } from '../shared/observability/business-metric-catalog.js';
import { buildApiGatewayEvent } from './api-gateway-event.js';
import { type ConsoleServer, createConsole } from './console/console-server.js';
import { ensureTable, startDynalite } from './dynamo/start-dynalite.js';
import { startEcsStandIn } from './ecs-stand-in.js';
import { LocalFixLauncher } from './local-fix-launcher.js';
import { type LocalKeys, loadOrCreateLocalKeys } from './local-keys.js';
import {
  type LocalSettingName,
  type ResolvedLocalSettings,
  resolveLocalSettings,
  type SandboxDefaults,
} from './local-settings.js';
import { createProductStatusReceiver } from './product-status-receiver.js';
import { ensureSandboxFork, ensureSandboxRepo, type SandboxRepo } from './sandbox-repo.js';
import { decideServiceModes, type ServiceMode, type ServiceName } from './service-modes.js';
import { engineQueue, LambdaPoller } from './sqs/lambda-poller.js';
import { LocalSqs } from './sqs/local-sqs.js';
import { startSqsServer } from './sqs/sqs-server.js';
import { installSandboxAgent } from './stand-ins/anthropic/sandbox-agent.js';
import { createAnthropicStandIn } from './stand-ins/anthropic-stand-in.js';
import {
  createDiscordStandIn,
  DISCORD_SANDBOX_BUG_CHANNEL_ID,
  DISCORD_SANDBOX_GUILD_ID,
  type DiscordStandIn,
} from './stand-ins/discord-stand-in.js';
import { createGitHubStandIn, GITHUB_SANDBOX, type GitHubStandIn } from './stand-ins/github-stand-in.js';
import { createLinearStandIn, LINEAR_SANDBOX, type LinearStandIn } from './stand-ins/linear-stand-in.js';
import {
  createPostHogStandIn,
  POSTHOG_STAND_IN_API_KEY,
  POSTHOG_STAND_IN_PROJECT_ID,
} from './stand-ins/posthog-stand-in.js';
import { type Fault, readBody, type StandIn, sendJson } from './stand-ins/stand-in.js';

/**
 * bugbot on one machine: the same handlers behind one HTTP server with the API's routes,
 * DynamoDB as dynalite, the jobs queue and its DLQ with SQS semantics, and sandbox stand-ins for
 * every outside service whose credentials are not set.
 */

export const LOCAL_TABLE_NAME = 'bugbot-local';
export const JOBS_QUEUE = 'bugbot-jobs';
export const DEAD_LETTER_QUEUE = 'bugbot-jobs-dlq';
/** The sandbox guild's "Maintainers" role: members with it may ask for fixes. */
export const SANDBOX_MAINTAINER_ROLE_ID = '1200000000000000777';
/** The sandbox GitHub repository bugbot files issues in and drafts fixes for. */
export const SANDBOX_REPO = { owner: 'acme', repo: 'shop' } as const;
/**
 * Its fork, served too: with `FIX_PUSH_REPO=acme-bugbot/shop` fix branches are pushed there and the
 * pull requests come from `acme-bugbot:<branch>` (README, "Fixes from a fork").
 */
export const SANDBOX_FORK = { owner: 'acme-bugbot', repo: 'shop' } as const;
/** The local fix runner's "task role": results it sends carry `SenderId` `<this>:<task id>`. */
export const LOCAL_FIX_TASK_ROLE_ID = 'AROALOCALFIXRUNNER';
/** Access keys the launcher signs a task's result with; the local SQS maps them to that SenderId. */
const RUNNER_ACCESS_KEY_PREFIX = 'LOCALRUNNERTASK-';

export interface LocalStackOptions {
  readonly port?: number;
  readonly host?: string;
  /** Where state is kept across restarts (git-ignored). */
  readonly dataDir?: string;
  /** Start empty: forget the table and queues (keys are kept so `npm run discord` still signs). */
  readonly fresh?: boolean;
  /** Keep everything in memory (tests). */
  readonly inMemory?: boolean;
  /** The environment deciding real vs sandboxed services; defaults to `process.env`. */
  readonly env?: Record<string, string | undefined>;
  /** Overrides for the handlers' environment (e.g. faster retries in tests). */
  readonly handlerEnv?: Record<string, string>;
  /** Jobs queue visibility timeout, seconds (SQS: six times the processor's timeout). */
  readonly visibilityTimeoutSeconds?: number;
  /** The queues' MaximumMessageSize; defaults to the deployed stack's (JOBS_QUEUE_MAX_MESSAGE_BYTES). */
  readonly maxMessageBytes?: number;
  /** Called as soon as the server listens, before the handlers are ready (tests of the start). */
  readonly onListening?: (url: string) => void;
}

export interface LocalStack {
  readonly url: string;
  readonly port: number;
  readonly keys: LocalKeys;
  /** The keys and ids in effect: the environment's where it gave them, else the sandbox's. */
  readonly settings: ResolvedLocalSettings;
  readonly modes: Record<ServiceName, ServiceMode>;
  readonly sandbox: {
    readonly discord: DiscordStandIn;
    readonly github: GitHubStandIn;
    readonly linear: LinearStandIn;
    readonly standIns: readonly StandIn[];
  };
  /** The GitHub/Linear webhook secrets and the product status webhook this stack uses. */
  readonly loop: LoopSettings;
  readonly engine: LocalSqs;
  /** Runs the fix runner as a child process; its results come back as jobs on the jobs queue. */
  readonly launcher: LocalFixLauncher;
  /** `acme/shop` as the GitHub stand-in serves it (`cloneUrl` is its smart-HTTP URL). */
  readonly sandboxRepo: SandboxRepo & { readonly cloneUrl: string };
  readonly sqsEndpoint: string;
  readonly dynamoEndpoint: string;
  state(): Promise<LocalState>;
  close(): Promise<void>;
}

export interface LocalState {
  readonly queues: { jobs: { visible: number; inFlight: number }; dlq: { visible: number } };
  readonly bugs: readonly unknown[];
  readonly sandbox: Record<string, unknown>;
  /** The public part of the settings in effect, for `npm run discord` and a team's tests. */
  readonly config: LocalPublicConfig;
}

export interface LocalPublicConfig {
  readonly discord: {
    readonly publicKey?: string;
    readonly applicationId?: string;
    readonly guildId?: string;
  };
  readonly fixAllowedRoleIds: readonly string[];
  /** Names of the settings the environment gave (never their values). */
  readonly fromEnvironment: readonly string[];
}

type HttpHandler = (
  event: APIGatewayProxyEventV2,
) => Promise<{ statusCode: number; headers?: Record<string, string>; body?: string }>;

/**
 * Hearing back, locally: the secrets the GitHub and Linear stand-ins sign their webhooks with, and
 * where the product hears about its users' bugs. The environment wins over the sandbox's own keys
 * (DESIGN "Local stack"), so a team's end-to-end tests can sign with their own.
 */
export interface LoopSettings {
  readonly githubWebhookSecret: string;
  readonly linearWebhookSecret: string;
  readonly bugStatusWebhookUrl: string;
  readonly bugStatusWebhookSecret: string;
}

/** The loop's settings, as resolved by the one table (local/local-settings.ts). */
export function loopSettingsOf(settings: ResolvedLocalSettings): LoopSettings {
  const value = (name: LocalSettingName) => settings.values[name] ?? '';
  return {
    githubWebhookSecret: value('GITHUB_WEBHOOK_SECRET'),
    linearWebhookSecret: value('LINEAR_WEBHOOK_SECRET'),
    bugStatusWebhookUrl: value('BUG_STATUS_WEBHOOK_URL'),
    bugStatusWebhookSecret: value('BUG_STATUS_WEBHOOK_SECRET'),
  };
}

/** The sandbox product's status webhook receiver. */
export const PRODUCT_STATUS_PATH = '/_local/product/bug-status';

const faultSchema = z.object({
  service: z.enum(['discord', 'linear', 'posthog', 'anthropic', 'github', 'product']),
  failRate: z.number().min(0).max(1).default(0),
  status: z.number().int().min(100).max(599).default(500),
  latencyMs: z.number().int().min(0).max(60_000).default(0),
  failNext: z.number().int().min(0).optional(),
  /** `vendor` (the service's error body), `html` (an edge proxy's page), `truncated` (served, answer cut). */
  body: z.enum(['vendor', 'html', 'truncated']).optional(),
  retryAfterSeconds: z.number().min(0).max(3600).optional(),
  clear: z.boolean().optional(),
});

export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const env = options.env ?? process.env;
  const dataDir = options.dataDir ?? join(process.cwd(), '.local');
  if (options.fresh) {
    rmSync(join(dataDir, 'dynamo'), { recursive: true, force: true });
    rmSync(join(dataDir, 'queues.json'), { force: true });
  }
  const keys = loadOrCreateLocalKeys(join(dataDir, 'keys.json'));
  const modes = decideServiceModes(env);
  // Settings the environment gives win over the sandbox's own (local-settings.ts). The stack's URL
  // is known once it listens; the Discord sandbox's ids, needed before, do not depend on it.
  const sandboxDefaults: SandboxDefaults = {
    keys,
    sandboxGuildId: DISCORD_SANDBOX_GUILD_ID,
    sandboxBugChannelId: DISCORD_SANDBOX_BUG_CHANNEL_ID,
    sandboxMaintainerRoleId: SANDBOX_MAINTAINER_ROLE_ID,
    productStatusPath: PRODUCT_STATUS_PATH,
    stackUrl: undefined,
  };
  const early = resolveLocalSettings(env, sandboxDefaults, modes);

  const dynamo = await startDynalite({ path: options.inMemory ? undefined : join(dataDir, 'dynamo') });
  const dynamoClient = new DynamoDBClient({
    endpoint: dynamo.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  await ensureTable(dynamoClient, LOCAL_TABLE_NAME);
  const bugRecords = new DynamoDbBugRecords(createDocumentClient(dynamoClient), LOCAL_TABLE_NAME);

  const engine = new LocalSqs({ persistPath: options.inMemory ? undefined : join(dataDir, 'queues.json') });
  if (!options.inMemory) await engine.restore();
  // Sized as the CDK stack sizes them (infra/constructs/jobs-queue.ts): a local queue left at
  // SQS's default would refuse what the deployed one takes, or the other way round.
  const maximumMessageSize = String(options.maxMessageBytes ?? JOBS_QUEUE_MAX_MESSAGE_BYTES);
  if (!engine.hasQueue(DEAD_LETTER_QUEUE))
    engine.createQueue(DEAD_LETTER_QUEUE, { MessageRetentionPeriod: String(14 * 86_400) });
  engine.setQueueAttributes(DEAD_LETTER_QUEUE, { MaximumMessageSize: maximumMessageSize });
  if (!engine.hasQueue(JOBS_QUEUE)) {
    engine.createQueue(JOBS_QUEUE, {
      VisibilityTimeout: String(options.visibilityTimeoutSeconds ?? 60),
      RedrivePolicy: JSON.stringify({
        deadLetterTargetArn: engine.queueArn(DEAD_LETTER_QUEUE),
        maxReceiveCount: 3,
      }),
    });
  }
  engine.setQueueAttributes(JOBS_QUEUE, { MaximumMessageSize: maximumMessageSize });
  // As in AWS, a message's SenderId is who signed the SendMessage: the fix runner's results carry
  // its task role and task id, everyone else the one sandbox identity.
  const sqsServer = await startSqsServer({
    engine,
    identify: (accessKeyId) =>
      accessKeyId.startsWith(RUNNER_ACCESS_KEY_PREFIX)
        ? `${LOCAL_FIX_TASK_ROLE_ID}:${accessKeyId.slice(RUNNER_ACCESS_KEY_PREFIX.length)}`
        : undefined,
  });

  const discord = createDiscordStandIn({
    applicationId: early.values.DISCORD_APPLICATION_ID ?? keys.discordApplicationId,
    guildId: early.values.DISCORD_GUILD_ID,
    bugReportsChannelId: early.values.BUG_CHANNEL_ID,
    // Channel ids a team brings (their own bug channel, the channel of an interaction) exist.
    adoptUnknownChannels: true,
  });
  // In memory (tests), a throwaway copy of the sandbox repository, removed on close.
  const sandboxRoot = options.inMemory ? mkdtempSync(join(tmpdir(), 'bugbot-local-sandbox-')) : dataDir;
  const sandboxRepo = await ensureSandboxRepo(sandboxRoot, { fresh: options.fresh });
  const sandboxFork = await ensureSandboxFork(sandboxRoot, sandboxRepo, {
    ...SANDBOX_FORK,
    fresh: options.fresh,
  });
  const github = createGitHubStandIn({
    repositories: [
      { owner: SANDBOX_REPO.owner, repo: SANDBOX_REPO.repo, ...sandboxRepo },
      {
        owner: SANDBOX_FORK.owner,
        repo: SANDBOX_FORK.repo,
        ...sandboxFork,
        forkOf: `${SANDBOX_REPO.owner}/${SANDBOX_REPO.repo}`,
      },
    ],
  });
  const linear = createLinearStandIn();
  const anthropic = createAnthropicStandIn();
  installSandboxAgent(anthropic);
  // Only sandboxed services get a stand-in: a real one must never be shadowed by a sandbox.
  const standIns: StandIn[] = [
    discord,
    linear,
    createPostHogStandIn({ apiKey: POSTHOG_STAND_IN_API_KEY, projectId: POSTHOG_STAND_IN_PROJECT_ID }),
    anthropic,
    github,
  ].filter((standIn) => !modes[standIn.service].real);

  let handlers: Record<IngressPath, HttpHandler> | undefined;
  // Known once the server listens (BUG_STATUS_WEBHOOK_URL points back at it by default).
  let settings: ResolvedLocalSettings = early;
  // The stack's own routes answer only once the handlers and the processor are running: a
  // request that arrives while it starts waits (a team's harness polling /_local/state must not
  // hear "ready" while interactions would still be refused).
  let markReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => {
    markReady = resolve;
  });
  let product: ReturnType<typeof createProductStatusReceiver> | undefined;
  const sandboxed = (service: StandIn['service']) => standIns.some((standIn) => standIn.service === service);
  let console_: ConsoleServer | undefined;
  /** The faults set through `/_local/faults`, for the console to show. */
  const faults: Record<string, Fault | null> = {};
  const server = createServer((req, res) => {
    // Everything that changes the sandbox comes through here: tell the console's live view.
    if (req.method !== 'GET' && req.method !== 'HEAD') res.once('finish', () => console_?.noteChange());
    route(req, res).catch((error: unknown) => {
      console.error('local stack: request failed', error);
      if (!res.headersSent) sendJson(res, 500, { error: 'local stack error' });
      else res.end();
    });
  });

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = req.url ?? '/';
    const path = url.split('?')[0] ?? '/';
    const sandbox = url.match(/^\/_sandbox\/([a-z]+)(\/.*|\?.*)?$/);
    if (sandbox) {
      const standIn = standIns.find((candidate) => candidate.service === sandbox[1]);
      if (!standIn) return sendJson(res, 404, { error: `no sandbox for ${sandbox[1]}` });
      const below = sandbox[2] ?? '/';
      return standIn.handle(req, res, below.startsWith('/') ? below : `/${below}`);
    }
    // (A stack that fails to start exits: `npm start` reports it, a test's startLocalStack throws.)
    await ready;
    if (console_ && (await console_.handle(req, res, path))) return;
    if (req.method === 'POST' && isIngressPath(path)) {
      if (!handlers) return sendJson(res, 503, { error: 'starting' });
      const body = await readBody(req);
      if (path === '/discord/interactions' && !modes.discord.real) learnInteractionPlace(discord, body);
      const event = buildApiGatewayEvent(req, body, `POST ${path}`);
      const result = await handlers[path](event);
      res.writeHead(result.statusCode, result.headers ?? {});
      res.end(result.body ?? '');
      return;
    }
    if (req.method === 'POST' && path === PRODUCT_STATUS_PATH) {
      if (!product) return sendJson(res, 503, { error: 'starting' });
      return product.handle(req, res);
    }
    const loopAction = matchLoopAction(req.method, path);
    if (loopAction) return runLoopAction(loopAction, req, res);
    if (req.method === 'GET' && path === '/_local/state') return sendJson(res, 200, await state());
    if (req.method === 'POST' && path === '/_local/faults') {
      let raw: unknown;
      try {
        raw = JSON.parse((await readBody(req)).toString('utf8'));
      } catch {
        return sendJson(res, 400, { error: 'body is not JSON' });
      }
      const parsed = faultSchema.safeParse(raw);
      if (!parsed.success)
        return sendJson(res, 400, {
          error: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '),
        });
      if (parsed.data.service === 'product') {
        const { clear, service: _service, ...fault } = parsed.data;
        product?.setFault(clear ? null : fault);
        return sendJson(res, 200, { service: 'product', fault: clear ? null : fault });
      }
      const standIn = standIns.find((candidate) => candidate.service === parsed.data.service);
      if (!standIn)
        return sendJson(res, 404, { error: `${parsed.data.service} is not sandboxed in this stack` });
      const { service, clear, ...fault } = parsed.data;
      standIn.setFault(clear ? null : fault);
      faults[service] = clear ? null : fault;
      return sendJson(res, 200, { service, fault: clear ? null : fault });
    }
    sendJson(res, 404, { error: 'not found' });
  }

  /**
   * The sandbox's buttons for what people do in GitHub and Linear (DESIGN "Local stack"): merge or
   * close a pull request, report a deployment, move an issue to Done or Canceled. Each delivers the
   * signed webhook the service would, and answers with the stack's status for it.
   */
  async function runLoopAction(action: LoopAction, req: IncomingMessage, res: ServerResponse): Promise<void> {
    let input: Record<string, unknown> = {};
    const raw = (await readBody(req)).toString('utf8');
    if (raw.trim() !== '') {
      try {
        const parsed: unknown = JSON.parse(raw);
        if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) input = parsed as never;
        else return sendJson(res, 400, { error: 'body must be a JSON object' });
      } catch {
        return sendJson(res, 400, { error: 'body is not JSON' });
      }
    }
    if (action.service === 'linear') {
      if (!sandboxed('linear')) return sendJson(res, 404, { error: 'linear is not sandboxed in this stack' });
      const type = input.type;
      if (
        type !== 'completed' &&
        type !== 'canceled' &&
        type !== 'started' &&
        type !== 'unstarted' &&
        type !== 'backlog'
      )
        return sendJson(res, 400, {
          error: 'type must be completed, canceled, started, unstarted or backlog',
        });
      const moved = await linear.setIssueState(action.identifier, type);
      return moved.ok ? sendJson(res, 200, moved) : sendJson(res, 404, { error: moved.error });
    }
    if (!sandboxed('github')) return sendJson(res, 404, { error: 'github is not sandboxed in this stack' });
    const repository =
      typeof input.repository === 'string' ? input.repository : `${SANDBOX_REPO.owner}/${SANDBOX_REPO.repo}`;
    let answer: Awaited<ReturnType<GitHubStandIn['mergePull']>>;
    if (action.kind === 'deploy') {
      const ref = input.ref;
      const environmentUrl = input.environment_url ?? input.environmentUrl;
      if (
        typeof ref !== 'string' ||
        typeof environmentUrl !== 'string' ||
        !/^https?:\/\//.test(environmentUrl)
      )
        return sendJson(res, 400, {
          error: 'give {ref, environment_url}: a branch and the http(s) URL it is deployed at',
        });
      answer = await github.deploy(repository, {
        ref,
        environmentUrl,
        ...(typeof input.environment === 'string' ? { environment: input.environment } : {}),
      });
    } else {
      answer =
        action.kind === 'merge'
          ? await github.mergePull(repository, action.number)
          : await github.closePull(repository, action.number);
    }
    return answer.ok
      ? sendJson(res, 200, answer.body)
      : sendJson(res, answer.status, { error: answer.error });
  }

  async function state(): Promise<LocalState> {
    const jobs = engine.counts(JOBS_QUEUE);
    const dlq = engine.counts(DEAD_LETTER_QUEUE);
    const sandboxState: Record<string, unknown> = {};
    for (const standIn of standIns) sandboxState[standIn.service] = standIn.snapshot();
    if (product) sandboxState.product = product.snapshot();
    return {
      queues: {
        jobs: { visible: jobs.visible + jobs.delayed, inFlight: jobs.inFlight },
        dlq: { visible: dlq.visible + dlq.inFlight },
      },
      config: publicConfig(settings),
      // DESIGN's shape: each bug with its `id` (the stored record calls it `bugId`).
      bugs: [...(await bugRecords.listOpenBugs(200)), ...(await bugRecords.listClosedBugs(200))].map(
        (bug) => ({
          id: bug.bugId,
          ...bug,
        }),
      ),
      sandbox: sandboxState,
    };
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 3000, options.host ?? '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://${options.host ?? '127.0.0.1'}:${port}`;
  options.onListening?.(url);
  settings = resolveLocalSettings(env, { ...sandboxDefaults, stackUrl: url }, modes);
  const loop = loopSettingsOf(settings);
  product = createProductStatusReceiver({ secret: loop.bugStatusWebhookSecret });
  // The sandbox repository's and workspace's webhooks point at this stack, as a deployer's would.
  github.setWebhook({ url: `${url}/webhooks/github`, secret: loop.githubWebhookSecret, baseUrl: url });
  linear.setWebhook({ url: `${url}/webhooks/linear`, secret: loop.linearWebhookSecret });
  console_ = createConsole({
    url,
    keys,
    webhookSecret: settings.values.BUG_REPORT_WEBHOOK_SECRET ?? keys.webhookSecret,
    discord: modes.discord.real ? undefined : discord,
    standIns,
    services: faultSchema.shape.service.options,
    faults: () => faults,
    engine,
    queues: { jobs: JOBS_QUEUE, dlq: DEAD_LETTER_QUEUE },
    repositories: modes.github.real
      ? {}
      : { [`${SANDBOX_REPO.owner}/${SANDBOX_REPO.repo}`]: sandboxRepo.bareDir },
    maintainerRoleId:
      settings.values.FIX_ALLOWED_ROLE_IDS?.split(',')[0]?.trim() || SANDBOX_MAINTAINER_ROLE_ID,
  });

  const launcherSqs = new SQSClient({
    endpoint: sqsServer.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const jobsQueueUrl = `${sqsServer.url}/000000000000/${JOBS_QUEUE}`;
  const taskQueues: SQSClient[] = [];
  const launcher = new LocalFixLauncher({
    queue: new SqsJobQueue(launcherSqs, jobsQueueUrl),
    // Each run's result is sent under its own task's identity, as the Fargate runner's would be.
    resultQueue: (taskId) => {
      const client = new SQSClient({
        endpoint: sqsServer.url,
        region: 'us-east-1',
        credentials: { accessKeyId: `${RUNNER_ACCESS_KEY_PREFIX}${taskId}`, secretAccessKey: 'local' },
      });
      taskQueues.push(client);
      return new SqsJobQueue(client, jobsQueueUrl);
    },
    anthropicApiKey: modes.anthropic.real ? (env.ANTHROPIC_API_KEY ?? '') : 'sk-ant-sandbox',
    anthropicBaseUrl: modes.anthropic.real ? env.ANTHROPIC_BASE_URL : `${url}/_sandbox/anthropic`,
    anthropicModel: env.ANTHROPIC_MODEL,
    githubToken: modes.github.real ? env.GITHUB_TOKEN : GITHUB_SANDBOX.token,
    claudeBin: env.CLAUDE_BIN,
    env,
  });

  // The processor launches fixes with its production launcher (ecs:RunTask); locally, RunTask
  // reads the job spec from the table as the Fargate task would and starts the runner process.
  const fixJobs = new DynamoDbFixJobs(createDocumentClient(dynamoClient), LOCAL_TABLE_NAME);
  const ecs = await startEcsStandIn({
    loadSpec: async (jobId) => (await fixJobs.getFixJob(jobId))?.spec ?? null,
    launch: (spec) => launcher.launch(spec),
    stop: (taskId, reason) => launcher.stop(taskId, reason),
  });

  // The handlers read their configuration at import, as a Lambda does at cold start.
  Object.assign(
    process.env,
    buildHandlerEnv({
      env,
      modes,
      settings,
      url,
      sqsUrl: sqsServer.url,
      dynamoEndpoint: dynamo.endpoint,
    }),
    {
      AWS_ENDPOINT_URL_ECS: ecs.url,
      FIX_CLUSTER_ARN: 'arn:aws:ecs:us-east-1:000000000000:cluster/bugbot-local',
      FIX_TASK_DEFINITION_ARN: 'arn:aws:ecs:us-east-1:000000000000:task-definition/bugbot-fix-runner:1',
      FIX_SUBNET_IDS: 'subnet-local',
      FIX_SECURITY_GROUP_ID: 'sg-local',
      FIX_CONTAINER_NAME: 'runner',
      ...(modes.github.real
        ? {}
        : {
            FIX_CLONE_URL: `${url}/_sandbox/github/${SANDBOX_REPO.owner}/${SANDBOX_REPO.repo}.git`,
            FIX_VERIFY_COMMAND: 'node --test',
          }),
      FIX_RESULT_GRACE_SECONDS: env.FIX_RESULT_GRACE_SECONDS ?? '5',
      FIX_TASK_ROLE_ID: LOCAL_FIX_TASK_ROLE_ID,
      // The local queue shares this process and its two cores with the whole stack: a send is
      // given 2 s before it is abandoned and sent again, not SQS's 250 ms (see
      // shared/config/webhook-ingress-config.ts), so a burst does not repeat its own sends.
      SQS_SEND_ATTEMPT_MS: env.SQS_SEND_ATTEMPT_MS ?? '2000',
      ...(env.FIX_MONTHLY_BUDGET_USD ? { FIX_MONTHLY_BUDGET_USD: env.FIX_MONTHLY_BUDGET_USD } : {}),
      ...(env.FIX_PUSH_REPO ? { FIX_PUSH_REPO: env.FIX_PUSH_REPO } : {}),
      // The sandbox fork's git URL on this stack, when fixes are pushed there.
      ...((options.handlerEnv?.FIX_PUSH_REPO ?? env.FIX_PUSH_REPO) ===
        `${SANDBOX_FORK.owner}/${SANDBOX_FORK.repo}` && !modes.github.real
        ? { FIX_PUSH_URL: `${url}/_sandbox/github/${SANDBOX_FORK.owner}/${SANDBOX_FORK.repo}.git` }
        : {}),
    },
    options.handlerEnv,
  );
  const [discordModule, webhookModule, githubModule, linearModule, processorModule] = await Promise.all([
    import('../lambdas/discord-interactions/handler.js'),
    import('../lambdas/bug-report-webhook/handler.js'),
    import('../lambdas/github-webhook/handler.js'),
    import('../lambdas/linear-webhook/handler.js'),
    import('../lambdas/processor/handler.js'),
  ]);
  handlers = {
    '/discord/interactions': discordModule.handler as HttpHandler,
    '/webhooks/bug-report': webhookModule.handler as HttpHandler,
    '/webhooks/github': githubModule.handler as HttpHandler,
    '/webhooks/linear': linearModule.handler as HttpHandler,
  };

  const processorHandler = processorModule.handler as (
    event: SQSEvent,
    context: Context,
  ) => Promise<SQSBatchResponse>;
  const poller = new LambdaPoller({
    queue: engineQueue(engine, JOBS_QUEUE),
    handler: (event, context) => processorHandler(event, context),
    functionName: 'bugbot-processor',
    batchSize: 5,
    concurrency: 2,
    waitTimeSeconds: 1,
    // Lambda refuses an SQS event source whose visibility timeout is shorter than the function's
    // timeout: a job still running must not be delivered again beside itself. The processor's
    // work budget derives from this timeout (context.getRemainingTimeInMillis).
    functionTimeoutMs: Math.min(60_000, (options.visibilityTimeoutSeconds ?? 60) * 1000),
    onError: (error) => console.error('local stack: processor invocation failed', error),
  });
  poller.start();
  markReady();

  const persist = options.inMemory
    ? undefined
    : setInterval(() => void engine.snapshot().catch(() => undefined), 2000);

  return {
    url,
    port,
    keys,
    settings,
    modes,
    sandbox: { discord, github, linear, standIns },
    loop,
    engine,
    launcher,
    sandboxRepo: {
      ...sandboxRepo,
      cloneUrl: `${url}/_sandbox/github/${SANDBOX_REPO.owner}/${SANDBOX_REPO.repo}.git`,
    },
    sqsEndpoint: sqsServer.url,
    dynamoEndpoint: dynamo.endpoint,
    state,
    async close() {
      if (persist) clearInterval(persist);
      await launcher.close();
      await ecs.close();
      launcherSqs.destroy();
      for (const client of taskQueues) client.destroy();
      await poller.stop();
      // The console's event streams never end by themselves: end them, or close() waits forever.
      console_?.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections?.();
      await sqsServer.close();
      if (!options.inMemory) await engine.snapshot();
      engine.close();
      dynamoClient.destroy();
      await dynamo.close();
      if (options.inMemory) rmSync(sandboxRoot, { recursive: true, force: true });
    },
  };
}

const INGRESS_PATHS = [
  '/discord/interactions',
  '/webhooks/bug-report',
  '/webhooks/github',
  '/webhooks/linear',
] as const;
type IngressPath = (typeof INGRESS_PATHS)[number];

function isIngressPath(path: string): path is IngressPath {
  return (INGRESS_PATHS as readonly string[]).includes(path);
}

type LoopAction =
  | { readonly service: 'github'; readonly kind: 'merge' | 'close'; readonly number: number }
  | { readonly service: 'github'; readonly kind: 'deploy' }
  | { readonly service: 'linear'; readonly kind: 'state'; readonly identifier: string };

/** `POST /_local/github/pulls/<n>/merge|close`, `POST /_local/github/deployments`, `POST /_local/linear/issues/<id>/state`. */
function matchLoopAction(method: string | undefined, path: string): LoopAction | null {
  if (method !== 'POST') return null;
  const pull = /^\/_local\/github\/pulls\/(\d{1,9})\/(merge|close)$/.exec(path);
  if (pull) return { service: 'github', kind: pull[2] as 'merge' | 'close', number: Number(pull[1]) };
  if (path === '/_local/github/deployments') return { service: 'github', kind: 'deploy' };
  const issue = /^\/_local\/linear\/issues\/([A-Za-z0-9_-]{1,60})\/state$/.exec(path);
  if (issue?.[1]) return { service: 'linear', kind: 'state', identifier: decodeURIComponent(issue[1]) };
  return null;
}

function buildHandlerEnv(input: {
  env: Record<string, string | undefined>;
  modes: Record<ServiceName, ServiceMode>;
  settings: ResolvedLocalSettings;
  url: string;
  sqsUrl: string;
  dynamoEndpoint: string;
}): Record<string, string> {
  const { env, modes, settings, url, sqsUrl } = input;
  const sandbox = (service: ServiceName) => `${url}/_sandbox/${service}`;
  const handlerEnv: Record<string, string> = {
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_ENDPOINT_URL_SQS: sqsUrl,
    AWS_ENDPOINT_URL_DYNAMODB: input.dynamoEndpoint,
    TABLE_NAME: LOCAL_TABLE_NAME,
    JOBS_QUEUE_URL: `${sqsUrl}/000000000000/${JOBS_QUEUE}`,
    DEAD_LETTER_QUEUE_URL: `${sqsUrl}/000000000000/${DEAD_LETTER_QUEUE}`,
    POWERTOOLS_DEV: env.POWERTOOLS_DEV ?? 'false',
    // The handlers print the same EMF metric lines as in Lambda (POWERTOOLS_DEV alone would mute them).
    POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
    POWERTOOLS_METRICS_DISABLED: env.POWERTOOLS_METRICS_DISABLED ?? 'false',
  };
  // The keys, ids, secrets and URLs the environment may override: one table, local-settings.ts.
  for (const [name, value] of Object.entries(settings.values))
    if (value !== undefined) handlerEnv[name] = value;
  if (modes.discord.real) {
    handlerEnv.DISCORD_BOT_TOKEN = env.DISCORD_BOT_TOKEN ?? '';
  } else {
    Object.assign(handlerEnv, {
      DISCORD_BOT_TOKEN: 'sandbox-bot-token',
      DISCORD_API_URL: `${sandbox('discord')}/api`,
    });
  }
  if (modes.linear.real) {
    Object.assign(handlerEnv, { LINEAR_API_KEY: env.LINEAR_API_KEY, LINEAR_TEAM_ID: env.LINEAR_TEAM_ID });
  } else {
    Object.assign(handlerEnv, {
      LINEAR_API_KEY: 'lin_api_sandbox',
      LINEAR_TEAM_ID: LINEAR_SANDBOX.teamId,
      LINEAR_API_URL: `${sandbox('linear')}/graphql`,
    });
  }
  if (modes.posthog.real) {
    Object.assign(handlerEnv, {
      POSTHOG_API_KEY: env.POSTHOG_API_KEY,
      POSTHOG_PROJECT_ID: env.POSTHOG_PROJECT_ID,
    });
    if (env.POSTHOG_HOST) handlerEnv.POSTHOG_HOST = env.POSTHOG_HOST;
  } else {
    Object.assign(handlerEnv, {
      POSTHOG_API_KEY: POSTHOG_STAND_IN_API_KEY,
      POSTHOG_PROJECT_ID: POSTHOG_STAND_IN_PROJECT_ID,
      POSTHOG_API_URL: sandbox('posthog'),
      POSTHOG_HOST: 'https://us.posthog.com',
    });
  }
  if (modes.anthropic.real) {
    handlerEnv.ANTHROPIC_API_KEY = env.ANTHROPIC_API_KEY ?? '';
  } else {
    Object.assign(handlerEnv, {
      ANTHROPIC_API_KEY: 'sk-ant-sandbox',
      ANTHROPIC_BASE_URL: sandbox('anthropic'),
    });
  }
  if (modes.github.real) {
    Object.assign(handlerEnv, { GITHUB_TOKEN: env.GITHUB_TOKEN, GITHUB_REPO: env.GITHUB_REPO });
  } else {
    Object.assign(handlerEnv, {
      GITHUB_TOKEN: GITHUB_SANDBOX.token,
      GITHUB_API_URL: `${sandbox('github')}${GITHUB_SANDBOX.apiPath}`,
      GITHUB_REPO: `${SANDBOX_REPO.owner}/${SANDBOX_REPO.repo}`,
    });
  }
  if (env.ISSUE_TRACKER) handlerEnv.ISSUE_TRACKER = env.ISSUE_TRACKER;
  return handlerEnv;
}

function publicConfig(settings: ResolvedLocalSettings): LocalPublicConfig {
  const { values } = settings;
  return {
    discord: {
      ...(values.DISCORD_PUBLIC_KEY ? { publicKey: values.DISCORD_PUBLIC_KEY } : {}),
      ...(values.DISCORD_APPLICATION_ID ? { applicationId: values.DISCORD_APPLICATION_ID } : {}),
      ...(values.DISCORD_GUILD_ID ? { guildId: values.DISCORD_GUILD_ID } : {}),
    },
    fixAllowedRoleIds: (values.FIX_ALLOWED_ROLE_IDS ?? '')
      .split(',')
      .map((id) => id.trim())
      .filter(Boolean),
    fromEnvironment: settings.fromEnvironment,
  };
}

/**
 * Discord knows the guild and channel an interaction comes from; the sandbox learns them from
 * the interaction itself (`guild_id`, and `channel` with its type and parent), so bugbot's
 * answers and posts there work as they would. Unparseable bodies are the handler's to refuse.
 */
function learnInteractionPlace(discord: DiscordStandIn, body: Buffer): void {
  let interaction: unknown;
  try {
    interaction = JSON.parse(body.toString('utf8'));
  } catch {
    return;
  }
  if (typeof interaction !== 'object' || interaction === null) return;
  const { guild_id: guildId, channel_id: channelId, channel } = interaction as Record<string, unknown>;
  const place = (typeof channel === 'object' && channel !== null ? channel : {}) as Record<string, unknown>;
  const id = typeof place.id === 'string' ? place.id : typeof channelId === 'string' ? channelId : undefined;
  if (!id) return;
  discord.learnPlace({
    ...(typeof guildId === 'string' ? { guildId } : {}),
    channel: {
      id,
      ...(typeof place.type === 'number' ? { type: place.type } : {}),
      ...(typeof place.parent_id === 'string' ? { parentId: place.parent_id } : {}),
      ...(typeof place.name === 'string' ? { name: place.name } : {}),
    },
  });
}
