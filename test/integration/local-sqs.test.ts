import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ChangeMessageVisibilityBatchCommand,
  ChangeMessageVisibilityCommand,
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ListMessageMoveTasksCommand,
  ListQueuesCommand,
  PurgeQueueCommand,
  QueueDoesNotExist,
  QueueNameExists,
  ReceiptHandleIsInvalid,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SetQueueAttributesCommand,
  SQSClient,
  StartMessageMoveTaskCommand,
} from '@aws-sdk/client-sqs';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LocalSqs } from '../../local/sqs/local-sqs.js';
import { type SqsServer, startSqsServer } from '../../local/sqs/sqs-server.js';

const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };

/** SQS's documented attribute digest, spelled out byte by byte for already-sorted attributes. */
function digestAttributes(
  attributes: Array<[name: string, dataType: string, transport: number, value: Buffer]>,
) {
  const lengthPrefixed = (bytes: Buffer) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(bytes.length);
    return [length, bytes];
  };
  const parts = attributes.flatMap(([name, dataType, transport, value]) => [
    ...lengthPrefixed(Buffer.from(name)),
    ...lengthPrefixed(Buffer.from(dataType)),
    Buffer.from([transport]),
    ...lengthPrefixed(value),
  ]);
  return createHash('md5').update(Buffer.concat(parts)).digest('hex');
}

describe('local SQS server with the real SQSClient', () => {
  let engine: LocalSqs;
  let server: SqsServer;
  let sqs: SQSClient;

  beforeEach(async () => {
    engine = new LocalSqs();
    server = await startSqsServer({ engine, port: 0, host: '127.0.0.1' });
    sqs = new SQSClient({ region: 'us-east-1', endpoint: server.url, credentials });
  });

  afterEach(async () => {
    sqs.destroy();
    await server.close();
    engine.close();
  });

  async function createQueue(name: string, attributes: Record<string, string> = {}): Promise<string> {
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
    return QueueUrl!;
  }

  async function queueCounts(queueUrl: string) {
    const { Attributes = {} } = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: queueUrl,
        AttributeNames: [
          'ApproximateNumberOfMessages',
          'ApproximateNumberOfMessagesNotVisible',
          'ApproximateNumberOfMessagesDelayed',
        ],
      }),
    );
    return {
      visible: Number(Attributes.ApproximateNumberOfMessages),
      inFlight: Number(Attributes.ApproximateNumberOfMessagesNotVisible),
      delayed: Number(Attributes.ApproximateNumberOfMessagesDelayed),
    };
  }

  it('creates, finds and lists queues at the documented URL and ARN', async () => {
    const queueUrl = await createQueue('jobs', { VisibilityTimeout: '45' });
    expect(queueUrl).toBe(`${server.url}/000000000000/jobs`);
    expect(server.queueUrl('jobs')).toBe(queueUrl);
    expect((await sqs.send(new GetQueueUrlCommand({ QueueName: 'jobs' }))).QueueUrl).toBe(queueUrl);
    expect((await sqs.send(new ListQueuesCommand({}))).QueueUrls).toEqual([queueUrl]);
    const { Attributes } = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['All'] }),
    );
    expect(Attributes).toMatchObject({
      QueueArn: 'arn:aws:sqs:us-east-1:000000000000:jobs',
      VisibilityTimeout: '45',
      ApproximateNumberOfMessages: '0',
    });
  });

  it('surfaces SQS errors as the SDK’s modelled exceptions', async () => {
    const missing = sqs.send(new GetQueueUrlCommand({ QueueName: 'missing' }));
    await expect(missing).rejects.toBeInstanceOf(QueueDoesNotExist);
    await expect(missing).rejects.toMatchObject({ $metadata: { httpStatusCode: 400 } });
    const queueUrl = await createQueue('jobs', { VisibilityTimeout: '30' });
    await expect(createQueue('jobs', { VisibilityTimeout: '10' })).rejects.toBeInstanceOf(QueueNameExists);
    await expect(
      sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: 'garbage' })),
    ).rejects.toBeInstanceOf(ReceiptHandleIsInvalid);
    await expect(
      sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 11 })),
    ).rejects.toMatchObject({ name: 'InvalidParameterValue' });
  });

  it('sends, receives and deletes with message attributes; the SDK accepts the MD5s', async () => {
    const queueUrl = await createQueue('jobs');
    const sent = await sqs.send(
      new SendMessageCommand({
        QueueUrl: queueUrl,
        MessageBody: '{"kind":"bug.report","text":"héllo 😀"}',
        MessageAttributes: {
          timestamp: { DataType: 'Number', StringValue: '1493147359900' },
        },
      }),
    );
    // The digest SQS itself returns for this attribute.
    expect(sent.MD5OfMessageAttributes).toBe('235c5c510d26fb653d073faed50ae77c');

    const withBinary = await sqs.send(
      new SendMessageCommand({
        QueueUrl: queueUrl,
        MessageBody: 'derp',
        MessageAttributes: {
          ccc: { DataType: 'String', StringValue: 'testjunk' },
          aaa: { DataType: 'Binary', BinaryValue: new Uint8Array([2, 3, 4]) },
          zzz: { DataType: 'Number', StringValue: '0230.01' },
          other_encodings: { DataType: 'String', StringValue: 'Tüst' },
        },
      }),
    );
    expect(withBinary.MD5OfMessageBody).toBe('58fd9edd83341c29f1aebba81c31e257');
    expect(withBinary.MD5OfMessageAttributes).toBe(
      digestAttributes([
        ['aaa', 'Binary', 2, Buffer.from([2, 3, 4])],
        ['ccc', 'String', 1, Buffer.from('testjunk')],
        ['other_encodings', 'String', 1, Buffer.from('Tüst')],
        ['zzz', 'Number', 1, Buffer.from('0230.01')],
      ]),
    );

    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        MessageSystemAttributeNames: ['All'],
        MessageAttributeNames: ['All'],
      }),
    );
    expect(Messages.map((message) => message.MessageId)).toEqual([sent.MessageId, withBinary.MessageId]);
    const [first, second] = Messages;
    expect(first?.Body).toBe('{"kind":"bug.report","text":"héllo 😀"}');
    expect(first?.MD5OfMessageAttributes).toBe(sent.MD5OfMessageAttributes);
    expect(first?.Attributes).toMatchObject({ ApproximateReceiveCount: '1', SenderId: expect.any(String) });
    expect(Number(first?.Attributes?.SentTimestamp)).toBeGreaterThan(Date.now() - 10_000);
    expect(second?.MessageAttributes?.aaa?.BinaryValue).toEqual(new Uint8Array([2, 3, 4]));
    expect(second?.MessageAttributes?.other_encodings?.StringValue).toBe('Tüst');

    for (const message of Messages) {
      await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle }));
    }
    expect(await queueCounts(queueUrl)).toEqual({ visible: 0, inFlight: 0, delayed: 0 });
  });

  it('runs batch sends, visibility changes and deletes, reporting per-entry failures', async () => {
    const queueUrl = await createQueue('jobs');
    const sent = await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: [
          { Id: 'a', MessageBody: 'one' },
          { Id: 'b', MessageBody: 'two', MessageAttributes: { k: { DataType: 'String', StringValue: 'v' } } },
          { Id: 'c', MessageBody: 'three', DelaySeconds: 60 },
          { Id: 'bad', MessageBody: 'nul \u0000 is not allowed' },
        ],
      }),
    );
    expect(sent.Successful?.map((entry) => entry.Id)).toEqual(['a', 'b', 'c']);
    expect(sent.Failed).toEqual([
      expect.objectContaining({ Id: 'bad', SenderFault: true, Code: 'InvalidMessageContents' }),
    ]);
    expect(await queueCounts(queueUrl)).toEqual({ visible: 2, inFlight: 0, delayed: 1 });

    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10 }),
    );
    expect(Messages.map((message) => message.Body)).toEqual(['one', 'two']);
    expect(await queueCounts(queueUrl)).toEqual({ visible: 0, inFlight: 2, delayed: 1 });

    const changed = await sqs.send(
      new ChangeMessageVisibilityBatchCommand({
        QueueUrl: queueUrl,
        Entries: [
          { Id: 'one', ReceiptHandle: Messages[0]!.ReceiptHandle, VisibilityTimeout: 0 },
          { Id: 'forged', ReceiptHandle: 'Zm9yZ2VkOmhhbmRsZQ==', VisibilityTimeout: 0 },
        ],
      }),
    );
    expect(changed.Successful).toEqual([{ Id: 'one' }]);
    expect(changed.Failed?.map((entry) => entry.Id)).toEqual(['forged']);
    expect(await queueCounts(queueUrl)).toEqual({ visible: 1, inFlight: 1, delayed: 1 });

    const deleted = await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: [{ Id: 'two', ReceiptHandle: Messages[1]!.ReceiptHandle }],
      }),
    );
    expect(deleted.Successful).toEqual([{ Id: 'two' }]);
    expect(await queueCounts(queueUrl)).toEqual({ visible: 1, inFlight: 0, delayed: 1 });
  });

  it('redelivers a message once its visibility timeout expires, counting receives', async () => {
    const queueUrl = await createQueue('jobs', { VisibilityTimeout: '1' });
    await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'again' }));
    const receive = () =>
      sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: queueUrl,
          MessageSystemAttributeNames: ['ApproximateReceiveCount'],
          WaitTimeSeconds: 20,
        }),
      );
    const first = await receive();
    expect(first.Messages?.[0]?.Attributes?.ApproximateReceiveCount).toBe('1');
    const started = Date.now();
    // The long poll returns as the message becomes visible again (after ~1 s), not at the end of
    // the 20 s wait; the upper bound leaves a busy machine plenty of room between the two.
    const second = await receive();
    expect(Date.now() - started).toBeGreaterThanOrEqual(800);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(second.Messages?.[0]?.MessageId).toBe(first.Messages?.[0]?.MessageId);
    expect(second.Messages?.[0]?.ReceiptHandle).not.toBe(first.Messages?.[0]?.ReceiptHandle);
    expect(second.Messages?.[0]?.Attributes?.ApproximateReceiveCount).toBe('2');
    await expect(
      sqs.send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: queueUrl,
          ReceiptHandle: first.Messages![0]!.ReceiptHandle,
          VisibilityTimeout: 5,
        }),
      ),
    ).rejects.toMatchObject({ name: 'InvalidParameterValue' });
  });

  it('moves a message to the DLQ after 3 receives with maxReceiveCount 3, and redrives it back', async () => {
    const dlqUrl = await createQueue('jobs-dlq');
    const dlqArn = 'arn:aws:sqs:us-east-1:000000000000:jobs-dlq';
    const queueUrl = await createQueue('jobs', {
      RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: 3 }),
    });
    await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'poison' }));
    const receive = (url: string) =>
      sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: url,
          VisibilityTimeout: 0,
          MessageSystemAttributeNames: ['All'],
        }),
      );
    for (let attempt = 1; attempt <= 3; attempt += 1) {
      const { Messages } = await receive(queueUrl);
      expect(Messages?.[0]?.Attributes?.ApproximateReceiveCount).toBe(String(attempt));
    }
    expect((await receive(queueUrl)).Messages).toBeUndefined();
    expect(await queueCounts(queueUrl)).toEqual({ visible: 0, inFlight: 0, delayed: 0 });
    expect(await queueCounts(dlqUrl)).toEqual({ visible: 1, inFlight: 0, delayed: 0 });
    const { Messages: dead } = await receive(dlqUrl);
    expect(dead?.[0]?.Body).toBe('poison');
    expect(dead?.[0]?.Attributes?.DeadLetterQueueSourceArn).toBe('arn:aws:sqs:us-east-1:000000000000:jobs');

    const { TaskHandle } = await sqs.send(new StartMessageMoveTaskCommand({ SourceArn: dlqArn }));
    expect(TaskHandle).toEqual(expect.any(String));
    const { Results } = await sqs.send(new ListMessageMoveTasksCommand({ SourceArn: dlqArn }));
    expect(Results).toEqual([
      expect.objectContaining({
        Status: 'COMPLETED',
        SourceArn: dlqArn,
        ApproximateNumberOfMessagesMoved: 1,
      }),
    ]);
    expect(await queueCounts(dlqUrl)).toEqual({ visible: 0, inFlight: 0, delayed: 0 });
    const { Messages: back } = await receive(queueUrl);
    expect(back?.[0]?.Body).toBe('poison');
    expect(back?.[0]?.Attributes?.ApproximateReceiveCount).toBe('1');
  });

  /** Resolves once the server has taken the receive and is holding it (the queue is empty). */
  async function waitForPendingReceive(): Promise<void> {
    const receives = vi.spyOn(engine, 'receiveMessages');
    await vi.waitFor(() => expect(receives).toHaveBeenCalled(), { timeout: 20_000, interval: 20 });
  }

  it('wakes a long poll as soon as a message is sent', async () => {
    const queueUrl = await createQueue('jobs');
    const polling = sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, WaitTimeSeconds: 20 }));
    await waitForPendingReceive();
    const sent = Date.now();
    await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'wake up' }));
    const { Messages } = await polling;
    expect(Messages?.[0]?.Body).toBe('wake up');
    // Well before the 20 s the poll would otherwise hold, with room for a busy machine.
    expect(Date.now() - sent).toBeLessThan(10_000);
  });

  it('ends a pending long poll when the server closes', async () => {
    const queueUrl = await createQueue('jobs');
    const polling = sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, WaitTimeSeconds: 20 }));
    await waitForPendingReceive();
    const started = Date.now();
    await server.close();
    expect((await polling).Messages).toBeUndefined();
    expect(Date.now() - started).toBeLessThan(10_000);
    server = await startSqsServer({ engine, port: 0 });
  });

  it('purges a queue and changes its attributes', async () => {
    const queueUrl = await createQueue('jobs');
    await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: [
          { Id: '1', MessageBody: 'a' },
          { Id: '2', MessageBody: 'b' },
        ],
      }),
    );
    await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl }));
    expect(await queueCounts(queueUrl)).toEqual({ visible: 1, inFlight: 1, delayed: 0 });
    await sqs.send(new PurgeQueueCommand({ QueueUrl: queueUrl }));
    expect(await queueCounts(queueUrl)).toEqual({ visible: 0, inFlight: 0, delayed: 0 });

    await sqs.send(new SetQueueAttributesCommand({ QueueUrl: queueUrl, Attributes: { DelaySeconds: '5' } }));
    await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'later' }));
    expect(await queueCounts(queueUrl)).toEqual({ visible: 0, inFlight: 0, delayed: 1 });
    expect(engine.counts('jobs')).toEqual({ visible: 0, inFlight: 0, delayed: 1 });
  });

  it('honours AWS_ENDPOINT_URL_SQS when the client sets no endpoint', async () => {
    const previous = process.env.AWS_ENDPOINT_URL_SQS;
    process.env.AWS_ENDPOINT_URL_SQS = server.url;
    const fromEnvironment = new SQSClient({ region: 'us-east-1', credentials });
    try {
      const { QueueUrl } = await fromEnvironment.send(new CreateQueueCommand({ QueueName: 'from-env' }));
      expect(QueueUrl).toBe(server.queueUrl('from-env'));
      expect(engine.listQueues()).toEqual(['from-env']);
    } finally {
      fromEnvironment.destroy();
      if (previous === undefined) delete process.env.AWS_ENDPOINT_URL_SQS;
      else process.env.AWS_ENDPOINT_URL_SQS = previous;
    }
  });

  describe('persistence', () => {
    let directory: string;

    beforeEach(async () => {
      directory = await mkdtemp(join(tmpdir(), 'local-sqs-it-'));
    });

    afterEach(async () => {
      await rm(directory, { recursive: true, force: true });
    });

    it('keeps queued jobs across a restart', async () => {
      const persistPath = join(directory, 'sqs.json');
      const first = new LocalSqs({ persistPath });
      const firstServer = await startSqsServer({ engine: first });
      const firstClient = new SQSClient({ region: 'us-east-1', endpoint: firstServer.url, credentials });
      const { QueueUrl } = await firstClient.send(new CreateQueueCommand({ QueueName: 'jobs' }));
      await firstClient.send(
        new SendMessageCommand({
          QueueUrl,
          MessageBody: 'survives',
          MessageAttributes: { kind: { DataType: 'String', StringValue: 'bug.report' } },
        }),
      );
      firstClient.destroy();
      await firstServer.close();
      await first.snapshot();

      const second = new LocalSqs({ persistPath });
      expect(await second.restore()).toBe(true);
      const secondServer = await startSqsServer({ engine: second });
      const secondClient = new SQSClient({ region: 'us-east-1', endpoint: secondServer.url, credentials });
      try {
        const { Messages } = await secondClient.send(
          new ReceiveMessageCommand({
            QueueUrl: secondServer.queueUrl('jobs'),
            MessageAttributeNames: ['All'],
          }),
        );
        expect(Messages?.[0]?.Body).toBe('survives');
        expect(Messages?.[0]?.MessageAttributes?.kind?.StringValue).toBe('bug.report');
      } finally {
        secondClient.destroy();
        await secondServer.close();
      }
    });
  });
});
