import type { Page } from 'playwright-core';
import { signReport } from '../../local/report-sender.js';
import { launchBrowser } from '../../test/support/browser.js';
import type { ConsoleBenchResult, PageLoad } from '../console-bench.js';
import { startBenchStack } from './bench-stack.js';

/**
 * The console bench's child process: a bench stack seeded with a few bug cards (threads, an
 * issue, a context packet), Chromium measuring cold and warm loads of `GET /` and the time from a
 * change to the screen. Sends its measures to the parent and exits.
 */

const RUNS = 10;

interface PageGlobals {
  performance: {
    getEntriesByType(type: string): {
      name: string;
      initiatorType?: string;
      transferSize: number;
      encodedBodySize: number;
      domContentLoadedEventEnd?: number;
      loadEventEnd?: number;
    }[];
    getEntriesByName(name: string): { startTime: number }[];
  };
  document: { querySelector(selector: string): { textContent: string | null } | null };
}

async function main(): Promise<ConsoleBenchResult> {
  const bench = await startBenchStack();
  const launched = await launchBrowser();
  try {
    const url = bench.stack.url;
    const seeded = await seed(url, bench.stack.keys.webhookSecret);
    const cold: PageLoad[] = [];
    for (let run = 0; run < RUNS; run += 1) {
      const page = await launched.context.newPage();
      const cdp = await launched.context.newCDPSession(page);
      await cdp.send('Network.enable');
      await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
      cold.push(await load(page, url));
      await cdp.detach();
      await page.close();
    }
    const warm: PageLoad[] = [];
    const page = await launched.context.newPage();
    await load(page, url);
    for (let run = 0; run < RUNS; run += 1) warm.push(await load(page, url));
    const liveMs = await measureLive(page, url);
    const viewBytes = (await (await fetch(`${url}/_local/console/view`)).arrayBuffer()).byteLength;
    return { runs: RUNS, cold, warm, liveMs, viewBytes, seeded };
  } finally {
    await launched.close();
    await bench.close();
  }
}

/** Three reports (three cards with threads), an issue for the first, and a context packet. */
async function seed(url: string, secret: string): Promise<string> {
  const reports = [
    {
      description: 'Checkout crashes when I press Pay',
      user_email: 'maya@example.com',
      console_logs:
        "TypeError: Cannot read properties of undefined (reading 'map')\n    at cartTotal (https://shop.example.com/src/cart.js:11:23)",
    },
    { description: 'Dark mode: the Settings screen text is unreadable', user_email: 'priya@example.com' },
    {
      description: 'The app closes when I upload a profile photo over 1 MB',
      user_email: 'devon@example.com',
    },
  ];
  const bugIds: string[] = [];
  for (const [index, report] of reports.entries()) {
    const signed = signReport(secret, { id: `bench_${index}`, ...report });
    const response = await fetch(`${url}/webhooks/bug-report`, {
      method: 'POST',
      headers: signed.headers,
      body: signed.body,
    });
    bugIds.push(String(((await response.json()) as { bugId?: string }).bugId));
  }
  await waitFor('the cards', async () => {
    const state = (await (await fetch(`${url}/_local/state`)).json()) as {
      bugs: { bugId: string; card?: { threadId?: string } }[];
    };
    return bugIds.every((bugId) => state.bugs.find((bug) => bug.bugId === bugId)?.card?.threadId);
  });
  const view = (await (await fetch(`${url}/_local/console/view`)).json()) as {
    discord: {
      channels: {
        id: string;
        name: string;
        messages: { id: string; embeds: { footer?: { text?: string } }[] }[];
      }[];
    };
  };
  const channel = view.discord.channels.find((candidate) => candidate.name === 'bug-reports');
  const card = channel?.messages.find((message) => message.embeds[0]?.footer?.text === `Bug ${bugIds[0]}`);
  const post = (body: unknown) =>
    fetch(`${url}/_local/console/interactions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  if (card && channel) {
    await post({
      kind: 'button',
      customId: `bug:create_issue:${bugIds[0]}`,
      messageId: card.id,
      maintainer: true,
    });
    await post({
      kind: 'message-command',
      name: 'Contextualize bug',
      text: 'Checkout crashes when I press Pay — maya@example.com',
      channelId: channel.id,
      maintainer: true,
    });
  }
  await waitFor('the issue and the context packet', async () => {
    const state = (await (await fetch(`${url}/_local/state`)).json()) as {
      queues: { jobs: { visible: number; inFlight: number } };
      sandbox: { linear: { comments: unknown[] } };
    };
    return (
      state.sandbox.linear.comments.length > 0 && state.queues.jobs.visible + state.queues.jobs.inFlight === 0
    );
  });
  return '3 cards with threads, 1 issue, 1 context packet; 1400×900';
}

async function waitFor(what: string, probe: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (await probe()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function load(page: Page, url: string): Promise<PageLoad> {
  await page.goto(url, { waitUntil: 'load' });
  await page.waitForFunction(
    () =>
      (globalThis as unknown as PageGlobals).performance.getEntriesByName('console:first-view').length > 0,
  );
  return page.evaluate(() => {
    const { performance } = globalThis as unknown as PageGlobals;
    const navigation = performance.getEntriesByType('navigation')[0];
    const resources = performance.getEntriesByType('resource');
    const byType: Record<string, number> = { html: navigation?.encodedBodySize ?? 0 };
    for (const resource of resources) {
      const type = resource.name.split('?')[0]?.split('.').pop() ?? 'other';
      byType[type] = (byType[type] ?? 0) + resource.encodedBodySize;
    }
    const entries = [...(navigation ? [navigation] : []), ...resources];
    return {
      domContentLoadedMs: navigation?.domContentLoadedEventEnd ?? Number.NaN,
      loadMs: navigation?.loadEventEnd ?? Number.NaN,
      firstViewMs: performance.getEntriesByName('console:first-view')[0]?.startTime ?? Number.NaN,
      transferBytes: entries.reduce((sum, entry) => sum + entry.transferSize, 0),
      bodyBytes: entries.reduce((sum, entry) => sum + entry.encodedBodySize, 0),
      requests: entries.length,
      byType,
    };
  });
}

/** A fault switched from outside the page, timed until the page shows it. */
async function measureLive(page: Page, url: string): Promise<number[]> {
  await page.getByRole('tab', { name: /Queues/ }).click();
  const samples: number[] = [];
  for (let run = 0; run < RUNS; run += 1) {
    const down = run % 2 === 0;
    const started = performance.now();
    await fetch(`${url}/_local/faults`, {
      method: 'POST',
      body: JSON.stringify(
        down ? { service: 'posthog', failRate: 1, status: 503 } : { service: 'posthog', clear: true },
      ),
    });
    await page.waitForFunction(
      (expected) =>
        (globalThis as unknown as PageGlobals).document.querySelector('[data-testid="fault-posthog"]')
          ?.textContent === expected,
      down ? '100% answered 503' : 'healthy',
      { polling: 'raf' },
    );
    samples.push(performance.now() - started);
  }
  return samples;
}

main().then(
  (result) => process.send?.(result),
  (error: unknown) =>
    process.send?.({ error: error instanceof Error ? (error.stack ?? error.message) : String(error) }),
);
