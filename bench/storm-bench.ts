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
import { profileWhile } from './support/cpu-profile.js';
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
/** Without stack traces only text similarity can fold: how many bugs does a storm become then? */
const TEXT_ONLY_SIZE = 100;
const DRAIN_TIMEOUT_MS = 300_000;

export async function runStormBench(): Promise<BenchRow[]> {
  const sizes = (process.env.BENCH_STORM_SIZES ?? '')
    .split(',')
    .map((size) => Number(size.trim()))
    .filter((size) => Number.isInteger(size) && size > 0);
  const rows: BenchRow[] = [];
  for (const size of sizes.length > 0 ? sizes : DEFAULT_SIZES) rows.push(...(await runStorm(size)));
  rows.push(...(await runTextOnlyStorm(TEXT_ONLY_SIZE)));
  return rows;
}

async function runTextOnlyStorm(size: number): Promise<BenchRow[]> {
  const bench = await startBenchStack();
  try {
    const discord = bench.standIn('discord');
    const anthropic = bench.stack.sandbox.standIns.find((standIn) => standIn.service === 'anthropic');
    if (!anthropic) throw new Error('anthropic is not sandboxed');
    const reports = buildStormReports(size, `text${size}`).map(
      ({ console_logs: _logs, ...report }) => report,
    );
    const started = performance.now();
    const sent = await sendStorm(bench.stack, reports);
    await waitForDrain(bench.stack, DRAIN_TIMEOUT_MS);
    const drainMs = performance.now() - started;
    const outcome = await readStormOutcome(bench.stack, sent.bugIds);
    const writes = countDiscordWrites(discord, 0, bench.sandbox.channelId);
    const label = `text-only storm ${size}`;
    return [
      {
        name: `${label}: bugs`,
        value: outcome.openBugs.length,
        note: `the same reports without stack traces: ${outcome.statuses.duplicate ?? 0} folded by text similarity alone; the rest are paraphrases under the threshold or reports processed side by side before any bug existed (maintainers merge them by hand)`,
      },
      {
        name: `${label}: drained, model calls, Discord writes`,
        value: formatMs(drainMs),
        note: `${countModelCalls(anthropic, 0)} model calls; ${writes.total} Discord writes (${writes.cardPosts} cards); DLQ ${deadLetters(bench.stack)}`,
      },
    ];
  } finally {
    await bench.close();
  }
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
    const profiled = await profileWhile(async () => {
      const sent = await sendStorm(bench.stack, reports);
      await waitForDrain(bench.stack, DRAIN_TIMEOUT_MS);
      return sent;
    });
    const sent = profiled.result;
    const drainMs = performance.now() - started;
    const cpu = process.cpuUsage(cpuBefore);
    const cpuMs = (cpu.user + cpu.system) / 1000;
    const topCpu = profiled.shares
      .slice(0, 6)
      .map((share) => `${share.name} ${(share.share * 100).toFixed(0)}%`)
      .join(', ');

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
      { name: `${label}: CPU by package`, value: 'see note', note: topCpu },
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
