import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadOrCreateLocalKeys } from '../local/local-keys.js';
import {
  bundleLikeLambda,
  type Contributor,
  contributorsByPackage,
  importersOf,
  type LambdaBundle,
  zodBreakdown,
  zodNamespaceImportPlugin,
} from './support/bundle.js';
import { firstMessage, forkTypeScript, stopChild } from './support/child-process.js';
import { type ColdStartSample, measureColdStarts } from './support/cold-start.js';
import {
  BENCH_GITHUB_WEBHOOK_SECRET,
  BENCH_LINEAR_WEBHOOK_SECRET,
  buildIngressRequests,
  buildLinearEvents,
  buildReportEvent,
} from './support/ingress-requests.js';
import type { IngressWorkerRequest, IngressWorkerResult } from './support/ingress-worker.js';
import { formatBytes, formatMs, formatRatio, type LatencySummary, median } from './support/stats.js';
import type { BenchRow } from './support/table.js';

/**
 * Ingress budgets: bundle size, cold import, warm handler time against the floor (signature check
 * plus one SendMessage). Three processes: this one bundles and reports; the local SQS server runs
 * in a child; the handlers run in another child (the bundles as deployed, imported after their
 * environment is set), so neither the server nor this process shares the timed event loop.
 */

const COLD_SAMPLES = 10;
const ALONE_COLD_SAMPLES = 5;
const WARM = { rounds: 10, ioIterations: 2000, cpuIterations: 5000 };

/**
 * Small modules bundled alone, to price each heavy contributor of the webhook bundle in cold-import
 * milliseconds (bytes alone do not say how much is evaluated at import).
 */
const ALONE = [
  {
    name: "zod, `import { z } from 'zod'`",
    contents:
      "import { z } from 'zod';\nexport const schema = z.object({ id: z.string(), email: z.email().optional() }).loose();",
  },
  {
    name: "zod, `import * as z from 'zod'`",
    contents:
      "import * as z from 'zod';\nexport const schema = z.object({ id: z.string(), email: z.email().optional() }).loose();",
  },
  {
    name: "zod, `import * as z from 'zod/mini'`",
    contents:
      "import * as z from 'zod/mini';\nexport const schema = z.looseObject({ id: z.string(), email: z.optional(z.email()) });",
  },
  {
    name: 'Powertools Logger (constructed)',
    contents:
      "import { Logger } from '@aws-lambda-powertools/logger';\nexport const logger = new Logger({ serviceName: 'bench' });",
  },
  {
    name: 'standardwebhooks',
    contents:
      "import { Webhook } from 'standardwebhooks';\nexport const webhook = new Webhook('whsec_YmVuY2gtb25seS1ub3QtYS1zZWNyZXQ=');",
  },
  {
    name: 'SQS client (constructed)',
    contents: "import { SQSClient } from '@aws-sdk/client-sqs';\nexport const client = new SQSClient({});",
  },
  {
    name: 'SQS client + lazy Secrets Manager import()',
    contents:
      "import { SQSClient } from '@aws-sdk/client-sqs';\nexport const client = new SQSClient({});\nexport const load = () => import('@aws-sdk/client-secrets-manager');",
  },
];

export async function runIngressBench(): Promise<BenchRow[]> {
  const work = mkdtempSync(join(tmpdir(), 'bugbot-bench-ingress-'));
  const sqs = forkTypeScript(new URL('./support/sqs-server-process.ts', import.meta.url), {});
  // Listen now: the server may be up before the bundles are, and an unheard message is lost.
  const sqsReady = firstMessage<{ url: string; queueUrl: string }>(sqs, 60_000);
  sqsReady.catch(() => undefined);
  try {
    const rows: BenchRow[] = [];
    const keys = loadOrCreateLocalKeys(join(work, 'keys.json'));
    const outDir = join(work, 'bundles');
    const rewritten = new Set<string>();
    const discord = await bundleLikeLambda({
      name: 'discord-interactions',
      entry: 'lambdas/discord-interactions/handler.ts',
      outDir,
    });
    const webhook = await bundleLikeLambda({
      name: 'bug-report-webhook',
      entry: 'lambdas/bug-report-webhook/handler.ts',
      outDir,
    });
    const github = await bundleLikeLambda({
      name: 'github-webhook',
      entry: 'lambdas/github-webhook/handler.ts',
      outDir,
    });
    const linear = await bundleLikeLambda({
      name: 'linear-webhook',
      entry: 'lambdas/linear-webhook/handler.ts',
      outDir,
    });
    const floor = await bundleLikeLambda({ name: 'floor', entry: 'bench/support/floor-handler.ts', outDir });
    const webhookWhatIf = await bundleLikeLambda({
      name: 'bug-report-webhook-zod-namespace',
      entry: 'lambdas/bug-report-webhook/handler.ts',
      outDir,
      plugins: [zodNamespaceImportPlugin(rewritten)],
    });
    const alone: LambdaBundle[] = [];
    for (const [index, module] of ALONE.entries()) {
      alone.push(
        await bundleLikeLambda({
          name: `alone-${index}`,
          entry: '<stdin>',
          contents: module.contents,
          outDir,
        }),
      );
    }

    const { url, queueUrl } = await sqsReady;
    const lambdaEnv: Record<string, string> = {
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'bench',
      AWS_SECRET_ACCESS_KEY: 'bench',
      AWS_ENDPOINT_URL_SQS: url,
      JOBS_QUEUE_URL: queueUrl,
      DISCORD_PUBLIC_KEY: keys.discordPublicKeyHex,
      DISCORD_APPLICATION_ID: keys.discordApplicationId,
      FIX_ALLOWED_ROLE_IDS: '',
      BUG_REPORT_WEBHOOK_SECRET: keys.webhookSecret,
      GITHUB_WEBHOOK_SECRET: BENCH_GITHUB_WEBHOOK_SECRET,
      LINEAR_WEBHOOK_SECRET: BENCH_LINEAR_WEBHOOK_SECRET,
    };

    const requests = buildIngressRequests(keys, 64);
    const signReport = buildReportEvent(keys.webhookSecret);
    const requestsFile = join(work, 'requests.json');
    writeFileSync(requestsFile, JSON.stringify(requests));
    const commandEvent = join(work, 'command-event.json');
    const reportEvent = join(work, 'report-event.json');
    writeFileSync(commandEvent, JSON.stringify(requests.command[0]));
    writeFileSync(reportEvent, JSON.stringify(requests.report[0]));
    const githubEvent = join(work, 'github-event.json');
    const linearEvent = join(work, 'linear-event.json');
    writeFileSync(githubEvent, JSON.stringify(requests.github[0]));

    // Interleaved, so load from the rest of the machine spreads over every bundle alike.
    const coldTargets = [
      { bundle: discord, eventFile: commandEvent },
      { bundle: webhook, eventFile: reportEvent },
      { bundle: floor, eventFile: commandEvent },
      { bundle: webhookWhatIf, eventFile: reportEvent },
      { bundle: github, eventFile: githubEvent },
      { bundle: linear, eventFile: linearEvent },
    ];
    const cold = new Map<LambdaBundle, ColdStartSample[]>(coldTargets.map(({ bundle }) => [bundle, []]));
    for (let sample = 0; sample < COLD_SAMPLES; sample += 1) {
      for (const { bundle, eventFile } of coldTargets) {
        // Linear refuses a webhookTimestamp over 60 s old: sign a fresh one for every sample.
        if (bundle === linear)
          writeFileSync(linearEvent, JSON.stringify(buildLinearEvents(BENCH_LINEAR_WEBHOOK_SECRET, 1)[0]));
        // Standard Webhooks allows five minutes, which a loaded machine can outlast.
        if (eventFile === reportEvent) writeFileSync(reportEvent, JSON.stringify(signReport()));
        const [result] = await measureColdStarts({
          file: bundle.file,
          env: lambdaEnv,
          eventFile,
          samples: 1,
        });
        if (result) cold.get(bundle)?.push(result);
      }
    }
    const aloneCold = new Map<LambdaBundle, ColdStartSample[]>(alone.map((bundle) => [bundle, []]));
    for (let sample = 0; sample < ALONE_COLD_SAMPLES; sample += 1) {
      for (const bundle of alone) {
        aloneCold
          .get(bundle)
          ?.push(...(await measureColdStarts({ file: bundle.file, env: lambdaEnv, samples: 1 })));
      }
    }

    const worker = forkTypeScript(new URL('./support/ingress-worker.ts', import.meta.url), lambdaEnv);
    let warm: IngressWorkerResult;
    try {
      const request: IngressWorkerRequest = {
        bundles: {
          discord: discord.file,
          webhook: webhook.file,
          floor: floor.file,
          github: github.file,
          linear: linear.file,
        },
        requestsFile,
        ...WARM,
      };
      // Two more handlers than before; a loaded 2-core machine needs the room.
      const answer = firstMessage<IngressWorkerResult>(worker, 600_000);
      worker.send(request);
      warm = await answer;
    } finally {
      await stopChild(worker);
    }
    const scenario = (name: string): LatencySummary => {
      const summary = warm.scenarios[name];
      if (!summary) throw new Error(`the worker measured no "${name}"`);
      return summary;
    };

    rows.push({
      name: 'setup',
      value: 'see note',
      note: 'SQS server: separate child process; handlers: bundles imported in a separate worker process',
    });

    // ---- per handler ---------------------------------------------------------------------------
    const coldRows = (label: string, bundle: LambdaBundle, firstWhat: string) => {
      const samples = cold.get(bundle) ?? [];
      const imports = samples.map((sample) => sample.importMs);
      const firsts = samples.flatMap((sample) =>
        sample.firstInvokeMs === null ? [] : [sample.firstInvokeMs],
      );
      const statuses = [...new Set(samples.map((sample) => sample.status))].join(',');
      rows.push(
        {
          name: `${label}: bundle size`,
          value: formatBytes(bundle.bytes),
          note: topNote(contributorsByPackage(bundle), 5),
        },
        {
          name: `${label}: cold import (median of ${imports.length})`,
          value: formatMs(median(imports)),
          note: `min ${formatMs(Math.min(...imports))}, max ${formatMs(Math.max(...imports))}; aim < 100 ms`,
        },
        {
          name: `${label}: first invocation after cold import (median)`,
          value: formatMs(median(firsts)),
          note: `${firstWhat}; status ${statuses}`,
        },
      );
    };
    const warmRow = (name: string, summary: LatencySummary, aim?: string): BenchRow => ({
      name,
      value: `p50 ${formatMs(summary.p50)} · p99 ${formatMs(summary.p99)}`,
      note: `n=${summary.count}, mean ${formatMs(summary.mean)}, max ${formatMs(summary.max)}${aim ? `; ${aim}` : ''}`,
    });

    coldRows('discord-interactions', discord, 'a deferred command: lazy SDK setup + first SQS connection');
    const ping = scenario('discord PING');
    const command = scenario('discord deferred command');
    const report = scenario('webhook accepted report');
    const verifyOnly = scenario('floor: Ed25519 verify only');
    const ed25519Floor = scenario('floor: Ed25519 + SendMessage');
    const hmacFloor = scenario('floor: HMAC + SendMessage');
    const bareSend = scenario('floor: bare SendMessage');
    const rawSend = scenario('floor: raw HTTP SendMessage (no SDK)');
    const parseCommand = scenario('part: JSON.parse + parseInteraction (command)');
    const authenticate = scenario('part: authenticateWebhook (standardwebhooks)');
    const parseReport = scenario('part: parseBugReport (zod)');
    const logLine = scenario('part: one JSON log line (console.log)');
    const powertoolsLine = scenario('part: one Powertools logger.info');
    rows.push(
      warmRow('discord-interactions: warm PING', ping, 'aim p99 ~1 ms'),
      warmRow(
        'discord-interactions: warm deferred command (1 SendMessage)',
        command,
        'aim: a few ms over one SendMessage',
      ),
    );
    coldRows('bug-report-webhook', webhook, 'an accepted report: lazy SDK setup + first SQS connection');
    rows.push(warmRow('bug-report-webhook: warm accepted report (1 SendMessage)', report));
    coldRows('github-webhook', github, 'a merged fix PR: lazy SDK setup + first SQS connection');
    const githubWarm = scenario('github merged fix PR');
    rows.push(warmRow('github-webhook: warm merged fix PR (1 SendMessage)', githubWarm));
    coldRows('linear-webhook', linear, 'an issue moved to Done: lazy SDK setup + first SQS connection');
    const linearWarm = scenario('linear issue completed');
    rows.push(warmRow('linear-webhook: warm issue completed (1 SendMessage)', linearWarm));

    // ---- floors and ratios -------------------------------------------------------------------------
    coldRows('floor (Ed25519 + SQS client only)', floor, 'Ed25519 + one SendMessage');
    rows.push(
      warmRow('floor: Ed25519 verify only (node crypto)', verifyOnly),
      warmRow('floor: Ed25519 + SendMessage', ed25519Floor),
      warmRow('floor: HMAC + SendMessage', hmacFloor),
      warmRow('floor: bare SendMessage round trip (SDK)', bareSend),
      warmRow('floor: raw HTTP SendMessage (node:http, no SDK)', rawSend, 'wire + local server'),
      {
        name: 'SDK client-side cost per SendMessage',
        value: formatMs(bareSend.p50 - rawSend.p50),
        note: 'p50 of SDK send − raw HTTP send: serialize, SigV4, middleware, MD5 check',
      },
      warmRow('part: JSON.parse + parseInteraction (command)', parseCommand),
      warmRow('part: authenticateWebhook (standardwebhooks HMAC)', authenticate),
      warmRow('part: parseBugReport (zod classic)', parseReport),
      warmRow(
        'part: one JSON log line (console.log → /dev/null)',
        logLine,
        'the Discord ingress logs one per job',
      ),
      warmRow(
        'part: one Powertools logger.info (→ /dev/null)',
        powertoolsLine,
        'the webhook ingress logs one per report',
      ),
      {
        name: 'ratio: PING / Ed25519 verify',
        value: formatRatio(ping.p50 / verifyOnly.p50),
        note: `p99 ${formatRatio(ping.p99 / verifyOnly.p99)}`,
      },
      {
        name: 'ratio: deferred command / floor (Ed25519 + send)',
        value: formatRatio(command.p50 / ed25519Floor.p50),
        note: `p99 ${formatRatio(command.p99 / ed25519Floor.p99)}`,
      },
      {
        name: 'deferred command − bare SendMessage',
        value: formatMs(command.p50 - bareSend.p50),
        note: `p50 difference; p99 difference ${formatMs(command.p99 - bareSend.p99)}`,
      },
      {
        name: 'ratio: accepted report / floor (HMAC + send)',
        value: formatRatio(report.p50 / hmacFloor.p50),
        note: `p99 ${formatRatio(report.p99 / hmacFloor.p99)}`,
      },
      {
        name: 'ratio: github delivery / floor (HMAC + send)',
        value: formatRatio(githubWarm.p50 / hmacFloor.p50),
        note: `p99 ${formatRatio(githubWarm.p99 / hmacFloor.p99)}`,
      },
      {
        name: 'ratio: linear delivery / floor (HMAC + send)',
        value: formatRatio(linearWarm.p50 / hmacFloor.p50),
        note: `p99 ${formatRatio(linearWarm.p99 / hmacFloor.p99)}`,
      },
      {
        name: 'ratio: webhook / discord cold import',
        value: formatRatio(median(importsOf(cold, webhook)) / median(importsOf(cold, discord))),
        note: `of medians; of minimums ${formatRatio(Math.min(...importsOf(cold, webhook)) / Math.min(...importsOf(cold, discord)))}; floor (SDK alone) median ${formatMs(median(importsOf(cold, floor)))}, min ${formatMs(Math.min(...importsOf(cold, floor)))}`,
      },
    );

    // ---- why the webhook bundle is heavier -------------------------------------------------------
    const discordPackages = new Map(contributorsByPackage(discord).map((entry) => [entry.name, entry.bytes]));
    const extra = contributorsByPackage(webhook)
      .map((entry) => ({ name: entry.name, bytes: entry.bytes - (discordPackages.get(entry.name) ?? 0) }))
      .filter((entry) => entry.bytes > 2048)
      .sort((a, b) => b.bytes - a.bytes)
      .slice(0, 6);
    rows.push({
      name: 'webhook − discord bundle, by package',
      value: formatBytes(webhook.bytes - discord.bytes),
      note: topNote(extra, 6),
    });
    for (const part of zodBreakdown(webhook)) {
      rows.push({ name: `  webhook: ${part.name}`, value: formatBytes(part.bytes) });
    }
    for (const { file, chain } of importersOf(webhook, 'zod')) {
      rows.push({ name: `  imports 'zod': ${file}`, value: '', note: `via ${chain.join(' → ')}` });
    }
    const whatIfImports = importsOf(cold, webhookWhatIf);
    const whatIfStatuses = [...new Set((cold.get(webhookWhatIf) ?? []).map((sample) => sample.status))];
    rows.push(
      {
        name: "what-if: webhook with `import * as z from 'zod'`",
        value: formatBytes(webhookWhatIf.bytes),
        note: `rewrote ${[...rewritten].sort().join(', ')}; zod ${formatBytes(sumOf(zodBreakdown(webhookWhatIf)))}`,
      },
      {
        name: 'what-if: its cold import (median)',
        value: formatMs(median(whatIfImports)),
        note: `min ${formatMs(Math.min(...whatIfImports))}; vs ${formatMs(median(importsOf(cold, webhook)))} (min ${formatMs(Math.min(...importsOf(cold, webhook)))}) as built today; first invocation answered ${whatIfStatuses.join(',')}`,
      },
    );
    for (const [index, bundle] of alone.entries()) {
      rows.push({
        name: `alone: ${ALONE[index]?.name}`,
        value: formatBytes(bundle.bytes),
        note: `cold import median ${formatMs(median(importsOf(aloneCold, bundle)))}, min ${formatMs(Math.min(...importsOf(aloneCold, bundle)))} (of ${ALONE_COLD_SAMPLES})`,
      });
    }
    return rows;
  } finally {
    await stopChild(sqs);
    rmSync(work, { recursive: true, force: true });
  }
}

function importsOf(cold: Map<LambdaBundle, ColdStartSample[]>, bundle: LambdaBundle): number[] {
  return (cold.get(bundle) ?? []).map((sample) => sample.importMs);
}

function sumOf(contributors: readonly Contributor[]): number {
  return contributors.reduce((total, entry) => total + entry.bytes, 0);
}

function topNote(contributors: readonly Contributor[], count: number): string {
  return contributors
    .slice(0, count)
    .map((entry) => `${entry.name} ${(entry.bytes / 1024).toFixed(0)} KB`)
    .join(', ');
}
