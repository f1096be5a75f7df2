import type { MessagesRequest, RequestContentBlock, RequestMessage } from './messages-wire.js';

/** Readers over a Messages request, for scripts deciding the next turn from the conversation. */

export interface ToolResult {
  readonly toolUseId: string;
  readonly text: string;
  readonly isError: boolean;
}

/** The top-level `system` prompt as one string (blocks joined with newlines). */
export function readSystemText(request: MessagesRequest): string {
  return blocksText(request.system ?? '');
}

/** Text of one message: its text blocks and the text of its tool results, joined with newlines. */
export function readMessageText(message: RequestMessage): string {
  return blocksText(message.content);
}

export function userMessages(request: MessagesRequest): RequestMessage[] {
  return request.messages.filter((message) => message.role === 'user');
}

/** The conversation's opening user message: for the Claude Code CLI, the `-p` prompt. */
export function readFirstUserText(request: MessagesRequest): string {
  const first = userMessages(request)[0];
  return first ? readMessageText(first) : '';
}

export function readLastUserText(request: MessagesRequest): string {
  const last = userMessages(request).at(-1);
  return last ? readMessageText(last) : '';
}

/** Every user message's text, in order: the "report" a triage request carries. */
export function readAllUserText(request: MessagesRequest): string {
  return userMessages(request).map(readMessageText).join('\n');
}

/** How many assistant turns the caller has already been given: the index of the next turn. */
export function countAssistantTurns(request: MessagesRequest): number {
  return request.messages.filter((message) => message.role === 'assistant').length;
}

/** The `tool_result` blocks of the last user message: what the tools of the previous turn returned. */
export function readLastToolResults(request: MessagesRequest): ToolResult[] {
  const last = userMessages(request).at(-1);
  if (!last || typeof last.content === 'string') return [];
  return last.content
    .filter((block) => block.type === 'tool_result')
    .map((block) => ({
      toolUseId: block.tool_use_id ?? '',
      text: blocksText(block.content ?? ''),
      isError: block.is_error === true,
    }));
}

export function hasTool(request: MessagesRequest, name: string): boolean {
  return (request.tools ?? []).some((tool) => tool.name === name);
}

function blocksText(content: string | readonly RequestContentBlock[]): string {
  if (typeof content === 'string') return content;
  return content
    .map((block) => {
      if (block.type === 'text') return block.text ?? '';
      if (block.type === 'tool_result') return blocksText(block.content ?? '');
      return '';
    })
    .filter((text) => text.length > 0)
    .join('\n');
}
