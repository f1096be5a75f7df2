import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { parseInteraction } from '../../shared/discord/parse-interaction.js';
import {
  authenticateWebhook,
  prepareWebhookCredentials,
} from '../../shared/webhooks/authenticate-webhook.js';
import { parseBugReport } from '../../shared/webhooks/parse-bug-report.js';
import {
  BENCH_LINEAR_WEBHOOK_SECRET,
  buildLinearEvents,
  buildReportEvent,
  type IngressRequests,
} from './ingress-requests.js';
import { type LatencySummary, summarize } from './stats.js';

/**
 * Warm timings, in a process of its own: imports the deployed bundles (their environment was set
 * at fork, as Lambda sets it before init), warms up, then times thousands of invocations. The
 * scenarios are interleaved in rounds so a burst of load on the shared machine lands on all of
 * them rather than on one. stdout (the handlers' logs) goes to /dev/null.
 */

export interface IngressWorkerRequest {
  readonly bundles: { discord: string; webhook: string; floor: string; github: string; linear: string };
  readonly requestsFile: string;
  readonly rounds: number;
  /** Timed iterations for scenarios with an SQS round trip, and for in-memory ones. */
  readonly ioIterations: number;
  readonly cpuIterations: number;
}

export interface IngressWorkerResult {
  readonly scenarios: Record<string, LatencySummary>;
}

type HandlerResult = { statusCode: number; body?: string };
type Handler = (event: APIGatewayProxyEventV2) => Promise<HandlerResult>;

interface Scenario {
  readonly name: string;
  readonly io: boolean;
  /** Untimed, before the warm-up and each round (fresh signed timestamps). */
  prepare?(): void;
  run(index: number): Promise<unknown>;
  check(result: unknown): boolean;
}

async function measure(request: IngressWorkerRequest): Promise<IngressWorkerResult> {
  const requests = JSON.parse(readFileSync(request.requestsFile, 'utf8')) as IngressRequests;
  const load = (file: string) => import(pathToFileURL(file).href);
  const discord = (await load(request.bundles.discord)) as { handler: Handler };
  const webhook = (await load(request.bundles.webhook)) as { handler: Handler };
  const github = (await load(request.bundles.github)) as { handler: Handler };
  const linear = (await load(request.bundles.linear)) as { handler: Handler };
  let linearEvents: APIGatewayProxyEventV2[] = [];
  const signReport = buildReportEvent(process.env.BUG_REPORT_WEBHOOK_SECRET ?? '');
  // Re-signed before each round (untimed): their timestamps must stay inside the ±5 minutes.
  const refreshReports = () => {
    requests.report.splice(0, requests.report.length, ...requests.report.map(() => signReport()));
  };
  const floor = (await load(request.bundles.floor)) as {
    verifyDiscordSignature(event: APIGatewayProxyEventV2): boolean;
    discordFloor: Handler;
    webhookFloor: Handler;
    sendOnly(body: string): Promise<void>;
    rawSendMessage(body: string): Promise<number>;
  };
  // The handlers' own steps, from source (same code as in the bundles), to see where time goes.
  const credentials = prepareWebhookCredentials({ webhookSecret: process.env.BUG_REPORT_WEBHOOK_SECRET });
  const applicationId = process.env.DISCORD_APPLICATION_ID;
  const powertools = new Logger({ serviceName: 'bugbot-webhook-ingress' });
  const pick = (events: APIGatewayProxyEventV2[], index: number) =>
    events[index % events.length] as APIGatewayProxyEventV2;
  const answered = (status: number, body?: string) => (result: unknown) =>
    (result as HandlerResult).statusCode === status &&
    (body === undefined || (result as HandlerResult).body === body);

  const scenarios: Scenario[] = [
    {
      name: 'discord PING',
      io: false,
      run: (index) => discord.handler(pick(requests.ping, index)),
      check: answered(200, '{"type":1}'),
    },
    {
      name: 'discord deferred command',
      io: true,
      run: (index) => discord.handler(pick(requests.command, index)),
      check: answered(200, '{"type":5}'),
    },
    {
      name: 'webhook accepted report',
      io: true,
      prepare: refreshReports,
      run: (index) => webhook.handler(pick(requests.report, index)),
      check: answered(202),
    },
    {
      name: 'github merged fix PR',
      io: true,
      run: (index) => github.handler(pick(requests.github, index)),
      check: answered(202, '{"queued":true}'),
    },
    {
      name: 'linear issue completed',
      io: true,
      prepare: () => {
        linearEvents = buildLinearEvents(BENCH_LINEAR_WEBHOOK_SECRET, 256);
      },
      run: (index) => linear.handler(pick(linearEvents, index)),
      check: answered(202, '{"queued":true}'),
    },
    {
      name: 'floor: Ed25519 verify only',
      io: false,
      run: async (index) => floor.verifyDiscordSignature(pick(requests.command, index)),
      check: (result) => result === true,
    },
    {
      name: 'floor: Ed25519 + SendMessage',
      io: true,
      run: (index) => floor.discordFloor(pick(requests.command, index)),
      check: answered(200),
    },
    {
      name: 'floor: HMAC + SendMessage',
      io: true,
      prepare: refreshReports,
      run: (index) => floor.webhookFloor(pick(requests.report, index)),
      check: answered(202),
    },
    {
      name: 'floor: bare SendMessage',
      io: true,
      run: (index) => floor.sendOnly(pick(requests.command, index).body ?? '{}'),
      check: () => true,
    },
    {
      name: 'floor: raw HTTP SendMessage (no SDK)',
      io: true,
      run: (index) => floor.rawSendMessage(pick(requests.command, index).body ?? '{}'),
      check: (status) => status === 200,
    },
    {
      name: 'part: JSON.parse + parseInteraction (command)',
      io: false,
      run: async (index) =>
        parseInteraction(JSON.parse(pick(requests.command, index).body ?? ''), {
          allowedRoleIds: [],
          now: Date.now(),
          applicationId,
        }).kind,
      check: (kind) => kind === 'enqueue',
    },
    {
      name: 'part: authenticateWebhook (standardwebhooks)',
      io: false,
      prepare: refreshReports,
      run: async (index) => {
        const event = pick(requests.report, index);
        return authenticateWebhook(credentials, {
          headers: {
            webhookId: event.headers['webhook-id'],
            webhookTimestamp: event.headers['webhook-timestamp'],
            webhookSignature: event.headers['webhook-signature'],
            authorization: undefined,
          },
          body: event.body ?? '',
        }).ok;
      },
      check: (ok) => ok === true,
    },
    {
      name: 'part: one JSON log line (console.log)',
      io: false,
      // The Discord ingress's "interaction job queued" line; stdout is /dev/null here, a pipe in Lambda.
      run: async (index) => {
        console.log(
          JSON.stringify({
            service: 'bugbot-discord-interactions',
            level: 'info',
            message: 'interaction job queued',
            kind: 'discord.command',
            idempotencyKey: String(1_300_000_000_000_000_000n + BigInt(index)),
          }),
        );
        return true;
      },
      check: (ok) => ok === true,
    },
    {
      name: 'part: one Powertools logger.info',
      io: false,
      // The webhook ingress's "bug report queued" line.
      run: async (index) => {
        powertools.info('bug report queued', {
          bugId: `bug_${index}`,
          mode: 'standard-webhooks',
          source: 'report',
        });
        return true;
      },
      check: (ok) => ok === true,
    },
    {
      name: 'part: parseBugReport (zod)',
      io: false,
      run: async (index) => parseBugReport(pick(requests.report, index).body ?? '').ok,
      check: (ok) => ok === true,
    },
  ];

  const timed = async (scenario: Scenario, index: number): Promise<number> => {
    const started = performance.now();
    const result = await scenario.run(index);
    const elapsed = performance.now() - started;
    if (!scenario.check(result)) {
      throw new Error(`${scenario.name}: unexpected answer ${JSON.stringify(result).slice(0, 300)}`);
    }
    return elapsed;
  };

  for (const scenario of scenarios) {
    scenario.prepare?.();
    const warmUp = scenario.io ? 300 : 1000;
    for (let index = 0; index < warmUp; index += 1) await timed(scenario, index);
  }
  const samples = new Map(
    scenarios.map((scenario) => [
      scenario,
      new Float64Array(scenario.io ? request.ioIterations : request.cpuIterations),
    ]),
  );
  for (let round = 0; round < request.rounds; round += 1) {
    for (const scenario of scenarios) {
      scenario.prepare?.();
      const into = samples.get(scenario) as Float64Array;
      const perRound = Math.ceil(into.length / request.rounds);
      const end = Math.min(into.length, (round + 1) * perRound);
      for (let index = round * perRound; index < end; index += 1) into[index] = await timed(scenario, index);
    }
  }
  return {
    scenarios: Object.fromEntries(
      scenarios.map((scenario) => [scenario.name, summarize(samples.get(scenario) ?? [])]),
    ),
  };
}

process.once('message', (request: IngressWorkerRequest) => {
  measure(request).then(
    (result) => process.send?.(result, () => process.exit(0)),
    (error: unknown) =>
      process.send?.({ error: error instanceof Error ? (error.stack ?? error.message) : String(error) }, () =>
        process.exit(1),
      ),
  );
});
