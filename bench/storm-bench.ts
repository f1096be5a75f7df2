import { buildStormReports } from '../test/factories/storm-reports.js';
import {
  countDiscordWrites,
  countModelCalls,
  deadLetters,
  readStormOutcome,
  sendStorm,
  waitForDrain,
} from '../test/support/storm-driver.js';
import { startBenchStack } from './support/bench-stack.js';
import { formatMs } from './support/stats.js';
import type { BenchRow } from './support/table.js';

/**
 * An incident storm through the local stack: N reports of one crash, in different words, from N
 * people, sent 25 at a time through the signed webhook as fast as the stack answers. Measured:
 * the time to send them, the time until the jobs queue is empty (delayed follow-up jobs included),
 * every Discord write by kind, the model calls, and whether every report and reporter was counted.
 * Targets (issue 12, 300 reports): one open bug, one card, ≤ 2 model calls, ≤ 15 Discord writes,
 * drained within 30 s, empty DLQ. `BENCH_STORM_SIZES=300,1000` runs several sizes, each on a fresh
 * stack.
 */

const DEFAULT_SIZES = [300];
const DRAIN_TIMEOUT_MS = 300_000;

export async function runStormBench(): Promise<BenchRow[]> {
  const sizes = (process.env.BENCH_STORM_SIZES ?? '')
    .split(',')
    .map((size) => Number(size.trim()))
    .filter((size) => Number.isInteger(size) && size > 0);
  const rows: BenchRow[] = [];
  for (const size of sizes.length > 0 ? sizes : DEFAULT_SIZES) rows.push(...(await runStorm(size)));
  return rows;
}

async function runStorm(size: number): Promise<BenchRow[]> {
  const bench = await startBenchStack();
  try {
    const discord = bench.standIn('discord');
    const anthropic = bench.stack.sandbox.standIns.find((standIn) => standIn.service === 'anthropic');
    if (!anthropic) throw new Error('anthropic is not sandboxed');
    const discordFrom = discord.calls.length;
    const anthropicFrom = anthropic.calls.length;
    const reports = buildStormReports(size, `bench${size}`);

    const cpuBefore = process.cpuUsage();
    const started = performance.now();
    const sent = await sendStorm(bench.stack, reports);
    const drainedAfterSend = await waitForDrain(bench.stack, DRAIN_TIMEOUT_MS);
    const drainMs = performance.now() - started;
    const cpu = process.cpuUsage(cpuBefore);
    const cpuMs = (cpu.user + cpu.system) / 1000;
    void drainedAfterSend;

    const writes = countDiscordWrites(discord, discordFrom, bench.sandbox.channelId);
    const modelCalls = countModelCalls(anthropic, anthropicFrom);
    const outcome = await readStormOutcome(bench.stack, sent.bugIds);
    const dlq = deadLetters(bench.stack);
    const exact =
      outcome.openBugs.length === 1 &&
      outcome.reportCount === size &&
      outcome.reporterCount === size &&
      outcome.foldedIntoOriginal === size - 1;
    const label = `storm ${size}`;
    return [
      {
        name: `${label}: reports accepted`,
        value: `${sent.bugIds.length} / ${size}`,
        note: `sent in ${formatMs(sent.sendMs)} (25 at a time, signed webhook)${Object.keys(sent.refused).length > 0 ? `; refused ${JSON.stringify(sent.refused)}` : ''}`,
      },
      {
        name: `${label}: queue drained`,
        value: formatMs(drainMs),
        note: 'first send → jobs queue empty, delayed follow-ups included (target ≤ 30 s at 300)',
      },
      {
        name: `${label}: CPU used meanwhile`,
        value: formatMs(cpuMs),
        note: `this process runs the whole stack (ingress, queue, poller, processor, dynalite, stand-ins, and the senders) on one event loop: ${(cpuMs / size).toFixed(1)} ms per report; wall ≥ CPU, and on a busy machine much more`,
      },
      {
        name: `${label}: Discord writes`,
        value: writes.total,
        note: `card posts ${writes.cardPosts}, thread starts ${writes.threadStarts}, thread posts ${writes.threadPosts}, card edits ${writes.cardEdits}, other ${writes.other}; ${writes.rateLimited} answered 429 (target ≤ 15)`,
      },
      { name: `${label}: model calls`, value: modelCalls, note: 'target ≤ 2' },
      {
        name: `${label}: counts correct`,
        value: exact ? 'yes' : 'NO',
        note: `open bugs ${outcome.openBugs.length}; statuses ${JSON.stringify(outcome.statuses)}; original counts ${outcome.reportCount} reports, ${outcome.reporterCount} people; ${outcome.foldedIntoOriginal} folded in`,
      },
      { name: `${label}: DLQ`, value: dlq },
    ];
  } finally {
    await bench.close();
  }
}
