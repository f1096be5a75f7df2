import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import {
  analysisSchema,
  analysisTokenBudget,
  TRIAGE_MAX_TOKENS,
} from '../../shared/adapters/anthropic/claude-analyst.js';

/**
 * `max_tokens` for triage comes from the analysis schema. These tests fail when the schema
 * grows in a way the budget cannot follow: a string without a maximum, a field of another kind,
 * or a total past what the one retry (twice the room, 16,000 tokens) can hold.
 */
describe('the triage token budget', () => {
  const stringMaxima = Object.values(analysisSchema.shape).flatMap((field) =>
    field instanceof z.ZodString ? [field.maxLength ?? Number.POSITIVE_INFINITY] : [],
  );

  it('bounds every string of the analysis', () => {
    expect(stringMaxima.length).toBeGreaterThan(0);
    expect(stringMaxima.every(Number.isFinite)).toBe(true);
  });

  it('holds every string at its maximum at one token a character, with room for the rest', () => {
    const characters = stringMaxima.reduce((sum, max) => sum + max, 0);
    expect(TRIAGE_MAX_TOKENS).toBeGreaterThanOrEqual(characters + 64);
    // The one retry doubles it; that must stay within what every current Claude model outputs.
    expect(TRIAGE_MAX_TOKENS * 2).toBeLessThanOrEqual(16_000);
  });

  it('grows with the schema, and refuses a field it cannot budget', () => {
    const grown = analysisSchema.extend({ reproduction_steps: z.string().min(1).max(3000) });
    expect(analysisTokenBudget(grown)).toBeGreaterThanOrEqual(TRIAGE_MAX_TOKENS + 3000);
    expect(() => analysisTokenBudget(analysisSchema.extend({ notes: z.string() }))).toThrow(/no maximum/);
    expect(() => analysisTokenBudget(analysisSchema.extend({ tags: z.array(z.string().max(10)) }))).toThrow(
      /neither/,
    );
  });
});
