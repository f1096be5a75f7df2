import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type CellResult,
  FAILURES,
  FAULTS,
  type FaultName,
  FLOWS,
  renderTable,
  runRound,
  type Service,
  startMatrixStack,
} from './fault-matrix.js';
import type { StackDriver } from './local-stack-driver.js';

/**
 * One service's row of the fault matrix (or part of it: `faults`), in a stack of its own (a test
 * file per service or part, so CI runs them side by side; the handlers read their environment
 * once per file). Every cell must end done, degraded visibly, refused visibly, or in the DLQ with
 * the person told (only Discord's own failures may end recorded on the bug instead).
 */
export function defineFaultMatrix(
  service: Service,
  faults: readonly FaultName[] = Object.keys(FAULTS) as FaultName[],
): void {
  describe(`fault matrix: ${service} (${faults.join(', ')})`, () => {
    let driver: StackDriver;
    const results: CellResult[] = [];

    beforeAll(async () => {
      driver = await startMatrixStack();
    }, 120_000);
    afterAll(async () => driver?.close());

    for (const fault of faults) {
      it(`${service} × ${fault}: every flow ends done, degraded, refused or in the DLQ with someone told`, async () => {
        const round = await runRound(driver, service, fault);
        results.push(...round);
        for (const cell of round) {
          console.log(
            `[fault matrix] ${service} × ${fault} × ${cell.flow}: ${cell.outcome} — ${cell.evidence}`,
          );
        }
        const failures = round.filter(
          (cell) =>
            FAILURES.includes(cell.outcome) || (cell.outcome === 'dlq-recorded' && service !== 'discord'),
        );
        expect(failures.map((cell) => `${cell.flow}: ${cell.outcome} (${cell.evidence})`)).toEqual([]);
      }, 400_000);
    }

    it('prints the table', () => {
      console.log(`\n[fault matrix] ${service}\n${renderTable(results)}\n`);
      expect(results.length).toBe(faults.length * FLOWS.length);
    });
  });
}
