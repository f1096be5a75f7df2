import { randomUUID } from 'node:crypto';
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  type SQSClient,
  type MessageAttributeValue as WireAttributeValue,
} from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent, SQSMessageAttributes, SQSRecord } from 'aws-lambda';
import type { LocalSqs, MessageAttributeValue, ReceivedMessage } from './local-sqs.js';

/**
 * An SQS → Lambda event source mapping, as Lambda runs it: long-poll the queue, hand the handler
 * a real-shaped `SQSEvent`, delete what succeeded, and leave failures (a thrown error fails the
 * whole batch; `batchItemFailures` fails only the records it names) to reappear after their
 * visibility timeout — where the queue's redrive policy eventually dead-letters them.
 */

// biome-ignore lint/suspicious/noConfusingVoidType: mirrors aws-lambda's SQSHandler, so async handlers that return nothing fit
export type SqsLambdaHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse | void>;

/** What the poller needs from a queue; `engineQueue` and `sqsClientQueue` provide it. */
export interface PollableQueue {
  readonly arn: string;
  /** Receives with every system and message attribute, as Lambda does. */
  receive(input: {
    maxNumberOfMessages: number;
    waitTimeSeconds: number;
    signal: AbortSignal;
  }): Promise<ReceivedMessage[]>;
  deleteMessages(receiptHandles: readonly string[]): Promise<void>;
  changeVisibility(receiptHandle: string, visibilityTimeoutSeconds: number): Promise<void>;
}

export interface LambdaPollerOptions {
  queue: PollableQueue;
  handler: SqsLambdaHandler;
  functionName?: string;
  /** Records per invocation (1–10000), default 10. */
  batchSize?: number;
  /** How long to keep gathering records once the first arrive (MaximumBatchingWindowInSeconds), default 0. */
  maximumBatchingWindowMs?: number;
  /** `ReportBatchItemFailures`, default true; when false a resolved invocation deletes every record. */
  reportBatchItemFailures?: boolean;
  /** Concurrent pollers/invocations, default 1. */
  concurrency?: number;
  /** An invocation that runs longer counts as failed (its records stay), like a Lambda timeout. */
  functionTimeoutMs?: number;
  /** Long-poll wait per receive (0–20 s), default 20. */
  waitTimeSeconds?: number;
  /**
   * Delay before a failed record may be received again, applied with ChangeMessageVisibility
   * (rounded up to whole seconds); undefined leaves the queue's visibility timeout in charge.
   */
  retryDelayMs?: (record: SQSRecord) => number | undefined;
  /** Invocation failures, and queue errors the poller recovered from; default `console.error`. */
  onError?: (error: unknown) => void;
  /** Called after each batch is settled (for local observability). */
  onBatch?: (summary: BatchSummary) => void;
}

export interface BatchSummary {
  received: number;
  succeeded: string[];
  failed: string[];
  /** Set when the invocation threw, timed out or answered with an invalid batch response. */
  invocationError?: unknown;
}

const RECEIVE_LIMIT = 10;
const ERROR_BACKOFF_MS = 1_000;

export class LambdaPoller {
  private readonly options: Required<
    Pick<
      LambdaPollerOptions,
      | 'functionName'
      | 'batchSize'
      | 'maximumBatchingWindowMs'
      | 'reportBatchItemFailures'
      | 'concurrency'
      | 'waitTimeSeconds'
      | 'onError'
    >
  > &
    LambdaPollerOptions;
  private stopping: AbortController | undefined;
  private workers: Promise<void>[] = [];

  constructor(options: LambdaPollerOptions) {
    this.options = {
      functionName: 'processor',
      batchSize: 10,
      maximumBatchingWindowMs: 0,
      reportBatchItemFailures: true,
      concurrency: 1,
      waitTimeSeconds: 20,
      onError: (error) => console.error(`lambda poller (${options.functionName ?? 'processor'}):`, error),
      ...options,
    };
    const { batchSize, concurrency, waitTimeSeconds } = this.options;
    if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 10_000) {
      throw new RangeError('batchSize must be an integer from 1 to 10000');
    }
    if (!Number.isInteger(concurrency) || concurrency < 1)
      throw new RangeError('concurrency must be at least 1');
    if (!Number.isInteger(waitTimeSeconds) || waitTimeSeconds < 0 || waitTimeSeconds > 20) {
      throw new RangeError('waitTimeSeconds must be an integer from 0 to 20');
    }
  }

  get running(): boolean {
    return this.stopping !== undefined;
  }

  start(): void {
    if (this.stopping) return;
    const stopping = new AbortController();
    this.stopping = stopping;
    this.workers = Array.from({ length: this.options.concurrency }, () => this.work(stopping.signal));
  }

  /** Stops polling and waits for batches already received to be handled and settled. */
  async stop(): Promise<void> {
    if (!this.stopping) return;
    this.stopping.abort();
    await Promise.all(this.workers);
    this.stopping = undefined;
    this.workers = [];
  }

  /**
   * Receives one batch (waiting up to `waitTimeSeconds`), invokes the handler and settles the
   * records. Undefined when nothing arrived.
   */
  async pollOnce(
    options: { signal?: AbortSignal; waitTimeSeconds?: number } = {},
  ): Promise<BatchSummary | undefined> {
    const signal = options.signal ?? new AbortController().signal;
    const messages = await this.collect(signal, options.waitTimeSeconds ?? this.options.waitTimeSeconds);
    if (messages.length === 0) return undefined;
    const summary = await this.invoke(messages);
    this.options.onBatch?.(summary);
    return summary;
  }

  private async work(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      try {
        await this.pollOnce({ signal });
      } catch (error) {
        this.options.onError(error);
        await sleep(ERROR_BACKOFF_MS, signal);
      }
    }
  }

  private async collect(signal: AbortSignal, waitTimeSeconds: number): Promise<ReceivedMessage[]> {
    const { queue, batchSize, maximumBatchingWindowMs } = this.options;
    if (signal.aborted) return [];
    const batch = await queue.receive({
      maxNumberOfMessages: Math.min(RECEIVE_LIMIT, batchSize),
      waitTimeSeconds,
      signal,
    });
    if (batch.length === 0 || maximumBatchingWindowMs <= 0) return batch;
    // The window ends early on stop: records already received are still handled, never dropped.
    const window = AbortSignal.any([signal, AbortSignal.timeout(maximumBatchingWindowMs)]);
    while (batch.length < batchSize && !window.aborted) {
      const more = await queue.receive({
        maxNumberOfMessages: Math.min(RECEIVE_LIMIT, batchSize - batch.length),
        waitTimeSeconds: Math.min(20, Math.ceil(maximumBatchingWindowMs / 1000)),
        signal: window,
      });
      batch.push(...more);
    }
    return batch;
  }

  private async invoke(messages: ReceivedMessage[]): Promise<BatchSummary> {
    const { queue, handler, functionTimeoutMs, reportBatchItemFailures } = this.options;
    const records = messages.map((message) => toRecord(message, queue.arn));
    const context = this.createContext(functionTimeoutMs);
    let failedIds: Set<string>;
    let invocationError: unknown;
    try {
      const invocation = Promise.resolve(handler({ Records: records }, context));
      const response =
        functionTimeoutMs === undefined ? await invocation : await withTimeout(invocation, functionTimeoutMs);
      failedIds = reportBatchItemFailures ? failuresOf(response, records) : new Set();
    } catch (error) {
      invocationError = error;
      failedIds = new Set(records.map((record) => record.messageId));
      this.options.onError(error);
    }
    const succeeded = records.filter((record) => !failedIds.has(record.messageId));
    const failed = records.filter((record) => failedIds.has(record.messageId));
    await this.settle(succeeded, failed);
    return {
      received: records.length,
      succeeded: succeeded.map((record) => record.messageId),
      failed: failed.map((record) => record.messageId),
      ...(invocationError !== undefined && { invocationError }),
    };
  }

  private async settle(succeeded: SQSRecord[], failed: SQSRecord[]): Promise<void> {
    const { queue, retryDelayMs } = this.options;
    try {
      await queue.deleteMessages(succeeded.map((record) => record.receiptHandle));
    } catch (error) {
      this.options.onError(error);
    }
    if (!retryDelayMs) return;
    for (const record of failed) {
      const delayMs = retryDelayMs(record);
      if (delayMs === undefined) continue;
      try {
        await queue.changeVisibility(record.receiptHandle, Math.max(0, Math.ceil(delayMs / 1000)));
      } catch (error) {
        // The visibility timeout may already have run out; the record is back in the queue anyway.
        this.options.onError(error);
      }
    }
  }

  private createContext(timeoutMs: number | undefined): Context {
    const { functionName, queue } = this.options;
    const [, , , region = 'us-east-1', account = '000000000000'] = queue.arn.split(':');
    const deadline = Date.now() + (timeoutMs ?? 900_000);
    const requestId = randomUUID();
    return {
      callbackWaitsForEmptyEventLoop: true,
      functionName,
      functionVersion: '$LATEST',
      invokedFunctionArn: `arn:aws:lambda:${region}:${account}:function:${functionName}`,
      memoryLimitInMB: '1024',
      awsRequestId: requestId,
      logGroupName: `/aws/lambda/${functionName}`,
      logStreamName: `local/[$LATEST]${requestId.replaceAll('-', '')}`,
      getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
      done: () => {},
      fail: () => {},
      succeed: () => {},
    };
  }
}

/** The queue inside a `LocalSqs` engine, polled directly (no HTTP). */
export function engineQueue(engine: LocalSqs, queueName: string): PollableQueue {
  return {
    arn: engine.queueArn(queueName),
    receive: ({ maxNumberOfMessages, waitTimeSeconds, signal }) =>
      engine.receiveMessages(queueName, {
        maxNumberOfMessages,
        waitTimeSeconds,
        signal,
        attributeNames: ['All'],
        messageAttributeNames: ['All'],
      }),
    deleteMessages: async (receiptHandles) => {
      for (const receiptHandle of receiptHandles) engine.deleteMessage(queueName, receiptHandle);
    },
    changeVisibility: async (receiptHandle, seconds) =>
      engine.changeMessageVisibility(queueName, receiptHandle, seconds),
  };
}

/** A queue reached through the SQS API (the local server or real SQS). */
export async function sqsClientQueue(client: SQSClient, queueUrl: string): Promise<PollableQueue> {
  const { Attributes } = await client.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }),
  );
  const arn = Attributes?.QueueArn;
  if (!arn) throw new Error(`no QueueArn for ${queueUrl}`);
  return {
    arn,
    receive: async ({ maxNumberOfMessages, waitTimeSeconds, signal }) => {
      try {
        const { Messages = [] } = await client.send(
          new ReceiveMessageCommand({
            QueueUrl: queueUrl,
            MaxNumberOfMessages: maxNumberOfMessages,
            WaitTimeSeconds: waitTimeSeconds,
            MessageSystemAttributeNames: ['All'],
            MessageAttributeNames: ['All'],
          }),
          { abortSignal: signal },
        );
        return Messages.map((message) => ({
          messageId: message.MessageId!,
          receiptHandle: message.ReceiptHandle!,
          body: message.Body ?? '',
          md5OfBody: message.MD5OfBody ?? '',
          ...(message.MD5OfMessageAttributes && { md5OfMessageAttributes: message.MD5OfMessageAttributes }),
          attributes: { ...message.Attributes } as Record<string, string>,
          ...(message.MessageAttributes && {
            messageAttributes: attributesFromSdk(message.MessageAttributes),
          }),
        }));
      } catch (error) {
        if (signal.aborted) return [];
        throw error;
      }
    },
    deleteMessages: async (receiptHandles) => {
      for (let start = 0; start < receiptHandles.length; start += 10) {
        const chunk = receiptHandles.slice(start, start + 10);
        const { Failed = [] } = await client.send(
          new DeleteMessageBatchCommand({
            QueueUrl: queueUrl,
            Entries: chunk.map((receiptHandle, index) => ({
              Id: String(index),
              ReceiptHandle: receiptHandle,
            })),
          }),
        );
        if (Failed.length > 0)
          throw new Error(`could not delete ${Failed.length} message(s): ${Failed[0]?.Message}`);
      }
    },
    changeVisibility: async (receiptHandle, seconds) => {
      await client.send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: queueUrl,
          ReceiptHandle: receiptHandle,
          VisibilityTimeout: seconds,
        }),
      );
    },
  };
}

/** The record Lambda builds from a received message. */
export function toRecord(message: ReceivedMessage, queueArn: string): SQSRecord {
  const region = queueArn.split(':')[3] ?? 'us-east-1';
  const messageAttributes: SQSMessageAttributes = {};
  for (const [name, value] of Object.entries(message.messageAttributes ?? {})) {
    messageAttributes[name] = {
      ...(value.stringValue !== undefined && { stringValue: value.stringValue }),
      ...(value.binaryValue !== undefined && { binaryValue: value.binaryValue }),
      stringListValues: value.stringListValues ?? [],
      binaryListValues: value.binaryListValues ?? [],
      dataType: value.dataType,
    };
  }
  const attributes = message.attributes;
  return {
    messageId: message.messageId,
    receiptHandle: message.receiptHandle,
    body: message.body,
    attributes: {
      ApproximateReceiveCount: attributes.ApproximateReceiveCount ?? '1',
      SentTimestamp: attributes.SentTimestamp ?? '',
      SenderId: attributes.SenderId ?? '',
      ApproximateFirstReceiveTimestamp: attributes.ApproximateFirstReceiveTimestamp ?? '',
      ...(attributes.AWSTraceHeader !== undefined && { AWSTraceHeader: attributes.AWSTraceHeader }),
      ...(attributes.DeadLetterQueueSourceArn !== undefined && {
        DeadLetterQueueSourceArn: attributes.DeadLetterQueueSourceArn,
      }),
    },
    messageAttributes,
    md5OfBody: message.md5OfBody,
    ...(message.md5OfMessageAttributes !== undefined && {
      md5OfMessageAttributes: message.md5OfMessageAttributes,
    }),
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: region,
  };
}

/**
 * The record ids to keep, following Lambda's rules: no response or an empty list means all
 * succeeded; a malformed response or an identifier that is empty or not in the batch fails all.
 */
function failuresOf(response: unknown, records: readonly SQSRecord[]): Set<string> {
  const all = new Set(records.map((record) => record.messageId));
  if (response === undefined || response === null) return new Set();
  if (typeof response !== 'object') throw new InvalidBatchResponseError('the response is not an object');
  const failures = (response as { batchItemFailures?: unknown }).batchItemFailures;
  if (failures === undefined || failures === null) return new Set();
  if (!Array.isArray(failures)) throw new InvalidBatchResponseError('batchItemFailures is not a list');
  const failed = new Set<string>();
  for (const failure of failures) {
    const id = (failure as { itemIdentifier?: unknown } | null)?.itemIdentifier;
    if (typeof id !== 'string' || !all.has(id)) {
      throw new InvalidBatchResponseError(
        `itemIdentifier ${JSON.stringify(id)} is not a record of the batch`,
      );
    }
    failed.add(id);
  }
  return failed;
}

export class InvalidBatchResponseError extends Error {
  constructor(reason: string) {
    super(`invalid SQSBatchResponse: ${reason}`);
    this.name = 'InvalidBatchResponseError';
  }
}

export class InvocationTimeoutError extends Error {
  constructor(timeoutMs: number) {
    super(`the handler did not finish within ${timeoutMs} ms`);
    this.name = 'InvocationTimeoutError';
  }
}

function withTimeout<T>(promise: Promise<T>, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new InvocationTimeoutError(timeoutMs)), timeoutMs);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

function attributesFromSdk(
  attributes: Record<string, WireAttributeValue>,
): Record<string, MessageAttributeValue> {
  const converted: Record<string, MessageAttributeValue> = {};
  for (const [name, value] of Object.entries(attributes)) {
    converted[name] = {
      dataType: value.DataType ?? 'String',
      ...(value.StringValue !== undefined && { stringValue: value.StringValue }),
      ...(value.BinaryValue !== undefined && {
        binaryValue: Buffer.from(value.BinaryValue).toString('base64'),
      }),
      ...(value.StringListValues && { stringListValues: value.StringListValues }),
      ...(value.BinaryListValues && {
        binaryListValues: value.BinaryListValues.map((item) => Buffer.from(item).toString('base64')),
      }),
    };
  }
  return converted;
}
