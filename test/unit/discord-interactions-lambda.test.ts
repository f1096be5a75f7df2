import { createHash, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { DiscordInteractionsHandler } from '../../lambdas/discord-interactions/handler.js';
import { discordCommandJobSchema } from '../../shared/jobs/job-schemas.js';
import {
  APPLICATION_ID,
  buildPing,
  buildSignedEvent,
  buildSlashCommand,
  createDiscordTestKeys,
  FIXER_ROLE_ID,
} from '../factories/discord-interactions.js';

/**
 * The Lambda as deployed: `handler` built by the module's composition root from the environment,
 * sending through the real SQS SDK to a stand-in that speaks SQS's JSON wire protocol.
 */

const KEYS = createDiscordTestKeys(11);
const QUEUE_URL = 'https://sqs.eu-west-1.amazonaws.com/123456789012/bugbot-jobs';

interface SendMessageCall {
  QueueUrl: string;
  MessageBody: string;
  MessageAttributes?: Record<string, { DataType: string; StringValue?: string }>;
}

let server: Server;
const received: SendMessageCall[] = [];
let failing = false;
let failedAttempts = 0;
let handler: DiscordInteractionsHandler;

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      res.setHeader('content-type', 'application/x-amz-json-1.0');
      res.setHeader('x-amzn-requestid', randomUUID());
      if (req.headers['x-amz-target'] !== 'AmazonSQS.SendMessage') {
        res
          .writeHead(400)
          .end(JSON.stringify({ __type: 'com.amazon.coral.service#UnknownOperationException' }));
        return;
      }
      if (failing) {
        failedAttempts += 1;
        res
          .writeHead(500)
          .end(JSON.stringify({ __type: 'com.amazonaws.sqs#InternalError', message: 'boom' }));
        return;
      }
      const input = JSON.parse(Buffer.concat(chunks).toString('utf8')) as SendMessageCall;
      received.push(input);
      res.writeHead(200).end(
        JSON.stringify({
          MessageId: randomUUID(),
          MD5OfMessageBody: createHash('md5').update(input.MessageBody).digest('hex'),
        }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  vi.stubEnv('DISCORD_PUBLIC_KEY', KEYS.publicKeyHex);
  vi.stubEnv('DISCORD_APPLICATION_ID', APPLICATION_ID);
  vi.stubEnv('FIX_ALLOWED_ROLE_IDS', FIXER_ROLE_ID);
  vi.stubEnv('JOBS_QUEUE_URL', QUEUE_URL);
  vi.stubEnv('AWS_ENDPOINT_URL_SQS', `http://127.0.0.1:${port}`);
  vi.stubEnv('AWS_REGION', 'eu-west-1');
  vi.stubEnv('AWS_ACCESS_KEY_ID', 'AKIDEXAMPLE');
  vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY');
  ({ handler } = await import('../../lambdas/discord-interactions/handler.js'));
});

afterAll(async () => {
  vi.unstubAllEnvs();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

describe('discord interactions Lambda (composition root)', () => {
  it('answers PING without touching SQS', async () => {
    const before = received.length;
    const result = await handler(buildSignedEvent(buildPing(), { keys: KEYS }));
    expect(result.statusCode).toBe(200);
    expect(JSON.parse(result.body)).toEqual({ type: 1 });
    expect(received.length).toBe(before);
  });

  it('queues one job through SQS at AWS_ENDPOINT_URL_SQS and answers deferred', async () => {
    const before = received.length;
    const interaction = buildSlashCommand('fix', { issue: 'ENG-421' }, { roles: [FIXER_ROLE_ID] });
    const result = await handler(buildSignedEvent(interaction, { keys: KEYS, base64: true }));
    expect(result.statusCode).toBe(200);
    expect(JSON.parse(result.body)).toEqual({ type: 5 });
    expect(received.length).toBe(before + 1);
    const call = received.at(-1)!;
    expect(call.QueueUrl).toBe(QUEUE_URL);
    expect(call.MessageAttributes?.kind).toEqual({ DataType: 'String', StringValue: 'discord.command' });
    const job = discordCommandJobSchema.parse(JSON.parse(call.MessageBody));
    expect(job.idempotencyKey).toBe(interaction.id);
    expect(job.command).toEqual({ name: 'fix', source: 'slash', issue: 'ENG-421' });
  });

  it('uses FIX_ALLOWED_ROLE_IDS from the environment', async () => {
    const before = received.length;
    const result = await handler(buildSignedEvent(buildSlashCommand('fix'), { keys: KEYS }));
    expect(JSON.parse(result.body)).toMatchObject({ type: 4, data: { flags: 64 } });
    expect(received.length).toBe(before);
  });

  it('uses DISCORD_PUBLIC_KEY from the environment', async () => {
    const result = await handler(buildSignedEvent(buildPing(), { keys: createDiscordTestKeys(12) }));
    expect(result.statusCode).toBe(401);
  });

  it('answers 500 with a generic message when SQS keeps failing, and logs it', async () => {
    // Powertools Logger writes errors to stderr through its own Console.
    const log = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    failing = true;
    try {
      const result = await handler(buildSignedEvent(buildSlashCommand('dashboard'), { keys: KEYS }));
      expect(result.statusCode).toBe(500);
      expect(JSON.parse(result.body)).toEqual({ error: 'internal error' });
      const logged = log.mock.calls.map((args) => JSON.parse(String(args[0])) as Record<string, unknown>);
      expect(logged).toContainEqual(
        expect.objectContaining({
          level: 'ERROR',
          service: 'bugbot-discord-interactions',
          message: 'could not enqueue the interaction job',
          jobKind: 'discord.command',
          error: expect.objectContaining({ cause: expect.objectContaining({ name: 'InternalError' }) }),
        }),
      );
      // One retry, then give up: Discord's 3-second window leaves no room for more.
      expect(failedAttempts).toBe(2);
    } finally {
      failing = false;
      log.mockRestore();
    }
  });
});
