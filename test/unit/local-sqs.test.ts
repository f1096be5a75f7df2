import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqsError } from '../../local/sqs/errors.js';
import { LocalSqs } from '../../local/sqs/local-sqs.js';
import { md5Hex, md5OfMessageAttributes } from '../../local/sqs/md5.js';

function createEngine(start = 1_700_000_000_000) {
  let now = start;
  const engine = new LocalSqs({ clock: () => now });
  return {
    engine,
    advance: (ms: number) => {
      now += ms;
    },
    now: () => now,
  };
}

async function receiveOne(engine: LocalSqs, queue: string, visibilityTimeout?: number) {
  const messages = await engine.receiveMessages(queue, {
    attributeNames: ['All'],
    messageAttributeNames: ['All'],
    ...(visibilityTimeout !== undefined && { visibilityTimeout }),
  });
  return messages[0];
}

describe('md5OfMessageAttributes', () => {
  // Digests that SQS itself returned for these attributes (pinned by moto's SQS test suite).
  it('matches SQS for a single Number attribute', () => {
    expect(md5OfMessageAttributes({ timestamp: { dataType: 'Number', stringValue: '1493147359900' } })).toBe(
      '235c5c510d26fb653d073faed50ae77c',
    );
    expect(md5OfMessageAttributes({ timestamp: { dataType: 'Number', stringValue: '1493147359901' } })).toBe(
      '994258b45346a2cc3f9cbb611aa7af30',
    );
  });

  it('matches SQS for String, Binary, Number and non-ASCII names, in any input order', () => {
    expect(
      md5OfMessageAttributes({
        ccc: { dataType: 'String', stringValue: 'testjunk' },
        aaa: { dataType: 'Binary', binaryValue: Buffer.from([2, 3, 4]).toString('base64') },
        zzz: { dataType: 'Number', stringValue: '0230.01' },
        öther_encodings: { dataType: 'String', stringValue: 'T\u00fcst' },
      }),
    ).toBe('8ae21a7957029ef04146b42aeaa18a22');
  });

  it('is undefined without attributes, and the body digest is plain MD5', () => {
    expect(md5OfMessageAttributes({})).toBeUndefined();
    expect(md5Hex('derp')).toBe('58fd9edd83341c29f1aebba81c31e257');
  });
});

describe('LocalSqs', () => {
  let sqs: ReturnType<typeof createEngine>;

  beforeEach(() => {
    sqs = createEngine();
  });

  it('hides a received message for the visibility timeout, then redelivers it with a new handle', async () => {
    sqs.engine.createQueue('jobs', { VisibilityTimeout: '30' });
    sqs.engine.sendMessage('jobs', { body: 'hello' });

    const first = await receiveOne(sqs.engine, 'jobs');
    expect(first?.body).toBe('hello');
    expect(first?.attributes.ApproximateReceiveCount).toBe('1');
    expect(sqs.engine.counts('jobs')).toEqual({ visible: 0, inFlight: 1, delayed: 0 });
    expect(await receiveOne(sqs.engine, 'jobs')).toBeUndefined();

    sqs.advance(29_999);
    expect(await receiveOne(sqs.engine, 'jobs')).toBeUndefined();
    sqs.advance(1);
    const second = await receiveOne(sqs.engine, 'jobs');
    expect(second?.messageId).toBe(first?.messageId);
    expect(second?.receiptHandle).not.toBe(first?.receiptHandle);
    expect(second?.attributes.ApproximateReceiveCount).toBe('2');
    expect(second?.attributes.ApproximateFirstReceiveTimestamp).toBe(
      first?.attributes.ApproximateFirstReceiveTimestamp,
    );
  });

  it('honours a per-receive visibility timeout and ChangeMessageVisibility', async () => {
    sqs.engine.createQueue('jobs');
    sqs.engine.sendMessage('jobs', { body: 'x' });
    const received = await receiveOne(sqs.engine, 'jobs', 5);
    sqs.advance(5_000);
    const again = await receiveOne(sqs.engine, 'jobs');
    expect(again?.attributes.ApproximateReceiveCount).toBe('2');

    sqs.engine.changeMessageVisibility('jobs', again!.receiptHandle, 0);
    expect(sqs.engine.counts('jobs').visible).toBe(1);
    expect(() => sqs.engine.changeMessageVisibility('jobs', received!.receiptHandle, 10)).toThrow(
      /not available for visibility timeout change/,
    );
  });

  it('deletes only with the latest receipt handle', async () => {
    sqs.engine.createQueue('jobs', { VisibilityTimeout: '1' });
    sqs.engine.sendMessage('jobs', { body: 'x' });
    const first = await receiveOne(sqs.engine, 'jobs');
    sqs.advance(1_000);
    const second = await receiveOne(sqs.engine, 'jobs');

    sqs.engine.deleteMessage('jobs', first!.receiptHandle);
    expect(sqs.engine.counts('jobs').inFlight).toBe(1);
    sqs.engine.deleteMessage('jobs', second!.receiptHandle);
    expect(sqs.engine.counts('jobs')).toEqual({ visible: 0, inFlight: 0, delayed: 0 });
    expect(() => sqs.engine.deleteMessage('jobs', 'not-a-handle')).toThrow(SqsError);
  });

  it('delays messages per queue and per message', async () => {
    sqs.engine.createQueue('jobs', { DelaySeconds: '10' });
    sqs.engine.sendMessage('jobs', { body: 'queue delay' });
    sqs.engine.sendMessage('jobs', { body: 'no delay', delaySeconds: 0 });
    expect(sqs.engine.counts('jobs')).toEqual({ visible: 1, inFlight: 0, delayed: 1 });
    expect((await receiveOne(sqs.engine, 'jobs'))?.body).toBe('no delay');
    sqs.advance(10_000);
    expect((await receiveOne(sqs.engine, 'jobs'))?.body).toBe('queue delay');
  });

  it('drops messages older than the retention period', () => {
    sqs.engine.createQueue('jobs', { MessageRetentionPeriod: '60' });
    sqs.engine.sendMessage('jobs', { body: 'old' });
    sqs.advance(30_000);
    sqs.engine.sendMessage('jobs', { body: 'new' });
    sqs.advance(30_000);
    expect(sqs.engine.peekMessages('jobs').map((message) => message.body)).toEqual(['new']);
  });

  it('moves a message to the DLQ when it would be received a (maxReceiveCount + 1)th time', async () => {
    sqs.engine.createQueue('jobs-dlq');
    sqs.engine.createQueue('jobs', {
      VisibilityTimeout: '10',
      RedrivePolicy: JSON.stringify({
        deadLetterTargetArn: sqs.engine.queueArn('jobs-dlq'),
        maxReceiveCount: '3',
      }),
    });
    sqs.engine.sendMessage('jobs', { body: 'poison' });
    for (let receive = 1; receive <= 3; receive += 1) {
      const message = await receiveOne(sqs.engine, 'jobs');
      expect(message?.attributes.ApproximateReceiveCount).toBe(String(receive));
      sqs.advance(10_000);
    }
    expect(await receiveOne(sqs.engine, 'jobs')).toBeUndefined();
    expect(sqs.engine.counts('jobs')).toEqual({ visible: 0, inFlight: 0, delayed: 0 });
    expect(sqs.engine.peekMessages('jobs-dlq')).toMatchObject([
      {
        body: 'poison',
        state: 'visible',
        receiveCount: 3,
        deadLetterQueueSourceArn: sqs.engine.queueArn('jobs'),
      },
    ]);
    expect(sqs.engine.getQueueAttributes('jobs', ['RedrivePolicy']).RedrivePolicy).toBe(
      JSON.stringify({ deadLetterTargetArn: sqs.engine.queueArn('jobs-dlq'), maxReceiveCount: 3 }),
    );
  });

  it('redrives DLQ messages back to their source queue with a fresh receive count', async () => {
    sqs.engine.createQueue('jobs-dlq');
    sqs.engine.createQueue('jobs', {
      RedrivePolicy: JSON.stringify({
        deadLetterTargetArn: sqs.engine.queueArn('jobs-dlq'),
        maxReceiveCount: 1,
      }),
    });
    sqs.engine.sendMessage('jobs', { body: 'retry me' });
    await receiveOne(sqs.engine, 'jobs', 0);
    expect(await receiveOne(sqs.engine, 'jobs')).toBeUndefined();
    expect(sqs.engine.counts('jobs-dlq').visible).toBe(1);

    const task = sqs.engine.startMessageMoveTask({ sourceArn: sqs.engine.queueArn('jobs-dlq') });
    expect(task).toMatchObject({ status: 'COMPLETED', approximateNumberOfMessagesMoved: 1 });
    expect(sqs.engine.counts('jobs-dlq').visible).toBe(0);
    const back = await receiveOne(sqs.engine, 'jobs');
    expect(back?.body).toBe('retry me');
    expect(back?.attributes.ApproximateReceiveCount).toBe('1');
    expect(sqs.engine.listMessageMoveTasks(sqs.engine.queueArn('jobs-dlq'))).toHaveLength(1);
    expect(() => sqs.engine.startMessageMoveTask({ sourceArn: sqs.engine.queueArn('jobs') })).toThrow(
      /must be configured as a Dead Letter Queue/,
    );
  });

  it('validates queue attributes, redrive targets and receive parameters like SQS', async () => {
    sqs.engine.createQueue('jobs', { VisibilityTimeout: '30' });
    expect(() => sqs.engine.createQueue('jobs', { VisibilityTimeout: '31' })).toThrow(
      expect.objectContaining({ type: 'QueueNameExists' }),
    );
    expect(sqs.engine.createQueue('jobs', { VisibilityTimeout: '30' }).queueName).toBe('jobs');
    expect(() => sqs.engine.createQueue('bad name')).toThrow(
      expect.objectContaining({ type: 'InvalidParameterValue' }),
    );
    expect(() => sqs.engine.setQueueAttributes('jobs', { VisibilityTimeout: '43201' })).toThrow(
      expect.objectContaining({ type: 'InvalidAttributeValue' }),
    );
    expect(() => sqs.engine.setQueueAttributes('jobs', { Bogus: '1' })).toThrow(
      expect.objectContaining({ type: 'InvalidAttributeName' }),
    );
    expect(() =>
      sqs.engine.setQueueAttributes('jobs', {
        RedrivePolicy: JSON.stringify({
          deadLetterTargetArn: sqs.engine.queueArn('missing'),
          maxReceiveCount: 3,
        }),
      }),
    ).toThrow(/Dead letter target does not exist/);
    await expect(sqs.engine.receiveMessages('jobs', { maxNumberOfMessages: 11 })).rejects.toMatchObject({
      type: 'InvalidParameterValue',
    });
    await expect(sqs.engine.receiveMessages('nope')).rejects.toMatchObject({ type: 'QueueDoesNotExist' });
    expect(() => sqs.engine.sendMessage('jobs', { body: 'bad \u0000 char' })).toThrow(
      expect.objectContaining({ type: 'InvalidMessageContents' }),
    );
  });

  it('reports batch entries that fail without failing the batch', () => {
    sqs.engine.createQueue('jobs');
    const result = sqs.engine.sendMessageBatch('jobs', [
      { id: 'ok', body: 'fine' },
      { id: 'bad', body: '\u0001' },
    ]);
    expect(result.successful.map((entry) => entry.id)).toEqual(['ok']);
    expect(result.failed).toMatchObject([{ id: 'bad', senderFault: true, code: 'InvalidMessageContents' }]);
    expect(() => sqs.engine.sendMessageBatch('jobs', [])).toThrow(
      expect.objectContaining({ type: 'EmptyBatchRequest' }),
    );
    expect(() =>
      sqs.engine.sendMessageBatch('jobs', [
        { id: 'a', body: '1' },
        { id: 'a', body: '2' },
      ]),
    ).toThrow(expect.objectContaining({ type: 'BatchEntryIdsNotDistinct' }));
  });

  it('returns only the requested attributes', async () => {
    sqs.engine.createQueue('jobs');
    sqs.engine.sendMessage('jobs', {
      body: 'x',
      messageAttributes: {
        'kind.main': { dataType: 'String', stringValue: 'bug.report' },
        other: { dataType: 'Number', stringValue: '1' },
      },
    });
    const [message] = await sqs.engine.receiveMessages('jobs', {
      attributeNames: ['SentTimestamp'],
      messageAttributeNames: ['kind.*'],
      visibilityTimeout: 0,
    });
    expect(message?.attributes).toEqual({ SentTimestamp: String(sqs.now()) });
    expect(Object.keys(message?.messageAttributes ?? {})).toEqual(['kind.main']);
    const [plain] = await sqs.engine.receiveMessages('jobs');
    expect(plain?.attributes).toEqual({});
    expect(plain?.messageAttributes).toBeUndefined();
  });

  describe('persistence', () => {
    let directory: string;

    beforeEach(async () => {
      directory = await mkdtemp(join(tmpdir(), 'local-sqs-'));
    });

    afterEach(async () => {
      await rm(directory, { recursive: true, force: true });
    });

    it('restores queues, attributes and messages (in flight ones stay hidden until their deadline)', async () => {
      let now = 1_700_000_000_000;
      const persistPath = join(directory, 'state', 'sqs.json');
      const before = new LocalSqs({ clock: () => now, persistPath });
      before.createQueue('jobs-dlq');
      before.createQueue('jobs', {
        VisibilityTimeout: '60',
        RedrivePolicy: JSON.stringify({
          deadLetterTargetArn: before.queueArn('jobs-dlq'),
          maxReceiveCount: 3,
        }),
      });
      before.sendMessage('jobs', { body: 'in flight' });
      before.sendMessage('jobs', {
        body: 'waiting',
        messageAttributes: { kind: { dataType: 'String', stringValue: 'k' } },
      });
      await before.receiveMessages('jobs', { maxNumberOfMessages: 1 });
      await before.snapshot();
      expect(JSON.parse(await readFile(persistPath, 'utf8')).version).toBe(1);

      const after = new LocalSqs({ clock: () => now, persistPath });
      expect(await after.restore()).toBe(true);
      expect(after.listQueues()).toEqual(['jobs', 'jobs-dlq']);
      expect(after.getQueueAttributes('jobs', ['VisibilityTimeout', 'RedrivePolicy'])).toEqual(
        before.getQueueAttributes('jobs', ['VisibilityTimeout', 'RedrivePolicy']),
      );
      expect(after.counts('jobs')).toEqual({ visible: 1, inFlight: 1, delayed: 0 });
      now += 60_000;
      const messages = await after.receiveMessages('jobs', {
        maxNumberOfMessages: 10,
        attributeNames: ['ApproximateReceiveCount'],
        messageAttributeNames: ['All'],
      });
      expect(messages.map((message) => [message.body, message.attributes.ApproximateReceiveCount])).toEqual([
        ['in flight', '2'],
        ['waiting', '1'],
      ]);
      expect(messages[1]?.messageAttributes).toEqual({ kind: { dataType: 'String', stringValue: 'k' } });

      expect(await new LocalSqs({ persistPath: join(directory, 'absent.json') }).restore()).toBe(false);
    });
  });
});

describe('maximum message size', () => {
  it('defaults to 256 KiB, as a queue that sets nothing may have in SQS, and takes 1 MiB once sized', () => {
    const { engine } = createEngine();
    engine.createQueue('unsized');
    engine.createQueue('sized', { MaximumMessageSize: '1048576' });
    expect(engine.getQueueAttributes('unsized', ['MaximumMessageSize'])).toEqual({
      MaximumMessageSize: '262144',
    });

    const body = 'x'.repeat(300 * 1024);
    expect(() => engine.sendMessage('unsized', { body })).toThrow(
      /Message must be shorter than 262144 bytes/,
    );
    expect(engine.sendMessage('sized', { body }).messageId).toEqual(expect.any(String));
    expect(() => engine.sendMessage('sized', { body: 'x'.repeat(1_048_577) })).toThrow(
      /Message must be shorter than 1048576 bytes/,
    );
  });
});
