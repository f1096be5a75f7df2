/**
 * The monthly budget across all fixes, counted in micro-dollars so that sums are exact
 * integers (DynamoDB adds them atomically; floating-point dollars would drift). A launch reserves
 * the fix's own dollar limit (the most it may cost); its result settles the reservation at the
 * cost the runner reports. A run that stopped without saying is counted at its limit: what it
 * spent is unknown, and a budget must not be overrun by what it cannot see.
 */

export function toMicros(usd: number): number {
  return Math.round(usd * 1_000_000);
}

export function fromMicros(micros: number): number {
  return micros / 1_000_000;
}

/** The UTC month a spend belongs to: `2026-11`. */
export function budgetMonthOf(at: Date): string {
  return at.toISOString().slice(0, 7);
}

export interface BudgetCheck {
  readonly allowed: boolean;
  readonly spentUsd: number;
  readonly committedUsd: number;
  readonly budgetUsd: number;
}

/** Whether a fix that may cost up to `fixLimitUsd` fits in what is left of the month. */
export function checkBudget(
  spend: { readonly spentMicros: number; readonly committedMicros: number },
  budgetUsd: number,
  fixLimitUsd: number,
): BudgetCheck {
  return {
    allowed: spend.committedMicros + toMicros(fixLimitUsd) <= toMicros(budgetUsd),
    spentUsd: fromMicros(spend.spentMicros),
    committedUsd: fromMicros(spend.committedMicros),
    budgetUsd,
  };
}

/** "$12.40 of $100.00 spent on fixes this month ($5.00 more held by fixes still running)". */
export function describeMonthSpend(
  spend: {
    readonly spentMicros: number;
    readonly committedMicros: number;
  },
  budgetUsd: number,
): string {
  const spent = fromMicros(spend.spentMicros);
  const held = fromMicros(Math.max(0, spend.committedMicros - spend.spentMicros));
  const running = held > 0 ? ` (${usd(held)} more held by fixes still running)` : '';
  return `${usd(spent)} of ${usd(budgetUsd)} spent on fixes this month${running}`;
}

function usd(amount: number): string {
  return `$${amount.toFixed(2)}`;
}
