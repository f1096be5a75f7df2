import { readFileSync, writeFileSync } from 'node:fs';
import type { APIEmbed } from 'discord-api-types/v10';
import { expect } from 'vitest';
import { DISCORD_LIMITS, measureEmbed, renderMessage } from '../../shared/adapters/discord/render-message.js';
import type { Bug } from '../../shared/domain/bug.js';
import type { BugAnalysisResult } from '../../shared/ports/analyst.js';
import type { MessageEmbed, OutgoingMessage } from '../../shared/ports/chat-platform.js';

/** Shared by the bug-card and bug-views suites: bugs, analyses, golden files and limit checks. */

export function makeBug(overrides: Partial<Bug> = {}): Bug {
  return {
    bugId: 'bug_7Kq2xN',
    status: 'triaged',
    priority: 2,
    severity: 'high',
    title: 'Checkout crashes when pressing Pay',
    description:
      'I press Pay on the checkout page and the app freezes, then shows a blank screen.\n' +
      'Console:\nTypeError: Cannot read properties of undefined (reading "total")\n    at OrderSummary (summary.tsx:42:13)',
    reporter: { id: 'user_42', email: 'reporter@example.com' },
    fingerprint: 'fp_3c1e',
    reportCount: 1,
    distinctReporters: ['user_42'],
    createdAt: '2026-11-20T09:58:00.000Z',
    updatedAt: '2026-11-20T10:02:00.000Z',
    version: 3,
    ...overrides,
  };
}

export function makeAnalysis(overrides: Partial<BugAnalysisResult> = {}): BugAnalysisResult {
  return {
    rootCauseHypothesis:
      'OrderSummary reads `cart.total` before the cart has loaded; the undefined cart throws during render and unmounts the page.',
    affectedArea: 'Checkout / order summary',
    severity: 4,
    severityReason: 'Blocks payment for everyone who reaches checkout before the cart loads.',
    suggestedFix: 'Render a loading state until the cart resolves, and guard `cart?.total` in OrderSummary.',
    confidence: 0.78,
    model: 'claude-sonnet-4-5',
    ...overrides,
  };
}

/** The neutral embed as Discord's shape, so the adapter's `measureEmbed` can count it. */
export function toApiEmbed(embed: MessageEmbed): APIEmbed {
  return {
    ...(embed.title !== undefined ? { title: embed.title } : {}),
    ...(embed.description !== undefined ? { description: embed.description } : {}),
    ...(embed.footer !== undefined ? { footer: { text: embed.footer } } : {}),
    ...(embed.fields ? { fields: embed.fields.map((f) => ({ name: f.name, value: f.value })) } : {}),
  };
}

/**
 * Every Discord limit holds for the message as our renderer produced it — not merely after the
 * adapter's last-resort cuts, which is also checked: the adapter finds nothing to cut.
 */
export function expectWithinDiscordLimits(message: OutgoingMessage): void {
  const embeds = message.embeds ?? [];
  expect(embeds.length).toBeLessThanOrEqual(DISCORD_LIMITS.embeds);
  let total = 0;
  for (const embed of embeds) {
    expect(embed.title?.length ?? 0).toBeLessThanOrEqual(DISCORD_LIMITS.embedTitle);
    expect(embed.description?.length ?? 0).toBeLessThanOrEqual(DISCORD_LIMITS.embedDescription);
    expect(embed.footer?.length ?? 0).toBeLessThanOrEqual(DISCORD_LIMITS.embedFooter);
    expect(embed.fields?.length ?? 0).toBeLessThanOrEqual(DISCORD_LIMITS.embedFields);
    for (const field of embed.fields ?? []) {
      expect(field.name.length).toBeGreaterThan(0);
      expect(field.name.length).toBeLessThanOrEqual(DISCORD_LIMITS.embedFieldName);
      expect(field.value.length).toBeGreaterThan(0);
      expect(field.value.length).toBeLessThanOrEqual(DISCORD_LIMITS.embedFieldValue);
    }
    total += measureEmbed(toApiEmbed(embed));
  }
  expect(total).toBeLessThanOrEqual(DISCORD_LIMITS.embedTotal);
  expect(message.content?.length ?? 0).toBeLessThanOrEqual(DISCORD_LIMITS.content);
  const rows = message.buttonRows ?? [];
  expect(rows.length).toBeLessThanOrEqual(DISCORD_LIMITS.actionRows);
  for (const row of rows) {
    expect(row.length).toBeLessThanOrEqual(DISCORD_LIMITS.buttonsPerRow);
    for (const button of row) expect(button.id?.length ?? 0).toBeLessThanOrEqual(DISCORD_LIMITS.customId);
  }

  const rendered = renderMessage(message, 'post');
  expect((rendered.embeds ?? []).map((embed) => toApiEmbed(fromApiEmbed(embed)))).toEqual(
    embeds.map(toApiEmbed),
  );
  if (message.content) expect(rendered.content).toBe(message.content);
}

function fromApiEmbed(embed: APIEmbed): MessageEmbed {
  return {
    ...(embed.title !== undefined ? { title: embed.title } : {}),
    ...(embed.description !== undefined ? { description: embed.description } : {}),
    ...(embed.footer ? { footer: embed.footer.text } : {}),
    ...(embed.fields ? { fields: embed.fields } : {}),
  };
}

/** A readable, exact rendering of a message for golden files. */
export function describeMessage(message: OutgoingMessage): string {
  const out: string[] = [];
  if (message.ephemeral !== undefined) out.push(`ephemeral: ${message.ephemeral}`);
  if (message.content !== undefined) out.push('=== content', message.content);
  for (const [index, embed] of (message.embeds ?? []).entries()) {
    out.push(`=== embed ${index + 1}`);
    if (embed.title !== undefined) out.push(`title: ${embed.title}`);
    if (embed.url !== undefined) out.push(`url: ${embed.url}`);
    if (embed.color !== undefined) out.push(`color: #${embed.color.toString(16).padStart(6, '0')}`);
    if (embed.timestamp !== undefined) out.push(`timestamp: ${embed.timestamp}`);
    if (embed.description !== undefined) out.push('--- description', embed.description);
    for (const field of embed.fields ?? []) {
      out.push(`--- field: ${field.name}${field.inline ? ' (inline)' : ''}`, field.value);
    }
    if (embed.footer !== undefined) out.push(`--- footer: ${embed.footer}`);
  }
  for (const [index, row] of (message.buttonRows ?? []).entries()) {
    out.push(`=== buttons ${index + 1}`);
    for (const button of row) {
      const state = button.disabled ? ', disabled' : '';
      const target = button.style === 'link' ? `→ ${button.url}` : `(${button.id})`;
      out.push(`[${button.style}${state}] ${button.label} ${target}`);
    }
  }
  return `${out.join('\n')}\n`;
}

const goldenDir = new URL('../unit/golden/', import.meta.url);

/** Compares with the golden file; `UPDATE_GOLDEN=1` rewrites it after a deliberate change. */
export function expectGolden(name: string, actual: string): void {
  const path = new URL(`${name}.golden.md`, goldenDir);
  if (process.env.UPDATE_GOLDEN === '1') writeFileSync(path, actual);
  expect(actual).toBe(readFileSync(path, 'utf8'));
}

/** Hostile text: tries to ping, to pose as a link and to format. */
export const HOSTILE = '@everyone <@123> <@&456> @here [click](http://evil) **bold** # Heading\n> quote';

/**
 * Asserts nothing in the message can ping or render a masked link from `HOSTILE`; fenced code
 * blocks are where reported text is quoted as data, so they are judged separately (no fence
 * may be left open).
 */
export function expectNeutralized(message: OutgoingMessage): void {
  const texts: string[] = [];
  if (message.content) texts.push(message.content);
  for (const embed of message.embeds ?? []) {
    texts.push(embed.title ?? '', embed.description ?? '', embed.footer ?? '');
    for (const field of embed.fields ?? []) texts.push(field.name, field.value);
  }
  for (const text of texts) {
    expect(text).not.toMatch(/@(everyone|here)/i);
    const outsideFences = stripFences(text);
    expect(outsideFences).not.toMatch(/<@[!&]?\d+>/);
    expect(outsideFences).not.toContain('[click](');
    expect(outsideFences).not.toMatch(/(^|\n)#+ Heading/);
    expect(outsideFences).not.toMatch(/(^|\n)> quote/);
    expect(outsideFences).not.toMatch(/(?<!\\)\*\*bold/);
  }
  for (const row of message.buttonRows ?? []) {
    for (const button of row) expect(button.label).not.toMatch(/@(everyone|here)|<@/i);
  }
}

/** Removes complete fenced blocks; fails if a fence is left open. */
function stripFences(text: string): string {
  const stripped = text.replace(/(^|\n)(`{3,})[^\n]*\n[\s\S]*?\n\2(?=\n|$)/g, '$1');
  expect(stripped).not.toMatch(/```/);
  return stripped;
}
