import { describe, expect, it } from 'vitest';
import { parseInlineMarkdown, parseMarkdown, safeHref } from '../../local/console/public/markdown.js';

/** Every text the tree would put on the page, in order. */
function texts(node: unknown): string[] {
  if (Array.isArray(node)) return node.flatMap(texts);
  if (typeof node !== 'object' || node === null) return [];
  const record = node as Record<string, unknown>;
  const own = typeof record.text === 'string' ? [record.text] : [];
  return [
    ...own,
    ...Object.values(record).flatMap((value) => (typeof value === 'object' ? texts(value) : [])),
  ];
}

function types(node: unknown): string[] {
  if (Array.isArray(node)) return node.flatMap(types);
  if (typeof node !== 'object' || node === null) return [];
  const record = node as Record<string, unknown>;
  const own = typeof record.type === 'string' ? [record.type] : [];
  return [
    ...own,
    ...Object.values(record).flatMap((value) => (typeof value === 'object' ? types(value) : [])),
  ];
}

describe('the console Markdown reader', () => {
  it('reads the inline marks Discord and Linear use', () => {
    expect(parseInlineMarkdown('**bold** *em* `code` ~~gone~~', 'gfm')).toEqual([
      { type: 'strong', children: [{ type: 'text', text: 'bold' }] },
      { type: 'text', text: ' ' },
      { type: 'em', children: [{ type: 'text', text: 'em' }] },
      { type: 'text', text: ' ' },
      { type: 'code', text: 'code' },
      { type: 'text', text: ' ' },
      { type: 'strike', children: [{ type: 'text', text: 'gone' }] },
    ]);
  });

  it('gives __x__ and ||x|| their Discord meanings only in Discord text', () => {
    expect(types(parseInlineMarkdown('__u__ ||s||', 'discord'))).toEqual([
      'underline',
      'text',
      'text',
      'spoiler',
      'text',
    ]);
    expect(types(parseInlineMarkdown('__u__ ||s||', 'gfm'))).toEqual(['strong', 'text', 'text']);
  });

  it('keeps escaped marks and snake_case names as text', () => {
    expect(texts(parseInlineMarkdown('\\*not em\\* and snake_case_name', 'discord')).join('')).toBe(
      '*not em* and snake_case_name',
    );
    expect(types(parseInlineMarkdown('\\*not em\\* and snake_case_name', 'discord'))).not.toContain('em');
  });

  it('keeps HTML as literal text: there is no HTML in the tree, only text', () => {
    const source = '<img src=x onerror="alert(1)"><script>alert(2)</script><a href="javascript:x">y</a>';
    const tree = parseMarkdown(source, 'gfm');
    expect(types(tree)).toEqual(['paragraph', 'text']);
    expect(texts(tree).join('')).toBe(source);
  });

  it('links only http(s) and mailto targets; anything else stays the text it was', () => {
    expect(parseInlineMarkdown('[ok](https://example.com/a)')).toEqual([
      { type: 'link', href: 'https://example.com/a', children: [{ type: 'text', text: 'ok' }] },
    ]);
    for (const target of [
      'javascript:alert(1)',
      'JaVaScRiPt:alert(1)',
      'data:text/html,x',
      'vbscript:x',
      '//evil',
    ]) {
      const tree = parseInlineMarkdown(`[click](${target})`);
      expect(types(tree)).not.toContain('link');
      expect(texts(tree).join('')).toBe(`[click](${target})`);
    }
    expect(safeHref(' javascript:alert(1)')).toBeNull();
    expect(safeHref('https://example.com/x y')).toBe('https://example.com/x%20y');
  });

  it('names images instead of loading them', () => {
    expect(parseInlineMarkdown('![pixel](https://tracker.example/p.png)')).toEqual([
      { type: 'image', href: 'https://tracker.example/p.png', alt: 'pixel' },
    ]);
    const hostile = parseInlineMarkdown('![x](javascript:alert(1)) ![y](data:image/png;base64,AAAA)');
    expect(types(hostile)).not.toContain('image');
    expect(types(hostile)).not.toContain('link');
    expect(texts(hostile).join('')).toBe('![x](javascript:alert(1)) ![y](data:image/png;base64,AAAA)');
  });

  it('links bare URLs and <autolinks>, without the punctuation after them', () => {
    const tree = parseInlineMarkdown(
      'see https://linear.app/acme/issue/ENG-6. and <https://github.com/acme/shop/pull/1>',
    );
    expect(
      tree.filter((node) => node.type === 'link').map((node) => (node as { href: string }).href),
    ).toEqual(['https://linear.app/acme/issue/ENG-6', 'https://github.com/acme/shop/pull/1']);
  });

  it('reads GitHub tables with their alignment and escaped pipes', () => {
    const [table] = parseMarkdown(
      [
        '| Source | Count | Note |',
        '| :--- | ---: | :-: |',
        '| PostHog | 2 | a \\| b |',
        '| Discord | 3 |',
      ].join('\n'),
    );
    expect(table?.type).toBe('table');
    if (table?.type !== 'table') return;
    expect(table.align).toEqual(['left', 'right', 'center']);
    expect(table.header.map((cell) => texts(cell).join(''))).toEqual(['Source', 'Count', 'Note']);
    expect(table.rows.map((row) => row.map((cell) => texts(cell).join('')))).toEqual([
      ['PostHog', '2', 'a | b'],
      ['Discord', '3', ''],
    ]);
  });

  it('reads fences (a longer fence holds a shorter one), headings, lists and quotes', () => {
    const tree = parseMarkdown(
      [
        '## Report',
        '````text',
        '```',
        '<b>not html</b>',
        '````',
        '- one',
        '- **two**',
        '  more of two',
        '> quoted',
      ].join('\n'),
    );
    expect(tree.map((block) => block.type)).toEqual(['heading', 'codeblock', 'list', 'quote']);
    expect(tree[1]).toEqual({ type: 'codeblock', lang: 'text', text: '```\n<b>not html</b>' });
    const list = tree[2];
    expect(list?.type === 'list' && list.items.length).toBe(2);
    expect(texts(list).join('|')).toBe('one|two|more of two');
  });

  it('reads Discord subtext and the rest-of-message quote only in Discord text', () => {
    expect(parseMarkdown('-# small', 'discord')[0]?.type).toBe('subtext');
    expect(parseMarkdown('-# small', 'gfm')[0]?.type).toBe('paragraph');
    expect(parseMarkdown('>>> a\nb', 'discord')).toEqual([
      {
        type: 'quote',
        children: [
          {
            type: 'paragraph',
            children: [{ type: 'text', text: 'a' }, { type: 'br' }, { type: 'text', text: 'b' }],
          },
        ],
      },
    ]);
  });

  it('stops nesting at a fixed depth and leaves unclosed marks as text', () => {
    const deep = `${'>'.repeat(50)} x`;
    expect(JSON.stringify(parseMarkdown(deep)).length).toBeLessThan(5000);
    expect(texts(parseInlineMarkdown('**open and never closed')).join('')).toBe('**open and never closed');
    const many = '*a '.repeat(2000);
    expect(texts(parseInlineMarkdown(many)).join('')).toBe(many);
  });
});
