import { createHmac, randomUUID } from 'node:crypto';
import examples from '@octokit/webhooks-examples';
import { describe, expect, it } from 'vitest';
import { createGitHubWebhookHandler } from '../../lambdas/github-webhook/handler.js';
import { ServiceError } from '../../shared/domain/errors.js';
import { githubEventJobSchema, type Job } from '../../shared/jobs/job-schemas.js';
import { makeHttpEvent } from '../factories/bug-reports.js';

/**
 * The GitHub ingress against GitHub's own published example payloads (`@octokit/webhooks-examples`,
 * the examples GitHub's webhook docs show), signed here with node:crypto as GitHub documents
 * ("Validating webhook deliveries": `sha256=` + hex HMAC-SHA256 of the body with the hook secret).
 */

const SECRET = 'It is a secret to everybody';

function exampleOf(
  name: string,
  pick: (example: Record<string, unknown>) => boolean,
): Record<string, unknown> {
  const group = (examples as { name: string; examples: Record<string, unknown>[] }[]).find(
    (entry) => entry.name === name,
  );
  const found = group?.examples.find(pick);
  if (!found) throw new Error(`no ${name} example`);
  return structuredClone(found);
}

function signedEvent(
  event: string,
  payload: unknown,
  options: { secret?: string; base64?: boolean; delivery?: string; body?: string } = {},
) {
  const body = options.body ?? JSON.stringify(payload);
  return makeHttpEvent({
    path: '/webhooks/github',
    body,
    base64: options.base64,
    headers: {
      'x-github-event': event,
      'x-github-delivery': options.delivery ?? randomUUID(),
      'x-hub-signature-256': `sha256=${createHmac('sha256', options.secret ?? SECRET)
        .update(body)
        .digest('hex')}`,
    },
  });
}

function setup(options: { failSend?: boolean; failSecret?: boolean } = {}) {
  const sent: Job[] = [];
  const handle = createGitHubWebhookHandler({
    jobQueue: {
      send: async (job) => {
        if (options.failSend) throw new ServiceError('sqs', 'unavailable');
        sent.push(job);
      },
    },
    secret: async () => {
      if (options.failSecret) throw new ServiceError('secretsmanager', 'down');
      return SECRET;
    },
    logger: { info: () => undefined, warn: () => undefined, error: () => undefined },
    now: () => Date.parse('2026-12-06T10:00:00.000Z'),
  });
  return { handle, sent };
}

function mergedFixPull(merged: boolean): Record<string, unknown> {
  const payload = exampleOf('pull_request', (example) => example.action === 'closed');
  const pull = payload.pull_request as Record<string, unknown> & { head: Record<string, unknown> };
  pull.merged = merged;
  pull.head.ref = 'bugbot/fix-bug-abc-1234abcd';
  return payload;
}

describe('POST /webhooks/github', () => {
  it('answers a signed ping with 200 and queues nothing', async () => {
    const { handle, sent } = setup();
    const result = await handle(
      signedEvent(
        'ping',
        exampleOf('ping', () => true),
      ),
    );
    expect(result.statusCode).toBe(200);
    expect(sent).toHaveLength(0);
  });

  it('queues one job for a merged fix pull request, keyed on the delivery id', async () => {
    const { handle, sent } = setup();
    const delivery = randomUUID();
    const result = await handle(signedEvent('pull_request', mergedFixPull(true), { delivery }));
    expect(result.statusCode).toBe(202);
    expect(sent).toHaveLength(1);
    const job = githubEventJobSchema.parse(sent[0]);
    expect(job.idempotencyKey).toBe(`github:${delivery}`);
    expect(job.event).toEqual({
      type: 'pull_request.closed',
      repository: 'Codertocat/Hello-World',
      number: 2,
      url: 'https://github.com/Codertocat/Hello-World/pull/2',
      headRef: 'bugbot/fix-bug-abc-1234abcd',
      headSha: 'ec26c3e57ca3a959ca5aad62de7213c562f8c821',
      merged: true,
    });
  });

  it('queues a closed-unmerged fix pull request as merged: false', async () => {
    const { handle, sent } = setup();
    await handle(signedEvent('pull_request', mergedFixPull(false)));
    expect(githubEventJobSchema.parse(sent[0]).event).toMatchObject({ merged: false });
  });

  it('verifies the exact bytes of a base64-encoded body', async () => {
    const { handle, sent } = setup();
    const result = await handle(signedEvent('pull_request', mergedFixPull(true), { base64: true }));
    expect(result.statusCode).toBe(202);
    expect(sent).toHaveLength(1);
  });

  it('answers 202 and queues nothing for other pull requests, other actions and other events', async () => {
    const { handle, sent } = setup();
    const otherBranch = exampleOf('pull_request', (example) => example.action === 'closed');
    expect((await handle(signedEvent('pull_request', otherBranch))).statusCode).toBe(202);
    const opened = mergedFixPull(true);
    opened.action = 'opened';
    expect((await handle(signedEvent('pull_request', opened))).statusCode).toBe(202);
    expect((await handle(signedEvent('push', { ref: 'refs/heads/main' }))).statusCode).toBe(202);
    const pending = exampleOf(
      'deployment_status',
      (example) => (example.deployment_status as { state: string }).state !== 'success',
    );
    expect((await handle(signedEvent('deployment_status', pending))).statusCode).toBe(202);
    // GitHub's own success example has neither environment_url nor target_url: nothing to show.
    const noUrl = exampleOf(
      'deployment_status',
      (example) => (example.deployment_status as { state: string }).state === 'success',
    );
    expect((await handle(signedEvent('deployment_status', noUrl))).statusCode).toBe(202);
    expect(sent).toHaveLength(0);
  });

  it('queues a successful deployment with its environment_url, else its target_url', async () => {
    const { handle, sent } = setup();
    const withEnvironment = exampleOf(
      'deployment_status',
      (example) => (example.deployment_status as { state: string }).state === 'success',
    );
    Object.assign(withEnvironment.deployment_status as object, {
      environment_url: 'https://shop-git-fix.vercel.app',
      target_url: 'https://vercel.com/acme/shop/logs',
    });
    await handle(signedEvent('deployment_status', withEnvironment));
    const onlyTarget = exampleOf(
      'deployment_status',
      (example) => (example.deployment_status as { state: string }).state === 'success',
    );
    Object.assign(onlyTarget.deployment_status as object, { target_url: 'https://preview.example.com/' });
    await handle(signedEvent('deployment_status', onlyTarget));
    const [first, second] = sent.map((job) => githubEventJobSchema.parse(job).event);
    expect(first).toMatchObject({
      type: 'deployment_status.success',
      environmentUrl: 'https://shop-git-fix.vercel.app',
      ref: 'master',
      sha: 'f95f852bd8fca8fcc58a9a2d6c842781e32a215e',
      repository: 'Codertocat/Hello-World',
    });
    expect(second).toMatchObject({ environmentUrl: 'https://preview.example.com/' });
  });

  it('refuses forged, unsigned and tampered deliveries with 401 before parsing, queueing nothing', async () => {
    const { handle, sent } = setup();
    expect(
      (await handle(signedEvent('pull_request', mergedFixPull(true), { secret: 'wrong' }))).statusCode,
    ).toBe(401);
    const unsigned = signedEvent('pull_request', mergedFixPull(true));
    delete unsigned.headers['x-hub-signature-256'];
    expect((await handle(unsigned)).statusCode).toBe(401);
    const tampered = signedEvent('pull_request', mergedFixPull(true));
    tampered.body = (tampered.body ?? '').replace('"merged":true', '"merged":false');
    expect((await handle(tampered)).statusCode).toBe(401);
    // Not JSON, and not signed: still 401, never 400 (nothing is parsed before the signature).
    expect(
      (await handle(signedEvent('pull_request', null, { secret: 'wrong', body: '{not json' }))).statusCode,
    ).toBe(401);
    expect(sent).toHaveLength(0);
  });

  it('answers 400 to a validly signed body that is not JSON', async () => {
    const { handle, sent } = setup();
    expect((await handle(signedEvent('pull_request', null, { body: '{not json' }))).statusCode).toBe(400);
    expect(sent).toHaveLength(0);
  });

  it('answers 503 when the job cannot be queued or the secret cannot be read', async () => {
    expect(
      (await setup({ failSend: true }).handle(signedEvent('pull_request', mergedFixPull(true)))).statusCode,
    ).toBe(503);
    const noSecret = setup({ failSecret: true });
    expect((await noSecret.handle(signedEvent('pull_request', mergedFixPull(true)))).statusCode).toBe(503);
    expect(noSecret.sent).toHaveLength(0);
  });
});
