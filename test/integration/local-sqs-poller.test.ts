import { createHash } from 'node:crypto';
import {
  CreateQueueCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  engineQueue,
  LambdaPoller,
  type PollableQueue,
  type SqsLambdaHandler,
  sqsClientQueue,
} from '../../local/sqs/lambda-poller.js';
import { LocalSqs } from '../../local/sqs/local-sqs.js';
import { type SqsServer, startSqsServer } from '../../local/sqs/sqs-server.js';

const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
const DLQ_ARN = 'arn:aws:sqs:us-east-1:000000000000:jobs-dlq';

async function waitFor(condition: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('LambdaPoller (SQS event source mapping) against the local SQS', () => {
  let engine: LocalSqs;
  let server: SqsServer;
  let sqs: SQSClient;
  let queueUrl: string;
  const pollers: LambdaPoller[] = [];

  beforeEach(async () => {
    errors = [];
    engine = new LocalSqs();
    server = await startSqsServer({ engine });
    sqs = new SQSClient({ region: 'us-east-1', endpoint: server.url, credentials });
    await sqs.send(new CreateQueueCommand({ QueueName: 'jobs-dlq' }));
    const created = await sqs.send(
      new CreateQueueCommand({
        QueueName: 'jobs',
        Attributes: {
          VisibilityTimeout: '30',
          RedrivePolicy: JSON.stringify({ deadLetterTargetArn: DLQ_ARN, maxReceiveCount: 3 }),
        },
      }),
    );
    queueUrl = created.QueueUrl!;
  });

  afterEach(async () => {
    await Promise.all(pollers.splice(0).map((poller) => poller.stop()));
    sqs.destroy();
    await server.close();
    engine.close();
  });

  let errors: unknown[];

  function createPoller(
    queue: PollableQueue,
    handler: SqsLambdaHandler,
    extra: { retryDelayMs?: () => number } = {},
  ) {
    const poller = new LambdaPoller({
      queue,
      handler,
      waitTimeSeconds: 1,
      onError: (error) => errors.push(error),
      ...extra,
    });
    pollers.push(poller);
    return poller;
  }

  async function sendBodies(...bodies: string[]) {
    await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: bodies.map((body, index) => ({ Id: `m${index}`, MessageBody: body })),
      }),
    );
  }

  it('invokes the handler with a real-shaped SQSEvent and deletes what succeeded', async () => {
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: queueUrl,
        MessageBody: '{"kind":"bug.report"}',
        MessageAttributes: { kind: { DataType: 'String', StringValue: 'bug.report' } },
      }),
    );
    const events: SQSEvent[] = [];
    const poller = createPoller(await sqsClientQueue(sqs, queueUrl), async (event, context) => {
      events.push(event);
      expect(context.getRemainingTimeInMillis()).toBeGreaterThan(0);
      return { batchItemFailures: [] };
    });
    const summary = await poller.pollOnce();
    expect(summary).toMatchObject({ received: 1, failed: [] });
    expect(events[0]?.Records).toEqual([
      {
        messageId: expect.any(String),
        receiptHandle: expect.any(String),
        body: '{"kind":"bug.report"}',
        attributes: {
          ApproximateReceiveCount: '1',
          SentTimestamp: expect.stringMatching(/^\d+$/),
          SenderId: expect.any(String),
          ApproximateFirstReceiveTimestamp: expect.stringMatching(/^\d+$/),
        },
        messageAttributes: {
          kind: { stringValue: 'bug.report', stringListValues: [], binaryListValues: [], dataType: 'String' },
        },
        md5OfBody: createHash('md5').update('{"kind":"bug.report"}').digest('hex'),
        md5OfMessageAttributes: expect.stringMatching(/^[0-9a-f]{32}$/),
        eventSource: 'aws:sqs',
        eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:jobs',
        awsRegion: 'us-east-1',
      },
    ]);
    expect(engine.counts('jobs')).toEqual({ visible: 0, inFlight: 0, delayed: 0 });
  });

  it('honours partial batch failures: only the failed record comes back', async () => {
    await sendBodies('a', 'b', 'c');
    const seen: string[][] = [];
    const handler: SqsLambdaHandler = async (event): Promise<SQSBatchResponse> => {
      seen.push(event.Records.map((record) => `${record.body}#${record.attributes.ApproximateReceiveCount}`));
      return {
        batchItemFailures: event.Records.filter((record) => record.body === 'b').map((record) => ({
          itemIdentifier: record.messageId,
        })),
      };
    };
    const poller = createPoller(engineQueue(engine, 'jobs'), handler, { retryDelayMs: () => 0 });
    const first = await poller.pollOnce();
    expect(first?.succeeded).toHaveLength(2);
    expect(first?.failed).toHaveLength(1);
    const second = await poller.pollOnce();
    expect(seen).toEqual([['a#1', 'b#1', 'c#1'], ['b#2']]);
    expect(second?.failed).toHaveLength(1);
    expect(engine.counts('jobs')).toEqual({ visible: 1, inFlight: 0, delayed: 0 });
  });

  it('leaves failed records in flight until their visibility timeout without a retry delay', async () => {
    await sendBodies('a', 'b');
    const poller = createPoller(engineQueue(engine, 'jobs'), async (event) => ({
      batchItemFailures: [{ itemIdentifier: event.Records[0]!.messageId }],
    }));
    await poller.pollOnce();
    expect(engine.counts('jobs')).toEqual({ visible: 0, inFlight: 1, delayed: 0 });
    expect(await poller.pollOnce({ waitTimeSeconds: 0 })).toBeUndefined();
  });

  it('returns the whole batch when the handler throws, and fails all on an unknown itemIdentifier', async () => {
    await sendBodies('x', 'y');
    let calls = 0;
    const poller = createPoller(
      await sqsClientQueue(sqs, queueUrl),
      async (event) => {
        calls += 1;
        if (calls === 1) throw new Error('downstream is down');
        if (calls === 2) return { batchItemFailures: [{ itemIdentifier: 'not-in-this-batch' }] };
        expect(event.Records.map((record) => record.attributes.ApproximateReceiveCount)).toEqual(['3', '3']);
        return undefined;
      },
      { retryDelayMs: () => 0 },
    );
    const first = await poller.pollOnce();
    expect(first).toMatchObject({ received: 2, succeeded: [] });
    expect(first?.invocationError).toBeInstanceOf(Error);
    const second = await poller.pollOnce();
    expect(second).toMatchObject({ received: 2, succeeded: [] });
    const third = await poller.pollOnce();
    expect(third).toMatchObject({ received: 2, failed: [] });
    expect(engine.counts('jobs')).toEqual({ visible: 0, inFlight: 0, delayed: 0 });
    expect(errors.map((error) => (error as Error).name)).toEqual(['Error', 'InvalidBatchResponseError']);
  });

  it('dead-letters a record that always fails after 3 receives', async () => {
    await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'poison' }));
    const counts: string[] = [];
    const poller = createPoller(
      await sqsClientQueue(sqs, queueUrl),
      async (event) => {
        counts.push(...event.Records.map((record) => record.attributes.ApproximateReceiveCount));
        return { batchItemFailures: event.Records.map((record) => ({ itemIdentifier: record.messageId })) };
      },
      { retryDelayMs: () => 0 },
    );
    poller.start();
    await waitFor(() => engine.counts('jobs-dlq').visible === 1);
    await poller.stop();
    expect(counts).toEqual(['1', '2', '3']);
    expect(errors).toEqual([]);
    expect(engine.counts('jobs')).toEqual({ visible: 0, inFlight: 0, delayed: 0 });
    expect(engine.peekMessages('jobs-dlq')).toMatchObject([{ body: 'poison', receiveCount: 3 }]);
  });

  it('spaces retries with retryDelayMs through ChangeMessageVisibility', async () => {
    await sendBodies('slow retry');
    const poller = createPoller(
      engineQueue(engine, 'jobs'),
      async (event) => ({
        batchItemFailures: event.Records.map((record) => ({ itemIdentifier: record.messageId })),
      }),
      { retryDelayMs: () => 1_000 },
    );
    await poller.pollOnce();
    const started = Date.now();
    // Received as the retry delay (1 s) ends, not at the end of the 20 s wait.
    const again = await poller.pollOnce({ waitTimeSeconds: 20 });
    expect(again?.received).toBe(1);
    expect(Date.now() - started).toBeGreaterThanOrEqual(800);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('gathers records within the batching window and drains on stop', async () => {
    const batches: number[] = [];
    let release: (() => void) | undefined;
    const poller = new LambdaPoller({
      queue: engineQueue(engine, 'jobs'),
      batchSize: 25,
      // Long enough that the second send lands inside it on a busy machine; it then ends the
      // gathering (20 < 25) and the batch goes out.
      maximumBatchingWindowMs: 5_000,
      waitTimeSeconds: 5,
      handler: async (event) => {
        batches.push(event.Records.length);
        await new Promise<void>((resolve) => {
          release = resolve;
        });
      },
    });
    pollers.push(poller);
    poller.start();
    await sendBodies(...Array.from({ length: 10 }, (_, index) => `first-${index}`));
    // The poller holds the first ten and is gathering more.
    await waitFor(() => engine.counts('jobs').inFlight === 10);
    expect(batches).toEqual([]);
    await sendBodies(...Array.from({ length: 10 }, (_, index) => `second-${index}`));
    await waitFor(() => release !== undefined);
    expect(batches).toEqual([20]);

    const stopping = poller.stop();
    let stopped = false;
    void stopping.then(() => {
      stopped = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(stopped).toBe(false);
    release?.();
    await stopping;
    expect(poller.running).toBe(false);
    expect(engine.counts('jobs')).toEqual({ visible: 0, inFlight: 0, delayed: 0 });
  });
});
