import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveSigningKey } from '../../local/discord-signing-key.js';
import { loadOrCreateLocalKeys } from '../../local/local-keys.js';
import { LOCAL_SETTINGS, resolveLocalSettings } from '../../local/local-settings.js';
import { decideServiceModes } from '../../local/service-modes.js';

const dir = mkdtempSync(join(tmpdir(), 'bugbot-keys-'));
const keys = loadOrCreateLocalKeys(join(dir, 'keys.json'));
rmSync(dir, { recursive: true, force: true });
const defaults = {
  keys,
  sandboxGuildId: '1000000000000000001',
  sandboxBugChannelId: '1000000000000000002',
  sandboxMaintainerRoleId: '1000000000000000003',
  productStatusPath: '/_local/product/bug-status',
  stackUrl: 'http://127.0.0.1:3000',
};

function keyPair() {
  const pair = generateKeyPairSync('ed25519');
  const spki = pair.publicKey.export({ format: 'der', type: 'spki' });
  const pkcs8 = pair.privateKey.export({ format: 'der', type: 'pkcs8' });
  return {
    publicKeyHex: spki.subarray(spki.length - 32).toString('hex'),
    pem: pair.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    seedHex: pkcs8.subarray(pkcs8.length - 32).toString('hex'),
  };
}

describe('resolveLocalSettings', () => {
  it('uses the sandbox’s own keys and ids when the environment sets nothing', () => {
    const resolved = resolveLocalSettings({}, defaults, decideServiceModes({}));
    expect(resolved.fromEnvironment).toEqual([]);
    expect(resolved.values).toEqual({
      DISCORD_PUBLIC_KEY: keys.discordPublicKeyHex,
      DISCORD_APPLICATION_ID: keys.discordApplicationId,
      DISCORD_GUILD_ID: '1000000000000000001',
      FIX_ALLOWED_ROLE_IDS: '1000000000000000003',
      BUG_REPORT_WEBHOOK_SECRET: keys.webhookSecret,
      BUG_CHANNEL_ID: '1000000000000000002',
      GITHUB_WEBHOOK_SECRET: keys.githubWebhookSecret,
      LINEAR_WEBHOOK_SECRET: keys.linearWebhookSecret,
      BUG_STATUS_WEBHOOK_URL: 'http://127.0.0.1:3000/_local/product/bug-status',
      BUG_STATUS_WEBHOOK_SECRET: keys.bugStatusWebhookSecret,
    });
  });

  it('leaves a setting that points back at the stack unset until the stack listens', () => {
    const resolved = resolveLocalSettings({}, { ...defaults, stackUrl: undefined }, decideServiceModes({}));
    expect(resolved.values.BUG_STATUS_WEBHOOK_URL).toBeUndefined();
    expect(resolved.values.DISCORD_GUILD_ID).toBe('1000000000000000001');
  });

  it('lets every name in the table be overridden, and counts a blank value as unset', () => {
    const env = Object.fromEntries(Object.keys(LOCAL_SETTINGS).map((name) => [name, `from-env-${name}`]));
    env.DISCORD_GUILD_ID = '  ';
    const resolved = resolveLocalSettings(env, defaults, decideServiceModes(env));
    for (const name of Object.keys(LOCAL_SETTINGS)) {
      if (name === 'DISCORD_GUILD_ID') continue;
      expect(resolved.values[name as keyof typeof LOCAL_SETTINGS]).toBe(`from-env-${name}`);
    }
    expect(resolved.values.DISCORD_GUILD_ID).toBe('1000000000000000001');
    expect(resolved.fromEnvironment).not.toContain('DISCORD_GUILD_ID');
  });

  it('leaves Discord ids unset for a real Discord that the environment did not give them for', () => {
    const env = {
      DISCORD_BOT_TOKEN: 't',
      DISCORD_APPLICATION_ID: '1234567890123456789',
      DISCORD_PUBLIC_KEY: 'ab',
    };
    const resolved = resolveLocalSettings(env, defaults, decideServiceModes(env));
    expect(resolved.values.DISCORD_GUILD_ID).toBeUndefined();
    expect(resolved.values.BUG_CHANNEL_ID).toBeUndefined();
    expect(resolved.values.DISCORD_APPLICATION_ID).toBe('1234567890123456789');
    // The webhook secret and the fix roles are the stack's own either way.
    expect(resolved.values.BUG_REPORT_WEBHOOK_SECRET).toBe(keys.webhookSecret);
  });
});

describe('resolveSigningKey (npm run discord)', () => {
  it('signs with the sandbox key pair when the stack verifies with it', () => {
    expect(
      resolveSigningKey({ privateKey: undefined, keys, stackPublicKey: keys.discordPublicKeyHex }),
    ).toEqual({
      ok: true,
      privateKeyPem: keys.discordPrivateKeyPem,
    });
  });

  it('says it needs DISCORD_PRIVATE_KEY when the stack verifies with a team’s public key', () => {
    const team = keyPair();
    const result = resolveSigningKey({ privateKey: undefined, keys, stackPublicKey: team.publicKeyHex });
    expect(result.ok).toBe(false);
    expect(!result.ok && result.message).toMatch(/DISCORD_PRIVATE_KEY/);
  });

  it.each(['pem', 'seedHex'] as const)('takes the team’s private key as %s when it matches', (form) => {
    const team = keyPair();
    const result = resolveSigningKey({ privateKey: team[form], keys, stackPublicKey: team.publicKeyHex });
    expect(result.ok).toBe(true);
  });

  it('refuses a private key that does not match the public key the stack verifies with', () => {
    const team = keyPair();
    const other = keyPair();
    const result = resolveSigningKey({ privateKey: other.pem, keys, stackPublicKey: team.publicKeyHex });
    expect(!result.ok && result.message).toMatch(/does not match/);
    const garbage = resolveSigningKey({ privateKey: 'not a key', keys, stackPublicKey: team.publicKeyHex });
    expect(!garbage.ok && garbage.message).toMatch(/not an Ed25519 private key/);
  });
});
