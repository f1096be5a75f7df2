import type { AssistantMessage } from './messages-wire.js';

/**
 * A finished assistant message as the Messages API streams it: `message_start`, per block
 * `content_block_start` / `content_block_delta`… / `content_block_stop` (a `ping` after the first
 * block starts, as the API sends one), then `message_delta` with the stop reason and usage, and
 * `message_stop`. Text and tool input arrive in several deltas so clients really accumulate.
 */

export interface StreamEvent {
  readonly event: string;
  readonly data: Record<string, unknown>;
}

const TEXT_CHUNK_WORDS = 3;
const JSON_CHUNK_CHARS = 24;

export function buildStreamEvents(message: AssistantMessage): StreamEvent[] {
  const events: StreamEvent[] = [];
  const emit = (event: string, data: Record<string, unknown> = {}) =>
    events.push({ event, data: { type: event, ...data } });

  emit('message_start', {
    message: {
      ...message,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      // The API reports the input up front and counts output only at the end.
      usage: { ...message.usage, output_tokens: 1 },
    },
  });
  message.content.forEach((block, index) => {
    if (block.type === 'text') {
      emit('content_block_start', { index, content_block: { type: 'text', text: '' } });
      if (index === 0) emit('ping');
      for (const text of chunkWords(block.text))
        emit('content_block_delta', { index, delta: { type: 'text_delta', text } });
    } else {
      emit('content_block_start', {
        index,
        content_block: { type: 'tool_use', id: block.id, name: block.name, input: {} },
      });
      if (index === 0) emit('ping');
      for (const partial_json of chunkChars(JSON.stringify(block.input), JSON_CHUNK_CHARS)) {
        emit('content_block_delta', { index, delta: { type: 'input_json_delta', partial_json } });
      }
    }
    emit('content_block_stop', { index });
  });
  if (message.content.length === 0) emit('ping');
  emit('message_delta', {
    delta: { stop_reason: message.stop_reason, stop_sequence: null },
    usage: {
      input_tokens: message.usage.input_tokens,
      output_tokens: message.usage.output_tokens,
      cache_creation_input_tokens: message.usage.cache_creation_input_tokens,
      cache_read_input_tokens: message.usage.cache_read_input_tokens,
    },
  });
  emit('message_stop');
  return events;
}

export function formatServerSentEvent({ event, data }: StreamEvent): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

function chunkWords(text: string): string[] {
  const words = text.match(/\S+\s*|\s+/g) ?? [];
  const chunks: string[] = [];
  for (let start = 0; start < words.length; start += TEXT_CHUNK_WORDS) {
    chunks.push(words.slice(start, start + TEXT_CHUNK_WORDS).join(''));
  }
  return chunks.length > 0 ? chunks : [''];
}

function chunkChars(text: string, size: number): string[] {
  const chunks: string[] = [];
  for (let start = 0; start < text.length; start += size) chunks.push(text.slice(start, start + size));
  return chunks;
}
