/**
 * Reported text (Discord messages, webhook reports) is written by anyone. Wherever it is shown to
 * people or to a model it goes inside a fence it cannot close, so it stays data: a report that
 * contains ``` cannot break out of its block and pose as our own words or instructions.
 */

/** A Markdown code fence longer than any backtick run inside `text`. */
export function fenceUntrusted(text: string, info = 'text'): string {
  const longestRun = Math.max(0, ...Array.from(text.matchAll(/`+/g), (match) => match[0].length));
  const fence = '`'.repeat(Math.max(3, longestRun + 1));
  return `${fence}${info}\n${text}\n${fence}`;
}

/** One line, no Markdown structure, bounded: for titles and table cells built from reported text. */
export function toPlainLine(text: string, maxLength: number): string {
  const line = text
    .replace(/[\r\n\t]+/g, ' ')
    .replace(/[`*_~|<>[\]#]/g, '')
    .replace(/\s{2,}/g, ' ')
    .trim();
  return truncate(line, maxLength);
}

export function truncate(text: string, maxLength: number): string {
  if (text.length <= maxLength) return text;
  if (maxLength <= 1) return text.slice(0, maxLength);
  return `${text.slice(0, maxLength - 1).trimEnd()}…`;
}
