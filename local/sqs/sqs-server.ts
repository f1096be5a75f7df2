import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SqsError } from './errors.js';
import type { LocalSqs, MessageAttributeValue, MessageMoveTask, ReceivedMessage } from './local-sqs.js';

/**
 * SQS's AWS JSON 1.0 protocol (query-compatible), as `@aws-sdk/client-sqs` v3 speaks it:
 * `POST /` with `x-amz-target: AmazonSQS.<Operation>` and a JSON body; errors carry `__type` and
 * the `x-amzn-query-error` header the SDK maps back to its exception classes. Requests are not
 * signature-checked: this is a local stand-in.
 */

export interface SqsServerOptions {
  engine: LocalSqs;
  /**
   * The `SenderId` of messages sent with this access key id (read from the SigV4 `Credential` of
   * the request, as AWS resolves the caller). Default: the engine's fixed sender for everyone.
   */
  identify?: (accessKeyId: string) => string | undefined;
  /** 0 (the default) picks a free port. */
  port?: number;
  host?: string;
}

export interface SqsServer {
  /** `http://host:port`: the value for `AWS_ENDPOINT_URL_SQS`. */
  url: string;
  port: number;
  /** `http://host:port/000000000000/<name>`. */
  queueUrl(queueName: string): string;
  /** Ends pending long polls (they answer with no messages), then stops listening. */
  close(): Promise<void>;
}

type Input = Record<string, unknown>;
type Output = Record<string, unknown>;
type Operation = (
  input: Input,
  context: { engine: LocalSqs; baseUrl: string; signal: AbortSignal; senderId?: string },
) => Output | Promise<Output>;

const MAX_REQUEST_BYTES = 4 * 1024 * 1024;
const CONTENT_TYPE = 'application/x-amz-json-1.0';

export async function startSqsServer(options: SqsServerOptions): Promise<SqsServer> {
  const { engine } = options;
  const host = options.host ?? '127.0.0.1';
  const closing = new AbortController();
  let baseUrl = '';

  const server = createServer((request, response) => {
    const requestAbort = new AbortController();
    response.once('close', () => requestAbort.abort());
    const signal = AbortSignal.any([requestAbort.signal, closing.signal]);
    const accessKeyId = /Credential=([^/,\s]+)\//.exec(String(request.headers.authorization ?? ''))?.[1];
    const senderId = accessKeyId ? options.identify?.(accessKeyId) : undefined;
    void handleRequest(request, response, {
      engine,
      baseUrl: baseUrlOf(request, baseUrl),
      signal,
      ...(senderId ? { senderId } : {}),
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  baseUrl = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;

  return {
    url: baseUrl,
    port,
    queueUrl: (queueName) => engine.queueUrl(baseUrl, queueName),
    close: async () => {
      closing.abort();
      // Let the long polls just ended write their answers before idle keep-alive sockets close.
      await new Promise((resolve) => setTimeout(resolve, 10));
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        setTimeout(() => server.closeAllConnections(), 200).unref();
      });
    },
  };
}

function baseUrlOf(request: IncomingMessage, fallback: string): string {
  const host = request.headers.host;
  return host ? `http://${host}` : fallback;
}

async function handleRequest(
  request: IncomingMessage,
  response: ServerResponse,
  context: { engine: LocalSqs; baseUrl: string; signal: AbortSignal; senderId?: string },
): Promise<void> {
  try {
    const target = request.headers['x-amz-target'];
    const body = await readBody(request);
    if (request.method !== 'POST' || typeof target !== 'string' || !target.startsWith('AmazonSQS.')) {
      throw new SqsError(
        'UnknownOperationException',
        'This local SQS speaks the AWS JSON 1.0 protocol only (POST with x-amz-target: AmazonSQS.<Operation>).',
      );
    }
    const name = target.slice('AmazonSQS.'.length);
    const operation = Object.hasOwn(OPERATIONS, name) ? OPERATIONS[name] : undefined;
    if (!operation) {
      throw new SqsError('UnsupportedOperation', `The local SQS does not implement ${name}.`);
    }
    let input: unknown;
    try {
      input = body.length === 0 ? {} : JSON.parse(body.toString('utf8'));
    } catch {
      throw new SqsError('SerializationException', 'The request body is not valid JSON.');
    }
    if (typeof input !== 'object' || input === null || Array.isArray(input)) {
      throw new SqsError('SerializationException', 'The request body must be a JSON object.');
    }
    const output = await operation(input as Input, context);
    send(response, 200, output);
  } catch (error) {
    if (error instanceof SqsError) {
      send(
        response,
        error.status,
        { __type: `com.amazonaws.sqs#${error.type}`, message: error.message },
        {
          'x-amzn-query-error': `${error.queryCode};Sender`,
        },
      );
      return;
    }
    send(
      response,
      500,
      { __type: 'com.amazonaws.sqs#InternalError', message: 'internal error' },
      {
        'x-amzn-query-error': 'InternalError;Receiver',
      },
    );
    console.error('local SQS: unexpected error', error);
  }
}

function send(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  if (response.destroyed || response.writableEnded) return;
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': CONTENT_TYPE,
    'content-length': Buffer.byteLength(text),
    'x-amzn-requestid': randomUUID(),
    ...headers,
  });
  response.end(text);
}

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_REQUEST_BYTES) throw new SqsError('InvalidParameterValue', 'The request is too large.');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

// ---- operations (wire shapes ↔ engine) ---------------------------------------------------------

const OPERATIONS: Record<string, Operation> = {
  CreateQueue: (input, { engine, baseUrl }) => {
    const name = requireString(input, 'QueueName');
    engine.createQueue(name, stringMap(input.Attributes), stringMap(input.tags));
    return { QueueUrl: engine.queueUrl(baseUrl, name) };
  },
  GetQueueUrl: (input, { engine, baseUrl }) => {
    const name = requireString(input, 'QueueName');
    if (!engine.hasQueue(name))
      throw new SqsError('QueueDoesNotExist', 'The specified queue does not exist.');
    return { QueueUrl: engine.queueUrl(baseUrl, name) };
  },
  ListQueues: (input, { engine, baseUrl }) => {
    const names = engine.listQueues(optionalString(input, 'QueueNamePrefix') ?? '');
    const maxResults = optionalInteger(input, 'MaxResults');
    if (maxResults !== undefined && (maxResults < 1 || maxResults > 1000)) {
      throw new SqsError(
        'InvalidParameterValue',
        'Value for parameter MaxResults is invalid. Reason: must be between 1 and 1000.',
      );
    }
    const start = Number(optionalString(input, 'NextToken') ?? '0') || 0;
    const end = maxResults === undefined ? names.length : start + maxResults;
    const page = names.slice(start, end).map((name) => engine.queueUrl(baseUrl, name));
    return {
      ...(page.length > 0 && { QueueUrls: page }),
      ...(maxResults !== undefined && end < names.length && { NextToken: String(end) }),
    };
  },
  DeleteQueue: (input, { engine }) => {
    engine.deleteQueue(queueOf(engine, input));
    return {};
  },
  GetQueueAttributes: (input, { engine }) => {
    const queue = queueOf(engine, input);
    const names = stringList(input.AttributeNames);
    // Like SQS, asking for no names returns no attributes (the engine's default is All).
    const attributes = names.length > 0 ? engine.getQueueAttributes(queue, names) : {};
    return Object.keys(attributes).length > 0 ? { Attributes: attributes } : {};
  },
  SetQueueAttributes: (input, { engine }) => {
    engine.setQueueAttributes(queueOf(engine, input), stringMap(input.Attributes));
    return {};
  },
  TagQueue: (input, { engine }) => {
    engine.tagQueue(queueOf(engine, input), stringMap(input.Tags));
    return {};
  },
  UntagQueue: (input, { engine }) => {
    engine.untagQueue(queueOf(engine, input), stringList(input.TagKeys));
    return {};
  },
  ListQueueTags: (input, { engine }) => {
    const tags = engine.listQueueTags(queueOf(engine, input));
    return Object.keys(tags).length > 0 ? { Tags: tags } : {};
  },
  ListDeadLetterSourceQueues: (input, { engine, baseUrl }) => ({
    queueUrls: engine
      .listDeadLetterSourceQueues(queueOf(engine, input))
      .map((name) => engine.queueUrl(baseUrl, name)),
  }),
  SendMessage: (input, { engine, senderId }) => {
    const result = engine.sendMessage(queueOf(engine, input), {
      body: requireString(input, 'MessageBody'),
      ...optionalField('senderId', senderId),
      ...optionalField('delaySeconds', optionalInteger(input, 'DelaySeconds')),
      ...optionalField('messageAttributes', attributesFromWire(input.MessageAttributes)),
      ...optionalField('messageSystemAttributes', attributesFromWire(input.MessageSystemAttributes)),
    });
    return {
      MessageId: result.messageId,
      MD5OfMessageBody: result.md5OfMessageBody,
      ...optionalField('MD5OfMessageAttributes', result.md5OfMessageAttributes),
      ...optionalField('MD5OfMessageSystemAttributes', result.md5OfMessageSystemAttributes),
    };
  },
  SendMessageBatch: (input, { engine, senderId }) => {
    const queue = queueOf(engine, input);
    const entries = entryList(input).map((entry) => ({
      id: String(entry.Id),
      ...optionalField('senderId', senderId),
      body: typeof entry.MessageBody === 'string' ? entry.MessageBody : '',
      ...optionalField('delaySeconds', optionalInteger(entry, 'DelaySeconds')),
      ...optionalField('messageAttributes', attributesFromWire(entry.MessageAttributes)),
      ...optionalField('messageSystemAttributes', attributesFromWire(entry.MessageSystemAttributes)),
    }));
    const result = engine.sendMessageBatch(queue, entries);
    return {
      Successful: result.successful.map((entry) => ({
        Id: entry.id,
        MessageId: entry.messageId,
        MD5OfMessageBody: entry.md5OfMessageBody,
        ...optionalField('MD5OfMessageAttributes', entry.md5OfMessageAttributes),
        ...optionalField('MD5OfMessageSystemAttributes', entry.md5OfMessageSystemAttributes),
      })),
      Failed: result.failed.map(failedToWire),
    };
  },
  ReceiveMessage: async (input, { engine, signal }) => {
    const messages = await engine.receiveMessages(queueOf(engine, input), {
      ...optionalField('maxNumberOfMessages', optionalInteger(input, 'MaxNumberOfMessages')),
      ...optionalField('visibilityTimeout', optionalInteger(input, 'VisibilityTimeout')),
      ...optionalField('waitTimeSeconds', optionalInteger(input, 'WaitTimeSeconds')),
      attributeNames: [...stringList(input.AttributeNames), ...stringList(input.MessageSystemAttributeNames)],
      messageAttributeNames: stringList(input.MessageAttributeNames),
      signal,
    });
    return messages.length > 0 ? { Messages: messages.map(messageToWire) } : {};
  },
  DeleteMessage: (input, { engine }) => {
    engine.deleteMessage(queueOf(engine, input), requireString(input, 'ReceiptHandle'));
    return {};
  },
  DeleteMessageBatch: (input, { engine }) => {
    const queue = queueOf(engine, input);
    const result = engine.deleteMessageBatch(
      queue,
      entryList(input).map((entry) => ({ id: String(entry.Id), receiptHandle: String(entry.ReceiptHandle) })),
    );
    return {
      Successful: result.successful.map(({ id }) => ({ Id: id })),
      Failed: result.failed.map(failedToWire),
    };
  },
  ChangeMessageVisibility: (input, { engine }) => {
    const timeout = optionalInteger(input, 'VisibilityTimeout');
    if (timeout === undefined) {
      throw new SqsError('MissingParameter', 'The request must contain the parameter VisibilityTimeout.');
    }
    engine.changeMessageVisibility(queueOf(engine, input), requireString(input, 'ReceiptHandle'), timeout);
    return {};
  },
  ChangeMessageVisibilityBatch: (input, { engine }) => {
    const queue = queueOf(engine, input);
    const result = engine.changeMessageVisibilityBatch(
      queue,
      entryList(input).map((entry) => ({
        id: String(entry.Id),
        receiptHandle: String(entry.ReceiptHandle),
        ...optionalField('visibilityTimeout', optionalInteger(entry, 'VisibilityTimeout')),
      })),
    );
    return {
      Successful: result.successful.map(({ id }) => ({ Id: id })),
      Failed: result.failed.map(failedToWire),
    };
  },
  PurgeQueue: (input, { engine }) => {
    engine.purgeQueue(queueOf(engine, input));
    return {};
  },
  StartMessageMoveTask: (input, { engine }) => {
    const task = engine.startMessageMoveTask({
      sourceArn: requireString(input, 'SourceArn'),
      ...optionalField('destinationArn', optionalString(input, 'DestinationArn')),
      ...optionalField(
        'maxNumberOfMessagesPerSecond',
        optionalInteger(input, 'MaxNumberOfMessagesPerSecond'),
      ),
    });
    return { TaskHandle: task.taskHandle };
  },
  ListMessageMoveTasks: (input, { engine }) => {
    const maxResults = optionalInteger(input, 'MaxResults') ?? 1;
    if (maxResults < 1 || maxResults > 10) {
      throw new SqsError(
        'InvalidParameterValue',
        'Value for parameter MaxResults is invalid. Reason: must be between 1 and 10.',
      );
    }
    const tasks = engine.listMessageMoveTasks(requireString(input, 'SourceArn'), maxResults);
    return { Results: tasks.map(taskToWire) };
  },
};

function queueOf(engine: LocalSqs, input: Input): string {
  return engine.queueNameFromUrl(requireString(input, 'QueueUrl'));
}

function requireString(input: Input, name: string): string {
  const value = input[name];
  if (typeof value !== 'string' || value === '') {
    throw new SqsError('MissingParameter', `The request must contain the parameter ${name}.`);
  }
  return value;
}

function optionalString(input: Input, name: string): string | undefined {
  const value = input[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new SqsError('SerializationException', `${name} must be a string.`);
  return value;
}

function optionalInteger(input: Input, name: string): number | undefined {
  const value = input[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw new SqsError('SerializationException', `${name} must be an integer.`);
  }
  return value;
}

function optionalField<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

function stringMap(value: unknown): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value))
    throw new SqsError('SerializationException', 'expected a map');
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, String(item)]));
}

function stringList(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new SqsError('SerializationException', 'expected a list');
  return value.map(String);
}

function entryList(input: Input): Input[] {
  const entries = input.Entries;
  if (entries === undefined || entries === null) {
    throw new SqsError('MissingParameter', 'The request must contain the parameter Entries.');
  }
  if (!Array.isArray(entries) || entries.some((entry) => typeof entry !== 'object' || entry === null)) {
    throw new SqsError('SerializationException', 'Entries must be a list of objects.');
  }
  return entries as Input[];
}

function attributesFromWire(value: unknown): Record<string, MessageAttributeValue> | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value))
    throw new SqsError('SerializationException', 'expected a map');
  const attributes: Record<string, MessageAttributeValue> = {};
  for (const [name, raw] of Object.entries(value as Record<string, Input>)) {
    attributes[name] = {
      dataType: typeof raw?.DataType === 'string' ? raw.DataType : '',
      ...optionalField('stringValue', typeof raw?.StringValue === 'string' ? raw.StringValue : undefined),
      ...optionalField('binaryValue', typeof raw?.BinaryValue === 'string' ? raw.BinaryValue : undefined),
      ...optionalField(
        'stringListValues',
        Array.isArray(raw?.StringListValues) ? raw.StringListValues.map(String) : undefined,
      ),
      ...optionalField(
        'binaryListValues',
        Array.isArray(raw?.BinaryListValues) ? raw.BinaryListValues.map(String) : undefined,
      ),
    };
  }
  return attributes;
}

function attributesToWire(attributes: Record<string, MessageAttributeValue>): Record<string, Output> {
  const wire: Record<string, Output> = {};
  for (const [name, value] of Object.entries(attributes)) {
    wire[name] = {
      DataType: value.dataType,
      ...optionalField('StringValue', value.stringValue),
      ...optionalField('BinaryValue', value.binaryValue),
      ...optionalField('StringListValues', value.stringListValues),
      ...optionalField('BinaryListValues', value.binaryListValues),
    };
  }
  return wire;
}

function messageToWire(message: ReceivedMessage): Output {
  return {
    MessageId: message.messageId,
    ReceiptHandle: message.receiptHandle,
    MD5OfBody: message.md5OfBody,
    Body: message.body,
    ...(Object.keys(message.attributes).length > 0 && { Attributes: message.attributes }),
    ...optionalField('MD5OfMessageAttributes', message.md5OfMessageAttributes),
    ...(message.messageAttributes && { MessageAttributes: attributesToWire(message.messageAttributes) }),
  };
}

function failedToWire(entry: { id: string; senderFault: boolean; code: string; message: string }): Output {
  return { Id: entry.id, SenderFault: entry.senderFault, Code: entry.code, Message: entry.message };
}

function taskToWire(task: MessageMoveTask): Output {
  return {
    ...(task.status === 'RUNNING' && { TaskHandle: task.taskHandle }),
    Status: task.status,
    SourceArn: task.sourceArn,
    ...optionalField('DestinationArn', task.destinationArn),
    ...optionalField('MaxNumberOfMessagesPerSecond', task.maxNumberOfMessagesPerSecond),
    ApproximateNumberOfMessagesMoved: task.approximateNumberOfMessagesMoved,
    ApproximateNumberOfMessagesToMove: task.approximateNumberOfMessagesToMove,
    ...optionalField('FailureReason', task.failureReason),
    StartedTimestamp: task.startedTimestamp,
  };
}
