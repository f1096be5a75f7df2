import { buildStormReports } from '../../test/factories/storm-reports.js';
import {
  countDiscordWrites,
  countModelCalls,
  deadLetters,
  readStormOutcome,
  sendStorm,
  waitForDrain,
} from '../../test/support/storm-driver.js';
import { startBenchStack } from './bench-stack.js';
import { profileWhile } from './cpu-profile.js';
import { formatMs } from './stats.js';
import type { BenchRow } from './table.js';

/**
 * One storm on a fresh local stack, in a process of its own (forked by bench/storm-bench.ts): the
 * handlers read their configuration at import, as a Lambda does at cold start, so a second stack
 * in the process that ran another section would talk to the first one's servers. Sends its rows
 * back over IPC.
 */

const DRAIN_TIMEOUT_MS = 300_000;

export async function runTextOnlyStorm(size: number): Promise<BenchRow[]> {
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

export async function runStorm(size: number): Promise<BenchRow[]> {
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

const kind = process.env.STORM_KIND;
const size = Number(process.env.STORM_SIZE);
const run = kind === 'text' ? runTextOnlyStorm : runStorm;
run(size).then(
  (rows) => process.send?.({ rows }, () => process.exit(0)),
  (error: unknown) =>
    process.send?.({ error: error instanceof Error ? (error.stack ?? error.message) : String(error) }, () =>
      process.exit(1),
    ),
);
