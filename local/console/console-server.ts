import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import * as z from 'zod';
import {
  type BuiltInteraction,
  buildButtonClick,
  buildInteraction,
  buildMember,
  buildMessageCommand,
  buildModalSubmit,
  type InteractionContext,
  signInteraction,
} from '../discord-interaction-builder.js';
import type { LocalKeys } from '../local-keys.js';
import { signReport } from '../report-sender.js';
import type { LocalSqs } from '../sqs/local-sqs.js';
import type { DiscordStandIn } from '../stand-ins/discord-stand-in.js';
import { createGitRunner } from '../stand-ins/github/bare-repository.js';
import { type Fault, readBody, type StandIn, sendJson } from '../stand-ins/stand-in.js';
import { createChangeFeed } from './change-feed.js';
import { buildConsoleView, type ConsoleView, type LoggedInteraction } from './console-view.js';
import { readPullDiff } from './pull-diff.js';

/**
 * The console (`GET /`): a page where a person without a Discord server uses bugbot as its users
 * would. This module serves the page and its files (`public/`, plain modules, no build step) and
 * the few routes behind it:
 *
 * - `GET /_local/console/events`: the view (console-view.ts) as server-sent events, live;
 * - `POST /_local/console/interactions`: a click, a command or a modal submit, built and signed
 *   here with the stack's key exactly as Discord would send it, then sent to the stack's own
 *   `POST /discord/interactions` (the page never holds the key);
 * - `POST /_local/console/reports`: a bug report signed as the product's backend signs it, sent
 *   to `POST /webhooks/bug-report`;
 * - `GET /_local/console/pulls/<owner>/<repo>/<number>/diff`: a pull request's diff, by git.
 *
 * The page renders everything as text under a strict Content-Security-Policy (no inline script,
 * Trusted Types enforced, so no string can ever reach an HTML sink).
 */

const PUBLIC_DIR = fileURLToPath(new URL('./public/', import.meta.url));
export const CONSOLE_PREFIX = '/_local/console';

/** The page's policy: only its own files, no inline script or style, no HTML sinks at all. */
export const CONSOLE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "require-trusted-types-for 'script'",
  "trusted-types 'none'",
].join('; ');

const SECURITY_HEADERS = {
  'content-security-policy': CONSOLE_CSP,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
};

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

/** The sandbox person the console acts as; with "Maintainer" ticked, with the maintainers' role. */
export const CONSOLE_MEMBER = { id: '1300000000000000042', username: 'maya' } as const;
const INTERACTION_LOG_LIMIT = 300;

export interface ConsoleOptions {
  /** The stack's own URL, for sending what the console builds through the real routes. */
  readonly url: string;
  readonly keys: LocalKeys;
  /** The Standard Webhooks secret the stack's bug-report webhook checks. */
  readonly webhookSecret: string;
  /** Absent when Discord is the real one. */
  readonly discord?: DiscordStandIn;
  readonly standIns: readonly StandIn[];
  readonly services: readonly string[];
  readonly faults: () => Readonly<Record<string, Fault | null>>;
  readonly engine: LocalSqs;
  readonly queues: { readonly jobs: string; readonly dlq: string };
  /** `owner/repo` → the bare repository the GitHub stand-in serves it from. */
  readonly repositories: Readonly<Record<string, string>>;
  readonly maintainerRoleId: string;
}

export interface ConsoleServer {
  /** Answers the console's routes; false when the request is not one of them. */
  handle(req: IncomingMessage, res: ServerResponse, path: string): Promise<boolean>;
  /** The sandbox may have changed (called after every request that can write). */
  noteChange(): void;
  view(): ConsoleView;
  close(): void;
}

interface Asset {
  readonly body: Buffer;
  /** Compressed once at start, served to browsers that accept it. */
  readonly gzip: Buffer;
  readonly type: string;
  readonly etag: string;
}

export function createConsole(options: ConsoleOptions): ConsoleServer {
  const assets = loadAssets();
  const interactions: LoggedInteraction[] = [];
  const git = createGitRunner();
  const feed = createChangeFeed({
    signature: () => {
      const jobs = options.engine.counts(options.queues.jobs);
      const dlq = options.engine.counts(options.queues.dlq);
      return `${jobs.visible},${jobs.inFlight},${jobs.delayed},${dlq.visible},${dlq.inFlight}`;
    },
    build: async () => JSON.stringify(view()),
  });

  function standIn(service: string): StandIn | undefined {
    return options.standIns.find((candidate) => candidate.service === service);
  }

  function view(): ConsoleView {
    const discord = options.discord;
    const jobs = options.engine.counts(options.queues.jobs);
    const faults = options.faults();
    const snapshot = discord?.snapshot();
    return buildConsoleView({
      discord:
        discord && snapshot
          ? {
              bugReportsChannelId: discord.ids.bugReportsChannelId,
              channels: snapshot.channels,
              sent: snapshot.messages,
              history: (channelId) => discord.channelHistory(channelId),
            }
          : undefined,
      interactions,
      linear: standIn('linear')?.snapshot(),
      github: standIn('github')?.snapshot(),
      queues: {
        jobs: { visible: jobs.visible + jobs.delayed, inFlight: jobs.inFlight },
        dlq: options.engine.peekMessages(options.queues.dlq),
      },
      services: options.services.map((service) => ({
        service,
        sandboxed: standIn(service) !== undefined,
        fault: faults[service] ?? null,
      })),
    });
  }

  async function handle(req: IncomingMessage, res: ServerResponse, path: string): Promise<boolean> {
    const method = req.method ?? 'GET';
    if (method === 'GET' && (path === '/' || path === '/index.html')) {
      serveAsset(req, res, assets.get('index.html'));
      return true;
    }
    if (!path.startsWith(`${CONSOLE_PREFIX}/`)) return false;
    const route = path.slice(CONSOLE_PREFIX.length);
    if (method === 'GET' && route === '/events') {
      feed.subscribe(req, res);
      return true;
    }
    if (method === 'GET' && route === '/view') {
      sendJson(res, 200, view(), { 'cache-control': 'no-store' });
      return true;
    }
    const diff = /^\/pulls\/([A-Za-z0-9_.-]+)\/([A-Za-z0-9_.-]+)\/([0-9]{1,9})\/diff$/.exec(route);
    if (method === 'GET' && diff) {
      await answerDiff(res, `${diff[1]}/${diff[2]}`, Number(diff[3]));
      return true;
    }
    if (method === 'POST' && (route === '/interactions' || route === '/reports')) {
      const refusal = refuseCrossSite(req);
      if (refusal) {
        await readBody(req);
        sendJson(res, 403, { error: refusal });
        return true;
      }
      const body = await readJson(req);
      if (body === undefined) {
        sendJson(res, 400, { error: 'the body is not JSON' });
        return true;
      }
      if (route === '/interactions') await answerInteraction(res, body);
      else await answerReport(res, body);
      return true;
    }
    if (method === 'GET') {
      const asset = assets.get(route.slice(1));
      if (asset) {
        serveAsset(req, res, asset);
        return true;
      }
    }
    sendJson(res, 404, { error: 'not found' });
    return true;
  }

  async function answerInteraction(res: ServerResponse, raw: unknown): Promise<void> {
    const discord = options.discord;
    if (!discord) {
      sendJson(res, 409, { error: 'Discord is the real one in this stack: use your Discord server.' });
      return;
    }
    const parsed = interactionRequestSchema.safeParse(raw);
    if (!parsed.success) {
      sendJson(res, 400, { error: describeIssues(parsed.error) });
      return;
    }
    const request = parsed.data;
    const prepared = prepareInteraction(discord, request);
    if ('error' in prepared) {
      sendJson(res, 400, { error: prepared.error });
      return;
    }
    const body = JSON.stringify(prepared.interaction);
    const response = await fetch(`${options.url}/discord/interactions`, {
      method: 'POST',
      headers: signInteraction(options.keys, body),
      body,
      signal: AbortSignal.timeout(10_000),
    });
    const text = await response.text();
    const answer = parseObject(text);
    const entry: LoggedInteraction = {
      token: prepared.interaction.token,
      at: new Date().toISOString(),
      channelId: prepared.channelId,
      ...(prepared.threadId ? { threadId: prepared.threadId } : {}),
      user: CONSOLE_MEMBER.username,
      label: prepared.label,
      status: response.status,
      ...(response.status === 200 && answer && typeof answer.type === 'number'
        ? { response: answer as LoggedInteraction['response'] }
        : {}),
    };
    interactions.push(entry);
    if (interactions.length > INTERACTION_LOG_LIMIT)
      interactions.splice(0, interactions.length - INTERACTION_LOG_LIMIT);
    feed.bump();
    sendJson(res, 200, {
      status: response.status,
      response: answer ?? null,
      channelId: entry.channelId,
      threadId: entry.threadId ?? null,
    });
  }

  function prepareInteraction(
    discord: DiscordStandIn,
    request: InteractionRequest,
  ):
    | { interaction: BuiltInteraction; channelId: string; threadId?: string; label: string }
    | { error: string } {
    const snapshot = discord.snapshot();
    const member = buildMember(
      CONSOLE_MEMBER.id,
      CONSOLE_MEMBER.username,
      request.maintainer ? [options.maintainerRoleId] : [],
    );
    const context = (channelId: string, threadId?: string): InteractionContext => ({
      keys: options.keys,
      sandbox: { guildId: discord.ids.guildId, channelId, ...(threadId ? { threadId } : {}) },
      member,
    });
    const knownPlace = (channelId: string, threadId?: string) =>
      snapshot.channels.some((channel) => channel.id === channelId) &&
      (!threadId ||
        snapshot.threads.some((thread) => thread.id === threadId && thread.parentId === channelId));

    if (request.kind === 'button') {
      const message = snapshot.messages.find((candidate) => candidate.id === request.messageId);
      if (!message) return { error: 'no such message from bugbot' };
      const button = findButton(message.components, request.customId);
      if (!button) return { error: 'that message has no such button' };
      // A disabled button cannot be clicked in Discord; neither here.
      if (button.disabled) return { error: 'that button is disabled' };
      const logged = message.interactionToken
        ? interactions.find((interaction) => interaction.token === message.interactionToken)
        : undefined;
      const channelId = message.channelId ?? logged?.channelId ?? discord.ids.bugReportsChannelId;
      const threadId = message.threadId ?? logged?.threadId;
      const apiMessage = {
        id: message.id,
        type: 0,
        channel_id: threadId ?? channelId,
        author: {
          id: discord.ids.botUserId,
          username: 'bugbot',
          discriminator: '0',
          global_name: 'bugbot',
          bot: true,
        },
        content: message.content,
        embeds: message.embeds,
        components: message.components,
        flags: message.flags,
        timestamp: message.createdAt,
        edited_timestamp: message.editedAt ?? null,
        ...(message.applicationId
          ? { application_id: message.applicationId, webhook_id: message.applicationId }
          : {}),
      };
      return {
        interaction: buildButtonClick(request.customId, apiMessage, context(channelId, threadId)),
        channelId,
        ...(threadId ? { threadId } : {}),
        label: `clicked ${button.label ?? 'a button'}`,
      };
    }

    if (!knownPlace(request.channelId, request.threadId)) return { error: 'no such channel or thread' };
    const place = {
      channelId: request.channelId,
      ...(request.threadId ? { threadId: request.threadId } : {}),
    };
    if (request.kind === 'command') {
      const interaction = buildInteraction(
        request.name,
        [],
        request.options,
        context(request.channelId, request.threadId),
      );
      if (!interaction) return { error: 'unknown command' };
      const shown = Object.entries(request.options)
        .filter(([, value]) => value)
        .map(([name, value]) => ` ${name}: ${value}`)
        .join('');
      return { interaction, ...place, label: `used /bugbot ${request.name}${shown}` };
    }
    if (request.kind === 'message-command') {
      const where = request.threadId ?? request.channelId;
      let target: ({ id: string } & Record<string, unknown>) | undefined;
      if (request.messageId) {
        const found = discord.channelHistory(where).find((message) => message.id === request.messageId);
        if (!found) return { error: 'no such message in that channel' };
        target = found as { id: string } & Record<string, unknown>;
      } else if (request.text) {
        const built = buildInteraction(
          'contextualize-message',
          [request.text],
          { author: request.author ?? 'devon' },
          context(request.channelId, request.threadId),
        );
        const resolved = (built?.data as { resolved?: { messages?: Record<string, unknown> } } | undefined)
          ?.resolved;
        target = Object.values(resolved?.messages ?? {})[0] as
          | ({ id: string } & Record<string, unknown>)
          | undefined;
      }
      if (!target) return { error: 'a message command needs a message or a text' };
      return {
        interaction: buildMessageCommand(request.name, target, context(request.channelId, request.threadId)),
        ...place,
        label: `used ${request.name}`,
      };
    }
    return {
      interaction: buildModalSubmit(
        request.customId,
        request.values,
        context(request.channelId, request.threadId),
      ),
      ...place,
      label: `submitted ${request.title ?? 'a form'}`,
    };
  }

  async function answerReport(res: ServerResponse, raw: unknown): Promise<void> {
    const parsed = reportRequestSchema.safeParse(raw);
    if (!parsed.success) {
      sendJson(res, 400, { error: describeIssues(parsed.error) });
      return;
    }
    const signed = signReport(options.webhookSecret, parsed.data);
    const response = await fetch(`${options.url}/webhooks/bug-report`, {
      method: 'POST',
      headers: signed.headers,
      body: signed.body,
      signal: AbortSignal.timeout(10_000),
    });
    const text = await response.text();
    feed.bump();
    sendJson(res, 200, { status: response.status, body: parseObject(text) ?? { text: text.slice(0, 500) } });
  }

  async function answerDiff(res: ServerResponse, repository: string, number: number): Promise<void> {
    const bareDir = options.repositories[repository];
    const pulls = (standIn('github')?.snapshot().pulls ?? []) as {
      repository?: string;
      number?: number;
      base?: string;
      head?: string;
    }[];
    const pull = pulls.find(
      (candidate) => candidate.repository === repository && candidate.number === number,
    );
    if (!bareDir || !pull || typeof pull.base !== 'string' || typeof pull.head !== 'string') {
      sendJson(res, 404, { error: 'no such pull request in the sandbox' });
      return;
    }
    const diff = await readPullDiff(git, bareDir, { base: pull.base, head: pull.head });
    sendJson(res, 200, diff, { 'cache-control': 'no-store' });
  }

  return {
    handle,
    noteChange: () => feed.bump(),
    view,
    close: () => feed.close(),
  };
}

// ---------------------------------------------------------------------------------------------

const snowflake = z.string().regex(/^\d{15,22}$/);
const optionText = z
  .string()
  .trim()
  .max(4000)
  .optional()
  .transform((value) => value || undefined);

const interactionRequestSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('button'),
    customId: z.string().min(1).max(100),
    messageId: snowflake,
    maintainer: z.boolean().default(false),
  }),
  z.object({
    kind: z.literal('command'),
    name: z.enum(['contextualize', 'fix', 'status', 'dashboard']),
    options: z
      .object({ issue: optionText, repo: optionText, instructions: optionText })
      .default({ issue: undefined, repo: undefined, instructions: undefined }),
    channelId: snowflake,
    threadId: snowflake.optional(),
    maintainer: z.boolean().default(false),
  }),
  z.object({
    kind: z.literal('message-command'),
    name: z.enum(['Contextualize bug', 'Draft fix']),
    messageId: snowflake.optional(),
    text: z.string().max(4000).optional(),
    author: z.string().min(1).max(32).optional(),
    channelId: snowflake,
    threadId: snowflake.optional(),
    maintainer: z.boolean().default(false),
  }),
  z.object({
    kind: z.literal('modal-submit'),
    customId: z.string().min(1).max(100),
    title: z.string().max(45).optional(),
    values: z
      .array(
        z.object({
          customId: z.string().min(1).max(100),
          value: z.string().max(4000),
          inActionRow: z.boolean().optional(),
        }),
      )
      .min(1)
      .max(5),
    channelId: snowflake,
    threadId: snowflake.optional(),
    maintainer: z.boolean().default(false),
  }),
]);
type InteractionRequest = z.infer<typeof interactionRequestSchema>;

/** Any report the product might send: the webhook, not the console, decides what is valid. */
const reportRequestSchema = z.record(z.string(), z.unknown());

function findButton(
  components: readonly unknown[],
  customId: string,
): { label?: string; disabled: boolean } | undefined {
  for (const row of components) {
    const children = (row as { components?: unknown }).components;
    if (!Array.isArray(children)) continue;
    for (const child of children as { custom_id?: unknown; label?: unknown; disabled?: unknown }[]) {
      if (child.custom_id === customId) {
        return {
          ...(typeof child.label === 'string' ? { label: child.label } : {}),
          disabled: child.disabled === true,
        };
      }
    }
  }
  return undefined;
}

/**
 * The console's writes are for its own page: a JSON body (a cross-site form cannot send one
 * without a CORS preflight, which this server never grants) and, when the browser says where the
 * request comes from, this very origin.
 */
function refuseCrossSite(req: IncomingMessage): string | undefined {
  const type = req.headers['content-type'] ?? '';
  if (!/^application\/json\b/i.test(type)) return 'the console only accepts application/json';
  const site = req.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin' && site !== 'none') return 'cross-site request refused';
  const origin = req.headers.origin;
  if (origin !== undefined) {
    let host: string | undefined;
    try {
      host = new URL(origin).host;
    } catch {
      host = undefined;
    }
    if (host !== req.headers.host) return 'cross-origin request refused';
  }
  return undefined;
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const raw = await readBody(req);
  if (raw.length > 1024 * 1024) return undefined;
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch {
    return undefined;
  }
}

function parseObject(text: string): Record<string, unknown> | undefined {
  try {
    const value = JSON.parse(text) as unknown;
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

function describeIssues(error: z.ZodError): string {
  return error.issues.map((issue) => `${issue.path.join('.') || 'body'}: ${issue.message}`).join('; ');
}

function loadAssets(): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  for (const name of readdirSync(PUBLIC_DIR)) {
    const type = CONTENT_TYPES[extname(name)];
    if (!type) continue;
    const body = readFileSync(join(PUBLIC_DIR, name));
    const etag = `"${createHash('sha1').update(body).digest('base64url').slice(0, 20)}"`;
    assets.set(name, { body, gzip: gzipSync(body, { level: 9 }), type, etag });
  }
  return assets;
}

function serveAsset(req: IncomingMessage, res: ServerResponse, asset: Asset | undefined): void {
  if (!asset) {
    sendJson(res, 404, { error: 'not found' });
    return;
  }
  const headers = {
    ...SECURITY_HEADERS,
    'content-type': asset.type,
    etag: asset.etag,
    'cache-control': 'no-cache',
    vary: 'accept-encoding',
  };
  if (req.headers['if-none-match'] === asset.etag) {
    res.writeHead(304, headers);
    res.end();
    return;
  }
  const gzip =
    /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? '')) && asset.gzip.length < asset.body.length;
  const body = gzip ? asset.gzip : asset.body;
  res.writeHead(200, {
    ...headers,
    ...(gzip ? { 'content-encoding': 'gzip' } : {}),
    'content-length': String(body.length),
  });
  res.end(body);
}
