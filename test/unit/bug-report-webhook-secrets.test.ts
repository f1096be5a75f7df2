import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Context } from 'aws-lambda';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { loadWebhookIngressConfig } from '../../shared/config/webhook-ingress-config.js';
import { ConfigError } from '../../shared/domain/errors.js';
import { parseJob } from '../../shared/jobs/job-schemas.js';
import { createWebhookCredentialsProvider } from '../../shared/webhooks/webhook-credentials.js';
import {
  makeBearerWebhookEvent,
  makeBugReport,
  makeSignedWebhookEvent,
  makeWebhookSecret,
} from '../factories/bug-reports.js';

/**
 * The real composition (`handler`) against a local stand-in that speaks the AWS JSON protocols:
 * Secrets Manager (awsJson1_1, `secretsmanager.GetSecretValue`) and SQS (awsJson1_0,
 * `AmazonSQS.SendMessage`), reached through `AWS_ENDPOINT_URL_<SERVICE>` so the real SDK clients
 * sign, serialize and parse as they would in Lambda.
 */

const SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:bugbot-service-AbCdEf';
/**
 * Each test's containers use their own secret name and queue: a container from an earlier test
 * may still be retrying its read in the background, and its calls must not count here.
 */
let testArn = SECRET_ARN;
let testQueue = 'bugbot-jobs';
let testNumber = 0;
const WEBHOOK_SECRET = makeWebhookSecret();
const BEARER = 'supabase-bearer-token-0123456789abcdef';

type SecretsMode = 'ok' | 'denied' | 'hang';

/** A one-off misbehaviour of the next call to an operation: no answer, or an AWS error. */
type Fault = 'hang' | 'slow' | { status: number; type: string };

interface AwsCall {
  target: string;
  body: Record<string, unknown>;
  authorization: string | undefined;
}

class AwsStandIn {
  readonly calls: AwsCall[] = [];
  secretsMode: SecretsMode = 'ok';
  /** Faults for the next calls of an operation (x-amz-target), in order. */
  readonly faults = new Map<string, Fault[]>();
  /** How long a `slow` answer takes. */
  slowMs = 600;
  secretString = JSON.stringify({
    discordBotToken: 'discord-token',
    bugReportWebhookSecret: WEBHOOK_SECRET,
    bugReportBearerToken: BEARER,
  });
  private server: Server | undefined;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((request, response) => void this.route(request, response));
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  inject(target: string, ...faults: Fault[]): void {
    this.faults.set(target, [...(this.faults.get(target) ?? []), ...faults]);
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise((resolve) => this.server?.close(resolve));
  }

  /** This test's calls to an operation (see `testArn`). */
  callsTo(target: string): AwsCall[] {
    return this.calls.filter(
      (call) =>
        call.target === target &&
        (call.body.SecretId === undefined || call.body.SecretId === testArn) &&
        (call.body.QueueUrl === undefined || String(call.body.QueueUrl).endsWith(`/${testQueue}`)),
    );
  }

  private async route(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const target = String(request.headers['x-amz-target'] ?? '');
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>;
    this.calls.push({ target, body, authorization: request.headers.authorization });

    // Faults are for this test's containers only; a leftover from an earlier test gets a plain answer.
    const current =
      (body.SecretId === undefined || body.SecretId === testArn) &&
      (body.QueueUrl === undefined || String(body.QueueUrl).endsWith(`/${testQueue}`));
    const fault = current ? this.faults.get(target)?.shift() : undefined;
    if (fault === 'hang') return; // never answers; the client must give up
    if (fault === 'slow') await new Promise((resolve) => setTimeout(resolve, this.slowMs));
    if (fault && typeof fault === 'object') {
      return reply(response, fault.status, target.startsWith('AmazonSQS') ? SQS_JSON : SECRETS_JSON, {
        __type: fault.type,
        message: `${fault.type} (injected)`,
      });
    }

    if (target === 'secretsmanager.GetSecretValue') {
      if (this.secretsMode === 'hang') return; // never answers; the client must give up
      if (this.secretsMode === 'denied' || !String(body.SecretId).startsWith(SECRET_ARN)) {
        return reply(response, 400, 'application/x-amz-json-1.1', {
          __type: 'AccessDeniedException',
          message: 'User is not authorized to perform secretsmanager:GetSecretValue',
        });
      }
      return reply(response, 200, 'application/x-amz-json-1.1', {
        ARN: body.SecretId,
        Name: 'bugbot-service',
        VersionId: '6f1d1c1e-0000-4000-8000-000000000001',
        VersionStages: ['AWSCURRENT'],
        SecretString: this.secretString,
        CreatedDate: 1_746_100_000,
      });
    }
    if (target === 'AmazonSQS.SendMessage') {
      const messageBody = String(body.MessageBody ?? '');
      return reply(response, 200, 'application/x-amz-json-1.0', {
        MessageId: `m-${this.calls.length}`,
        MD5OfMessageBody: createHash('md5').update(messageBody, 'utf8').digest('hex'),
      });
    }
    return reply(response, 400, 'application/x-amz-json-1.1', { __type: 'UnknownOperationException' });
  }
}

const SQS_JSON = 'application/x-amz-json-1.0';
const SECRETS_JSON = 'application/x-amz-json-1.1';

function reply(response: ServerResponse, status: number, contentType: string, body: unknown): void {
  const text = JSON.stringify(body);
  const headers: Record<string, string> = { 'content-type': contentType, 'x-amzn-requestid': 'req-1' };
  if (status >= 400) headers['x-amzn-errortype'] = String((body as { __type?: string }).__type);
  response.writeHead(status, headers);
  response.end(text);
}

const aws = new AwsStandIn();

beforeAll(async () => {
  await aws.start();
});
afterAll(async () => {
  await aws.stop();
});

beforeEach(() => {
  aws.calls.length = 0;
  aws.secretsMode = 'ok';
  aws.faults.clear();
  vi.stubEnv('POWERTOOLS_LOG_LEVEL', 'SILENT');
  vi.stubEnv('AWS_REGION', 'us-east-1');
  vi.stubEnv('AWS_ACCESS_KEY_ID', 'AKIDTESTTESTTEST');
  vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'test-secret-access-key');
  vi.stubEnv('AWS_SESSION_TOKEN', '');
  vi.stubEnv('AWS_PROFILE', '');
  vi.stubEnv('AWS_ENDPOINT_URL', '');
  vi.stubEnv('AWS_ENDPOINT_URL_SECRETS_MANAGER', aws.url);
  vi.stubEnv('AWS_ENDPOINT_URL_SQS', aws.url);
  testNumber += 1;
  testArn = `${SECRET_ARN}-${testNumber}`;
  testQueue = `bugbot-jobs-${testNumber}`;
  vi.stubEnv('JOBS_QUEUE_URL', `${aws.url}/123456789012/${testQueue}`);
  vi.stubEnv('SECRETS_ARN', testArn);
  vi.stubEnv('BUG_REPORT_WEBHOOK_SECRET', '');
  vi.stubEnv('BUG_REPORT_BEARER_TOKEN', '');
});
afterEach(() => {
  vi.unstubAllEnvs();
});

/** What Lambda passes the handler, as far as the budget is concerned: the invocation's time left. */
function invocationWith(remainingMs: number): Context {
  const ends = Date.now() + remainingMs;
  return { getRemainingTimeInMillis: () => ends - Date.now() } as unknown as Context;
}

/** A fresh container: the module (and its cached secret) is evaluated again with the current env. */
async function coldStart(): Promise<typeof import('../../lambdas/bug-report-webhook/handler.js')['handler']> {
  vi.resetModules();
  const module = await import('../../lambdas/bug-report-webhook/handler.js');
  return module.handler;
}

describe('bug-report webhook with the secret in Secrets Manager (real SDK, local endpoint)', () => {
  it('reads the secret once per container and queues through SQS', async () => {
    const handler = await coldStart();

    const first = await handler(
      makeSignedWebhookEvent({ secret: WEBHOOK_SECRET, body: makeBugReport() }).event,
    );
    const second = await handler(makeBearerWebhookEvent({ token: BEARER, body: makeBugReport() }));

    expect(first.statusCode).toBe(202);
    expect(second.statusCode).toBe(202);
    const secretReads = aws.callsTo('secretsmanager.GetSecretValue');
    expect(secretReads).toHaveLength(1);
    expect(secretReads[0]?.body).toEqual({ SecretId: testArn });
    // Signed SigV4 with the environment's credentials: the real SDK did the talking.
    expect(secretReads[0]?.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDTESTTESTTEST\//);

    const sends = aws.callsTo('AmazonSQS.SendMessage');
    expect(sends).toHaveLength(2);
    expect(sends[0]?.body.QueueUrl).toBe(`${aws.url}/123456789012/${testQueue}`);
    const parsed = parseJob(String(sends[0]?.body.MessageBody));
    expect(parsed.ok && parsed.job.kind === 'bug.report' && parsed.job.bugId).toBe(
      JSON.parse(first.body).bugId,
    );
    expect(sends[0]?.body.MessageAttributes).toEqual({
      kind: { DataType: 'String', StringValue: 'bug.report' },
    });
  });

  it('refuses with 503 while the secret cannot be read, then recovers without a new container', async () => {
    aws.secretsMode = 'denied';
    const handler = await coldStart();

    const refused = await handler(
      makeSignedWebhookEvent({ secret: WEBHOOK_SECRET, body: makeBugReport() }).event,
    );
    expect(refused.statusCode).toBe(503);
    expect(refused.body).not.toContain('AccessDenied');
    expect(aws.callsTo('AmazonSQS.SendMessage')).toHaveLength(0);

    aws.secretsMode = 'ok';
    const accepted = await handler(
      makeSignedWebhookEvent({ secret: WEBHOOK_SECRET, body: makeBugReport() }).event,
    );
    expect(accepted.statusCode).toBe(202);
    expect(aws.callsTo('AmazonSQS.SendMessage')).toHaveLength(1);
  });

  it('gives up on a Secrets Manager that does not answer before the invocation ends, with a clean 503', async () => {
    aws.secretsMode = 'hang';
    const handler = await coldStart();
    const started = Date.now();

    const result = await handler(
      makeSignedWebhookEvent({ secret: WEBHOOK_SECRET, body: makeBugReport() }).event,
      invocationWith(1_300),
    );

    expect(result.statusCode).toBe(503);
    // Answered before the invocation's end (1.3 s left, less the margin to answer), not cut off.
    expect(Date.now() - started).toBeLessThan(1_300);
    expect(aws.callsTo('secretsmanager.GetSecretValue').length).toBeGreaterThanOrEqual(2);
    expect(aws.callsTo('AmazonSQS.SendMessage')).toHaveLength(0);
  });

  it('starts reading the secret when the container starts, before any delivery', async () => {
    await coldStart();
    // vi.waitFor's default is 1 s: a fresh import of the SDK on a busy machine can take longer.
    await vi.waitFor(() => expect(aws.callsTo('secretsmanager.GetSecretValue')).toHaveLength(1), {
      timeout: 20_000,
      interval: 20,
    });
    expect(aws.callsTo('AmazonSQS.SendMessage')).toHaveLength(0);
  });

  it('accepts the first report although Secrets Manager fails twice at cold start', async () => {
    aws.inject(
      'secretsmanager.GetSecretValue',
      { status: 500, type: 'InternalServiceError' },
      { status: 400, type: 'ThrottlingException' },
    );
    const handler = await coldStart();

    const result = await handler(makeBearerWebhookEvent({ token: BEARER, body: makeBugReport() }));

    expect(result.statusCode).toBe(202);
    expect(aws.callsTo('secretsmanager.GetSecretValue')).toHaveLength(3);
    expect(aws.callsTo('AmazonSQS.SendMessage')).toHaveLength(1);
  });

  it('accepts the first report when the first secret read never answers (abandoned, read again)', async () => {
    aws.inject('secretsmanager.GetSecretValue', 'hang');
    const handler = await coldStart();

    const result = await handler(makeBearerWebhookEvent({ token: BEARER, body: makeBugReport() }));

    expect(result.statusCode).toBe(202);
    expect(aws.callsTo('secretsmanager.GetSecretValue')).toHaveLength(2);
  });

  it.each([
    ['a 500 from SQS', { status: 500, type: 'InternalError' }],
    ['SQS throttling (HTTP 400 RequestThrottled)', { status: 400, type: 'RequestThrottled' }],
    ['a SendMessage that never answers', 'hang'],
    ['a SendMessage slower than its attempt', 'slow'],
  ] as const)('sends again after %s and answers 202', async (_, fault) => {
    const handler = await coldStart();
    aws.inject('AmazonSQS.SendMessage', fault);

    const result = await handler(makeBearerWebhookEvent({ token: BEARER, body: makeBugReport() }));

    expect(result.statusCode).toBe(202);
    const sends = aws.callsTo('AmazonSQS.SendMessage');
    expect(sends).toHaveLength(2);
    // The same job both times: a duplicate that did arrive is collapsed by its idempotency key.
    expect(sends[0]?.body.MessageBody).toBe(sends[1]?.body.MessageBody);
  });

  it('keeps trying past Supabase’s second while SQS is out, and queues the report once it is back', async () => {
    // pg_net never retries a database webhook: a late 202 is a saved report, an early 503 a lost one.
    const handler = await coldStart();
    // Three attempts that never answer (250, 500 and 1000 ms): SQS is back after ~1.8 s.
    aws.inject('AmazonSQS.SendMessage', 'hang', 'hang', 'hang');

    const result = await handler(makeBearerWebhookEvent({ token: BEARER, body: makeBugReport() }));

    expect(result.statusCode).toBe(202);
    expect(aws.callsTo('AmazonSQS.SendMessage')).toHaveLength(4);
  });

  it('answers 503 before the invocation ends when SQS stays down', async () => {
    const handler = await coldStart();
    aws.inject('AmazonSQS.SendMessage', ...Array.from({ length: 30 }, () => 'hang' as const));
    const started = Date.now();

    const result = await handler(
      makeBearerWebhookEvent({ token: BEARER, body: makeBugReport() }),
      invocationWith(1_300),
    );

    expect(result.statusCode).toBe(503);
    expect(Date.now() - started).toBeLessThan(1_300);
    expect(aws.callsTo('AmazonSQS.SendMessage').length).toBeGreaterThanOrEqual(3);
  });

  it('prefers the environment: with BUG_REPORT_WEBHOOK_SECRET set, Secrets Manager is never called', async () => {
    const envSecret = makeWebhookSecret();
    vi.stubEnv('BUG_REPORT_WEBHOOK_SECRET', envSecret);
    vi.stubEnv('SECRETS_ARN', '');
    const handler = await coldStart();

    const viaEnv = await handler(makeSignedWebhookEvent({ secret: envSecret, body: makeBugReport() }).event);
    const viaStoredSecret = await handler(
      makeSignedWebhookEvent({ secret: WEBHOOK_SECRET, body: makeBugReport() }).event,
    );

    expect(viaEnv.statusCode).toBe(202);
    expect(viaStoredSecret.statusCode).toBe(401);
    expect(aws.callsTo('secretsmanager.GetSecretValue')).toHaveLength(0);
  });

  it('answers 503 when the stored secret holds neither webhook credential', async () => {
    aws.secretString = JSON.stringify({ discordBotToken: 'x', bugReportWebhookSecret: '' });
    try {
      const handler = await coldStart();
      const result = await handler(makeBearerWebhookEvent({ token: BEARER, body: makeBugReport() }));
      expect(result.statusCode).toBe(503);
      expect(aws.callsTo('AmazonSQS.SendMessage')).toHaveLength(0);
    } finally {
      aws.secretString = JSON.stringify({
        bugReportWebhookSecret: WEBHOOK_SECRET,
        bugReportBearerToken: BEARER,
      });
    }
  });

  it('answers 500 without detail when the environment is incomplete, and calls nothing', async () => {
    vi.stubEnv('JOBS_QUEUE_URL', '');
    vi.stubEnv('SECRETS_ARN', '');
    const handler = await coldStart();
    const result = await handler(makeBearerWebhookEvent({ token: BEARER, body: makeBugReport() }));
    expect(result.statusCode).toBe(500);
    expect(JSON.parse(result.body)).toEqual({ error: 'the webhook ingress is not configured' });
    expect(aws.calls).toHaveLength(0);
  });
});

describe('loadWebhookIngressConfig', () => {
  it('names every problem at once, never a value', () => {
    const failure = (() => {
      try {
        loadWebhookIngressConfig({
          JOBS_QUEUE_URL: 'not a url',
          BUG_REPORT_WEBHOOK_SECRET: 'plain-secret-value',
          BUG_REPORT_BEARER_TOKEN: 'short-token',
        });
      } catch (error) {
        return error;
      }
      return undefined;
    })();
    expect(failure).toBeInstanceOf(ConfigError);
    const problems = (failure as ConfigError).problems;
    expect(problems.map((problem) => problem.split(':')[0])).toEqual([
      'JOBS_QUEUE_URL',
      'BUG_REPORT_WEBHOOK_SECRET',
      'BUG_REPORT_BEARER_TOKEN',
    ]);
    expect(problems.join(' ')).not.toMatch(/plain-secret-value|short-token/);
  });

  it('requires SECRETS_ARN only when the webhook secret is unset (blank counts as unset)', () => {
    expect(() =>
      loadWebhookIngressConfig({ JOBS_QUEUE_URL: 'https://sqs.example/1/q', BUG_REPORT_WEBHOOK_SECRET: '' }),
    ).toThrow(/SECRETS_ARN/);
    expect(
      loadWebhookIngressConfig({ JOBS_QUEUE_URL: 'https://sqs.example/1/q', SECRETS_ARN: SECRET_ARN }),
    ).toEqual({
      jobsQueueUrl: 'https://sqs.example/1/q',
      webhookSecret: undefined,
      bearerToken: undefined,
      secretsArn: SECRET_ARN,
      // SQS answers in milliseconds: a send is abandoned and repeated after 250 ms by default.
      sendAttemptMs: 250,
    });
    expect(
      loadWebhookIngressConfig({
        JOBS_QUEUE_URL: 'https://sqs.example/1/q',
        SECRETS_ARN: SECRET_ARN,
        SQS_SEND_ATTEMPT_MS: '2000',
      }).sendAttemptMs,
    ).toBe(2000);
    expect(() =>
      loadWebhookIngressConfig({
        JOBS_QUEUE_URL: 'https://sqs.example/1/q',
        SECRETS_ARN: SECRET_ARN,
        SQS_SEND_ATTEMPT_MS: '9000',
      }),
    ).toThrow(/SQS_SEND_ATTEMPT_MS/);
    expect(
      loadWebhookIngressConfig({
        JOBS_QUEUE_URL: 'https://sqs.example/1/q',
        BUG_REPORT_WEBHOOK_SECRET: WEBHOOK_SECRET,
      }),
    ).toMatchObject({ webhookSecret: WEBHOOK_SECRET, secretsArn: undefined });
  });
});

describe('createWebhookCredentialsProvider', () => {
  it('shares one read between concurrent deliveries', async () => {
    let reads = 0;
    const provider = createWebhookCredentialsProvider({
      env: {},
      readServiceSecret: async () => {
        reads += 1;
        await new Promise((resolve) => setTimeout(resolve, 20));
        return JSON.stringify({ bugReportWebhookSecret: WEBHOOK_SECRET });
      },
    });
    const [a, b] = await Promise.all([provider(), provider()]);
    expect(a).toBe(b);
    expect(reads).toBe(1);
  });

  it('abandons a read that outlives its attempt, retries it, and gives up after its attempts', async () => {
    const signals: AbortSignal[] = [];
    let answer = false;
    const provider = createWebhookCredentialsProvider({
      env: {},
      policy: { attemptTimeoutMs: 30, backoffMs: 5, maxAttempts: 3 },
      readServiceSecret: (signal) => {
        signals.push(signal);
        if (answer) return Promise.resolve(JSON.stringify({ bugReportBearerToken: BEARER }));
        return new Promise<string>(() => undefined);
      },
    });
    await expect(provider()).rejects.toMatchObject({ service: 'secretsmanager', retryable: true });
    expect(signals).toHaveLength(3);
    expect(signals.every((signal) => signal.aborted)).toBe(true);
    answer = true;
    const credentials = await provider();
    expect(credentials.bearerDigest).toBeDefined();
    expect(credentials.verifier).toBeUndefined();
  });

  it('lets a delivery stop waiting at its deadline while the read goes on for the next one', async () => {
    let release: (value: string) => void = () => undefined;
    let reads = 0;
    const provider = createWebhookCredentialsProvider({
      env: {},
      readServiceSecret: () => {
        reads += 1;
        return new Promise<string>((resolve) => {
          release = resolve;
        });
      },
    });
    await expect(provider({ deadline: Date.now() + 30, now: Date.now })).rejects.toMatchObject({
      name: 'BudgetExhaustedError',
    });
    release(JSON.stringify({ bugReportBearerToken: BEARER }));
    const credentials = await provider({ deadline: Date.now() + 30, now: Date.now });
    expect(credentials.bearerDigest).toBeDefined();
    expect(reads).toBe(1);
  });

  it('does not retry a refusal', async () => {
    let reads = 0;
    const provider = createWebhookCredentialsProvider({
      env: {},
      readServiceSecret: async () => {
        reads += 1;
        throw Object.assign(new Error('not authorized'), {
          name: 'AccessDeniedException',
          $metadata: { httpStatusCode: 400 },
        });
      },
    });
    await expect(provider()).rejects.toMatchObject({ service: 'secretsmanager', retryable: false });
    expect(reads).toBe(1);
  });

  it('rejects a stored webhook secret that is not whsec_ base64, naming the field only', async () => {
    const provider = createWebhookCredentialsProvider({
      env: {},
      readServiceSecret: async () => JSON.stringify({ bugReportWebhookSecret: 'plain-text-secret' }),
    });
    const failure = await provider().catch((error: unknown) => error as Error);
    expect(failure).toMatchObject({ name: 'ConfigError' });
    expect(String(failure)).toContain('bugReportWebhookSecret');
    expect(String(failure)).not.toContain('plain-text-secret');
  });

  it('lets an environment bearer token stand beside a stored webhook secret', async () => {
    const provider = createWebhookCredentialsProvider({
      env: { bearerToken: 'env-bearer-token-0123456789' },
      readServiceSecret: async () => JSON.stringify({ bugReportWebhookSecret: WEBHOOK_SECRET }),
    });
    const credentials = await provider();
    expect(credentials.verifier).toBeDefined();
    expect(credentials.bearerDigest).toEqual(
      createHash('sha256').update('env-bearer-token-0123456789').digest(),
    );
  });
});
