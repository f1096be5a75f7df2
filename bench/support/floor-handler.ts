import { createHmac, createPublicKey, timingSafeEqual, verify } from 'node:crypto';
import { Agent, request } from 'node:http';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';

/**
 * The floor the ingress handlers are measured against: the least a handler on this path can do.
 * Bundled with the Lambdas' options; its SQS clients copy the handlers' client settings, so the
 * difference between a handler and this is the handler's own work (parsing, the job, logging).
 */

interface FloorEvent {
  readonly headers: Record<string, string | undefined>;
  readonly body?: string;
}

interface FloorResult {
  readonly statusCode: number;
  readonly body: string;
}

const env = process.env;
const queueUrl = env.JOBS_QUEUE_URL ?? '';
const publicKey = createPublicKey({
  key: Buffer.concat([
    Buffer.from('302a300506032b6570032100', 'hex'),
    Buffer.from(env.DISCORD_PUBLIC_KEY ?? '', 'hex'),
  ]),
  format: 'der',
  type: 'spki',
});
const webhookKey = Buffer.from((env.BUG_REPORT_WEBHOOK_SECRET ?? '').replace(/^whsec_/, ''), 'base64');

// As in lambdas/discord-interactions/handler.ts.
const discordClient = new SQSClient({
  useQueueUrlAsEndpoint: false,
  maxAttempts: 2,
  requestHandler: { connectionTimeout: 500, requestTimeout: 1000 },
});
// As in lambdas/bug-report-webhook/handler.ts.
const webhookClient = new SQSClient({});

export function verifyDiscordSignature(event: FloorEvent): boolean {
  const signature = event.headers['x-signature-ed25519'] ?? '';
  const timestamp = event.headers['x-signature-timestamp'] ?? '';
  return verify(null, Buffer.from(timestamp + (event.body ?? '')), publicKey, Buffer.from(signature, 'hex'));
}

/** Ed25519 check, then one SendMessage: the Discord ingress with nothing else. */
export async function discordFloor(event: FloorEvent): Promise<FloorResult> {
  if (!verifyDiscordSignature(event)) return { statusCode: 401, body: '' };
  await send(discordClient, event.body ?? '');
  return { statusCode: 200, body: '{"type":5}' };
}

/** Standard Webhooks HMAC check, then one SendMessage: the webhook ingress with nothing else. */
export async function webhookFloor(event: FloorEvent): Promise<FloorResult> {
  const id = event.headers['webhook-id'] ?? '';
  const timestamp = event.headers['webhook-timestamp'] ?? '';
  const expected = createHmac('sha256', webhookKey)
    .update(`${id}.${timestamp}.${event.body ?? ''}`)
    .digest();
  const given = Buffer.from((event.headers['webhook-signature'] ?? '').replace(/^v1,/, ''), 'base64');
  if (given.length !== expected.length || !timingSafeEqual(given, expected))
    return { statusCode: 401, body: '' };
  await send(webhookClient, event.body ?? '');
  return { statusCode: 202, body: '{}' };
}

/**
 * SendMessage's bytes over a keep-alive `node:http` agent, without the SDK (no signing,
 * middleware or response checks): the wire and the local server alone.
 */
const rawAgent = new Agent({ keepAlive: true, maxSockets: 1 });
export function rawSendMessage(body: string): Promise<number> {
  const payload = JSON.stringify({
    QueueUrl: queueUrl,
    MessageBody: body,
    MessageAttributes: { kind: { DataType: 'String', StringValue: 'bench.floor' } },
  });
  return new Promise((resolve, reject) => {
    const outgoing = request(
      env.AWS_ENDPOINT_URL_SQS ?? '',
      {
        method: 'POST',
        agent: rawAgent,
        headers: {
          'content-type': 'application/x-amz-json-1.0',
          'x-amz-target': 'AmazonSQS.SendMessage',
          'content-length': Buffer.byteLength(payload),
        },
      },
      (response) => {
        response.resume();
        response.once('end', () => resolve(response.statusCode ?? 0));
        response.once('error', reject);
      },
    );
    outgoing.once('error', reject);
    outgoing.end(payload);
  });
}

/** One SendMessage round trip with the Discord ingress's client, nothing else. */
export async function sendOnly(body: string): Promise<void> {
  await send(discordClient, body);
}

async function send(client: SQSClient, body: string): Promise<void> {
  await client.send(
    new SendMessageCommand({
      QueueUrl: queueUrl,
      MessageBody: body,
      MessageAttributes: { kind: { DataType: 'String', StringValue: 'bench.floor' } },
    }),
  );
}

/** The cold-start probe invokes `handler`. */
export const handler = discordFloor;
