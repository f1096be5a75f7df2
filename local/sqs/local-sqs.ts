import { randomUUID } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { invalidParameter, SqsError } from './errors.js';
import { type MessageAttributeValue, md5Hex, md5OfMessageAttributes } from './md5.js';

/**
 * An in-memory SQS (standard queues) with the semantics bugbot relies on: visibility timeouts,
 * receipt handles that change per receive, receive counts, redrive to a dead-letter queue when a
 * message would be received more than `maxReceiveCount` times, delays, retention, long polling
 * and DLQ redrive (StartMessageMoveTask). `sqs-server.ts` puts the AWS JSON protocol in front of
 * it; the local stack and `lambda-poller.ts` may also call it directly.
 */

export type { MessageAttributeValue } from './md5.js';

/** Milliseconds since the epoch; injectable so tests can move time without sleeping. */
export type Clock = () => number;

export interface LocalSqsOptions {
  clock?: Clock;
  /** JSON file for `snapshot()`/`restore()`. */
  persistPath?: string;
  region?: string;
  accountId?: string;
}

export interface SendMessageInput {
  body: string;
  /**
   * Who sent it, as SQS reports it in `SenderId` (an IAM user id, or `<role id>:<session>` for a
   * role). Default: one fixed user id, for callers that do not say.
   */
  senderId?: string;
  delaySeconds?: number;
  messageAttributes?: Record<string, MessageAttributeValue>;
  messageSystemAttributes?: Record<string, MessageAttributeValue>;
}

export interface SendMessageResult {
  messageId: string;
  md5OfMessageBody: string;
  md5OfMessageAttributes?: string;
  md5OfMessageSystemAttributes?: string;
}

export interface ReceiveMessagesInput {
  /** 1–10, default 1. */
  maxNumberOfMessages?: number;
  /** Seconds; defaults to the queue's VisibilityTimeout. */
  visibilityTimeout?: number;
  /** Seconds (0–20); defaults to the queue's ReceiveMessageWaitTimeSeconds. */
  waitTimeSeconds?: number;
  /** System attributes to return (`All`, `ApproximateReceiveCount`, `SentTimestamp`, …). */
  attributeNames?: readonly string[];
  /** Message attributes to return (`All`, `.*`, a name, or a `prefix.*`). */
  messageAttributeNames?: readonly string[];
  /** Ends a long poll early (with no messages). */
  signal?: AbortSignal;
}

export interface ReceivedMessage {
  messageId: string;
  receiptHandle: string;
  body: string;
  md5OfBody: string;
  md5OfMessageAttributes?: string;
  attributes: Record<string, string>;
  messageAttributes?: Record<string, MessageAttributeValue>;
}

export interface BatchResultError {
  id: string;
  senderFault: boolean;
  code: string;
  message: string;
}

export interface BatchResult<T> {
  successful: T[];
  failed: BatchResultError[];
}

export interface QueueCounts {
  visible: number;
  inFlight: number;
  delayed: number;
}

export interface MessageSnapshot {
  messageId: string;
  body: string;
  state: 'visible' | 'inFlight' | 'delayed';
  receiveCount: number;
  sentTimestamp: number;
  messageAttributes?: Record<string, MessageAttributeValue>;
  deadLetterQueueSourceArn?: string;
}

export interface MessageMoveTask {
  taskHandle: string;
  status: 'RUNNING' | 'COMPLETED' | 'CANCELLING' | 'CANCELLED' | 'FAILED';
  sourceArn: string;
  destinationArn?: string;
  maxNumberOfMessagesPerSecond?: number;
  approximateNumberOfMessagesMoved: number;
  approximateNumberOfMessagesToMove: number;
  failureReason?: string;
  startedTimestamp: number;
}

interface StoredMessage {
  messageId: string;
  senderId?: string;
  body: string;
  md5OfBody: string;
  messageAttributes?: Record<string, MessageAttributeValue>;
  md5OfMessageAttributes?: string;
  messageSystemAttributes?: Record<string, MessageAttributeValue>;
  md5OfMessageSystemAttributes?: string;
  sentTimestamp: number;
  visibleAt: number;
  receiveCount: number;
  firstReceiveTimestamp?: number;
  /** The latest receipt handle; unset until received (which is what tells delayed from in flight). */
  receiptHandle?: string;
  deadLetterQueueSourceArn?: string;
}

interface Queue {
  name: string;
  createdAt: number;
  lastModifiedAt: number;
  attributes: Record<string, string>;
  tags: Record<string, string>;
  /** Insertion order is delivery order (best effort, as in a standard queue). */
  messages: Map<string, StoredMessage>;
  wakers: Set<() => void>;
}

interface PersistedState {
  version: 1;
  savedAt: number;
  queues: Array<Omit<Queue, 'messages' | 'wakers'> & { messages: StoredMessage[] }>;
}

/**
 * What a queue gets when it sets nothing. `MaximumMessageSize` is 262,144 bytes (256 KiB): the
 * limit SQS queues had until 2025 and still have unless configured (the current API reference
 * names 1 MiB as the new default for queues created since; a stack deployed earlier, or tooling
 * that documents the old default, still gets 256 KiB). Defaulting to the smaller one here means
 * code that forgets to size its queue fails locally, not only in AWS; `npm start` sizes the jobs
 * queue and its DLQ as the CDK stack does (JOBS_QUEUE_MAX_MESSAGE_BYTES).
 */
const DEFAULT_ATTRIBUTES: Readonly<Record<string, string>> = {
  DelaySeconds: '0',
  MaximumMessageSize: '262144',
  MessageRetentionPeriod: '345600',
  ReceiveMessageWaitTimeSeconds: '0',
  VisibilityTimeout: '30',
  SqsManagedSseEnabled: 'true',
};

const NUMERIC_RANGES: Readonly<Record<string, readonly [number, number]>> = {
  DelaySeconds: [0, 900],
  MaximumMessageSize: [1024, 1048576],
  MessageRetentionPeriod: [60, 1209600],
  ReceiveMessageWaitTimeSeconds: [0, 20],
  VisibilityTimeout: [0, 43200],
  KmsDataKeyReusePeriodSeconds: [60, 86400],
};

const SETTABLE_ATTRIBUTES = new Set([
  ...Object.keys(NUMERIC_RANGES),
  'Policy',
  'RedrivePolicy',
  'RedriveAllowPolicy',
  'KmsMasterKeyId',
  'SqsManagedSseEnabled',
]);

const READ_ONLY_ATTRIBUTES = [
  'ApproximateNumberOfMessages',
  'ApproximateNumberOfMessagesNotVisible',
  'ApproximateNumberOfMessagesDelayed',
  'CreatedTimestamp',
  'LastModifiedTimestamp',
  'QueueArn',
];

const SYSTEM_ATTRIBUTE_NAMES = new Set([
  'All',
  'SenderId',
  'SentTimestamp',
  'ApproximateReceiveCount',
  'ApproximateFirstReceiveTimestamp',
  'AWSTraceHeader',
  'DeadLetterQueueSourceArn',
  'SequenceNumber',
  'MessageDeduplicationId',
  'MessageGroupId',
]);

const QUEUE_NAME = /^[A-Za-z0-9_-]{1,80}$/;
const BATCH_ENTRY_ID = /^[A-Za-z0-9_-]{1,80}$/;
const ATTRIBUTE_NAME = /^(?!aws\.|amazon\.)(?!.*\.\.)(?!\.)[A-Za-z0-9_.-]{1,256}(?<!\.)$/i;
// XML 1.0 characters: SQS refuses anything else in bodies and attribute values.
const INVALID_CHARACTERS = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;
const SENDER_ID = 'AIDAIENQZJOLO23YVJ4VO';
const MAX_WAKE_DELAY_MS = 2_147_483_647;

export class LocalSqs {
  readonly region: string;
  readonly accountId: string;
  private readonly clock: Clock;
  private readonly persistPath: string | undefined;
  private readonly queues = new Map<string, Queue>();
  private readonly moveTasks: MessageMoveTask[] = [];
  private readonly closing = new AbortController();

  constructor(options: LocalSqsOptions = {}) {
    this.clock = options.clock ?? Date.now;
    this.persistPath = options.persistPath;
    this.region = options.region ?? 'us-east-1';
    this.accountId = options.accountId ?? '000000000000';
  }

  // ---- queues -------------------------------------------------------------------------------

  queueArn(queueName: string): string {
    return `arn:aws:sqs:${this.region}:${this.accountId}:${queueName}`;
  }

  /** The queue URL under a server's base URL (`http://127.0.0.1:9324` → `…/000000000000/jobs`). */
  queueUrl(baseUrl: string, queueName: string): string {
    return `${baseUrl.replace(/\/+$/, '')}/${this.accountId}/${queueName}`;
  }

  /** The name of an existing queue addressed by URL; the host is not checked, the account is. */
  queueNameFromUrl(queueUrl: string): string {
    let path: string;
    try {
      path = new URL(queueUrl).pathname;
    } catch {
      path = queueUrl;
    }
    const [account, name, ...rest] = path.split('/').filter(Boolean);
    if (account !== this.accountId || !name || rest.length > 0 || !this.queues.has(name)) {
      throw new SqsError('QueueDoesNotExist', 'The specified queue does not exist.');
    }
    return name;
  }

  queueNameFromArn(arn: string): string | undefined {
    const match = /^arn:aws:sqs:([^:]+):([^:]+):([^:]+)$/.exec(arn);
    if (!match || match[1] !== this.region || match[2] !== this.accountId) return undefined;
    return this.queues.has(match[3]!) ? match[3] : undefined;
  }

  createQueue(
    queueName: string,
    attributes: Record<string, string> = {},
    tags: Record<string, string> = {},
  ): { queueName: string; queueArn: string } {
    if (!QUEUE_NAME.test(queueName)) {
      throw invalidParameter(
        'QueueName',
        queueName,
        'Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length',
      );
    }
    const normalized = this.normalizeAttributes(attributes, queueName);
    const existing = this.queues.get(queueName);
    if (existing) {
      for (const [name, value] of Object.entries(normalized)) {
        if ((existing.attributes[name] ?? DEFAULT_ATTRIBUTES[name]) !== value) {
          throw new SqsError(
            'QueueNameExists',
            `A queue already exists with the same name and a different value for attribute ${name}`,
          );
        }
      }
      return { queueName, queueArn: this.queueArn(queueName) };
    }
    const now = this.clock();
    this.queues.set(queueName, {
      name: queueName,
      createdAt: now,
      lastModifiedAt: now,
      attributes: { ...DEFAULT_ATTRIBUTES, ...normalized },
      tags: { ...tags },
      messages: new Map(),
      wakers: new Set(),
    });
    return { queueName, queueArn: this.queueArn(queueName) };
  }

  deleteQueue(queueName: string): void {
    const queue = this.queue(queueName);
    this.queues.delete(queueName);
    this.wake(queue);
  }

  listQueues(prefix = ''): string[] {
    return [...this.queues.keys()].filter((name) => name.startsWith(prefix)).sort();
  }

  hasQueue(queueName: string): boolean {
    return this.queues.has(queueName);
  }

  getQueueAttributes(queueName: string, names: readonly string[] = ['All']): Record<string, string> {
    const queue = this.queue(queueName);
    const known = new Set([...SETTABLE_ATTRIBUTES, ...READ_ONLY_ATTRIBUTES, 'All']);
    for (const name of names) {
      if (!known.has(name)) throw new SqsError('InvalidAttributeName', `Unknown Attribute ${name}.`);
    }
    const counts = this.counts(queueName);
    const all: Record<string, string> = {
      QueueArn: this.queueArn(queueName),
      ApproximateNumberOfMessages: String(counts.visible),
      ApproximateNumberOfMessagesNotVisible: String(counts.inFlight),
      ApproximateNumberOfMessagesDelayed: String(counts.delayed),
      CreatedTimestamp: String(Math.floor(queue.createdAt / 1000)),
      LastModifiedTimestamp: String(Math.floor(queue.lastModifiedAt / 1000)),
      ...queue.attributes,
    };
    if (names.includes('All')) return all;
    const selected: Record<string, string> = {};
    for (const name of names) {
      const value = all[name];
      if (value !== undefined) selected[name] = value;
    }
    return selected;
  }

  setQueueAttributes(queueName: string, attributes: Record<string, string>): void {
    const queue = this.queue(queueName);
    const normalized = this.normalizeAttributes(attributes, queueName);
    for (const [name, value] of Object.entries(normalized)) {
      if (value === '' && (name === 'RedrivePolicy' || name === 'RedriveAllowPolicy' || name === 'Policy')) {
        delete queue.attributes[name];
      } else {
        queue.attributes[name] = value;
      }
    }
    queue.lastModifiedAt = this.clock();
    this.wake(queue);
  }

  tagQueue(queueName: string, tags: Record<string, string>): void {
    Object.assign(this.queue(queueName).tags, tags);
  }

  untagQueue(queueName: string, keys: readonly string[]): void {
    const queue = this.queue(queueName);
    for (const key of keys) delete queue.tags[key];
  }

  listQueueTags(queueName: string): Record<string, string> {
    return { ...this.queue(queueName).tags };
  }

  /** Queues whose RedrivePolicy targets this one. */
  listDeadLetterSourceQueues(queueName: string): string[] {
    const arn = this.queueArn(this.queue(queueName).name);
    return [...this.queues.values()]
      .filter((queue) => this.redrivePolicy(queue)?.deadLetterTargetArn === arn)
      .map((queue) => queue.name)
      .sort();
  }

  // ---- messages -----------------------------------------------------------------------------

  sendMessage(queueName: string, input: SendMessageInput): SendMessageResult {
    const queue = this.queue(queueName);
    const result = this.enqueue(queue, input);
    this.wake(queue);
    return result;
  }

  sendMessageBatch(
    queueName: string,
    entries: ReadonlyArray<SendMessageInput & { id: string }>,
  ): BatchResult<SendMessageResult & { id: string }> {
    const queue = this.queue(queueName);
    checkBatchEntries(entries);
    const total = entries.reduce((sum, entry) => sum + messageSize(entry), 0);
    if (total > Number(queue.attributes.MaximumMessageSize)) {
      throw new SqsError(
        'BatchRequestTooLong',
        `Batch requests cannot be longer than ${queue.attributes.MaximumMessageSize} bytes. You have sent ${total} bytes.`,
      );
    }
    const result: BatchResult<SendMessageResult & { id: string }> = { successful: [], failed: [] };
    for (const entry of entries) {
      try {
        result.successful.push({ id: entry.id, ...this.enqueue(queue, entry) });
      } catch (error) {
        result.failed.push(batchError(entry.id, error));
      }
    }
    this.wake(queue);
    return result;
  }

  /**
   * Receives up to `maxNumberOfMessages` visible messages, moving to the dead-letter queue any
   * that would exceed the redrive policy's `maxReceiveCount`. With a wait time it long-polls: it
   * returns as soon as at least one message is available, or empty when the wait ends.
   */
  async receiveMessages(queueName: string, input: ReceiveMessagesInput = {}): Promise<ReceivedMessage[]> {
    const queue = this.queue(queueName);
    const max = input.maxNumberOfMessages ?? 1;
    if (!Number.isInteger(max) || max < 1 || max > 10) {
      throw invalidParameter('MaxNumberOfMessages', max, 'Must be between 1 and 10, if provided.');
    }
    const wait = input.waitTimeSeconds ?? Number(queue.attributes.ReceiveMessageWaitTimeSeconds);
    if (!Number.isInteger(wait) || wait < 0 || wait > 20) {
      throw invalidParameter('WaitTimeSeconds', wait, 'Must be >= 0 and <= 20, if provided.');
    }
    if (input.visibilityTimeout !== undefined) checkVisibilityTimeout(input.visibilityTimeout);
    for (const name of input.attributeNames ?? []) {
      if (!SYSTEM_ATTRIBUTE_NAMES.has(name)) {
        throw new SqsError('InvalidAttributeName', `Unknown Attribute ${name}.`);
      }
    }
    // Long polls run on real time even with an injected clock: they wait for events, not for time.
    const deadline = performance.now() + wait * 1000;
    for (let waited = false; ; waited = true) {
      // Once the caller has gone, receiving would only hide messages until their timeout.
      if (input.signal?.aborted || (waited && this.closing.signal.aborted)) return [];
      const current = this.queues.get(queueName);
      if (!current) throw new SqsError('QueueDoesNotExist', 'The specified queue does not exist.');
      const messages = this.receiveNow(current, max, input);
      const remaining = deadline - performance.now();
      if (messages.length > 0 || remaining <= 0 || this.closing.signal.aborted) return messages;
      await this.waitForChange(current, Math.min(remaining, this.nextDueInMs(current)), input.signal);
    }
  }

  deleteMessage(queueName: string, receiptHandle: string): void {
    const queue = this.queue(queueName);
    const messageId = parseReceiptHandle(receiptHandle);
    const message = queue.messages.get(messageId);
    // SQS deletes only with the latest handle; an older or repeated delete succeeds doing nothing.
    if (message && message.receiptHandle === receiptHandle) queue.messages.delete(messageId);
  }

  deleteMessageBatch(
    queueName: string,
    entries: ReadonlyArray<{ id: string; receiptHandle: string }>,
  ): BatchResult<{ id: string }> {
    this.queue(queueName);
    checkBatchEntries(entries);
    const result: BatchResult<{ id: string }> = { successful: [], failed: [] };
    for (const entry of entries) {
      try {
        this.deleteMessage(queueName, entry.receiptHandle);
        result.successful.push({ id: entry.id });
      } catch (error) {
        result.failed.push(batchError(entry.id, error));
      }
    }
    return result;
  }

  changeMessageVisibility(queueName: string, receiptHandle: string, visibilityTimeout: number): void {
    const queue = this.queue(queueName);
    checkVisibilityTimeout(visibilityTimeout);
    const messageId = parseReceiptHandle(receiptHandle);
    const message = queue.messages.get(messageId);
    if (!message || message.receiptHandle !== receiptHandle) {
      throw invalidParameter(
        'ReceiptHandle',
        receiptHandle,
        'Message does not exist or is not available for visibility timeout change.',
      );
    }
    const now = this.clock();
    if (message.visibleAt <= now) {
      throw new SqsError('MessageNotInflight', 'The message referred to is not in flight.');
    }
    message.visibleAt = now + visibilityTimeout * 1000;
    this.wake(queue);
  }

  changeMessageVisibilityBatch(
    queueName: string,
    entries: ReadonlyArray<{ id: string; receiptHandle: string; visibilityTimeout?: number }>,
  ): BatchResult<{ id: string }> {
    this.queue(queueName);
    checkBatchEntries(entries);
    const result: BatchResult<{ id: string }> = { successful: [], failed: [] };
    for (const entry of entries) {
      try {
        this.changeMessageVisibility(queueName, entry.receiptHandle, entry.visibilityTimeout ?? 0);
        result.successful.push({ id: entry.id });
      } catch (error) {
        result.failed.push(batchError(entry.id, error));
      }
    }
    return result;
  }

  purgeQueue(queueName: string): void {
    this.queue(queueName).messages.clear();
  }

  /**
   * Redrives the dead-letter queue `sourceArn`: moves its visible messages to `destinationArn`
   * or, without one, each back to the queue it was dead-lettered from. Runs to completion at once.
   */
  startMessageMoveTask(input: {
    sourceArn: string;
    destinationArn?: string;
    maxNumberOfMessagesPerSecond?: number;
  }): MessageMoveTask {
    const sourceName = this.queueNameFromArn(input.sourceArn);
    if (!sourceName) {
      throw new SqsError(
        'ResourceNotFoundException',
        'The resource that you specified for the SourceArn parameter doesn’t exist.',
      );
    }
    const sourceQueues = this.listDeadLetterSourceQueues(sourceName);
    if (sourceQueues.length === 0) {
      throw invalidParameter(
        'SourceArn',
        input.sourceArn,
        'Source queue must be configured as a Dead Letter Queue.',
      );
    }
    let destinationName: string | undefined;
    if (input.destinationArn !== undefined) {
      destinationName = this.queueNameFromArn(input.destinationArn);
      if (!destinationName) {
        throw new SqsError(
          'ResourceNotFoundException',
          'The resource that you specified for the DestinationArn parameter doesn’t exist.',
        );
      }
    }
    const source = this.queue(sourceName);
    const now = this.clock();
    this.expire(source, now);
    const task: MessageMoveTask = {
      taskHandle: Buffer.from(JSON.stringify({ taskId: randomUUID(), sourceArn: input.sourceArn })).toString(
        'base64',
      ),
      status: 'COMPLETED',
      sourceArn: input.sourceArn,
      ...(input.destinationArn !== undefined && { destinationArn: input.destinationArn }),
      ...(input.maxNumberOfMessagesPerSecond !== undefined && {
        maxNumberOfMessagesPerSecond: input.maxNumberOfMessagesPerSecond,
      }),
      approximateNumberOfMessagesMoved: 0,
      approximateNumberOfMessagesToMove: 0,
      startedTimestamp: now,
    };
    const unroutable: string[] = [];
    for (const message of [...source.messages.values()]) {
      if (message.visibleAt > now) continue;
      task.approximateNumberOfMessagesToMove += 1;
      const targetName =
        destinationName ??
        (message.deadLetterQueueSourceArn && this.queueNameFromArn(message.deadLetterQueueSourceArn)) ??
        (sourceQueues.length === 1 ? sourceQueues[0] : undefined);
      const target = targetName ? this.queues.get(targetName) : undefined;
      if (!target) {
        unroutable.push(message.messageId);
        continue;
      }
      source.messages.delete(message.messageId);
      // A redriven message starts over: a fresh receive count and retention period.
      target.messages.set(message.messageId, {
        ...message,
        sentTimestamp: now,
        visibleAt: now,
        receiveCount: 0,
        firstReceiveTimestamp: undefined,
        receiptHandle: undefined,
        deadLetterQueueSourceArn: undefined,
      });
      task.approximateNumberOfMessagesMoved += 1;
      this.wake(target);
    }
    if (unroutable.length > 0) {
      task.status = 'FAILED';
      task.failureReason = `No source queue known for messages ${unroutable.join(', ')}`;
    }
    this.moveTasks.unshift(task);
    return { ...task };
  }

  listMessageMoveTasks(sourceArn: string, maxResults = 1): MessageMoveTask[] {
    if (!this.queueNameFromArn(sourceArn)) {
      throw new SqsError(
        'ResourceNotFoundException',
        'The resource that you specified for the SourceArn parameter doesn’t exist.',
      );
    }
    return this.moveTasks
      .filter((task) => task.sourceArn === sourceArn)
      .slice(0, maxResults)
      .map((task) => ({ ...task }));
  }

  // ---- local-stack helpers ------------------------------------------------------------------

  counts(queueName: string): QueueCounts {
    const queue = this.queue(queueName);
    const now = this.clock();
    this.expire(queue, now);
    const counts: QueueCounts = { visible: 0, inFlight: 0, delayed: 0 };
    for (const message of queue.messages.values()) counts[stateOf(message, now)] += 1;
    return counts;
  }

  /** Every message with its state, without receiving it (for `/_local/state` and DLQ listings). */
  peekMessages(queueName: string): MessageSnapshot[] {
    const queue = this.queue(queueName);
    const now = this.clock();
    this.expire(queue, now);
    return [...queue.messages.values()].map((message) => ({
      messageId: message.messageId,
      body: message.body,
      state: stateOf(message, now),
      receiveCount: message.receiveCount,
      sentTimestamp: message.sentTimestamp,
      ...(message.messageAttributes && { messageAttributes: structuredClone(message.messageAttributes) }),
      ...(message.deadLetterQueueSourceArn && { deadLetterQueueSourceArn: message.deadLetterQueueSourceArn }),
    }));
  }

  /** Writes every queue and message (in-flight ones keep their deadlines) to `persistPath`. */
  async snapshot(): Promise<void> {
    const path = this.requirePersistPath();
    const state: PersistedState = {
      version: 1,
      savedAt: this.clock(),
      queues: [...this.queues.values()].map(({ messages, wakers: _wakers, ...queue }) => ({
        ...queue,
        messages: [...messages.values()],
      })),
    };
    await mkdir(dirname(path), { recursive: true });
    const temporary = `${path}.${randomUUID()}.tmp`;
    await writeFile(temporary, JSON.stringify(state));
    await rename(temporary, path);
  }

  /**
   * Loads `persistPath` if it exists, replacing queues of the same name. Returns whether a
   * snapshot was found.
   */
  async restore(): Promise<boolean> {
    const path = this.requirePersistPath();
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw error;
    }
    const state = JSON.parse(text) as PersistedState;
    if (state.version !== 1)
      throw new Error(`unsupported local SQS snapshot version ${String(state.version)}`);
    for (const saved of state.queues) {
      const previous = this.queues.get(saved.name);
      const queue: Queue = {
        ...saved,
        messages: new Map(saved.messages.map((message) => [message.messageId, message])),
        wakers: previous?.wakers ?? new Set(),
      };
      this.queues.set(saved.name, queue);
      this.wake(queue);
    }
    return true;
  }

  /** Ends pending long polls (they return empty); the engine stays usable for direct calls. */
  close(): void {
    this.closing.abort();
    for (const queue of this.queues.values()) this.wake(queue);
  }

  // ---- internals ----------------------------------------------------------------------------

  private queue(queueName: string): Queue {
    const queue = this.queues.get(queueName);
    if (!queue) throw new SqsError('QueueDoesNotExist', 'The specified queue does not exist.');
    return queue;
  }

  private requirePersistPath(): string {
    if (!this.persistPath) throw new Error('LocalSqs was created without a persistPath');
    return this.persistPath;
  }

  private enqueue(queue: Queue, input: SendMessageInput): SendMessageResult {
    if (typeof input.body !== 'string' || input.body.length === 0) {
      throw new SqsError('MissingParameter', 'The request must contain the parameter MessageBody.');
    }
    if (INVALID_CHARACTERS.test(input.body)) {
      throw new SqsError(
        'InvalidMessageContents',
        'Invalid characters found. Valid unicode characters are #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF',
      );
    }
    checkMessageAttributes(input.messageAttributes);
    checkSystemAttributes(input.messageSystemAttributes);
    const size = messageSize(input);
    const maxSize = Number(queue.attributes.MaximumMessageSize);
    if (size > maxSize) {
      throw invalidParameter('MessageBody', '', `Message must be shorter than ${maxSize} bytes.`);
    }
    const delay = input.delaySeconds ?? Number(queue.attributes.DelaySeconds);
    if (!Number.isInteger(delay) || delay < 0 || delay > 900) {
      throw invalidParameter('DelaySeconds', delay, 'Must be >= 0 and <= 900, if provided.');
    }
    const now = this.clock();
    const hasAttributes = input.messageAttributes && Object.keys(input.messageAttributes).length > 0;
    const hasSystemAttributes =
      input.messageSystemAttributes && Object.keys(input.messageSystemAttributes).length > 0;
    const message: StoredMessage = {
      messageId: randomUUID(),
      ...(input.senderId ? { senderId: input.senderId } : {}),
      body: input.body,
      md5OfBody: md5Hex(input.body),
      ...(hasAttributes && {
        messageAttributes: structuredClone(input.messageAttributes),
        md5OfMessageAttributes: md5OfMessageAttributes(input.messageAttributes),
      }),
      ...(hasSystemAttributes && {
        messageSystemAttributes: structuredClone(input.messageSystemAttributes),
        md5OfMessageSystemAttributes: md5OfMessageAttributes(input.messageSystemAttributes),
      }),
      sentTimestamp: now,
      visibleAt: now + delay * 1000,
      receiveCount: 0,
    };
    queue.messages.set(message.messageId, message);
    return {
      messageId: message.messageId,
      md5OfMessageBody: message.md5OfBody,
      ...(message.md5OfMessageAttributes && { md5OfMessageAttributes: message.md5OfMessageAttributes }),
      ...(message.md5OfMessageSystemAttributes && {
        md5OfMessageSystemAttributes: message.md5OfMessageSystemAttributes,
      }),
    };
  }

  private receiveNow(queue: Queue, max: number, input: ReceiveMessagesInput): ReceivedMessage[] {
    const now = this.clock();
    this.expire(queue, now);
    const visibilityTimeout = input.visibilityTimeout ?? Number(queue.attributes.VisibilityTimeout);
    const redrive = this.redrivePolicy(queue);
    const deadLetterQueue = redrive && this.queues.get(redrive.deadLetterTargetName);
    const received: ReceivedMessage[] = [];
    // Deleting the current entry while iterating a Map is safe (dead-lettering does that).
    for (const message of queue.messages.values()) {
      if (received.length >= max) break;
      if (message.visibleAt > now) continue;
      if (redrive && deadLetterQueue && message.receiveCount >= redrive.maxReceiveCount) {
        this.moveToDeadLetterQueue(queue, deadLetterQueue, message, now);
        continue;
      }
      message.receiveCount += 1;
      message.firstReceiveTimestamp ??= now;
      message.receiptHandle = Buffer.from(`${message.messageId}:${randomUUID()}`).toString('base64');
      message.visibleAt = now + visibilityTimeout * 1000;
      received.push(present(message, input));
    }
    return received;
  }

  private moveToDeadLetterQueue(source: Queue, target: Queue, message: StoredMessage, now: number): void {
    source.messages.delete(message.messageId);
    // Like SQS: the message keeps its id, sent time (retention counts from the first enqueue)
    // and receive count, and remembers where it came from so a redrive can send it back.
    target.messages.set(message.messageId, {
      ...message,
      visibleAt: now,
      receiptHandle: undefined,
      deadLetterQueueSourceArn: this.queueArn(source.name),
    });
    this.wake(target);
  }

  private expire(queue: Queue, now: number): void {
    const retentionMs = Number(queue.attributes.MessageRetentionPeriod) * 1000;
    for (const message of queue.messages.values()) {
      if (message.sentTimestamp + retentionMs <= now) queue.messages.delete(message.messageId);
    }
  }

  private redrivePolicy(
    queue: Queue,
  ): { deadLetterTargetArn: string; deadLetterTargetName: string; maxReceiveCount: number } | undefined {
    const raw = queue.attributes.RedrivePolicy;
    if (!raw) return undefined;
    const policy = JSON.parse(raw) as { deadLetterTargetArn: string; maxReceiveCount: number };
    const deadLetterTargetName = policy.deadLetterTargetArn.split(':').at(-1)!;
    return { ...policy, deadLetterTargetName };
  }

  private normalizeAttributes(attributes: Record<string, string>, queueName: string): Record<string, string> {
    const normalized: Record<string, string> = {};
    for (const [name, rawValue] of Object.entries(attributes)) {
      const value = String(rawValue);
      if (name === 'FifoQueue') {
        if (value === 'true') {
          throw new SqsError('InvalidAttributeValue', 'The local SQS supports standard queues only.');
        }
        continue;
      }
      if (!SETTABLE_ATTRIBUTES.has(name))
        throw new SqsError('InvalidAttributeName', `Unknown Attribute ${name}.`);
      const range = NUMERIC_RANGES[name];
      if (range) {
        const number = Number(value);
        if (value.trim() === '' || !Number.isInteger(number) || number < range[0] || number > range[1]) {
          throw new SqsError('InvalidAttributeValue', `Invalid value for the parameter ${name}.`);
        }
        normalized[name] = String(number);
      } else if (name === 'RedrivePolicy') {
        normalized[name] = value === '' ? '' : this.normalizeRedrivePolicy(value, queueName);
      } else if (name === 'RedriveAllowPolicy' || name === 'Policy') {
        if (value !== '') {
          try {
            JSON.parse(value);
          } catch {
            throw new SqsError('InvalidAttributeValue', `Invalid value for the parameter ${name}.`);
          }
        }
        normalized[name] = value;
      } else {
        normalized[name] = value;
      }
    }
    return normalized;
  }

  private normalizeRedrivePolicy(value: string, queueName: string): string {
    const invalid = (reason: string) =>
      new SqsError(
        'InvalidParameterValue',
        `Value ${value} for parameter RedrivePolicy is invalid. Reason: ${reason}`,
      );
    let policy: { deadLetterTargetArn?: unknown; maxReceiveCount?: unknown };
    try {
      policy = JSON.parse(value) as typeof policy;
    } catch {
      throw invalid('Redrive policy is not a valid JSON map.');
    }
    const maxReceiveCount = Number(policy.maxReceiveCount);
    if (!Number.isInteger(maxReceiveCount) || maxReceiveCount < 1 || maxReceiveCount > 1000) {
      throw invalid('Invalid value for maxReceiveCount: must be an integer from 1 to 1000.');
    }
    const arn = policy.deadLetterTargetArn;
    if (typeof arn !== 'string')
      throw invalid('Redrive policy does not contain mandatory attribute: deadLetterTargetArn.');
    const target = this.queueNameFromArn(arn);
    if (!target) throw invalid('Dead letter target does not exist.');
    if (target === queueName) throw invalid('Dead letter target cannot be the queue itself.');
    return JSON.stringify({ deadLetterTargetArn: arn, maxReceiveCount });
  }

  private wake(queue: Queue): void {
    const wakers = [...queue.wakers];
    queue.wakers.clear();
    for (const wake of wakers) wake();
  }

  /** How long until a delayed or in-flight message becomes visible (a long poll's next look). */
  private nextDueInMs(queue: Queue): number {
    const now = this.clock();
    let next = Number.POSITIVE_INFINITY;
    for (const message of queue.messages.values()) {
      if (message.visibleAt > now) next = Math.min(next, message.visibleAt - now);
    }
    return Math.min(Math.max(next, 1), MAX_WAKE_DELAY_MS);
  }

  private waitForChange(queue: Queue, timeoutMs: number, signal: AbortSignal | undefined): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        queue.wakers.delete(done);
        signal?.removeEventListener('abort', done);
        this.closing.signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      queue.wakers.add(done);
      signal?.addEventListener('abort', done, { once: true });
      this.closing.signal.addEventListener('abort', done, { once: true });
    });
  }
}

function present(message: StoredMessage, input: ReceiveMessagesInput): ReceivedMessage {
  const wanted = new Set(input.attributeNames ?? []);
  const all = wanted.has('All');
  const system: Record<string, string> = {
    SenderId: message.senderId ?? SENDER_ID,
    SentTimestamp: String(message.sentTimestamp),
    ApproximateReceiveCount: String(message.receiveCount),
    ApproximateFirstReceiveTimestamp: String(message.firstReceiveTimestamp),
  };
  const traceHeader = message.messageSystemAttributes?.AWSTraceHeader?.stringValue;
  if (traceHeader !== undefined) system.AWSTraceHeader = traceHeader;
  if (message.deadLetterQueueSourceArn) system.DeadLetterQueueSourceArn = message.deadLetterQueueSourceArn;
  const attributes: Record<string, string> = {};
  for (const [name, value] of Object.entries(system)) {
    if (all || wanted.has(name)) attributes[name] = value;
  }
  const selected = selectMessageAttributes(message.messageAttributes, input.messageAttributeNames ?? []);
  return {
    messageId: message.messageId,
    receiptHandle: message.receiptHandle!,
    body: message.body,
    md5OfBody: message.md5OfBody,
    ...(message.md5OfMessageAttributes && { md5OfMessageAttributes: message.md5OfMessageAttributes }),
    attributes,
    ...(selected && { messageAttributes: selected }),
  };
}

function stateOf(message: StoredMessage, now: number): MessageSnapshot['state'] {
  if (message.visibleAt <= now) return 'visible';
  return message.receiptHandle === undefined ? 'delayed' : 'inFlight';
}

function parseReceiptHandle(receiptHandle: string): string {
  const decoded = Buffer.from(String(receiptHandle), 'base64').toString('utf8');
  const [messageId, nonce] = decoded.split(':');
  if (!messageId || !nonce || Buffer.from(decoded).toString('base64') !== receiptHandle) {
    throw new SqsError(
      'ReceiptHandleIsInvalid',
      `The input receipt handle "${receiptHandle}" is not a valid receipt handle.`,
    );
  }
  return messageId;
}

function checkVisibilityTimeout(seconds: number): void {
  if (!Number.isInteger(seconds) || seconds < 0 || seconds > 43200) {
    throw invalidParameter('VisibilityTimeout', seconds, 'Must be >= 0 and <= 43200, if provided.');
  }
}

function checkBatchEntries(entries: ReadonlyArray<{ id: string }>): void {
  if (entries.length === 0) {
    throw new SqsError(
      'EmptyBatchRequest',
      'There should be at least one SendMessageBatchRequestEntry in the request.',
    );
  }
  if (entries.length > 10) {
    throw new SqsError(
      'TooManyEntriesInBatchRequest',
      `Maximum number of entries per request are 10. You have sent ${entries.length}.`,
    );
  }
  const seen = new Set<string>();
  for (const { id } of entries) {
    if (typeof id !== 'string' || !BATCH_ENTRY_ID.test(id)) {
      throw new SqsError(
        'InvalidBatchEntryId',
        'A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long.',
      );
    }
    if (seen.has(id)) throw new SqsError('BatchEntryIdsNotDistinct', `Id ${id} repeated.`);
    seen.add(id);
  }
}

function batchError(id: string, error: unknown): BatchResultError {
  if (error instanceof SqsError) {
    return { id, senderFault: true, code: error.queryCode, message: error.message };
  }
  throw error;
}

function messageSize(input: SendMessageInput): number {
  let size = Buffer.byteLength(input.body ?? '', 'utf8');
  for (const [name, value] of Object.entries(input.messageAttributes ?? {})) {
    size += Buffer.byteLength(name) + Buffer.byteLength(value.dataType ?? '');
    if (value.stringValue !== undefined) size += Buffer.byteLength(value.stringValue);
    if (value.binaryValue !== undefined) size += Buffer.from(value.binaryValue, 'base64').length;
  }
  return size;
}

function checkMessageAttributes(attributes: Record<string, MessageAttributeValue> | undefined): void {
  if (!attributes) return;
  const entries = Object.entries(attributes);
  if (entries.length > 10) {
    throw invalidParameter(
      'MessageAttributes',
      entries.length,
      'Number of message attributes cannot exceed 10.',
    );
  }
  for (const [name, value] of entries) checkAttribute('Message (user)', name, value);
}

function checkSystemAttributes(attributes: Record<string, MessageAttributeValue> | undefined): void {
  for (const [name, value] of Object.entries(attributes ?? {})) {
    if (name !== 'AWSTraceHeader') {
      throw invalidParameter(
        'MessageSystemAttributes',
        name,
        `Message system attribute name '${name}' is invalid.`,
      );
    }
    checkAttribute('Message system', name, value);
  }
}

function checkAttribute(kind: string, name: string, value: MessageAttributeValue): void {
  if (!ATTRIBUTE_NAME.test(name)) {
    throw invalidParameter('MessageAttributes', name, `${kind} attribute name '${name}' is invalid.`);
  }
  const dataType = value?.dataType ?? '';
  const base = /^(String|Number|Binary)(\..+)?$/.exec(dataType)?.[1];
  if (!base) {
    throw invalidParameter(
      'MessageAttributes',
      dataType,
      `${kind} attribute '${name}' has an invalid message attribute type, the set of supported type prefixes is Binary, Number, and String.`,
    );
  }
  const missing = () =>
    invalidParameter(
      'MessageAttributes',
      name,
      `${kind} attribute '${name}' must contain a non-empty message attribute value for message attribute type '${dataType}'.`,
    );
  if (base === 'Binary') {
    if (value.binaryValue === undefined || value.binaryValue.length === 0) throw missing();
    return;
  }
  if (value.stringValue === undefined || value.stringValue.length === 0) throw missing();
  if (INVALID_CHARACTERS.test(value.stringValue)) {
    throw new SqsError('InvalidMessageContents', `${kind} attribute '${name}' contains invalid characters.`);
  }
  if (base === 'Number' && !Number.isFinite(Number(value.stringValue))) {
    throw invalidParameter(
      'MessageAttributes',
      value.stringValue,
      `Can't cast the value of message (user) attribute '${name}' to a number.`,
    );
  }
}

function selectMessageAttributes(
  attributes: Record<string, MessageAttributeValue> | undefined,
  names: readonly string[],
): Record<string, MessageAttributeValue> | undefined {
  if (!attributes || names.length === 0) return undefined;
  const matches = (name: string) =>
    names.some(
      (wanted) =>
        wanted === 'All' ||
        wanted === '.*' ||
        wanted === name ||
        (wanted.endsWith('.*') && name.startsWith(wanted.slice(0, -1))),
    );
  const selected: Record<string, MessageAttributeValue> = {};
  for (const [name, value] of Object.entries(attributes)) {
    if (matches(name)) selected[name] = structuredClone(value);
  }
  return Object.keys(selected).length > 0 ? selected : undefined;
}
