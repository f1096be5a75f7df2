import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

// The Discord handler module is a composition root: importing it loads its configuration.
vi.hoisted(() => {
  process.env.DISCORD_PUBLIC_KEY = '11'.repeat(32);
  process.env.DISCORD_APPLICATION_ID = '1180000000000000001';
  process.env.JOBS_QUEUE_URL = 'https://sqs.eu-west-1.amazonaws.com/123456789012/bugbot-jobs';
});

import { createBugReportWebhookHandler } from '../../lambdas/bug-report-webhook/handler.js';
import { createDiscordInteractionsHandler } from '../../lambdas/discord-interactions/handler.js';
import { PowertoolsBusinessMetrics } from '../../shared/adapters/aws-cloudwatch/powertools-business-metrics.js';
import { createDiscordVerifier } from '../../shared/discord/verify-signature.js';
import {
  BUSINESS_METRIC_NAMES,
  BUSINESS_METRICS,
  type BusinessMetricDimensions,
  type BusinessMetricName,
  METRICS_NAMESPACE,
  SERVICE_NAMES,
} from '../../shared/observability/business-metric-catalog.js';
import { createServiceMetrics } from '../../shared/observability/metrics.js';
import type { BusinessMetrics } from '../../shared/ports/business-metrics.js';
import { prepareWebhookCredentials } from '../../shared/webhooks/authenticate-webhook.js';
import { makeBugReport, makeSignedWebhookEvent, makeWebhookSecret } from '../factories/bug-reports.js';
import {
  APPLICATION_ID,
  buildButtonClick,
  buildMessageCommand,
  buildPing,
  buildSignedEvent,
  buildSlashCommand,
  createDiscordTestKeys,
  FIXER_ROLE_ID,
} from '../factories/discord-interactions.js';

type EmfLine = {
  _aws: {
    Timestamp: number;
    CloudWatchMetrics: {
      Namespace: string;
      Dimensions: string[][];
      Metrics: { Name: string; Unit: string }[];
    }[];
  };
} & Record<string, unknown>;

let written: string[];

beforeEach(() => {
  written = [];
  // Powertools writes EMF through its own Console on process.stdout; POWERTOOLS_DEV would mute it.
  vi.stubEnv('POWERTOOLS_DEV', 'false');
  vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'false');
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    written.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    return true;
  });
});
afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
});

function emfLines(): EmfLine[] {
  return written
    .join('')
    .split('\n')
    .filter((line) => line.includes('"_aws"'))
    .map((line) => JSON.parse(line) as EmfLine);
}

class RecordingMetrics implements BusinessMetrics {
  readonly recorded: { name: string; value: number; dimensions?: Record<string, string> }[] = [];
  record<N extends BusinessMetricName>(name: N, value: number, ...rest: BusinessMetricDimensions<N>): void {
    const dimensions = rest[0] as Record<string, string> | undefined;
    this.recorded.push({ name, value, ...(dimensions && { dimensions }) });
  }
}

describe('the business metric catalogue', () => {
  it('names every metric the dashboard and the flows rely on, each with a unit and an emitting service', () => {
    expect(BUSINESS_METRIC_NAMES.sort()).toEqual(
      [
        'BugsRegressed',
        'BugsResolved',
        'CommandsReceived',
        'DuplicatesFound',
        'FixCostUsd',
        'FixDuration',
        'FixesFailed',
        'FixesPushed',
        'FixesRejected',
        'FixesRequested',
        'JobFailures',
        'JobsProcessed',
        'ReportsReceived',
        'StatusEventsDelivered',
        'TriageLatency',
      ].sort(),
    );
    expect(BUSINESS_METRICS.CommandsReceived).toMatchObject({ dimension: 'command' });
    expect(BUSINESS_METRICS.JobFailures).toMatchObject({ dimension: 'kind' });
    expect(BUSINESS_METRICS.JobsProcessed).toMatchObject({ dimension: 'kind' });
    expect(BUSINESS_METRICS.TriageLatency.unit).toBe('Milliseconds');
    for (const name of BUSINESS_METRIC_NAMES) {
      expect(Object.values(SERVICE_NAMES), name).toContain(BUSINESS_METRICS[name].service);
    }
  });

  it('refuses, at compile time, a missing or an unexpected dimension', () => {
    const metrics = new RecordingMetrics();
    // @ts-expect-error JobsProcessed needs its `kind`
    metrics.record('JobsProcessed', 1);
    // @ts-expect-error ReportsReceived has no dimension
    metrics.record('ReportsReceived', 1, { kind: 'bug.report' });
    // @ts-expect-error not a bugbot metric
    metrics.record('Whatever', 1);
    metrics.record('JobsProcessed', 1, { kind: 'bug.report' });
    expect(metrics.recorded).toHaveLength(4);
  });
});

describe('PowertoolsBusinessMetrics (EMF on stdout)', () => {
  it('buffers a metric without a dimension until the invocation flushes, under namespace Bugbot and its service', () => {
    const metrics = new PowertoolsBusinessMetrics(createServiceMetrics(SERVICE_NAMES.processor));
    metrics.record('DuplicatesFound', 1);
    metrics.record('TriageLatency', 1234);
    metrics.record('FixCostUsd', 0.42);
    expect(emfLines()).toEqual([]);

    metrics.flush();
    const [line, ...rest] = emfLines();
    expect(rest).toEqual([]);
    expect(line?._aws.CloudWatchMetrics).toEqual([
      {
        Namespace: METRICS_NAMESPACE,
        Dimensions: [['service']],
        Metrics: [
          { Name: 'DuplicatesFound', Unit: 'Count' },
          { Name: 'TriageLatency', Unit: 'Milliseconds' },
          { Name: 'FixCostUsd', Unit: 'None' },
        ],
      },
    ]);
    expect(line).toMatchObject({
      service: 'bugbot-processor',
      DuplicatesFound: 1,
      TriageLatency: 1234,
      FixCostUsd: 0.42,
    });
    expect(line?._aws.Timestamp).toBeGreaterThan(Date.now() - 60_000);
  });

  it('writes a dimensioned metric at once, one line per dimension value, so a batch may mix job kinds', () => {
    const metrics = new PowertoolsBusinessMetrics(createServiceMetrics(SERVICE_NAMES.processor));
    metrics.record('JobsProcessed', 1, { kind: 'bug.report' });
    metrics.record('JobFailures', 1, { kind: 'discord.command' });
    const lines = emfLines();
    expect(lines).toHaveLength(2);
    expect(lines[0]?._aws.CloudWatchMetrics[0]).toEqual({
      Namespace: 'Bugbot',
      Dimensions: [['service', 'kind']],
      Metrics: [{ Name: 'JobsProcessed', Unit: 'Count' }],
    });
    expect(lines[0]).toMatchObject({ service: 'bugbot-processor', kind: 'bug.report', JobsProcessed: 1 });
    expect(lines[1]).toMatchObject({ kind: 'discord.command', JobFailures: 1 });

    metrics.flush();
    expect(emfLines()).toHaveLength(2);
  });

  it('keeps each dimension value apart when values repeat, and leaves the buffered metrics undimensioned', () => {
    const metrics = new PowertoolsBusinessMetrics(createServiceMetrics(SERVICE_NAMES.processor));
    for (const kind of ['bug.report', 'fix.result', 'bug.report'])
      metrics.record('JobsProcessed', 1, { kind });
    metrics.record('FixesPushed', 1);
    metrics.flush();
    const lines = emfLines();
    expect(lines.map((line) => [line.kind, line.JobsProcessed ?? line.FixesPushed])).toEqual([
      ['bug.report', 1],
      ['fix.result', 1],
      ['bug.report', 1],
      [undefined, 1],
    ]);
    expect(lines.map((line) => line._aws.CloudWatchMetrics[0]?.Dimensions)).toEqual([
      [['service', 'kind']],
      [['service', 'kind']],
      [['service', 'kind']],
      [['service']],
    ]);
  });

  it('never throws: a value that is not a finite number or a missing dimension is reported and dropped', () => {
    const errors: string[] = [];
    const metrics = new PowertoolsBusinessMetrics(createServiceMetrics(SERVICE_NAMES.processor), {
      onError: (error, name) => errors.push(`${name}: ${(error as Error).message}`),
    });
    expect(() => metrics.record('FixCostUsd', Number.NaN)).not.toThrow();
    expect(() =>
      metrics.record('JobsProcessed', 1, {} as unknown as Readonly<Record<'kind', string>>),
    ).not.toThrow();
    metrics.flush();
    expect(emfLines()).toEqual([]);
    expect(errors).toEqual([
      'FixCostUsd: FixCostUsd: NaN is not a finite number',
      'JobsProcessed: JobsProcessed: dimension kind is missing',
    ]);
  });

  it('prints nothing, not even a warning, when an invocation recorded nothing', () => {
    const warn = vi.spyOn(console, 'warn');
    new PowertoolsBusinessMetrics(createServiceMetrics(SERVICE_NAMES.webhookIngress)).flush();
    expect(written).toEqual([]);
    expect(warn).not.toHaveBeenCalled();
  });
});

describe('ingress instrumentation', () => {
  const keys = createDiscordTestKeys(5);

  function discordHarness() {
    const metrics = new RecordingMetrics();
    const handle = createDiscordInteractionsHandler({
      verifier: createDiscordVerifier(keys.publicKeyHex),
      queue: { send: async () => undefined },
      allowedRoleIds: [FIXER_ROLE_ID],
      clock: Date.now,
      applicationId: APPLICATION_ID,
      log: () => undefined,
      metrics,
    });
    return { metrics, send: (payload: unknown) => handle(buildSignedEvent(payload, { keys })) };
  }

  it('counts each queued Discord command by name, and buttons as `button:<action>`', async () => {
    const { metrics, send } = discordHarness();
    await send(buildSlashCommand('status'));
    await send(buildMessageCommand('Draft fix', undefined, { roles: [FIXER_ROLE_ID] }));
    await send(buildButtonClick('bug:details:bug_123', { roles: [FIXER_ROLE_ID] }));
    expect(metrics.recorded).toEqual([
      { name: 'CommandsReceived', value: 1, dimensions: { command: 'status' } },
      { name: 'CommandsReceived', value: 1, dimensions: { command: 'fix' } },
      { name: 'CommandsReceived', value: 1, dimensions: { command: 'button:details' } },
    ]);
  });

  it('counts nothing for a PING or a refused command (nothing was queued)', async () => {
    const { metrics, send } = discordHarness();
    await send(buildPing());
    const refused = await send(buildSlashCommand('fix', {}, { roles: [] }));
    expect(JSON.parse(refused.body)).toMatchObject({ type: 4 });
    expect(metrics.recorded).toEqual([]);
  });

  it('counts an accepted bug report once, and a refused one not at all', async () => {
    const secret = makeWebhookSecret();
    const metrics = new RecordingMetrics();
    const credentials = prepareWebhookCredentials({ webhookSecret: secret });
    const handle = createBugReportWebhookHandler({
      jobQueue: { send: async () => undefined },
      credentials: () => Promise.resolve(credentials),
      logger: { info: () => undefined, warn: () => undefined, error: () => undefined },
      metrics,
    });
    const accepted = await handle(makeSignedWebhookEvent({ secret, body: makeBugReport() }).event);
    expect(accepted.statusCode).toBe(202);
    const refused = await handle(
      makeSignedWebhookEvent({ secret: makeWebhookSecret(), body: makeBugReport() }).event,
    );
    expect(refused.statusCode).toBe(401);
    expect(metrics.recorded).toEqual([{ name: 'ReportsReceived', value: 1 }]);
  });
});
