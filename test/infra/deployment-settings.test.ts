import { App } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_FIX_ALLOWLIST,
  DEFAULT_POSTHOG_HOST,
  listUnsetSettings,
  readDeploymentSettings,
} from '../../infra/deployment-settings.js';
import { ConfigError } from '../../shared/domain/errors.js';

const settingsFrom = (context: Record<string, unknown>) => readDeploymentSettings(new App({ context }).node);

describe('readDeploymentSettings', () => {
  it('needs no context: identifiers stay empty, the rest takes safe defaults', () => {
    const settings = settingsFrom({});
    expect(settings).toEqual({
      discordApplicationId: '',
      discordPublicKey: '',
      fixAllowedRoleIds: [],
      peopleLookupRoleIds: [],
      guildId: '',
      bugChannelId: '',
      githubRepo: '',
      linearTeamId: '',
      posthogProjectId: '',
      posthogHost: DEFAULT_POSTHOG_HOST,
      allowlist: [...DEFAULT_FIX_ALLOWLIST],
      alarmEmail: '',
      bugStatusWebhookUrl: '',
      fixMonthlyBudgetUsd: '100',
      fixPushRepo: '',
    });
    expect(listUnsetSettings(settings)).toContain('discordPublicKey');
    expect(listUnsetSettings(settings)).not.toContain('posthogHost');
  });

  it('reads the monthly fix budget and the fork to push fixes to, refusing nonsense', () => {
    expect(settingsFrom({ fixMonthlyBudgetUsd: '250.50', fixPushRepo: 'acme-bot/shop' })).toMatchObject({
      fixMonthlyBudgetUsd: '250.50',
      fixPushRepo: 'acme-bot/shop',
    });
    expect(settingsFrom({ fixMonthlyBudgetUsd: 80 })).toMatchObject({ fixMonthlyBudgetUsd: '80' });
    expect(() => settingsFrom({ fixMonthlyBudgetUsd: 'lots', fixPushRepo: 'not a repo' })).toThrow(
      /fixMonthlyBudgetUsd.*fixPushRepo|fixPushRepo.*fixMonthlyBudgetUsd/s,
    );
    expect(() => settingsFrom({ fixMonthlyBudgetUsd: '0' })).toThrow(
      /fixMonthlyBudgetUsd: must be more than 0/,
    );
  });

  it('reads `-c key=value` strings, splitting the comma lists', () => {
    const settings = settingsFrom({
      discordApplicationId: '112233445566778899',
      discordPublicKey: 'AB'.repeat(32),
      fixAllowedRoleIds: '223344556677889900, 334455667788990011,',
      githubRepo: 'acme/app.web',
      posthogHost: 'https://eu.posthog.com/',
      allowlist: 'src/,web/components/',
      alarmEmail: 'ops@example.com',
    });
    expect(settings).toMatchObject({
      discordApplicationId: '112233445566778899',
      discordPublicKey: 'AB'.repeat(32),
      fixAllowedRoleIds: ['223344556677889900', '334455667788990011'],
      githubRepo: 'acme/app.web',
      posthogHost: 'https://eu.posthog.com',
      allowlist: ['src/', 'web/components/'],
      alarmEmail: 'ops@example.com',
    });
  });

  it('reads cdk.json arrays and numbers', () => {
    const settings = settingsFrom({
      fixAllowedRoleIds: ['223344556677889900', '334455667788990011'],
      posthogProjectId: 4242,
      allowlist: ['app/'],
    });
    expect(settings.fixAllowedRoleIds).toEqual(['223344556677889900', '334455667788990011']);
    expect(settings.posthogProjectId).toBe('4242');
    expect(settings.allowlist).toEqual(['app/']);
  });

  it('refuses bad values, naming every key at once', () => {
    let error: unknown;
    try {
      settingsFrom({
        discordPublicKey: 'not-hex',
        fixAllowedRoleIds: 'admins',
        githubRepo: 'no-slash',
        posthogHost: 'http://insecure.example',
        allowlist: '../outside/,/etc/,src',
        alarmEmail: 'nobody',
      });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.join('\n');
    for (const key of ['discordPublicKey', 'fixAllowedRoleIds', 'githubRepo', 'posthogHost', 'alarmEmail']) {
      expect(problems).toContain(key);
    }
    expect(problems.match(/^allowlist\.\d/gm)).toHaveLength(3);
  });
});
