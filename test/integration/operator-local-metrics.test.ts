import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { JOBS_QUEUE } from '../../local/local-stack.js';
import { replyTo, type StackDriver, startStackDriver } from '../support/local-stack-driver.js';

/**
 * The local stack runs the Lambda handlers, so it prints what they print in Lambda: structured
 * JSON logs with correlation keys and CloudWatch EMF metric lines (namespace Bugbot, one
 * `service` per Lambda), on stdout. This reads them from the console while the stack works.
 */

type Line = Record<string, unknown> & {
  _aws?: {
    CloudWatchMetrics: {
      Namespace: string;
      Dimensions: string[][];
      Metrics: { Name: string; Unit: string }[];
    }[];
  };
};

const printed: string[] = [];
let driver: StackDriver;

beforeAll(async () => {
  // Powertools writes through its own Console on process.stdout; the Discord ingress uses console.log.
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    printed.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    return true;
  });
  vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => {
    printed.push(`${args.map(String).join(' ')}\n`);
  });
  driver = await startStackDriver({ POWERTOOLS_LOG_LEVEL: 'INFO', POWERTOOLS_METRICS_DISABLED: 'false' });
}, 60_000);
afterAll(async () => {
  await driver?.close();
  vi.restoreAllMocks();
});

function jsonLines(): Line[] {
  return printed
    .join('')
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .flatMap((line) => {
      try {
        return [JSON.parse(line) as Line];
      } catch {
        return [];
      }
    });
}

/** The EMF line recording `metric` with these dimension values, once it has been printed. */
async function waitForMetric(metric: string, dimensions: Record<string, string>): Promise<Line> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    const found = jsonLines().find(
      (line) =>
        line._aws?.CloudWatchMetrics.some((set) => set.Metrics.some((m) => m.Name === metric)) &&
        Object.entries(dimensions).every(([name, value]) => line[name] === value),
    );
    if (found) return found;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`no ${metric} ${JSON.stringify(dimensions)} printed`);
}

describe('the local stack’s console', () => {
  it('prints the ingress and processor metrics and JSON logs for a command, as the Lambdas would', async () => {
    const sent = await driver.sendCommand('dashboard');
    expect(sent.status).toBe(200);
    await driver.waitFor('the reply', (state) => replyTo(state, sent.interaction));

    const received = await waitForMetric('CommandsReceived', {
      service: 'bugbot-discord-interactions',
      command: 'dashboard',
    });
    expect(received._aws?.CloudWatchMetrics).toEqual([
      {
        Namespace: 'Bugbot',
        Dimensions: [['service', 'command']],
        Metrics: [{ Name: 'CommandsReceived', Unit: 'Count' }],
      },
    ]);
    expect(received.CommandsReceived).toBe(1);

    const processed = await waitForMetric('JobsProcessed', {
      service: 'bugbot-processor',
      kind: 'discord.command',
    });
    expect(processed._aws?.CloudWatchMetrics[0]?.Dimensions).toEqual([['service', 'kind']]);

    const interactionId = sent.interaction.id;
    const logs = jsonLines().filter((line) => !line._aws);
    expect(logs).toContainEqual(
      expect.objectContaining({
        service: 'bugbot-discord-interactions',
        level: 'INFO',
        message: 'interaction job queued',
        jobKind: 'discord.command',
        interactionId: sent.interaction.id,
      }),
    );
    // Powertools Logger, with the job's correlation keys.
    expect(logs).toContainEqual(
      expect.objectContaining({
        service: 'bugbot-processor',
        level: 'INFO',
        message: 'job done',
        jobKind: 'discord.command',
        interactionId,
      }),
    );
  });

  it('counts accepted bug reports, and a message that is not a job as a failure of kind `invalid`', async () => {
    const sent = await driver.sendReport({ description: 'The export button does nothing', user_id: 'u_ops' });
    expect(sent.status).toBe(202);
    const report = await waitForMetric('ReportsReceived', { service: 'bugbot-webhook-ingress' });
    expect(report._aws?.CloudWatchMetrics[0]).toMatchObject({
      Namespace: 'Bugbot',
      Dimensions: [['service']],
    });

    driver.stack.engine.sendMessage(JOBS_QUEUE, { body: 'this is not a job' });
    const failure = await waitForMetric('JobFailures', { service: 'bugbot-processor', kind: 'invalid' });
    expect(failure.JobFailures).toBe(1);
    await driver.waitFor('the junk in the DLQ', (state) => state.queues.dlq.visible >= 1);
  });
});
