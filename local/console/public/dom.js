// @ts-check
import { parseInlineMarkdown, parseMarkdown, safeHref } from './markdown.js';

/**
 * DOM building for the console. The only ways text reaches the page are text nodes and
 * attribute values set one by one: there is no innerHTML anywhere (the page's policy enforces
 * Trusted Types with no policy, so an HTML string sink would throw), and `href`s pass
 * `safeHref` first.
 *
 * @typedef {import('./markdown.js').Block} Block
 * @typedef {import('./markdown.js').Inline} Inline
 * @typedef {Node | string | number | null | undefined | false} Child
 * @typedef {{ class?: string, href?: string | null, title?: string, [attribute: string]: string | number | boolean | null | undefined }} Props
 */

const FORBIDDEN_ATTRIBUTE = /^(on|style$|srcdoc$|src$|formaction$|action$)/i;

/**
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Props | null} [props]
 * @param {...(Child | Child[])} children
 * @returns {HTMLElementTagNameMap[K]}
 */
export function h(tag, props, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(props ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (FORBIDDEN_ATTRIBUTE.test(name)) throw new Error(`attribute ${name} is not allowed here`);
    if (name === 'class') element.className = String(value);
    else if (name === 'href') {
      const href = safeHref(String(value)) ?? (String(value).startsWith('/') ? String(value) : null);
      if (href) element.setAttribute('href', href);
    } else element.setAttribute(name, value === true ? '' : String(value));
  }
  append(element, children);
  return element;
}

/**
 * @param {Node} parent
 * @param {(Child | Child[])[]} children
 */
export function append(parent, children) {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    parent.appendChild(typeof child === 'object' ? child : document.createTextNode(String(child)));
  }
}

/** An external link: a new tab, no referrer, no opener. */
/**
 * @param {string} href
 * @param {...(Child | Child[])} children
 */
export function externalLink(href, ...children) {
  const safe = safeHref(href);
  if (!safe) return h('span', null, ...children);
  return h(
    'a',
    { href: safe, target: '_blank', rel: 'noopener noreferrer nofollow', title: safe },
    ...children,
  );
}

/**
 * @param {string} source
 * @param {'discord' | 'gfm'} [flavor]
 * @returns {HTMLElement}
 */
export function markdown(source, flavor = 'gfm') {
  return h('div', { class: `md md-${flavor}` }, parseMarkdown(source, flavor).map(renderBlock));
}

/**
 * One line of inline Markdown (embed titles, field names).
 * @param {string} source
 * @param {'discord' | 'gfm'} [flavor]
 */
export function inlineMarkdown(source, flavor = 'discord') {
  return h('span', { class: 'md-inline' }, parseInlineMarkdown(source, flavor).map(renderInline));
}

/**
 * @param {Block} block
 * @returns {HTMLElement}
 */
function renderBlock(block) {
  switch (block.type) {
    case 'paragraph':
      return h('p', null, block.children.map(renderInline));
    case 'heading': {
      const level = Math.min(6, Math.max(1, block.level));
      return h(/** @type {'h1'} */ (`h${level}`), null, block.children.map(renderInline));
    }
    case 'subtext':
      return h('p', { class: 'subtext' }, block.children.map(renderInline));
    case 'codeblock':
      return h('pre', { class: 'codeblock', 'data-lang': block.lang || null }, h('code', null, block.text));
    case 'quote':
      return h('blockquote', null, block.children.map(renderBlock));
    case 'list':
      return h(
        block.ordered ? 'ol' : 'ul',
        block.ordered && block.start !== 1 ? { start: block.start } : null,
        block.items.map((item) => h('li', null, item.map(renderBlock))),
      );
    case 'table':
      return h(
        'div',
        { class: 'table-wrap' },
        h(
          'table',
          null,
          h(
            'thead',
            null,
            h(
              'tr',
              null,
              block.header.map((cell, column) =>
                h('th', { class: alignClass(block.align[column]) }, cell.map(renderInline)),
              ),
            ),
          ),
          h(
            'tbody',
            null,
            block.rows.map((row) =>
              h(
                'tr',
                null,
                row.map((cell, column) =>
                  h('td', { class: alignClass(block.align[column]) }, cell.map(renderInline)),
                ),
              ),
            ),
          ),
        ),
      );
    case 'hr':
      return h('hr');
    default:
      return h('p');
  }
}

/** @param {'left' | 'center' | 'right' | null | undefined} align */
function alignClass(align) {
  return align ? `align-${align}` : undefined;
}

/**
 * @param {Inline} inline
 * @returns {Node}
 */
function renderInline(inline) {
  switch (inline.type) {
    case 'text':
      return document.createTextNode(inline.text);
    case 'br':
      return h('br');
    case 'code':
      return h('code', null, inline.text);
    case 'strong':
      return h('strong', null, inline.children.map(renderInline));
    case 'em':
      return h('em', null, inline.children.map(renderInline));
    case 'underline':
      return h('u', null, inline.children.map(renderInline));
    case 'strike':
      return h('s', null, inline.children.map(renderInline));
    case 'spoiler':
      return h(
        'span',
        { class: 'spoiler', tabindex: 0, title: 'Spoiler' },
        inline.children.map(renderInline),
      );
    case 'link':
      return externalLink(inline.href, inline.children.map(renderInline));
    case 'image':
      return externalLink(
        inline.href,
        h('span', { class: 'image-ref' }, `image: ${inline.alt || inline.href}`),
      );
    default:
      return document.createTextNode('');
  }
}

/**
 * Replaces a container's children.
 * @param {Element} container
 * @param {...(Child | Child[])} children
 */
export function replaceChildren(container, ...children) {
  container.replaceChildren();
  append(container, children);
}

/**
 * "3 minutes ago"-style time, with the exact time as a tooltip.
 * @param {string} iso
 */
export function time(iso) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return h('time', null, '');
  return h(
    'time',
    { datetime: date.toISOString(), title: date.toLocaleString() },
    date.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' }),
  );
}
