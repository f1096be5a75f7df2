import { describe, expect, it } from 'vitest';
import {
  DISCORD_LIMITS,
  measureEmbed,
  neutralizeMentions,
  renderMessage,
  truncateText,
} from '../../shared/adapters/discord/render-message.js';
import type { MessageButton } from '../../shared/ports/chat-platform.js';

const ELLIPSIS = '…';

function button(index: number, style: MessageButton['style'] = 'secondary'): MessageButton {
  return { id: `bug:details:${index}`, label: `Button ${index}`, style };
}

describe('renderMessage: mentions', () => {
  it('always disables mention parsing, whatever the purpose', () => {
    for (const purpose of ['post', 'edit', 'followup'] as const) {
      expect(renderMessage({ content: 'hi <@123> <@&456>' }, purpose).allowed_mentions).toEqual({
        parse: [],
      });
    }
  });

  it('breaks @everyone and @here in content and every embed text', () => {
    const body = renderMessage({
      content: 'ping @everyone and @here',
      embeds: [
        {
          title: '@everyone title',
          description: 'desc @here',
          fields: [{ name: '@here name', value: 'value @everyone' }],
          footer: 'footer @EVERYONE',
        },
      ],
    });
    const text = JSON.stringify(body);
    expect(text).not.toMatch(/@(everyone|here)/i);
    expect(body.content).toBe('ping @\u200beveryone and @\u200bhere');
    expect(body.embeds?.[0]?.footer?.text).toBe('footer @\u200bEVERYONE');
  });

  it('leaves other @ text alone', () => {
    expect(neutralizeMentions('mail me at a@b.co, @maya')).toBe('mail me at a@b.co, @maya');
  });
});

describe('renderMessage: text limits', () => {
  it('cuts content to 2000 characters with an ellipsis', () => {
    const body = renderMessage({ content: 'x'.repeat(2500) });
    expect(body.content).toHaveLength(DISCORD_LIMITS.content);
    expect(body.content?.endsWith(ELLIPSIS)).toBe(true);
  });

  it('keeps content that fits untouched', () => {
    const content = 'y'.repeat(2000);
    expect(renderMessage({ content }).content).toBe(content);
  });

  it('clamps every embed part to its own limit', () => {
    const [embed] =
      renderMessage({
        embeds: [
          {
            title: 't'.repeat(300),
            description: 'd'.repeat(5000),
            fields: [{ name: 'n'.repeat(300), value: 'v'.repeat(1100) }],
            footer: 'f'.repeat(2100),
          },
        ],
      }).embeds ?? [];
    expect(embed?.title).toHaveLength(256);
    expect(embed?.title?.endsWith(ELLIPSIS)).toBe(true);
    expect(embed?.fields?.[0]?.name).toHaveLength(256);
    expect(embed?.fields?.[0]?.value).toHaveLength(1024);
    // 256 + 256 + 1024 leaves 4464 for description and footer; both stay within their limits.
    expect(embed?.description?.length).toBeLessThanOrEqual(4096);
    expect(embed?.footer?.text.length).toBeLessThanOrEqual(2048);
    expect(measureEmbed(embed!)).toBeLessThanOrEqual(DISCORD_LIMITS.embedTotal);
  });

  it('keeps at most 25 fields', () => {
    const fields = Array.from({ length: 30 }, (_, index) => ({ name: `f${index}`, value: 'v' }));
    const [embed] = renderMessage({ embeds: [{ fields }] }).embeds ?? [];
    expect(embed?.fields).toHaveLength(25);
    expect(embed?.fields?.at(-1)?.name).toBe('f24');
  });

  it('fills empty field names and values, which Discord rejects', () => {
    const [embed] = renderMessage({ embeds: [{ fields: [{ name: '', value: '' }] }] }).embeds ?? [];
    expect(embed?.fields?.[0]).toEqual({ name: '\u200b', value: '\u200b' });
  });

  it('keeps one embed under 6000 by shortening the description, then dropping trailing fields', () => {
    const fields = Array.from({ length: 6 }, (_, index) => ({
      name: `Field ${index}`,
      value: 'v'.repeat(1000),
    }));
    const [embed] =
      renderMessage({
        embeds: [{ title: 'Crash on upload', description: 'd'.repeat(4096), fields, footer: 'bug 42' }],
      }).embeds ?? [];
    expect(measureEmbed(embed!)).toBeLessThanOrEqual(6000);
    expect(embed?.title).toBe('Crash on upload');
    expect(embed?.footer?.text).toBe('bug 42');
    expect(embed?.description?.endsWith(ELLIPSIS)).toBe(true);
    // The description keeps a readable 1024 characters before any field goes.
    expect(embed?.description?.length).toBeGreaterThanOrEqual(1000);
    const names = embed?.fields?.map((field) => field.name) ?? [];
    expect(names.length).toBeLessThan(6);
    expect(names).toEqual(fields.slice(0, names.length).map((field) => field.name));
  });

  it('shares the 6000 budget across several embeds', () => {
    const big = { title: 'T', description: 'd'.repeat(4096) };
    const embeds = renderMessage({ embeds: [big, big, big] }).embeds ?? [];
    const total = embeds.reduce((sum, embed) => sum + measureEmbed(embed), 0);
    expect(total).toBeLessThanOrEqual(6000);
    expect(embeds[0]?.description).toBe(big.description);
    expect(embeds.length).toBeGreaterThanOrEqual(2);
    expect(embeds[1]?.description?.endsWith(ELLIPSIS)).toBe(true);
  });

  it('keeps at most 10 embeds', () => {
    const embeds = Array.from({ length: 12 }, (_, index) => ({ title: `e${index}` }));
    expect(renderMessage({ embeds }).embeds).toHaveLength(10);
  });

  it('never splits a surrogate pair when truncating', () => {
    const cut = truncateText(`ab${'😀'.repeat(10)}`, 6);
    expect(cut.length).toBeLessThanOrEqual(6);
    expect(cut.endsWith(ELLIPSIS)).toBe(true);
    expect(cut).not.toMatch(/[\ud800-\udbff](?![\udc00-\udfff])/);
  });
});

describe('renderMessage: buttons', () => {
  it('maps styles; link buttons carry a url, others a custom_id', () => {
    const body = renderMessage({
      buttonRows: [
        [
          { id: 'bug:create_issue:b1', label: 'Create issue', style: 'primary' },
          { id: 'bug:draft_fix:b1', label: 'Draft fix', style: 'success' },
          { id: 'bug:dismiss:b1', label: 'Dismiss', style: 'danger', disabled: true },
          { id: 'bug:details:b1', label: 'Details', style: 'secondary' },
          { label: 'Open in Linear', style: 'link', url: 'https://linear.app/acme/issue/ENG-1' },
        ],
      ],
    });
    expect(body.components).toEqual([
      {
        type: 1,
        components: [
          { type: 2, style: 1, label: 'Create issue', custom_id: 'bug:create_issue:b1' },
          { type: 2, style: 3, label: 'Draft fix', custom_id: 'bug:draft_fix:b1' },
          { type: 2, style: 4, label: 'Dismiss', custom_id: 'bug:dismiss:b1', disabled: true },
          { type: 2, style: 2, label: 'Details', custom_id: 'bug:details:b1' },
          { type: 2, style: 5, label: 'Open in Linear', url: 'https://linear.app/acme/issue/ENG-1' },
        ],
      },
    ]);
  });

  it('keeps at most five rows of five buttons and drops empty rows', () => {
    const rows = [
      [],
      ...Array.from({ length: 7 }, (_, row) => Array.from({ length: 7 }, (_, i) => button(row * 10 + i))),
    ];
    const components = renderMessage({ buttonRows: rows }).components ?? [];
    expect(components).toHaveLength(5);
    for (const row of components) {
      expect(row.type).toBe(1);
      expect(row.components).toHaveLength(5);
    }
  });

  it('shortens labels to 80 characters', () => {
    const components = renderMessage({
      buttonRows: [[{ id: 'x', label: 'L'.repeat(100), style: 'primary' }]],
    }).components;
    const [first] = components?.[0]?.components ?? [];
    expect(first && 'label' in first ? first.label : undefined).toHaveLength(80);
  });

  it('refuses buttons that would misroute: no id, an id over 100 characters, a link without url', () => {
    expect(() => renderMessage({ buttonRows: [[{ label: 'x', style: 'primary' }]] })).toThrow(/no id/);
    expect(() =>
      renderMessage({ buttonRows: [[{ id: 'i'.repeat(101), label: 'x', style: 'primary' }]] }),
    ).toThrow(/longer than 100/);
    expect(() => renderMessage({ buttonRows: [[{ label: 'x', style: 'link' }]] })).toThrow(/no url/);
  });
});

describe('renderMessage: purposes', () => {
  it('post leaves out absent parts and never sets flags', () => {
    expect(renderMessage({ content: 'hello', ephemeral: true }, 'post')).toEqual({
      content: 'hello',
      allowed_mentions: { parse: [] },
    });
  });

  it('edit replaces everything, clearing what the new message lacks', () => {
    expect(renderMessage({ embeds: [{ title: 'Done' }] }, 'edit')).toEqual({
      content: null,
      embeds: [{ title: 'Done' }],
      components: [],
      allowed_mentions: { parse: [] },
    });
  });

  it('followup marks ephemeral messages with flag 64', () => {
    expect(renderMessage({ content: 'only you', ephemeral: true }, 'followup').flags).toBe(64);
    expect(renderMessage({ content: 'everyone sees' }, 'followup').flags).toBeUndefined();
  });
});
