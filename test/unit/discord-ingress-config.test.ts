import { describe, expect, it } from 'vitest';
import { loadDiscordIngressConfig } from '../../shared/config/discord-ingress-config.js';
import { ConfigError } from '../../shared/domain/errors.js';

const VALID = {
  DISCORD_PUBLIC_KEY: 'ab'.repeat(32),
  DISCORD_APPLICATION_ID: '1180000000000000001',
  FIX_ALLOWED_ROLE_IDS: '1180000000000000010, 1180000000000000011,',
  JOBS_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/bugbot-jobs',
};

describe('loadDiscordIngressConfig', () => {
  it('reads the Discord ingress environment', () => {
    expect(loadDiscordIngressConfig(VALID)).toEqual({
      publicKeyHex: VALID.DISCORD_PUBLIC_KEY,
      applicationId: '1180000000000000001',
      fixAllowedRoleIds: ['1180000000000000010', '1180000000000000011'],
      jobsQueueUrl: VALID.JOBS_QUEUE_URL,
    });
  });

  it.each([undefined, '', ' , '])('lets nobody launch fixes when FIX_ALLOWED_ROLE_IDS is %j', (value) => {
    expect(loadDiscordIngressConfig({ ...VALID, FIX_ALLOWED_ROLE_IDS: value }).fixAllowedRoleIds).toEqual([]);
  });

  it.each([
    [undefined, undefined],
    ['', undefined],
    ['  ', undefined],
    ['1180000000000000002', '1180000000000000002'],
  ])('reads DISCORD_GUILD_ID %j as the served guild %j (unset or empty: any guild)', (value, guildId) => {
    expect(loadDiscordIngressConfig({ ...VALID, DISCORD_GUILD_ID: value }).guildId).toBe(guildId);
  });

  it('refuses a DISCORD_GUILD_ID that is not a snowflake, without echoing it', () => {
    let error: unknown;
    try {
      loadDiscordIngressConfig({ ...VALID, DISCORD_GUILD_ID: 'acme-guild' });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([expect.stringMatching(/^DISCORD_GUILD_ID: /)]);
    expect((error as ConfigError).problems.join('\n')).not.toContain('acme-guild');
  });

  it('names every problem at once, without echoing values', () => {
    let error: unknown;
    try {
      loadDiscordIngressConfig({
        DISCORD_PUBLIC_KEY: 'not-a-key-secretish',
        DISCORD_APPLICATION_ID: 'bugbot',
        FIX_ALLOWED_ROLE_IDS: '1180000000000000010,maintainers',
      });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.join('\n');
    expect(problems).toMatch(/^DISCORD_PUBLIC_KEY: /m);
    expect(problems).toMatch(/^DISCORD_APPLICATION_ID: /m);
    expect(problems).toMatch(/^FIX_ALLOWED_ROLE_IDS\.1: /m);
    expect(problems).toMatch(/^JOBS_QUEUE_URL: /m);
    expect(problems).not.toContain('secretish');
    expect(problems).not.toContain('maintainers');
  });

  it('requires a 64-hex-character public key', () => {
    expect(() => loadDiscordIngressConfig({ ...VALID, DISCORD_PUBLIC_KEY: 'ab'.repeat(31) })).toThrow(
      ConfigError,
    );
  });
});
