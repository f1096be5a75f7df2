import {
  ChangeMessageVisibilityBatchCommand,
  GetQueueAttributesCommand,
  ListMessageMoveTasksCommand,
  type Message,
  ReceiveMessageCommand,
  SQSClient,
  type SQSClientConfig,
  StartMessageMoveTaskCommand,
} from '@aws-sdk/client-sqs';
import {
  awsClientConfig,
  type CliIo,
  defineCli,
  type Env,
  parseCli,
  runWhenMain,
  UsageError,
} from './cli-support.js';

const USAGE = `Usage: npm run dlq -- list [--max N] [--json]
       npm run dlq -- redrive [--rate N] [--wait SECONDS]
       (either with --local --endpoint <SQS url> for the local stack)

list     shows the jobs in the dead-letter queue — kind, idempotency key, receives, when sent,
         why it failed — without consuming them: each is received with a short visibility
         timeout and made visible again at once. --max N (default 50) caps how many.
redrive  moves every job in the DLQ back to the jobs queue (SQS StartMessageMoveTask), at
         --rate N messages per second (default: as fast as SQS goes), and waits up to --wait
         seconds (default 60) for the move to finish. Fix the cause first: a job that failed
         for good fails again. Every kind works, fix results included: a result is accepted
         for the job it names as stored and launched, whoever redrives it. Jobs refused for
         their sender are quarantined and never run; purge them after review.

Environment: DEAD_LETTER_QUEUE_URL, JOBS_QUEUE_URL (redrive's destination) — the stack outputs
DeadLetterQueueUrl and JobsQueueUrl — and the usual AWS credentials, AWS_REGION and optional
AWS_ENDPOINT_URL_SQS.
--local: the local stack's queues at --endpoint (the "SQS http://127.0.0.1:…" line \`npm start\`
prints; default AWS_ENDPOINT_URL_SQS), with the sandbox's throwaway credentials.`;

/** The local stack's queue names and account (local/local-stack.ts). */
const LOCAL_QUEUES = { account: '000000000000', jobs: 'bugbot-jobs', deadLetter: 'bugbot-jobs-dlq' };
/** Long enough to read a page of messages, short enough that nothing waits on a crashed listing. */
const LIST_VISIBILITY_SECONDS = 30;
const DEFAULT_LIST_MAX = 50;

interface Queues {
  readonly jobs?: string;
  readonly deadLetter: string;
}

/** One dead-lettered job as listed: identifiers and reasons, never the report text it carries. */
export interface ListedJob {
  readonly messageId: string;
  readonly kind: string;
  readonly idempotencyKey: string;
  readonly receives: number;
  readonly sentAt?: string;
  readonly failure: string;
}

export const main = defineCli(USAGE, async (argv, env, io) => {
  const { values, positionals } = parseCli(argv, {
    max: { type: 'string' },
    rate: { type: 'string' },
    wait: { type: 'string' },
    json: { type: 'boolean', default: false },
    local: { type: 'boolean', default: false },
    endpoint: { type: 'string' },
  });
  const [command, ...rest] = positionals;
  if (rest.length > 0) throw new UsageError(`unexpected argument: ${rest[0]}`);
  if (command !== 'list' && command !== 'redrive') throw new UsageError('say list or redrive');

  const endpoint = values.endpoint ?? env.AWS_ENDPOINT_URL_SQS;
  if (values.local && !endpoint)
    throw new UsageError('--local needs --endpoint <the SQS URL npm start printed>');
  const queues: Queues = values.local
    ? {
        jobs: `${endpoint!.replace(/\/+$/, '')}/${LOCAL_QUEUES.account}/${LOCAL_QUEUES.jobs}`,
        deadLetter: `${endpoint!.replace(/\/+$/, '')}/${LOCAL_QUEUES.account}/${LOCAL_QUEUES.deadLetter}`,
      }
    : { jobs: env.JOBS_QUEUE_URL, deadLetter: requireEnv(env, 'DEAD_LETTER_QUEUE_URL') };
  const client = new SQSClient(buildClientConfig(env, endpoint, values.local));
  try {
    if (command === 'list') {
      if (values.rate !== undefined || values.wait !== undefined)
        throw new UsageError('--rate and --wait apply to redrive');
      const max = positiveInteger(values.max ?? String(DEFAULT_LIST_MAX), '--max');
      const listed = await listDeadLetteredJobs(client, queues.deadLetter, max);
      printListing(listed, max, values.json, io);
      return 0;
    }
    if (values.max !== undefined)
      throw new UsageError(
        'redrive moves every job in the DLQ; --max applies to list (use --rate to slow it)',
      );
    if (!queues.jobs) throw new UsageError('JOBS_QUEUE_URL is not set (redrive needs the destination)');
    return await redrive(client, queues.deadLetter, queues.jobs, {
      rate: values.rate === undefined ? undefined : positiveInteger(values.rate, '--rate'),
      waitSeconds: values.wait === undefined ? 60 : positiveInteger(values.wait, '--wait'),
      io,
    });
  } finally {
    client.destroy();
  }
});

/**
 * Receives up to `max` DLQ messages with a short visibility timeout, then makes every one visible
 * again (ChangeMessageVisibility 0) even if the listing fails half-way: nothing is consumed.
 */
export async function listDeadLetteredJobs(
  client: SQSClient,
  queueUrl: string,
  max: number,
): Promise<ListedJob[]> {
  const listed = new Map<string, ListedJob>();
  const receipts: string[] = [];
  try {
    while (listed.size < max) {
      const { Messages = [] } = await client.send(
        new ReceiveMessageCommand({
          QueueUrl: queueUrl,
          MaxNumberOfMessages: Math.min(10, max - listed.size),
          VisibilityTimeout: LIST_VISIBILITY_SECONDS,
          // Long polling asks every SQS server, so a short page does not hide messages.
          WaitTimeSeconds: 1,
          MessageSystemAttributeNames: [
            'ApproximateReceiveCount',
            'SentTimestamp',
            'DeadLetterQueueSourceArn',
          ],
          MessageAttributeNames: ['failure'],
        }),
      );
      if (Messages.length === 0) break;
      for (const message of Messages) {
        if (message.ReceiptHandle) receipts.push(message.ReceiptHandle);
        if (message.MessageId && !listed.has(message.MessageId))
          listed.set(message.MessageId, describeMessage(message));
      }
    }
  } finally {
    await releaseMessages(client, queueUrl, receipts);
  }
  return [...listed.values()];
}

async function releaseMessages(
  client: SQSClient,
  queueUrl: string,
  receipts: readonly string[],
): Promise<void> {
  for (let start = 0; start < receipts.length; start += 10) {
    const chunk = receipts.slice(start, start + 10);
    await client.send(
      new ChangeMessageVisibilityBatchCommand({
        QueueUrl: queueUrl,
        Entries: chunk.map((receiptHandle, index) => ({
          Id: String(start + index),
          ReceiptHandle: receiptHandle,
          VisibilityTimeout: 0,
        })),
      }),
    );
  }
}

function describeMessage(message: Message): ListedJob {
  let kind = '(not a job: body is not JSON)';
  let idempotencyKey = '-';
  try {
    const parsed = JSON.parse(message.Body ?? '') as {
      kind?: unknown;
      idempotencyKey?: unknown;
      quarantined?: unknown;
      body?: unknown;
    };
    // A job refused for its sender is kept wrapped, so a redrive can never run it.
    const quarantined = parsed.quarantined !== undefined && typeof parsed.body === 'string';
    const body = (quarantined ? JSON.parse(parsed.body as string) : parsed) as typeof parsed;
    kind = typeof body.kind === 'string' ? body.kind : '(not a job: no kind)';
    if (quarantined) kind = `(quarantined, never runs) ${kind}`;
    if (typeof body.idempotencyKey === 'string') idempotencyKey = body.idempotencyKey;
  } catch {
    // Listed as not a job; its body is not printed (it may hold report text).
  }
  const attributes = message.Attributes ?? {};
  const sent = Number(attributes.SentTimestamp);
  // The processor dead-letters a permanent failure itself and says why; SQS moves a job that
  // kept failing after the redrive policy's receives, and says nothing.
  const reason = message.MessageAttributes?.failure?.StringValue;
  const failure = reason ?? (attributes.DeadLetterQueueSourceArn ? 'retries exhausted' : 'unknown');
  return {
    messageId: message.MessageId ?? '-',
    kind,
    idempotencyKey,
    receives: Number(attributes.ApproximateReceiveCount ?? 0),
    ...(Number.isFinite(sent) && sent > 0 ? { sentAt: new Date(sent).toISOString() } : {}),
    failure,
  };
}

function printListing(listed: readonly ListedJob[], max: number, json: boolean, io: CliIo): void {
  if (json) {
    io.out(JSON.stringify(listed, null, 2));
    return;
  }
  if (listed.length === 0) {
    io.out('the DLQ is empty');
    return;
  }
  io.out(
    `${listed.length} job(s) in the DLQ${listed.length === max ? ` (the first ${max}; --max for more)` : ''}:`,
  );
  const rows = [
    ['sent', 'kind', 'idempotency key', 'receives', 'failure'],
    ...listed.map((job) => [
      job.sentAt ?? '-',
      job.kind,
      job.idempotencyKey,
      String(job.receives),
      job.failure,
    ]),
  ];
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  for (const row of rows)
    io.out(
      `  ${row
        .map((cell, column) => cell.padEnd(widths[column]!))
        .join('  ')
        .trimEnd()}`,
    );
  io.out('nothing was consumed: every listed job is visible in the DLQ again');
}

async function redrive(
  client: SQSClient,
  deadLetterUrl: string,
  jobsUrl: string,
  options: { rate?: number; waitSeconds: number; io: CliIo },
): Promise<number> {
  const { io } = options;
  const dlq = await readAttributes(client, deadLetterUrl, ['QueueArn', 'ApproximateNumberOfMessages']);
  const waiting = Number(dlq.ApproximateNumberOfMessages ?? 0);
  if (waiting === 0) {
    io.out('the DLQ is empty: nothing to redrive');
    return 0;
  }
  const jobs = await readAttributes(client, jobsUrl, ['QueueArn']);
  // An explicit destination: jobs the processor dead-lettered itself have no source queue on record.
  await client.send(
    new StartMessageMoveTaskCommand({
      SourceArn: dlq.QueueArn,
      DestinationArn: jobs.QueueArn,
      ...(options.rate !== undefined ? { MaxNumberOfMessagesPerSecond: options.rate } : {}),
    }),
  );
  io.out(`moving about ${waiting} job(s) from the DLQ back to the jobs queue…`);
  const deadline = Date.now() + options.waitSeconds * 1000;
  for (;;) {
    const { Results = [] } = await client.send(
      new ListMessageMoveTasksCommand({ SourceArn: dlq.QueueArn, MaxResults: 1 }),
    );
    const task = Results[0];
    const moved = task?.ApproximateNumberOfMessagesMoved ?? 0;
    if (task?.Status === 'COMPLETED') {
      io.out(`done: ${moved} job(s) moved; the processor picks them up now`);
      return 0;
    }
    if (task?.Status === 'FAILED' || task?.Status === 'CANCELLED') {
      io.err(
        `the move ${task.Status.toLowerCase()} after ${moved} job(s): ${task.FailureReason ?? 'no reason given'}`,
      );
      return 1;
    }
    if (Date.now() >= deadline) {
      io.out(`still moving (${moved} so far); it carries on without this script — run list to follow it`);
      return 0;
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

async function readAttributes(
  client: SQSClient,
  queueUrl: string,
  names: ('QueueArn' | 'ApproximateNumberOfMessages')[],
): Promise<Record<string, string> & { QueueArn: string }> {
  const { Attributes = {} } = await client.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: names }),
  );
  if (!Attributes.QueueArn) throw new Error(`no QueueArn for ${queueUrl}`);
  return Attributes as Record<string, string> & { QueueArn: string };
}

function buildClientConfig(env: Env, endpoint: string | undefined, local: boolean): SQSClientConfig {
  if (!local) return awsClientConfig({ ...env, AWS_ENDPOINT_URL_SQS: endpoint }, 'SQS');
  return { endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } };
}

function requireEnv(env: Env, name: string): string {
  const value = env[name];
  if (!value) throw new UsageError(`${name} is not set (see the stack outputs, or use --local)`);
  return value;
}

function positiveInteger(value: string, flag: string): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number < 1)
    throw new UsageError(`${flag} must be a positive whole number`);
  return number;
}

runWhenMain(import.meta.url, main);
