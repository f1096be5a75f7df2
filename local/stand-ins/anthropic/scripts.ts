import {
  countAssistantTurns,
  hasTool,
  readFirstUserText,
  readLastUserText,
  readSystemText,
} from './conversation.js';
import type { MessagesRequest, StopReason } from './messages-wire.js';

/**
 * Scripted conversations. A script is picked per request by its matcher, and its responder sees
 * the whole request (messages so far, tool results included) to decide the next assistant turn.
 */

/** One block of a scripted assistant turn; tool-use ids are assigned by the stand-in when omitted. */
export type ScriptedBlock =
  | { readonly type: 'text'; readonly text: string }
  | {
      readonly type: 'tool_use';
      readonly name: string;
      readonly input: Record<string, unknown>;
      readonly id?: string;
    };

export interface AssistantTurn {
  readonly content: readonly ScriptedBlock[];
  /** Default: `tool_use` when the turn uses a tool, otherwise `end_turn`. */
  readonly stopReason?: StopReason;
  /**
   * Token counts to report instead of the estimate (about 4 characters a token). The Claude Code
   * CLI prices turns from these, so they drive its `total_cost_usd` and `--max-budget-usd`.
   */
  readonly usage?: { readonly inputTokens?: number; readonly outputTokens?: number };
}

export type Responder = (request: MessagesRequest) => AssistantTurn | Promise<AssistantTurn>;

export type TextMatch = string | RegExp;

/** Every condition given must hold. Text conditions: a string is a substring, a RegExp is tested. */
export interface ScriptMatch {
  /** The first user message: for the Claude Code CLI, the `-p` prompt. */
  readonly prompt?: TextMatch;
  /** The last user message, tool results included. */
  readonly lastUserText?: TextMatch;
  readonly system?: TextMatch;
  /** A tool that must be offered in `tools`. */
  readonly tool?: string;
  /** The tool a `tool_choice: {type: 'tool'}` forces. */
  readonly forcedTool?: string;
}

export interface Script {
  /** For reading recorded requests: which script answered. */
  readonly name?: string;
  /** Omitted: matches every request. */
  readonly match?: ScriptMatch | ((request: MessagesRequest) => boolean);
  readonly respond: Responder;
}

export function textTurn(text: string): AssistantTurn {
  return { content: [{ type: 'text', text }] };
}

export function toolUseTurn(
  name: string,
  input: Record<string, unknown>,
  options: { readonly text?: string; readonly id?: string } = {},
): AssistantTurn {
  const toolUse: ScriptedBlock = { type: 'tool_use', name, input, ...(options.id ? { id: options.id } : {}) };
  return { content: options.text ? [{ type: 'text', text: options.text }, toolUse] : [toolUse] };
}

export type ScriptStep = AssistantTurn | Responder;

/**
 * Plays `steps` in order, choosing the step by how many assistant turns the request already
 * holds — so it is stateless and replays correctly when a client retries a request. A step may be
 * a function of the request (e.g. to react to the last tool result). Past the end, it answers
 * `whenDone` (default: a short closing text), so a client that keeps going still terminates.
 */
export function scriptedAgent(
  steps: readonly ScriptStep[],
  whenDone: AssistantTurn = textTurn('Done.'),
): Responder {
  return (request) => {
    const step = steps[countAssistantTurns(request)];
    if (step === undefined) return whenDone;
    return typeof step === 'function' ? step(request) : step;
  };
}

export function matchesScript(script: Script, request: MessagesRequest): boolean {
  const match = script.match;
  if (match === undefined) return true;
  if (typeof match === 'function') return match(request);
  if (match.prompt !== undefined && !matchesText(match.prompt, readFirstUserText(request))) return false;
  if (match.lastUserText !== undefined && !matchesText(match.lastUserText, readLastUserText(request))) {
    return false;
  }
  if (match.system !== undefined && !matchesText(match.system, readSystemText(request))) return false;
  if (match.tool !== undefined && !hasTool(request, match.tool)) return false;
  if (match.forcedTool !== undefined) {
    const choice = request.tool_choice;
    if (choice?.type !== 'tool' || choice.name !== match.forcedTool) return false;
  }
  return true;
}

function matchesText(pattern: TextMatch, text: string): boolean {
  if (typeof pattern === 'string') return text.includes(pattern);
  // A global or sticky RegExp keeps `lastIndex` between calls; matching must not depend on history.
  pattern.lastIndex = 0;
  return pattern.test(text);
}
