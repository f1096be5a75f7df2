import { Logger } from '@aws-lambda-powertools/logger';
import { describe, expect, it } from 'vitest';
import { createSignedWebhookEntry } from '../../lambdas/signed-webhook/compose-signed-webhook.js';
import type { HttpEvent } from '../../shared/http/api-gateway.js';

const event = { headers: {}, body: '{}', isBase64Encoded: false } as unknown as HttpEvent;
const root = {
  name: 'github',
  secretEnvName: 'GITHUB_WEBHOOK_SECRET' as const,
  secretField: 'githubWebhookSecret',
  logger: new Logger({ serviceName: 'test', logLevel: 'SILENT' }),
  tracer: undefined,
};

describe('createSignedWebhookEntry', () => {
  it('answers 500 per request when the environment is incomplete, never building the handler', async () => {
    let built = 0;
    const handler = createSignedWebhookEntry({ GITHUB_WEBHOOK_SECRET: 's' }, root, () => {
      built += 1;
      return async () => ({ statusCode: 202, headers: {}, body: '' });
    });
    const answer = await handler(event);
    expect(answer.statusCode).toBe(500);
    expect(answer.body).toContain('not configured');
    expect(built).toBe(0);
  });

  it('hands the configured secret and a queue to the handler it builds', async () => {
    let secretSeen = '';
    const handler = createSignedWebhookEntry(
      { JOBS_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/1/jobs', GITHUB_WEBHOOK_SECRET: 'sekrit' },
      root,
      ({ secret, jobQueue }) => {
        expect(typeof jobQueue.send).toBe('function');
        return async () => {
          secretSeen = await secret();
          return { statusCode: 202, headers: {}, body: '' };
        };
      },
    );
    expect((await handler(event)).statusCode).toBe(202);
    expect(secretSeen).toBe('sekrit');
  });
});
