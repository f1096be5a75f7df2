import type { IncomingMessage, ServerResponse } from 'node:http';
import { readLastUserText } from './anthropic/conversation.js';
import { buildStreamEvents, formatServerSentEvent } from './anthropic/message-stream.js';
import {
  type AnthropicErrorType,
  type AssistantContentBlock,
  type AssistantMessage,
  errorBody,
  errorTypeForStatus,
  findRequestProblem,
  type MessagesRequest,
  type StopReason,
} from './anthropic/messages-wire.js';
import { type AssistantTurn, matchesScript, type Responder, type Script } from './anthropic/scripts.js';
import {
  createStructuredOutput,
  createTriageAnalysis,
  readOutputSchema,
  type TriageResponder,
} from './anthropic/triage-analysis.js';
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

export {
  countAssistantTurns,
  readAllUserText,
  readFirstUserText,
  readLastToolResults,
  readLastUserText,
  readSystemText,
  type ToolResult,
} from './anthropic/conversation.js';
export type { AssistantMessage, MessagesRequest, ToolDefinition } from './anthropic/messages-wire.js';
export { generateFromSchema, type ValueHint } from './anthropic/schema-values.js';
export {
  type AssistantTurn,
  type Responder,
  type Script,
  type ScriptedBlock,
  type ScriptMatch,
  type ScriptStep,
  scriptedAgent,
  textTurn,
  toolUseTurn,
} from './anthropic/scripts.js';
export {
  createStructuredOutput,
  createTriageAnalysis,
  type TriageResponder,
} from './anthropic/triage-analysis.js';

/**
 * A sandbox Anthropic Messages API that both `@anthropic-ai/sdk` and the Claude Code CLI talk to
 * unchanged (point them at `<origin>/_sandbox/anthropic`). It plays scripted conversations:
 *
 * 1. the first script whose matcher accepts the request answers it;
 * 2. otherwise a forced tool call (`tool_choice` `tool`, or `any`) gets a `tool_use` for that tool
 *    with `triageResponder`'s input (default: a deterministic analysis of the report that fits the
 *    tool's `input_schema`);
 * 3. otherwise a structured-output request (`output_config.format` JSON schema) gets JSON text
 *    fitting that schema;
 * 4. otherwise `defaultResponder` (default: a short text reply quoting the last user message).
 *
 * Responders see the whole request, so a multi-turn agent (see `scriptedAgent`) advances by the
 * assistant turns already in `messages` and can read the `tool_result`s it got back.
 *
 * What the Claude Code CLI (2.1.x, `-p`) sends here: `HEAD /` without a key (a reachability probe,
 * answered 200 and never faulted), then streaming `POST /v1/messages?beta=true` — the agent loop,
 * plus a session-title side request with no tools and an `output_config.format` JSON schema that
 * repeats the prompt inside `<session>` tags. Match CLI agent scripts with `tool` (e.g. `'Write'`)
 * as well as `prompt`, so the side request does not get the agent's turn.
 */

/** What `GET /v1/models` lists; `created_at` values are placeholders. */
export const ANTHROPIC_STAND_IN_MODELS = [
  { id: 'claude-opus-4-8', display_name: 'Claude Opus 4.8', created_at: '2026-01-01T00:00:00Z' },
  { id: 'claude-sonnet-4-6', display_name: 'Claude Sonnet 4.6', created_at: '2026-01-01T00:00:00Z' },
  { id: 'claude-haiku-4-5', display_name: 'Claude Haiku 4.5', created_at: '2025-10-01T00:00:00Z' },
] as const;

export interface AnthropicStandInOptions {
  /** Checked in order; the first match answers. More can be added with `addScript`. */
  readonly scripts?: readonly Script[];
  /** Answers requests no script matched and that force no tool. */
  readonly defaultResponder?: Responder;
  /** Produces the input of a forced tool call no script matched. */
  readonly triageResponder?: TriageResponder;
  /** When set, only this key is accepted; otherwise any non-empty key. */
  readonly apiKey?: string;
  /** `retry-after` of an injected 429, in seconds. */
  readonly faultRetryAfterSeconds?: number;
  readonly now?: () => Date;
  /** Feeds the fault injector's `failRate`. */
  readonly random?: () => number;
}

/** One Messages API call, in full, for tests. */
export interface RecordedMessagesRequest {
  readonly at: string;
  readonly path: string;
  readonly stream: boolean;
  readonly status: number;
  /** The request body as sent (parsed JSON). */
  readonly request: MessagesRequest;
  /** Which script answered, when one did and it has a name. */
  readonly script?: string;
  readonly response?: AssistantMessage;
  readonly error?: { readonly type: AnthropicErrorType; readonly message: string };
}

/** A `type` (not an interface) so that it stays assignable to `Record<string, unknown>`. */
export type AnthropicStandInSnapshot = {
  /** Messages API calls (`POST /v1/messages`), answered or failed. */
  requests: number;
  lastModel: string | null;
};

export interface AnthropicStandIn extends StandIn {
  readonly service: 'anthropic';
  snapshot(): AnthropicStandInSnapshot;
  /** Every `POST /v1/messages` with its full request and the answer, oldest first. */
  messageRequests(): readonly RecordedMessagesRequest[];
  /** Appends a script after those already configured. */
  addScript(script: Script): void;
}

interface Answer {
  readonly status: number;
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
}

type Outcome =
  | { readonly kind: 'message'; readonly message: AssistantMessage; readonly script: string | undefined }
  | { readonly kind: 'error'; readonly answer: Answer };

interface ParsedBody {
  readonly body: unknown;
  readonly badJson: boolean;
}

/** Lets a reader of captured traffic tell the sandbox from the real API at a glance. */
const STAND_IN_HEADERS = { 'x-bugbot-sandbox': 'anthropic' };

export function createAnthropicStandIn(options: AnthropicStandInOptions = {}): AnthropicStandIn {
  const scripts = [...(options.scripts ?? [])];
  const defaultResponder = options.defaultResponder ?? replyWithEcho;
  const triageResponder = options.triageResponder ?? createTriageAnalysis;
  const retryAfterSeconds = options.faultRetryAfterSeconds ?? 1;
  const now = options.now ?? (() => new Date());
  const faults = new FaultInjector(options.random);
  const calls: RecordedCall[] = [];
  const recorded: RecordedMessagesRequest[] = [];
  let sequence = 0;

  const nextId = (prefix: string) => {
    sequence += 1;
    return `${prefix}_sbx${String(sequence).padStart(20, '0')}`;
  };

  function fail(status: number, message: string, headers: Record<string, string> = {}): Answer {
    return { status, body: errorBody(errorTypeForStatus(status), message), headers };
  }

  function faultAnswer(status: number, retryAfter = retryAfterSeconds): Answer {
    const messages: Record<number, string> = {
      429: 'Number of request tokens has exceeded your per-minute rate limit (sandbox fault).',
      529: 'Overloaded',
      500: 'Internal server error',
    };
    return fail(
      status,
      messages[status] ?? `Injected fault (${status}).`,
      status === 429 ? { 'retry-after': String(retryAfter) } : {},
    );
  }

  async function chooseTurn(
    request: MessagesRequest,
  ): Promise<{ turn: AssistantTurn; script?: string | undefined }> {
    const script = scripts.find((candidate) => matchesScript(candidate, request));
    if (script) return { turn: await script.respond(request), script: script.name };
    const choice = request.tool_choice;
    const forced =
      choice?.type === 'tool'
        ? request.tools?.find((tool) => tool.name === choice.name)
        : choice?.type === 'any'
          ? request.tools?.[0]
          : undefined;
    if (forced) {
      const input = await triageResponder(request, forced);
      return { turn: { content: [{ type: 'tool_use', name: forced.name, input }] } };
    }
    const outputSchema = readOutputSchema(request);
    if (outputSchema) {
      return { turn: { content: [{ type: 'text', text: createStructuredOutput(request, outputSchema) }] } };
    }
    return { turn: await defaultResponder(request) };
  }

  function buildMessage(request: MessagesRequest, turn: AssistantTurn): AssistantMessage {
    const content: AssistantContentBlock[] = turn.content.map((block) =>
      block.type === 'text'
        ? { type: 'text', text: block.text }
        : { type: 'tool_use', id: block.id ?? nextId('toolu'), name: block.name, input: block.input },
    );
    const outputTokens = turn.usage?.outputTokens ?? estimateTokens(JSON.stringify(content));
    // Like the API, an answer longer than `max_tokens` stops there: `stop_reason: "max_tokens"`,
    // text cut, and a tool call cut off before its input is complete ("Stop reasons and
    // fallback", platform.claude.com/docs/build-with-claude/handling-stop-reasons).
    const cut = !turn.stopReason && outputTokens > request.max_tokens;
    const answered: AssistantContentBlock[] = cut
      ? content.map((block) =>
          block.type === 'text'
            ? { ...block, text: block.text.slice(0, request.max_tokens * 4) }
            : { ...block, input: {} },
        )
      : content;
    const stopReason: StopReason = cut
      ? 'max_tokens'
      : (turn.stopReason ?? (content.some((block) => block.type === 'tool_use') ? 'tool_use' : 'end_turn'));
    return {
      id: nextId('msg'),
      type: 'message',
      role: 'assistant',
      model: request.model,
      content: answered,
      stop_reason: stopReason,
      stop_sequence: null,
      stop_details: null,
      container: null,
      usage: {
        input_tokens: turn.usage?.inputTokens ?? estimateInputTokens(request),
        output_tokens: cut ? request.max_tokens : outputTokens,
        cache_creation_input_tokens: 0,
        cache_read_input_tokens: 0,
        service_tier: 'standard',
      },
    };
  }

  /** Runs the matching responder; a throwing script is a test bug, answered like an API failure. */
  async function answerMessages(request: MessagesRequest): Promise<Outcome> {
    try {
      const chosen = await chooseTurn(request);
      return { kind: 'message', message: buildMessage(request, chosen.turn), script: chosen.script };
    } catch (error) {
      return { kind: 'error', answer: fail(500, `stand-in responder failed: ${String(error)}`) };
    }
  }

  async function decide(
    req: IncomingMessage,
    method: string,
    pathname: string,
    parsed: ParsedBody,
  ): Promise<Outcome> {
    const key = readApiKey(req);
    if (!key) return { kind: 'error', answer: fail(401, 'x-api-key header is required') };
    if (options.apiKey !== undefined && key !== options.apiKey) {
      return { kind: 'error', answer: fail(401, 'invalid x-api-key') };
    }
    if (parsed.badJson) return { kind: 'error', answer: fail(400, 'The request body is not valid JSON.') };
    if (pathname !== '/v1/messages') return { kind: 'error', answer: route(method, pathname, parsed.body) };
    if (method !== 'POST') return { kind: 'error', answer: notAllowed(method, pathname) };
    const problem = findRequestProblem(parsed.body);
    if (problem) return { kind: 'error', answer: fail(400, problem) };
    return answerMessages(parsed.body as MessagesRequest);
  }

  /** Everything but the Messages endpoint itself. */
  function route(method: string, pathname: string, body: unknown): Answer {
    if (pathname === '/v1/messages/count_tokens') {
      if (method !== 'POST') return notAllowed(method, pathname);
      const problem = findCountProblem(body);
      if (problem) return fail(400, problem);
      return { status: 200, body: { input_tokens: estimateInputTokens(body as MessagesRequest) } };
    }
    if (pathname === '/v1/models' && method === 'GET') {
      const data = ANTHROPIC_STAND_IN_MODELS.map((model) => ({ type: 'model', ...model }));
      return {
        status: 200,
        body: { data, has_more: false, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null },
      };
    }
    const model = /^\/v1\/models\/([^/]+)$/.exec(pathname);
    if (model && method === 'GET') {
      const id = decodeURIComponent(model[1]!);
      const known = ANTHROPIC_STAND_IN_MODELS.find((candidate) => candidate.id === id);
      // Unknown ids still answer: callers pass dated or future model names the list cannot know.
      return {
        status: 200,
        body: { type: 'model', ...(known ?? { id, display_name: id, created_at: '2025-01-01T00:00:00Z' }) },
      };
    }
    return fail(404, `Not found: ${method} ${pathname}`);
  }

  function notAllowed(method: string, pathname: string): Answer {
    return fail(405, `Method ${method} not allowed for ${pathname}`);
  }

  return {
    service: 'anthropic',
    calls,
    setFault(fault: Fault | null) {
      faults.set(fault);
    },
    snapshot() {
      return { requests: recorded.length, lastModel: recorded.at(-1)?.request.model ?? null };
    },
    messageRequests() {
      return recorded;
    },
    addScript(script: Script) {
      scripts.push(script);
    },
    async handle(req: IncomingMessage, res: ServerResponse, path: string) {
      const method = req.method ?? 'GET';
      const pathname = new URL(path, 'http://anthropic.sandbox').pathname.replace(/\/+$/, '') || '/';
      const raw = await readBody(req);
      let body: unknown;
      let badJson = false;
      if (raw.length > 0) {
        try {
          body = JSON.parse(raw.toString('utf8'));
        } catch {
          badJson = true;
        }
      }
      const at = now().toISOString();

      // The Claude Code CLI probes the base URL (`HEAD /`, no key) before its first request.
      if (pathname === '/' && (method === 'HEAD' || method === 'GET')) {
        calls.push({ at, method, path, status: 200 });
        res.writeHead(200, STAND_IN_HEADERS);
        res.end();
        return;
      }

      const fault = await faults.apply();
      if (fault?.kind === 'html') {
        calls.push({ at, method, path, ...(body === undefined ? {} : { body }), status: fault.status });
        sendHtmlFault(res, fault.status);
        return;
      }
      // A cut-off answer: the request is served (and recorded) as usual, its body halved.
      if (fault?.kind === 'truncate') cutResponseBody(res);
      const outcome: Outcome =
        fault?.kind === 'status'
          ? { kind: 'error', answer: faultAnswer(fault.status, fault.retryAfterSeconds) }
          : await decide(req, method, pathname, { body, badJson });
      const requestId = nextId('req');
      if (outcome.kind === 'message') {
        const headers = { 'request-id': requestId, ...STAND_IN_HEADERS };
        if (isStreaming(body)) {
          res.writeHead(200, {
            'content-type': 'text/event-stream; charset=utf-8',
            'cache-control': 'no-cache',
            ...headers,
          });
          for (const event of buildStreamEvents(outcome.message)) res.write(formatServerSentEvent(event));
          res.end();
        } else {
          sendJson(res, 200, outcome.message, headers);
        }
      } else {
        // The API repeats the request id inside error bodies.
        const errorAnswer = { ...(outcome.answer.body as object), request_id: requestId };
        sendJson(res, outcome.answer.status, errorAnswer, {
          'request-id': requestId,
          ...STAND_IN_HEADERS,
          ...outcome.answer.headers,
        });
      }

      const status = outcome.kind === 'message' ? 200 : outcome.answer.status;
      calls.push({ at, method, path, ...(body === undefined ? {} : { body }), status });
      if (pathname === '/v1/messages' && method === 'POST' && isMessagesRequest(body)) {
        const error =
          outcome.kind === 'error'
            ? (outcome.answer.body as { error?: RecordedMessagesRequest['error'] } | undefined)?.error
            : undefined;
        recorded.push({
          at,
          path,
          stream: isStreaming(body),
          status,
          request: body,
          ...(outcome.kind === 'message' && outcome.script ? { script: outcome.script } : {}),
          ...(outcome.kind === 'message' ? { response: outcome.message } : {}),
          ...(error ? { error } : {}),
        });
      }
    },
  };
}

/** The default reply when nothing is scripted: short, deterministic, and tied to the input. */
function replyWithEcho(request: MessagesRequest): AssistantTurn {
  const last = readLastUserText(request)
    .replace(/<system-reminder>[\s\S]*?<\/system-reminder>/g, '')
    .trim();
  const quoted = last.length > 80 ? `${last.slice(0, 79)}…` : last;
  return { content: [{ type: 'text', text: `Sandbox Claude received: ${quoted || '(empty message)'}` }] };
}

function readApiKey(req: IncomingMessage): string | undefined {
  const key = req.headers['x-api-key'];
  if (typeof key === 'string' && key.length > 0) return key;
  const bearer = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
  return bearer && bearer.length > 0 ? bearer : undefined;
}

function isStreaming(body: unknown): boolean {
  return (body as { stream?: unknown } | undefined)?.stream === true;
}

function isMessagesRequest(body: unknown): body is MessagesRequest {
  return (
    typeof body === 'object' && body !== null && Array.isArray((body as { messages?: unknown }).messages)
  );
}

function findCountProblem(body: unknown): string | null {
  if (typeof body !== 'object' || body === null) return 'body: expected an object';
  const { model, messages } = body as Record<string, unknown>;
  if (typeof model !== 'string') return 'model: Field required';
  if (!Array.isArray(messages)) return 'messages: Field required';
  return null;
}

/** About four characters a token, like the rule of thumb Anthropic gives. */
function estimateTokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}

function estimateInputTokens(request: MessagesRequest): number {
  return estimateTokens(JSON.stringify([request.system ?? '', request.messages, request.tools ?? []]));
}
