import { parseMarkdown } from '../local/console/public/markdown.js';
import { findBrowser } from '../test/support/browser.js';
import { firstMessage, forkTypeScript, stopChild } from './support/child-process.js';
import { formatMs, median, percentile } from './support/stats.js';
import type { BenchRow } from './support/table.js';

/**
 * The console (`GET /`) in Debian's Chromium: how long the page takes to show the sandbox, how
 * many bytes it costs, and how long a change takes to reach the screen. The stack and the browser
 * run in a child process of their own (the handlers read their configuration at import, so a
 * second stack in this process would talk to the first one's dead ports); see
 * support/console-bench-process.ts. Also the Markdown reader on a large hostile comment, here.
 */

export interface ConsoleBenchResult {
  readonly runs: number;
  readonly cold: PageLoad[];
  readonly warm: PageLoad[];
  readonly liveMs: number[];
  readonly viewBytes: number;
  readonly seeded: string;
}

export interface PageLoad {
  readonly domContentLoadedMs: number;
  readonly loadMs: number;
  readonly firstViewMs: number;
  /** Bytes over the wire (headers included), and bodies, for the document and its files. */
  readonly transferBytes: number;
  readonly bodyBytes: number;
  readonly requests: number;
  readonly byType: Record<string, number>;
}

export async function runConsoleBench(): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const browser = findBrowser();
  if (!browser.available) {
    rows.push({ name: 'page (Chromium)', value: 'skipped', note: browser.reason });
  } else {
    const child = forkTypeScript(new URL('./support/console-bench-process.ts', import.meta.url), {
      HOME: process.env.HOME ?? '/tmp',
      TMPDIR: process.env.TMPDIR ?? '/tmp',
      ...(process.env.BUGBOT_CHROMIUM ? { BUGBOT_CHROMIUM: process.env.BUGBOT_CHROMIUM } : {}),
    });
    try {
      const result = await firstMessage<ConsoleBenchResult>(child, 300_000);
      rows.push(...describePageRuns(result));
    } finally {
      await stopChild(child);
    }
  }
  rows.push(...benchMarkdown());
  return rows;
}

function describePageRuns(result: ConsoleBenchResult): BenchRow[] {
  const stat = (loads: readonly PageLoad[], pick: (load: PageLoad) => number) => {
    const values = loads.map(pick);
    return `${formatMs(median(values))} (p90 ${formatMs(percentile(values, 90))})`;
  };
  const cold = result.cold;
  const first = cold[0];
  const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;
  return [
    { name: 'setup', value: `${result.runs} loads each`, note: result.seeded },
    {
      name: 'cold load: DOMContentLoaded',
      value: stat(cold, (load) => load.domContentLoadedMs),
      note: 'cache disabled; median (p90)',
    },
    { name: 'cold load: load event', value: stat(cold, (load) => load.loadMs) },
    {
      name: 'cold load: sandbox on screen',
      value: stat(cold, (load) => load.firstViewMs),
      note: 'navigation start → first view drawn (event stream connected, view built and rendered)',
    },
    {
      name: 'warm load: sandbox on screen',
      value: stat(result.warm, (load) => load.firstViewMs),
      note: 'cache on: files revalidated (304)',
    },
    {
      name: 'cold transfer: page and files',
      value: first ? kib(median(cold.map((load) => load.transferBytes))) : 'n/a',
      note: first
        ? `${first.requests} requests; bodies ${kib(first.bodyBytes)}: ${Object.entries(first.byType)
            .map(([type, bytes]) => `${type} ${kib(bytes)}`)
            .join(', ')} (gzip)`
        : undefined,
    },
    {
      name: 'warm transfer: page and files',
      value: result.warm[0] ? kib(median(result.warm.map((load) => load.transferBytes))) : 'n/a',
      note: 'headers of the 304s',
    },
    {
      name: 'first view over the event stream',
      value: kib(result.viewBytes),
      note: 'JSON, the seeded sandbox',
    },
    {
      name: 'live: change → on screen',
      value: `${formatMs(median(result.liveMs))} (p90 ${formatMs(percentile(result.liveMs, 90))})`,
      note: `${result.liveMs.length} fault switches posted from outside the page; no polling by the page`,
    },
  ];
}

/** A Linear comment of 64 KiB written to make a naive reader quadratic, and a realistic one. */
function benchMarkdown(): BenchRow[] {
  const hostile = `${'**a *b _c [d '.repeat(4_000)}`.slice(0, 64 * 1024);
  const table = [
    '## Context',
    '| Recording | Started | Duration | Active | Console errors | Start URL |',
    '|---|---|---|---|---|---|',
    ...Array.from(
      { length: 400 },
      (_, index) =>
        `| [rec_${index}](https://us.posthog.com/replay/${index}) | 2026-01-01 | 3m | 2m | ${index % 4} | https://shop.example.com/cart |`,
    ),
  ].join('\n');
  const time = (text: string) => {
    const samples: number[] = [];
    for (let run = 0; run < 15; run += 1) {
      const started = performance.now();
      parseMarkdown(text);
      samples.push(performance.now() - started);
    }
    return median(samples);
  };
  return [
    {
      name: 'Markdown: 64 KiB of unclosed marks',
      value: formatMs(time(hostile)),
      note: 'median of 15; linear, not quadratic',
    },
    {
      name: `Markdown: ${(table.length / 1024).toFixed(0)} KiB context table`,
      value: formatMs(time(table)),
      note: '400 rows',
    },
  ];
}
