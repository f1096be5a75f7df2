import { randomUUID } from 'node:crypto';
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
}

const SANDBOX = { guildId: '1100000000000000002', channelId: '1100000000000000003' };

export function buildIngressRequests(keys: LocalKeys, count: number): IngressRequests {
  const member = buildMember('1300000000000000042', 'maya', []);
  const discordEvent = (interaction: unknown) => {
    const body = JSON.stringify(interaction);
    return makeHttpEvent({ path: '/discord/interactions', body, headers: signInteraction(keys, body) });
  };
  const webhook = new Webhook(keys.webhookSecret);
  const reportEvent = () => {
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
  };
}
