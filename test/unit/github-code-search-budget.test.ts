import { describe, expect, it } from 'vitest';
import { CodeSearchBudget } from '../../shared/adapters/github/code-search-budget.js';

describe('CodeSearchBudget', () => {
  it('allows 10 requests in any 60 s, however they are spread', () => {
    let clock = 0;
    const budget = new CodeSearchBudget({ now: () => clock });
    const allowed: number[] = [];
    // One attempt every 2 s for three minutes.
    for (clock = 0; clock < 180_000; clock += 2_000) if (budget.tryTake()) allowed.push(clock);
    for (const start of allowed) {
      expect(allowed.filter((at) => at >= start && at < start + 60_000).length).toBeLessThanOrEqual(10);
    }
    expect(allowed.length).toBe(30);
  });

  it('refuses the 11th request and frees each slot 60 s after its request', () => {
    let clock = 1_000;
    const budget = new CodeSearchBudget({ now: () => clock });
    expect(budget.tryTake()).toBe(true);
    clock = 5_000;
    for (let i = 0; i < 9; i += 1) expect(budget.tryTake()).toBe(true);
    expect(budget.tryTake()).toBe(false);
    clock = 60_999;
    expect(budget.tryTake()).toBe(false);
    clock = 61_000;
    expect(budget.tryTake()).toBe(true);
    expect(budget.tryTake()).toBe(false);
    clock = 65_000;
    for (let i = 0; i < 9; i += 1) expect(budget.tryTake()).toBe(true);
    expect(budget.tryTake()).toBe(false);
  });

  it('stops all requests until a reset GitHub reported, then allows a full window', () => {
    let clock = 0;
    const budget = new CodeSearchBudget({ now: () => clock });
    expect(budget.tryTake()).toBe(true);
    budget.exhaustUntil(30_000);
    clock = 29_999;
    expect(budget.tryTake()).toBe(false);
    clock = 30_000;
    for (let i = 0; i < 10; i += 1) expect(budget.tryTake()).toBe(true);
    expect(budget.tryTake()).toBe(false);
  });

  it('takes its capacity and window from options', () => {
    let clock = 0;
    const budget = new CodeSearchBudget({ capacity: 2, windowMs: 1_000, now: () => clock });
    expect([budget.tryTake(), budget.tryTake(), budget.tryTake()]).toEqual([true, true, false]);
    clock = 1_000;
    expect(budget.tryTake()).toBe(true);
  });
});
