import { createHmac, randomUUID } from 'node:crypto';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { Webhook } from 'standardwebhooks';
import {
  buildInteraction,
  buildMember,
  signInteraction,
  snowflake,
} from '../../local/discord-interaction-builder.js';
import type { LocalKeys } from '../../local/local-keys.js';
import { makeBugReport, makeHttpEvent } from '../../test/factories/bug-reports.js';

/** Signed requests as Discord and the app send them, built before any timing starts. */
export interface IngressRequests {
  readonly ping: APIGatewayProxyEventV2[];
  readonly command: APIGatewayProxyEventV2[];
  readonly report: APIGatewayProxyEventV2[];
  /** Signed `pull_request` closed (merged) deliveries for a bugbot fix branch. */
  readonly github: APIGatewayProxyEventV2[];
}

export const BENCH_GITHUB_WEBHOOK_SECRET = 'bench-github-hook-secret';
export const BENCH_LINEAR_WEBHOOK_SECRET = 'bench-linear-signing-secret';

/** A merged fix pull request, shaped like GitHub's `pull_request` closed payload. */
function githubEvent(secret: string): APIGatewayProxyEventV2 {
  const body = JSON.stringify({
    action: 'closed',
    number: 12,
    pull_request: {
      number: 12,
      html_url: 'https://github.com/acme/shop/pull/12',
      merged: true,
      head: { ref: 'bugbot/fix-bug-bench-1234abcd', sha: 'ec26c3e57ca3a959ca5aad62de7213c562f8c821' },
      title: 'Fix: checkout crashes',
      body: 'x'.repeat(2000),
    },
    repository: { full_name: 'acme/shop', name: 'shop', owner: { login: 'acme' } },
    sender: { login: 'maya' },
  });
  return makeHttpEvent({
    path: '/webhooks/github',
    body,
    headers: {
      'x-github-event': 'pull_request',
      'x-github-delivery': randomUUID(),
      'x-hub-signature-256': `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`,
    },
  });
}

/**
 * Linear `Issue` updates moved to Done, signed now: Linear refuses (and so does the handler) a
 * `webhookTimestamp` more than 60 s old, so these are made right before they are used.
 */
export function buildLinearEvents(secret: string, count: number): APIGatewayProxyEventV2[] {
  return Array.from({ length: count }, () => {
    const body = JSON.stringify({
      action: 'update',
      type: 'Issue',
      data: {
        id: randomUUID(),
        identifier: 'ENG-12',
        url: 'https://linear.app/acme/issue/ENG-12/checkout',
        stateId: 'done',
        state: { id: 'done', name: 'Done', type: 'completed', color: '#5e6ad2' },
      },
      updatedFrom: { stateId: 'in-progress' },
      url: 'https://linear.app/acme/issue/ENG-12/checkout',
      webhookTimestamp: Date.now(),
      webhookId: 'wh-bench',
    });
    return makeHttpEvent({
      path: '/webhooks/linear',
      body,
      headers: {
        'linear-delivery': randomUUID(),
        'linear-signature': createHmac('sha256', secret).update(body).digest('hex'),
      },
    });
  });
}

const SANDBOX = { guildId: '1100000000000000002', channelId: '1100000000000000003' };

export function buildIngressRequests(keys: LocalKeys, count: number): IngressRequests {
  const member = buildMember('1300000000000000042', 'maya', []);
  const discordEvent = (interaction: unknown) => {
    const body = JSON.stringify(interaction);
    return makeHttpEvent({ path: '/discord/interactions', body, headers: signInteraction(keys, body) });
  };
  const reportEvent = buildReportEvent(keys.webhookSecret);
  const times = <T>(make: () => T) => Array.from({ length: count }, make);
  return {
    ping: times(() =>
      discordEvent({
        id: snowflake(),
        application_id: keys.discordApplicationId,
        type: 1,
        token: `local-${randomUUID()}`,
        version: 1,
      }),
    ),
    command: times(() =>
      discordEvent(buildInteraction('contextualize', [], {}, { keys, sandbox: SANDBOX, member })),
    ),
    report: times(reportEvent),
    github: times(() => githubEvent(BENCH_GITHUB_WEBHOOK_SECRET)),
  };
}

/**
 * Reports signed now: Standard Webhooks refuses a timestamp more than five minutes off, and on a
 * loaded machine the bench can take longer than that to reach its warm rounds.
 */
export function buildReportEvent(secret: string): () => APIGatewayProxyEventV2 {
  const webhook = new Webhook(secret);
  return () => {
    const body = JSON.stringify(makeBugReport());
    const id = `msg_${randomUUID()}`;
    const sentAt = new Date();
    return makeHttpEvent({
      body,
      headers: {
        'webhook-id': id,
        'webhook-timestamp': String(Math.floor(sentAt.getTime() / 1000)),
        'webhook-signature': webhook.sign(id, sentAt, body),
      },
    });
  };
}
