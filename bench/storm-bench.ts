import { firstMessage, forkTypeScript, stopChild } from './support/child-process.js';
import type { BenchRow } from './support/table.js';

/**
 * An incident storm through the local stack: N reports of one crash, in different words, from N
 * people, sent 25 at a time through the signed webhook as fast as the stack answers. Measured:
 * the time to send them, the time until the jobs queue is empty (delayed follow-up jobs included),
 * the CPU it took, every Discord write by kind, the model calls, and whether every report and
 * reporter was counted. Targets (issue 12, 300 reports): one open bug, one card, ≤ 2 model calls,
 * ≤ 15 Discord writes, drained within 30 s, empty DLQ. Then the first 100 of the same reports
 * without their stack traces, where only text similarity can fold. `BENCH_STORM_SIZES=300,1000`
 * runs several sizes. Each storm runs on a fresh stack in a process of its own
 * (support/storm-run.ts).
 */

const DEFAULT_SIZES = [300];
/** Without stack traces only text similarity can fold: how many bugs does a storm become then? */
const TEXT_ONLY_SIZE = 100;
const RUN_TIMEOUT_MS = 600_000;

export async function runStormBench(): Promise<BenchRow[]> {
  const sizes = (process.env.BENCH_STORM_SIZES ?? '')
    .split(',')
    .map((size) => Number(size.trim()))
    .filter((size) => Number.isInteger(size) && size > 0);
  const rows: BenchRow[] = [];
  for (const size of sizes.length > 0 ? sizes : DEFAULT_SIZES)
    rows.push(...(await runInChild('crash', size)));
  rows.push(...(await runInChild('text', TEXT_ONLY_SIZE)));
  return rows;
}

async function runInChild(kind: 'crash' | 'text', size: number): Promise<BenchRow[]> {
  const child = forkTypeScript(new URL('./support/storm-run.ts', import.meta.url), {
    STORM_KIND: kind,
    STORM_SIZE: String(size),
  });
  try {
    return (await firstMessage<{ rows: BenchRow[] }>(child, RUN_TIMEOUT_MS)).rows;
  } finally {
    await stopChild(child);
  }
}
