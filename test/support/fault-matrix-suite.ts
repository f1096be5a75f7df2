import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type CellResult,
  FAILURES,
  FAULTS,
  type FaultName,
  FLOWS,
  isKnown,
  type KnownCell,
  renderTable,
  runRound,
  type Service,
  startMatrixStack,
} from './fault-matrix.js';
import type { StackDriver } from './local-stack-driver.js';

/**
 * Cells whose failure is in the fix/PR-opening code being rewritten on the `fixflow` branch.
 * They are printed with "(known)" and not asserted; everything else must end done, degraded
 * visibly, refused visibly, or in the DLQ with the person told.
 */
export const KNOWN_FIXFLOW_CELLS: readonly KnownCell[] = [];

/**
 * One service's row of the fault matrix, in a stack of its own (a test file per service, so CI
 * can run them side by side; the handlers read their environment once per file).
 */
export function defineFaultMatrix(service: Service): void {
  describe(`fault matrix: ${service}`, () => {
    let driver: StackDriver;
    const results: CellResult[] = [];

    beforeAll(async () => {
      driver = await startMatrixStack();
    }, 120_000);
    afterAll(async () => driver?.close());

    for (const fault of Object.keys(FAULTS) as FaultName[]) {
      it(`${service} × ${fault}: every flow ends done, degraded, refused or in the DLQ with someone told`, async () => {
        const round = await runRound(driver, service, fault);
        results.push(...round);
        for (const cell of round) {
          const known = isKnown(KNOWN_FIXFLOW_CELLS, cell);
          console.log(
            `[fault matrix] ${service} × ${fault} × ${cell.flow}: ${cell.outcome}${known ? ' (known)' : ''} — ${cell.evidence}`,
          );
        }
        const failures = round.filter(
          (cell) =>
            (FAILURES.includes(cell.outcome) || (cell.outcome === 'dlq-recorded' && service !== 'discord')) &&
            !isKnown(KNOWN_FIXFLOW_CELLS, cell),
        );
        expect(failures.map((cell) => `${cell.flow}: ${cell.outcome} (${cell.evidence})`)).toEqual([]);
      }, 400_000);
    }

    it('prints the table', () => {
      console.log(
        `\n[fault matrix] ${service}\n${renderTable(results, (cell) => isKnown(KNOWN_FIXFLOW_CELLS, cell) !== undefined)}\n`,
      );
      expect(results.length).toBe(Object.keys(FAULTS).length * FLOWS.length);
    });
  });
}
