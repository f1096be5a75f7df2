import { randomUUID } from 'node:crypto';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { snowflake } from '../local/discord-interaction-builder.js';
import { DEAD_LETTER_QUEUE, JOBS_QUEUE } from '../local/local-stack.js';
import type { StandIn } from '../local/stand-ins/stand-in.js';
import type { DiscordCommandJob } from '../shared/jobs/job-schemas.js';
import { buildCommandJob } from '../test/factories/jobs.js';
import { type BenchStack, startBenchStack } from './support/bench-stack.js';
import { profileWhile } from './support/cpu-profile.js';
import { formatMs, formatRatio, median } from './support/stats.js';
import type { BenchRow } from './support/table.js';

/**
 * The processor on the local stack (in this process: dynalite, local SQS, the stand-ins, the
 * poller and the processor handler share one event loop).
 *
 * (a) Contextualize wall time with every stand-in answering after 100 ms, against the slowest
 *     chain of dependent requests: it is near that chain only if the independent fetches overlap.
 * (b) Throughput with no added latency: jobs drained per second through the stack's poller, once
 *     with every job reading #bug-reports (a burst in one channel: Discord's rate limit decides)
 *     and once with each job in its own channel (the stack's own capacity, CPU-profiled).
 */

const LATENCY_MS = 100;
const RUNS = 5;
const THROUGHPUT_JOBS = 100;
/** Capped by the Discord stand-in's per-channel rate limit (about 2 jobs/s), so fewer. */
const ONE_CHANNEL_JOBS = 20;
const SERVICES = ['discord', 'linear', 'posthog'] as const;
type Service = (typeof SERVICES)[number];

/**
 * The requests contextualize makes for a message command naming an e-mail, as
 * shared/use-cases/contextualize.ts orders them: three independent chains at once, then the
 * comment, then the reply. DynamoDB (dynalite, no added latency) is left out.
 */
const CHAINS: readonly { name: string; service: Service; requests: number }[] = [
  { name: 'Linear: issueCreate (after 2 DynamoDB calls)', service: 'linear', requests: 1 },
  { name: 'PostHog: person → recordings → HogQL insights', service: 'posthog', requests: 3 },
  { name: 'Discord: fetch recent messages', service: 'discord', requests: 1 },
];
const AFTER_CHAINS: readonly { name: string; service: Service; requests: number }[] = [
  { name: 'Linear: commentCreate', service: 'linear', requests: 1 },
  { name: 'Discord: edit the deferred reply', service: 'discord', requests: 1 },
];

type ProcessorHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;
type Counts = Record<Service, number>;

export async function runProcessorBench(): Promise<BenchRow[]> {
  const bench = await startBenchStack();
  try {
    // Imported after the stack has set the handler environment (read at import, as at cold start):
    // the module instance the stack's poller invokes.
    const { handler } = (await import('../lambdas/processor/handler.js')) as { handler: ProcessorHandler };
    const discord = bench.standIn('discord');
    const rows: BenchRow[] = [
      {
        name: 'setup',
        value: 'see note',
        note: 'local stack in this process (processor logs at ERROR); (a) handler invoked directly, and end to end',
      },
    ];

    // ---- (a) contextualize under latency -----------------------------------------------------------
    // Runs start ≥ 550 ms apart: the Discord stand-in allows 10 requests per 5 s per channel, and
    // every (a) run reads #bug-reports; a throttled run would time the rate limit, not the flow.
    const pace = pacer(550);
    const direct = async (latencyMs: number) => {
      await bench.setLatency(SERVICES, latencyMs);
      const walls: number[] = [];
      const counts: Counts[] = [];
      let throttled = 0;
      for (let run = 0; run <= RUNS; run += 1) {
        await pace();
        const before = callCounts(bench);
        const job = contextualizeJob(bench, `direct ${latencyMs} ms run ${run}`, bench.sandbox.channelId);
        const started = performance.now();
        const response = await handler({ Records: [toRecord(job)] }, lambdaContext());
        const wall = performance.now() - started;
        if (response.batchItemFailures.length > 0) throw new Error(`contextualize failed (run ${run})`);
        if (!hasReply(discord, job.interaction.token, before.discord)) throw new Error('no reply was edited');
        // Run 0 warms up: the first invocation composes the flows and opens the connections.
        if (run === 0) continue;
        walls.push(wall);
        counts.push(diffCounts(callCounts(bench), before));
        throttled += rateLimitedSince(bench, before);
      }
      return { walls, counts, throttled };
    };
    const slow = await direct(LATENCY_MS);
    const fast = await direct(0);

    await bench.setLatency(SERVICES, LATENCY_MS);
    const endToEnd = await withConsoleLogSilenced(async () => {
      const walls: number[] = [];
      for (let run = 0; run < RUNS; run += 1) {
        await pace();
        const before = discord.calls.length;
        const started = performance.now();
        const sent = await bench.sendMessageCommand(
          `Checkout button does nothing (bench e2e ${run}) — reported by maya@example.com`,
        );
        if (sent.status !== 200) throw new Error(`the ingress answered ${sent.status}`);
        await waitForReply(discord, sent.token, before, 20_000);
        walls.push(performance.now() - started);
      }
      return walls;
    });

    const perChain = CHAINS.map((chain) => chain.requests * LATENCY_MS);
    const after = AFTER_CHAINS.reduce((sum, step) => sum + step.requests * LATENCY_MS, 0);
    const slowestChain = Math.max(...perChain) + after;
    const sequential = perChain.reduce((sum, ms) => sum + ms, 0) + after;
    const expected = Object.fromEntries(
      SERVICES.map((service) => [
        service,
        [...CHAINS, ...AFTER_CHAINS]
          .filter((step) => step.service === service)
          .reduce((total, step) => total + step.requests, 0),
      ]),
    ) as Counts;
    const observed = slow.counts[0] ?? expected;
    const countsMatch = [...slow.counts, ...fast.counts].every((count) =>
      SERVICES.every((service) => count[service] === expected[service]),
    );
    const wallSlow = median(slow.walls);
    const wallFast = median(fast.walls);

    rows.push(
      {
        name: `(a) contextualize, stand-ins at ${LATENCY_MS} ms: handler wall (median of ${RUNS})`,
        value: formatMs(wallSlow),
        note: `runs ${slow.walls.map((ms) => ms.toFixed(0)).join(', ')} ms; ${slow.throttled} rate-limited requests`,
      },
      {
        name: '(a) same, stand-ins at 0 ms: handler wall (median)',
        value: formatMs(wallFast),
        note: `runs ${fast.walls.map((ms) => ms.toFixed(1)).join(', ')} ms (own work + DynamoDB); ${fast.throttled} rate-limited`,
      },
      {
        name: `(a) end to end at ${LATENCY_MS} ms: signed command → reply edited (median)`,
        value: formatMs(median(endToEnd)),
        note: `runs ${endToEnd.map((ms) => ms.toFixed(0)).join(', ')} ms: ingress + SQS + poller + handler`,
      },
    );
    for (const [index, chain] of CHAINS.entries()) {
      rows.push({
        name: `  chain: ${chain.name}`,
        value: formatMs(perChain[index] ?? 0),
        note: `${chain.requests} request(s) at ${LATENCY_MS} ms`,
      });
    }
    for (const step of AFTER_CHAINS) {
      rows.push({
        name: `  then: ${step.name}`,
        value: formatMs(step.requests * LATENCY_MS),
        note: 'after the chains',
      });
    }
    rows.push(
      {
        name: '(a) expected: slowest chain + comment + reply',
        value: formatMs(slowestChain),
        note: `all sequential would be ${formatMs(sequential)}`,
      },
      {
        name: '(a) requests per run (discord / linear / posthog)',
        value: SERVICES.map((service) => observed[service]).join(' / '),
        note: countsMatch
          ? 'as the chain model expects, in every run'
          : `the model expects ${SERVICES.map((service) => expected[service]).join(' / ')}: CHAINS is out of date`,
      },
      {
        name: '(a) ratio: handler wall / slowest chain',
        value: formatRatio(wallSlow / slowestChain),
        note: `aim ≤ 1.5×; all-sequential would be ${formatRatio(sequential / slowestChain)} + own work`,
      },
      {
        name: '(a) ratio: (wall at 100 ms − wall at 0 ms) / slowest chain',
        value: formatRatio((wallSlow - wallFast) / slowestChain),
        note: `1.00× = the added latency is one chain: the fetches overlap (sequential: ${formatRatio(sequential / slowestChain)})`,
      },
    );

    // ---- (b) throughput ----------------------------------------------------------------------------
    await bench.setLatency(SERVICES, 0);
    const oneChannel = await drain(bench, ONE_CHANNEL_JOBS, () => bench.sandbox.channelId);
    const ownChannels = await profileWhile(() => drain(bench, THROUGHPUT_JOBS, () => snowflake()));
    rows.push(
      throughputRow(`(b) throughput, ${ONE_CHANNEL_JOBS} jobs from #bug-reports`, oneChannel),
      {
        name: '  why',
        value: '≤ 2 jobs/s steady',
        note: `each job reads #bug-reports once; the stand-in allows 10 such reads per 5 s and the Discord client waits for the bucket to reset (${oneChannel.throttled} × 429): the first 10 go at once, then 10 per 5 s`,
      },
      throughputRow(`(b) throughput, ${THROUGHPUT_JOBS} jobs, each from its own channel`, ownChannels.result),
      {
        name: '  stand-in requests served',
        value: `${((total(ownChannels.result.requests) * 1000) / ownChannels.result.elapsedMs).toFixed(0)} req/s`,
        note: `discord ${ownChannels.result.requests.discord}, linear ${ownChannels.result.requests.linear}, posthog ${ownChannels.result.requests.posthog} (+ DynamoDB, SQS); channels unknown to the stand-in, so Discord context is a 404 ("unavailable")`,
      },
      {
        name: '  CPU used by this process while draining',
        value: `${(ownChannels.result.cpuShare * 100).toFixed(0)}% of one core`,
        note: 'processor, stand-ins, dynalite, SQS and poller share this event loop: ~100% = CPU-bound',
      },
      {
        name: '  CPU per job (whole stack in this process)',
        value: formatMs((ownChannels.result.cpuShare * ownChannels.result.elapsedMs) / THROUGHPUT_JOBS),
        note: `so one full core would drain about ${(THROUGHPUT_JOBS / ((ownChannels.result.cpuShare * ownChannels.result.elapsedMs) / 1000)).toFixed(0)} jobs/s; in AWS most of this runs elsewhere (the services, SQS, DynamoDB)`,
      },
      {
        name: '  event loop busy / idle (profiler)',
        value: `${formatMs(ownChannels.busyMs)} / ${formatMs(ownChannels.idleMs)}`,
        note: 'idle = waiting in epoll: I/O, timers, or a CPU held by the rest of the (shared) machine',
      },
    );
    for (const share of ownChannels.shares.slice(0, 10)) {
      rows.push({
        name: `  CPU: ${share.name}`,
        value: `${(share.share * 100).toFixed(1)}%`,
        note: `${formatMs(share.ms)} self time of ${formatMs(ownChannels.busyMs)} busy`,
      });
    }
    return rows;
  } finally {
    await bench.close();
  }
}

interface Drained {
  readonly jobs: number;
  readonly elapsedMs: number;
  readonly replies: number;
  readonly deadLettered: number;
  readonly requests: Counts;
  readonly throttled: number;
  /** CPU time of this process over wall time. */
  readonly cpuShare: number;
}

/** Enqueues `jobs` contextualize jobs straight into the queue engine and waits for the queue to drain. */
async function drain(
  bench: BenchStack,
  jobs: number,
  channelFor: (index: number) => string,
): Promise<Drained> {
  const { engine } = bench.stack;
  const tokens = new Set<string>();
  const bodies = Array.from({ length: jobs }, (_, index) => {
    const job = contextualizeJob(bench, `throughput job ${index}`, channelFor(index));
    tokens.add(job.interaction.token);
    return JSON.stringify(job);
  });
  const before = callCounts(bench);
  const deadBefore = queueDepth(bench, DEAD_LETTER_QUEUE);
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  for (const body of bodies) engine.sendMessage(JOBS_QUEUE, { body });
  while (queueDepth(bench, JOBS_QUEUE) > 0) await sleep(5);
  const elapsedMs = performance.now() - started;
  const cpu = process.cpuUsage(cpuBefore);
  const replied = new Set(
    bench
      .standIn('discord')
      .calls.slice(before.discord)
      .filter((call) => call.method === 'PATCH' && call.status < 300)
      .flatMap((call) => [...tokens].filter((token) => call.path.includes(token))),
  );
  return {
    jobs,
    elapsedMs,
    replies: replied.size,
    deadLettered: queueDepth(bench, DEAD_LETTER_QUEUE) - deadBefore,
    requests: diffCounts(callCounts(bench), before),
    throttled: rateLimitedSince(bench, before),
    cpuShare: (cpu.user + cpu.system) / 1000 / elapsedMs,
  };
}

function throughputRow(name: string, drained: Drained): BenchRow {
  return {
    name,
    value: `${((drained.jobs * 1000) / drained.elapsedMs).toFixed(1)} jobs/s`,
    note: `drained in ${formatMs(drained.elapsedMs)}; poller batch 5 × concurrency 2; ${drained.replies}/${drained.jobs} replied, ${drained.deadLettered} dead-lettered; CPU ${(drained.cpuShare * 100).toFixed(0)}% of a core`,
  };
}

function contextualizeJob(bench: BenchStack, label: string, channelId: string): DiscordCommandJob {
  const { sandbox, stack } = bench;
  const interactionId = snowflake();
  return buildCommandJob({
    idempotencyKey: `interaction:${interactionId}`,
    interaction: {
      id: interactionId,
      token: `bench-${randomUUID()}`,
      applicationId: stack.keys.discordApplicationId,
      guildId: sandbox.guildId,
      channelId,
    },
    command: {
      name: 'contextualize',
      source: 'message',
      // A message of its own per job: each is a new conversation, so a new Linear issue.
      targetMessage: {
        id: snowflake(),
        channelId,
        authorId: '1300000000000000099',
        authorName: 'devon',
        content: `Checkout button does nothing (${label}) — reported by maya@example.com`,
        timestamp: new Date().toISOString(),
      },
    },
  });
}

function toRecord(job: DiscordCommandJob): SQSRecord {
  const now = String(Date.now());
  return {
    messageId: randomUUID(),
    receiptHandle: `bench-${randomUUID()}`,
    body: JSON.stringify(job),
    attributes: {
      ApproximateReceiveCount: '1',
      SentTimestamp: now,
      SenderId: 'bench',
      ApproximateFirstReceiveTimestamp: now,
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: `arn:aws:sqs:us-east-1:000000000000:${JOBS_QUEUE}`,
    awsRegion: 'us-east-1',
  };
}

function lambdaContext(): Context {
  const deadline = Date.now() + 60_000;
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: 'bugbot-processor',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:bugbot-processor',
    memoryLimitInMB: '1024',
    awsRequestId: randomUUID(),
    logGroupName: '/aws/lambda/bugbot-processor',
    logStreamName: 'bench',
    getRemainingTimeInMillis: () => deadline - Date.now(),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

function callCounts(bench: BenchStack): Counts {
  return Object.fromEntries(
    SERVICES.map((service) => [service, bench.standIn(service).calls.length]),
  ) as Counts;
}

function diffCounts(after: Counts, before: Counts): Counts {
  return Object.fromEntries(SERVICES.map((service) => [service, after[service] - before[service]])) as Counts;
}

function total(counts: Counts): number {
  return SERVICES.reduce((sum, service) => sum + counts[service], 0);
}

function rateLimitedSince(bench: BenchStack, before: Counts): number {
  return SERVICES.reduce(
    (sum, service) =>
      sum +
      bench
        .standIn(service)
        .calls.slice(before[service])
        .filter((call) => call.status === 429).length,
    0,
  );
}

function hasReply(discord: StandIn, token: string, from: number): boolean {
  const calls = discord.calls;
  for (let index = from; index < calls.length; index += 1) {
    const call = calls[index];
    if (call?.method === 'PATCH' && call.path.includes(token) && call.status < 300) return true;
  }
  return false;
}

/** Polls the stand-in's call log (cheap: only new entries) rather than /_local/state. */
async function waitForReply(discord: StandIn, token: string, from: number, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  let scanned = from;
  while (performance.now() < deadline) {
    const length = discord.calls.length;
    if (hasReply(discord, token, scanned)) return;
    scanned = length;
    await sleep(1);
  }
  throw new Error(`no reply for ${token} within ${timeoutMs} ms`);
}

function queueDepth(bench: BenchStack, queue: string): number {
  const counts = bench.stack.engine.counts(queue);
  return counts.visible + counts.inFlight + counts.delayed;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Waits so that successive calls start at least `spacingMs` apart. */
function pacer(spacingMs: number): () => Promise<void> {
  let last = Number.NEGATIVE_INFINITY;
  return async () => {
    const wait = last + spacingMs - performance.now();
    if (wait > 0) await sleep(wait);
    last = performance.now();
  };
}

/** The Discord ingress logs each queued job with console.log; keep the bench output readable. */
async function withConsoleLogSilenced<T>(work: () => Promise<T>): Promise<T> {
  const original = console.log;
  console.log = () => undefined;
  try {
    return await work();
  } finally {
    console.log = original;
  }
}
