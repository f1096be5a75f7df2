import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { renderMessage } from '../../shared/adapters/discord/render-message.js';
import { StandardWebhooksBugStatusSender } from '../../shared/adapters/standard-webhooks/standard-webhooks-bug-status-sender.js';
import { createNewBug } from '../../shared/domain/bug.js';
import { buildBugStatusEvent } from '../../shared/domain/bug-status-event.js';
import { renderResolvedNote } from '../../shared/domain/bug-views.js';
import { ServiceError } from '../../shared/domain/errors.js';
import { bugStatusEventSchema } from '../../shared/jobs/job-schemas.js';

const REPORTER = '1300000000000000099';

describe('the resolved note', () => {
  it('mentions each Discord reporter once and allows exactly those pings', () => {
    const note = renderResolvedNote({
      pullRequestUrl: 'https://github.com/acme/shop/pull/12',
      reporterIds: [REPORTER, REPORTER, '1300000000000000100', 'not-a-snowflake', '@everyone'],
    });
    expect(note.content).toContain('PR #12 <https://github.com/acme/shop/pull/12> was merged');
    expect(note.content?.match(/<@1300000000000000099>/g)).toHaveLength(1);
    expect(note.content).not.toContain('not-a-snowflake');
    expect(note.mentionUserIds).toEqual([REPORTER, '1300000000000000100']);
    expect(renderMessage(note, 'post').allowed_mentions).toEqual({
      parse: [],
      users: [REPORTER, '1300000000000000100'],
    });
  });

  it('pings nobody without reporters, and names the issue when Linear resolved it', () => {
    const note = renderResolvedNote({
      issue: { identifier: 'ENG-6', url: 'https://linear.app/acme/issue/ENG-6/x' },
      reporterIds: [],
    });
    expect(note.content).toBe('✅ Resolved: ENG-6 <https://linear.app/acme/issue/ENG-6/x> was completed.');
    expect(renderMessage(note, 'post').allowed_mentions).toEqual({ parse: [] });
  });

  it('fits Discord’s 2000 characters with the most reporters a bug remembers', () => {
    const ids = Array.from({ length: 50 }, (_, index) => String(1_300_000_000_000_000_000n + BigInt(index)));
    const note = renderResolvedNote({
      pullRequestUrl: 'https://github.com/acme/shop/pull/12',
      reporterIds: ids,
    });
    expect(note.content?.length).toBeLessThanOrEqual(2000);
    expect(renderMessage(note, 'post').content).toBe(note.content);
  });
});

describe('bug status events', () => {
  const bug = createNewBug(
    {
      bugId: 'bug_abc',
      title: 'Checkout crashes',
      description: 'Checkout crashes',
      reporter: { id: 'u_1' },
      reportRef: { id: 'rep_1', userId: 'u_1', userEmail: 'maya@example.com' },
    },
    '2026-12-06T10:00:00.000Z',
  );

  it('builds the contract body, with a webhook-id stable for one occasion and new for the next', () => {
    const first = buildBugStatusEvent(
      'bug.triaged',
      { ...bug, status: 'triaged' },
      '2026-12-06T10:00:01.000Z',
    );
    const again = buildBugStatusEvent(
      'bug.triaged',
      { ...bug, status: 'triaged' },
      '2026-12-06T10:05:00.000Z',
    );
    expect(bugStatusEventSchema.parse(first?.event)).toEqual({
      type: 'bug.triaged',
      timestamp: '2026-12-06T10:00:01.000Z',
      data: {
        bugId: 'bug_abc',
        status: 'triaged',
        title: 'Checkout crashes',
        reports: [{ id: 'rep_1', user_id: 'u_1', user_email: 'maya@example.com' }],
      },
    });
    expect(again?.webhookId).toBe(first?.webhookId);
    const resolved = (key: string) =>
      buildBugStatusEvent(
        'bug.resolved',
        {
          ...bug,
          status: 'resolved',
          resolution: { by: 'github', at: 'x', key, pullRequestUrl: 'https://github.com/acme/shop/pull/1' },
        },
        'x',
      );
    expect(resolved('github:a')?.webhookId).not.toBe(resolved('github:b')?.webhookId);
    expect(resolved('github:a')?.event.data.pullRequestUrl).toBe('https://github.com/acme/shop/pull/1');
  });

  it('says nothing about a bug with no report of the product', () => {
    expect(buildBugStatusEvent('bug.resolved', { ...bug, reports: [] }, 'x')).toBeNull();
  });
});

describe('StandardWebhooksBugStatusSender', () => {
  const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

  async function withProduct(
    answer: (attempt: number) => { status: number; headers?: Record<string, string> },
  ) {
    const heard: { id: string; verified: unknown }[] = [];
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk) => {
        body += chunk;
      });
      req.on('end', () => {
        const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)]));
        heard.push({ id: headers['webhook-id'] ?? '', verified: new Webhook(secret).verify(body, headers) });
        const { status, headers: extra } = answer(heard.length);
        res.writeHead(status, extra);
        res.end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/status`;
    return { heard, url, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
  }

  const event = {
    type: 'bug.resolved' as const,
    timestamp: '2026-12-06T10:00:00.000Z',
    data: { bugId: 'bug_abc', status: 'resolved', title: 't', reports: [] },
  };

  it('sends a body the product verifies with the same webhook-id on every attempt; 2xx is accepted', async () => {
    const product = await withProduct((attempt) => ({
      status: attempt === 1 ? 503 : 204,
      headers: { 'retry-after': '7' },
    }));
    try {
      const sender = new StandardWebhooksBugStatusSender(new Webhook(secret), {
        url: product.url,
        timeoutMs: 2000,
      });
      const failed = await sender.send({ webhookId: 'msg_1', event }).catch((error: unknown) => error);
      expect(failed).toBeInstanceOf(ServiceError);
      expect(failed).toMatchObject({ retryable: true, status: 503, retryAfterMs: 7000 });
      await sender.send({ webhookId: 'msg_1', event });
      expect(product.heard.map((entry) => entry.id)).toEqual(['msg_1', 'msg_1']);
      expect(product.heard[1]?.verified).toEqual(event);
    } finally {
      await product.close();
    }
  });

  it('gives up at once on a 4xx other than 408/429, and retries a product that does not answer', async () => {
    const product = await withProduct(() => ({ status: 400 }));
    try {
      const sender = new StandardWebhooksBugStatusSender(new Webhook(secret), {
        url: product.url,
        timeoutMs: 2000,
      });
      await expect(sender.send({ webhookId: 'msg_2', event })).rejects.toMatchObject({
        retryable: false,
        status: 400,
      });
    } finally {
      await product.close();
    }
    const nowhere = new StandardWebhooksBugStatusSender(new Webhook(secret), {
      url: 'http://127.0.0.1:9/status',
      timeoutMs: 500,
    });
    await expect(nowhere.send({ webhookId: 'msg_3', event })).rejects.toMatchObject({ retryable: true });
  });
});
