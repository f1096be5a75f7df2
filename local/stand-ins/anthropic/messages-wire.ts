/**
 * The slice of the Anthropic Messages API wire format the stand-in reads and writes. Typed loosely
 * on purpose: the Claude Code CLI sends fields the public SDK types do not know yet (e.g.
 * `role: 'system'` messages, `context_management`), and the stand-in must accept them unchanged.
 */

export type JsonSchema = Record<string, unknown>;

export interface ToolDefinition {
  readonly name: string;
  readonly description?: string;
  readonly input_schema?: JsonSchema;
  readonly type?: string;
}

export type ToolChoice =
  | { readonly type: 'auto' | 'any' | 'none'; readonly disable_parallel_tool_use?: boolean }
  | { readonly type: 'tool'; readonly name: string; readonly disable_parallel_tool_use?: boolean };

export interface RequestContentBlock {
  readonly type: string;
  readonly text?: string;
  readonly id?: string;
  readonly name?: string;
  readonly input?: unknown;
  readonly tool_use_id?: string;
  readonly content?: string | readonly RequestContentBlock[];
  readonly is_error?: boolean;
}

export interface RequestMessage {
  readonly role: string;
  readonly content: string | readonly RequestContentBlock[];
}

export interface MessagesRequest {
  readonly model: string;
  readonly max_tokens: number;
  readonly messages: readonly RequestMessage[];
  readonly system?: string | readonly RequestContentBlock[];
  readonly tools?: readonly ToolDefinition[];
  readonly tool_choice?: ToolChoice;
  readonly stream?: boolean;
  readonly [field: string]: unknown;
}

export type TextBlock = { type: 'text'; text: string };
export type ToolUseBlock = { type: 'tool_use'; id: string; name: string; input: Record<string, unknown> };
export type AssistantContentBlock = TextBlock | ToolUseBlock;

export type StopReason = 'end_turn' | 'tool_use' | 'max_tokens' | 'stop_sequence' | 'pause_turn' | 'refusal';

export interface Usage {
  input_tokens: number;
  output_tokens: number;
  cache_creation_input_tokens: number;
  cache_read_input_tokens: number;
}

export interface AssistantMessage {
  id: string;
  type: 'message';
  role: 'assistant';
  model: string;
  content: AssistantContentBlock[];
  stop_reason: StopReason;
  stop_sequence: null;
  stop_details: null;
  container: null;
  usage: Usage & { service_tier: 'standard' };
}

export type AnthropicErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'permission_error'
  | 'not_found_error'
  | 'request_too_large'
  | 'rate_limit_error'
  | 'api_error'
  | 'overloaded_error';

/** The error `type` Anthropic documents for each HTTP status. */
export function errorTypeForStatus(status: number): AnthropicErrorType {
  switch (status) {
    case 400:
      return 'invalid_request_error';
    case 401:
      return 'authentication_error';
    case 403:
      return 'permission_error';
    case 404:
      return 'not_found_error';
    case 413:
      return 'request_too_large';
    case 429:
      return 'rate_limit_error';
    case 529:
      return 'overloaded_error';
    default:
      return status >= 500 ? 'api_error' : 'invalid_request_error';
  }
}

export function errorBody(type: AnthropicErrorType, message: string) {
  return { type: 'error', error: { type, message } };
}

/**
 * Checks what the real API rejects before generating anything, so an adapter that builds a bad
 * request fails here as it would in production. Returns the error message, or null when valid.
 */
export function findRequestProblem(body: unknown): string | null {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return 'body: expected an object';
  const request = body as Record<string, unknown>;
  if (typeof request.model !== 'string' || request.model.length === 0) return 'model: Field required';
  if (
    typeof request.max_tokens !== 'number' ||
    !Number.isInteger(request.max_tokens) ||
    request.max_tokens < 1
  ) {
    return 'max_tokens: Field required';
  }
  if (!Array.isArray(request.messages) || request.messages.length === 0) {
    return 'messages: at least one message is required';
  }
  for (const [index, message] of request.messages.entries()) {
    const { role, content } = (message ?? {}) as Record<string, unknown>;
    if (role !== 'user' && role !== 'assistant' && role !== 'system') {
      return `messages.${index}.role: Input should be 'user' or 'assistant'`;
    }
    if (typeof content !== 'string' && !Array.isArray(content)) {
      return `messages.${index}.content: Field required`;
    }
  }
  const tools = request.tools;
  if (tools !== undefined) {
    if (!Array.isArray(tools)) return 'tools: Input should be a valid list';
    for (const [index, tool] of tools.entries()) {
      if (typeof (tool as ToolDefinition | null)?.name !== 'string')
        return `tools.${index}.name: Field required`;
    }
  }
  const choice = request.tool_choice as ToolChoice | undefined;
  if (choice?.type === 'tool') {
    const known = Array.isArray(tools) && tools.some((tool) => (tool as ToolDefinition).name === choice.name);
    if (!known) return `tool_choice: Tool '${choice.name}' not found in tools`;
  }
  if ((choice?.type === 'tool' || choice?.type === 'any') && (!Array.isArray(tools) || tools.length === 0)) {
    return 'tool_choice: tools must be provided when tool_choice forces tool use';
  }
  return null;
}
