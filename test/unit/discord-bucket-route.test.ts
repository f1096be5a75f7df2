import { describe, expect, it } from 'vitest';
import { bucketRoute } from '../../shared/adapters/discord/discord-rest.js';

describe("Discord's rate-limit buckets", () => {
  it('keep the top-level resource (channel, guild, webhook and its token) and fold other ids', () => {
    expect(bucketRoute('/channels/111111111111111111/messages/222222222222222222')).toBe(
      '/channels/111111111111111111/messages/:id',
    );
    expect(bucketRoute('/guilds/333333333333333333/channels')).toBe('/guilds/333333333333333333/channels');
    expect(bucketRoute('/webhooks/444444444444444444/tok-en/messages/@original')).toBe(
      '/webhooks/444444444444444444/tok-en/messages/@original',
    );
    expect(bucketRoute('/channels/1/messages?limit=5')).toBe('/channels/1/messages');
  });
});
