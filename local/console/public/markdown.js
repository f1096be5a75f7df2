// @ts-check
/**
 * A small Markdown reader for the console: Discord's flavour (embeds, messages) and GitHub's
 * (Linear comments, pull request bodies: tables included). It returns a tree of plain objects,
 * never HTML: the page builds DOM nodes from the tree with `textContent`, so HTML in the source
 * stays text (there is no HTML parser anywhere on the path). Links keep only http(s) and mailto
 * targets; images are never loaded, only named.
 *
 * Linear in the input per nesting level: a delimiter search that failed is not repeated.
 *
 * @typedef {'discord' | 'gfm'} Flavor
 * @typedef {{ type: 'text', text: string }
 *   | { type: 'br' }
 *   | { type: 'code', text: string }
 *   | { type: 'strong' | 'em' | 'underline' | 'strike' | 'spoiler', children: Inline[] }
 *   | { type: 'link', href: string, children: Inline[] }
 *   | { type: 'image', href: string, alt: string }} Inline
 * @typedef {{ type: 'paragraph', children: Inline[] }
 *   | { type: 'heading', level: number, children: Inline[] }
 *   | { type: 'subtext', children: Inline[] }
 *   | { type: 'codeblock', lang: string, text: string }
 *   | { type: 'quote', children: Block[] }
 *   | { type: 'list', ordered: boolean, start: number, items: Block[][] }
 *   | { type: 'table', align: ('left' | 'center' | 'right' | null)[], header: Inline[][], rows: Inline[][][] }
 *   | { type: 'hr' }} Block
 */

const MAX_DEPTH = 8;
const ESCAPABLE = '\\`*_{}[]()#+-.!|~><:@=';

/**
 * @param {string} source
 * @param {Flavor} [flavor]
 * @returns {Block[]}
 */
export function parseMarkdown(source, flavor = 'gfm') {
  const lines = String(source).replace(/\r\n?/g, '\n').split('\n');
  return parseBlocks(lines, flavor, 0);
}

/**
 * @param {string} source
 * @param {Flavor} [flavor]
 * @returns {Inline[]}
 */
export function parseInlineMarkdown(source, flavor = 'gfm') {
  return parseInline(String(source), flavor, 0);
}

/**
 * The link target when it is one the page may follow, else null.
 * @param {string} raw
 * @returns {string | null}
 */
export function safeHref(raw) {
  const text = String(raw).trim();
  if (!/^(https?:\/\/|mailto:)/i.test(text)) return null;
  try {
    const url = new URL(text);
    return url.protocol === 'http:' || url.protocol === 'https:' || url.protocol === 'mailto:'
      ? url.href
      : null;
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------------------------------------
// Blocks

const FENCE = /^ {0,3}(`{3,}|~{3,})\s*([^`\s]*)[^`]*$/;
const HEADING = /^ {0,3}(#{1,6})\s+(.*?)(?:\s+#+)?\s*$/;
const SUBTEXT = /^-# (.*)$/;
const HR = /^ {0,3}([-*_])(?:\s*\1){2,}\s*$/;
const QUOTE = /^ {0,3}> ?(.*)$/;
const LIST_ITEM = /^( {0,12})([-*+]|\d{1,9}[.)])\s+(.*)$/;
const TABLE_DELIMITER = /^\s*\|?\s*:?-+:?\s*(\|\s*:?-+:?\s*)*\|?\s*$/;

/**
 * @param {string[]} lines
 * @param {Flavor} flavor
 * @param {number} depth
 * @returns {Block[]}
 */
function parseBlocks(lines, flavor, depth) {
  /** @type {Block[]} */
  const blocks = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i] ?? '';
    if (line.trim() === '') {
      i += 1;
      continue;
    }
    const fence = FENCE.exec(line);
    if (fence) {
      const marker = fence[1] ?? '```';
      const body = [];
      i += 1;
      while (i < lines.length) {
        const candidate = (lines[i] ?? '').trim();
        if (
          candidate.startsWith(marker[0] ?? '`') &&
          /^(`+|~+)$/.test(candidate) &&
          candidate.length >= marker.length
        )
          break;
        body.push(lines[i] ?? '');
        i += 1;
      }
      i += 1; // the closing fence (or the end)
      blocks.push({ type: 'codeblock', lang: fence[2] ?? '', text: body.join('\n') });
      continue;
    }
    const heading = HEADING.exec(line);
    if (heading) {
      blocks.push({
        type: 'heading',
        level: (heading[1] ?? '#').length,
        children: parseInline(heading[2] ?? '', flavor, 0),
      });
      i += 1;
      continue;
    }
    const subtext = flavor === 'discord' ? SUBTEXT.exec(line) : null;
    if (subtext) {
      blocks.push({ type: 'subtext', children: parseInline(subtext[1] ?? '', flavor, 0) });
      i += 1;
      continue;
    }
    if (HR.test(line) && flavor === 'gfm') {
      blocks.push({ type: 'hr' });
      i += 1;
      continue;
    }
    if (QUOTE.test(line)) {
      const quoted = [];
      if (flavor === 'discord' && /^>>> ?/.test(line)) {
        quoted.push(line.replace(/^>>> ?/, ''), ...lines.slice(i + 1));
        i = lines.length;
      } else {
        while (i < lines.length && QUOTE.test(lines[i] ?? '')) {
          quoted.push((QUOTE.exec(lines[i] ?? '') ?? [])[1] ?? '');
          i += 1;
        }
      }
      blocks.push(
        depth < MAX_DEPTH
          ? { type: 'quote', children: parseBlocks(quoted, flavor, depth + 1) }
          : { type: 'paragraph', children: [{ type: 'text', text: quoted.join('\n') }] },
      );
      continue;
    }
    if (isTableStart(lines, i)) {
      const header = splitRow(line);
      const align = splitRow(lines[i + 1] ?? '').map((cell) => {
        const left = cell.startsWith(':');
        const right = cell.endsWith(':');
        return left && right ? 'center' : right ? 'right' : left ? 'left' : null;
      });
      i += 2;
      /** @type {Inline[][][]} */
      const rows = [];
      while (i < lines.length && (lines[i] ?? '').includes('|') && (lines[i] ?? '').trim() !== '') {
        const cells = splitRow(lines[i] ?? '');
        rows.push(header.map((_, column) => parseInline(cells[column] ?? '', flavor, 0)));
        i += 1;
      }
      blocks.push({
        type: 'table',
        align: /** @type {('left' | 'center' | 'right' | null)[]} */ (align),
        header: header.map((cell) => parseInline(cell, flavor, 0)),
        rows,
      });
      continue;
    }
    const item = LIST_ITEM.exec(line);
    if (item) {
      const indent = (item[1] ?? '').length;
      const ordered = /\d/.test(item[2] ?? '');
      /** @type {string[][]} */
      const items = [];
      while (i < lines.length) {
        const current = lines[i] ?? '';
        const next = LIST_ITEM.exec(current);
        if (next && (next[1] ?? '').length === indent && /\d/.test(next[2] ?? '') === ordered) {
          items.push([next[3] ?? '']);
          i += 1;
          continue;
        }
        const leading = current.length - current.trimStart().length;
        const blankThenMore =
          current.trim() === '' && i + 1 < lines.length && indentOf(lines[i + 1] ?? '') > indent;
        if (items.length > 0 && ((current.trim() !== '' && leading > indent) || blankThenMore)) {
          items[items.length - 1]?.push(current.slice(Math.min(leading, indent + 2)));
          i += 1;
          continue;
        }
        break;
      }
      blocks.push({
        type: 'list',
        ordered,
        start: ordered ? Number.parseInt(item[2] ?? '1', 10) : 1,
        items: items.map((itemLines) =>
          depth < MAX_DEPTH
            ? parseBlocks(itemLines, flavor, depth + 1)
            : [{ type: 'paragraph', children: [{ type: 'text', text: itemLines.join('\n') }] }],
        ),
      });
      continue;
    }
    const paragraph = [];
    while (
      i < lines.length &&
      (lines[i] ?? '').trim() !== '' &&
      (paragraph.length === 0 || !startsBlock(lines, i, flavor))
    ) {
      paragraph.push(lines[i] ?? '');
      i += 1;
    }
    blocks.push({ type: 'paragraph', children: parseInline(paragraph.join('\n'), flavor, 0) });
  }
  return blocks;
}

/** @param {string} line */
function indentOf(line) {
  return line.length - line.trimStart().length;
}

/**
 * @param {string[]} lines
 * @param {number} i
 * @param {Flavor} flavor
 */
function startsBlock(lines, i, flavor) {
  const line = lines[i] ?? '';
  return (
    FENCE.test(line) ||
    HEADING.test(line) ||
    QUOTE.test(line) ||
    LIST_ITEM.test(line) ||
    (flavor === 'gfm' && HR.test(line)) ||
    (flavor === 'discord' && SUBTEXT.test(line)) ||
    isTableStart(lines, i)
  );
}

/**
 * @param {string[]} lines
 * @param {number} i
 */
function isTableStart(lines, i) {
  const line = lines[i] ?? '';
  const delimiter = lines[i + 1];
  if (!line.includes('|') || delimiter === undefined || !TABLE_DELIMITER.test(delimiter)) return false;
  return splitRow(line).length === splitRow(delimiter).length;
}

/**
 * The cells of a table row: outer pipes dropped, `\|` kept as a pipe.
 * @param {string} line
 * @returns {string[]}
 */
function splitRow(line) {
  let text = line.trim();
  if (text.startsWith('|')) text = text.slice(1);
  if (text.endsWith('|') && !text.endsWith('\\|')) text = text.slice(0, -1);
  const cells = [];
  let cell = '';
  for (let i = 0; i < text.length; i += 1) {
    const char = text[i];
    if (char === '\\' && text[i + 1] === '|') {
      cell += '\\|';
      i += 1;
    } else if (char === '|') {
      cells.push(cell.trim());
      cell = '';
    } else {
      cell += char;
    }
  }
  cells.push(cell.trim());
  return cells;
}

// ---------------------------------------------------------------------------------------------
// Inlines

/** @type {{ marker: string, type: 'strong' | 'em' | 'underline' | 'strike' | 'spoiler', flavors: Flavor[] }[]} */
const DELIMITERS = [
  { marker: '**', type: 'strong', flavors: ['discord', 'gfm'] },
  { marker: '__', type: 'underline', flavors: ['discord'] },
  { marker: '__', type: 'strong', flavors: ['gfm'] },
  { marker: '~~', type: 'strike', flavors: ['discord', 'gfm'] },
  { marker: '||', type: 'spoiler', flavors: ['discord'] },
  { marker: '*', type: 'em', flavors: ['discord', 'gfm'] },
  { marker: '_', type: 'em', flavors: ['discord', 'gfm'] },
];
const BARE_URL = /^https?:\/\/[^\s<>"]*[^\s<>".,:;'")\]!?*_~|]/;

/**
 * @param {string} src
 * @param {Flavor} flavor
 * @param {number} depth
 * @returns {Inline[]}
 */
function parseInline(src, flavor, depth) {
  /** @type {Inline[]} */
  const out = [];
  let buffer = '';
  const flush = () => {
    if (buffer) out.push({ type: 'text', text: buffer });
    buffer = '';
  };
  /** Where a search for a marker's closer failed: no closer exists at or after it. */
  /** @type {Map<string, number>} */
  const noCloserFrom = new Map();
  const delimiters = DELIMITERS.filter((delimiter) => delimiter.flavors.includes(flavor));
  /** The next `]` at or after the current position (-1: none), found moving forward only. */
  let nextBracket = src.indexOf(']');

  let i = 0;
  while (i < src.length) {
    const char = src[i] ?? '';
    if (char === '\\' && i + 1 < src.length && ESCAPABLE.includes(src[i + 1] ?? '')) {
      buffer += src[i + 1];
      i += 2;
      continue;
    }
    if (char === '\n') {
      flush();
      out.push({ type: 'br' });
      i += 1;
      continue;
    }
    if (char === '`') {
      let run = 1;
      while (src[i + run] === '`') run += 1;
      const fence = '`'.repeat(run);
      const close = src.indexOf(fence, i + run);
      if (close >= 0) {
        flush();
        let code = src.slice(i + run, close).replace(/\n/g, ' ');
        if (code.length > 2 && code.startsWith(' ') && code.endsWith(' ')) code = code.slice(1, -1);
        out.push({ type: 'code', text: code });
        i = close + run;
      } else {
        buffer += fence;
        i += run;
      }
      continue;
    }
    if (nextBracket >= 0 && nextBracket < i) nextBracket = src.indexOf(']', i);
    if ((char === '[' || (char === '!' && src[i + 1] === '[')) && nextBracket >= 0 && depth < MAX_DEPTH) {
      const image = char === '!';
      const link = readLink(src, image ? i + 1 : i);
      if (link) {
        flush();
        const href = safeHref(link.target);
        if (image) {
          // Never an <img>: an image in reported text would fetch from anywhere.
          out.push(
            href ? { type: 'image', href, alt: link.label } : { type: 'text', text: src.slice(i, link.end) },
          );
        } else if (href) {
          out.push({ type: 'link', href, children: parseInline(link.label, flavor, depth + 1) });
        } else {
          out.push({ type: 'text', text: src.slice(i, link.end) });
        }
        i = link.end;
        continue;
      }
    }
    if (char === '<') {
      const auto = /^<(https?:\/\/[^\s<>]+|mailto:[^\s<>]+)>/.exec(src.slice(i, i + 2100));
      const href = auto ? safeHref(auto[1] ?? '') : null;
      if (auto && href) {
        flush();
        out.push({ type: 'link', href, children: [{ type: 'text', text: auto[1] ?? '' }] });
        i += auto[0].length;
        continue;
      }
    }
    if (char === 'h' && !/[A-Za-z0-9]/.test(src[i - 1] ?? '')) {
      const bare = BARE_URL.exec(src.slice(i, i + 2100));
      const href = bare ? safeHref(bare[0]) : null;
      if (bare && href) {
        flush();
        out.push({ type: 'link', href, children: [{ type: 'text', text: bare[0] }] });
        i += bare[0].length;
        continue;
      }
    }
    if (depth < MAX_DEPTH) {
      const matched = matchDelimiter(src, i, delimiters, noCloserFrom);
      if (matched) {
        flush();
        out.push({
          type: matched.type,
          children: parseInline(src.slice(i + matched.marker.length, matched.close), flavor, depth + 1),
        });
        i = matched.close + matched.marker.length;
        continue;
      }
    }
    buffer += char;
    i += 1;
  }
  flush();
  return out;
}

/**
 * @param {string} src
 * @param {number} i
 * @param {typeof DELIMITERS} delimiters
 * @param {Map<string, number>} noCloserFrom
 * @returns {{ marker: string, type: 'strong' | 'em' | 'underline' | 'strike' | 'spoiler', close: number } | null}
 */
function matchDelimiter(src, i, delimiters, noCloserFrom) {
  for (const { marker, type } of delimiters) {
    if (!src.startsWith(marker, i)) continue;
    const after = src[i + marker.length] ?? '';
    if (after === '' || /\s/.test(after)) continue;
    // `snake_case_names` are not emphasis.
    if (marker === '_' && /[A-Za-z0-9]/.test(src[i - 1] ?? '')) continue;
    // A single `*` next to another is part of a longer run.
    if (marker.length === 1 && (after === marker || src[i - 1] === marker)) continue;
    const start = i + marker.length + 1;
    const failedAt = noCloserFrom.get(marker);
    if (failedAt !== undefined && start >= failedAt) continue;
    let from = start;
    let close = -1;
    while (from <= src.length) {
      const candidate = src.indexOf(marker, from);
      if (candidate < 0) break;
      const before = src[candidate - 1] ?? '';
      const beyond = src[candidate + marker.length] ?? '';
      const okEdge = !/\s/.test(before);
      const okSingle = marker.length > 1 || (beyond !== marker && before !== marker);
      const okUnderscore = marker !== '_' || !/[A-Za-z0-9]/.test(beyond);
      if (okEdge && okSingle && okUnderscore) {
        close = candidate;
        break;
      }
      from = candidate + 1;
    }
    if (close < 0) {
      noCloserFrom.set(marker, Math.min(start, failedAt ?? start));
      continue;
    }
    return { marker, type, close };
  }
  return null;
}

/**
 * `[label](target)` or `[label](<target>)` starting at `i` (the `[`).
 * @param {string} src
 * @param {number} i
 * @returns {{ label: string, target: string, end: number } | null}
 */
function readLink(src, i) {
  let depth = 0;
  let j = i;
  for (; j < src.length && j - i < 1000; j += 1) {
    const char = src[j];
    if (char === '\\') {
      j += 1;
    } else if (char === '[') {
      depth += 1;
    } else if (char === ']') {
      depth -= 1;
      if (depth === 0) break;
    } else if (char === '\n' && src[j + 1] === '\n') {
      return null;
    }
  }
  if (depth !== 0 || src[j + 1] !== '(') return null;
  const rest = src.slice(j + 2, j + 2 + 2100);
  const target =
    /^<([^<>\n]*)>\s*(?:"[^"\n]*"\s*)?\)/.exec(rest) ?? /^([^\s()]*)\s*(?:"[^"\n]*"\s*)?\)/.exec(rest);
  if (!target) return null;
  return { label: src.slice(i + 1, j), target: target[1] ?? '', end: j + 2 + target[0].length };
}
