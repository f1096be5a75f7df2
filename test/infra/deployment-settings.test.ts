import { App } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_FIX_ALLOWLIST,
  DEFAULT_POSTHOG_HOST,
  listUnsetSettings,
  readDeploymentSettings,
  tuningEnvironment,
} from '../../infra/deployment-settings.js';
import { processorConfigSchema } from '../../shared/config/processor-config.js';
import { ConfigError } from '../../shared/domain/errors.js';

const settingsFrom = (context: Record<string, unknown>) => readDeploymentSettings(new App({ context }).node);

/** The processor variables the stack always sets, with plausible values. */
const REQUIRED_PROCESSOR_ENV = {
  TABLE_NAME: 'bugbot',
  JOBS_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/123456789012/jobs',
  DEAD_LETTER_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/123456789012/dlq',
  SECRETS_ARN: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:s',
  DISCORD_APPLICATION_ID: '112233445566778899',
  LINEAR_TEAM_ID: 'team',
  POSTHOG_PROJECT_ID: '1',
};

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
      issueTracker: '',
      anthropicModel: '',
      fixVerifyCommand: '',
      fixMaxTurns: undefined,
      fixMaxBudgetUsd: undefined,
      fixTimeoutSeconds: undefined,
      fixMaxChangedFiles: undefined,
      fixMaxDiffLines: undefined,
      fixPerUserPerHour: undefined,
    });
    expect(listUnsetSettings(settings)).toContain('discordPublicKey');
    expect(listUnsetSettings(settings)).not.toContain('posthogHost');
    // Tuning settings have the processor's defaults: unset is not missing.
    expect(listUnsetSettings(settings)).not.toContain('fixMaxTurns');
    expect(tuningEnvironment(settings)).toEqual({});
  });

  it('reads the tuning settings and turns them into the processor’s variables', () => {
    const settings = settingsFrom({
      issueTracker: 'github',
      githubRepo: 'acme/app',
      anthropicModel: 'claude-opus-4-1',
      fixVerifyCommand: 'npm test -- --run',
      fixMaxTurns: '40',
      fixMaxBudgetUsd: 2.5,
      fixTimeoutSeconds: '900',
      fixMaxChangedFiles: '8',
      fixMaxDiffLines: '300',
      fixPerUserPerHour: 3,
    });
    expect(tuningEnvironment(settings)).toEqual({
      ISSUE_TRACKER: 'github',
      ANTHROPIC_MODEL: 'claude-opus-4-1',
      FIX_VERIFY_COMMAND: 'npm test -- --run',
      FIX_MAX_TURNS: '40',
      FIX_MAX_BUDGET_USD: '2.5',
      FIX_TIMEOUT_SECONDS: '900',
      FIX_MAX_CHANGED_FILES: '8',
      FIX_MAX_DIFF_LINES: '300',
      FIX_PER_USER_PER_HOUR: '3',
    });
    // What the stack writes is what the processor accepts at cold start.
    const parsed = processorConfigSchema.safeParse({
      ...REQUIRED_PROCESSOR_ENV,
      GITHUB_REPO: 'acme/app',
      ...tuningEnvironment(settings),
    });
    expect(parsed.success).toBe(true);
    expect(parsed.data).toMatchObject({
      ISSUE_TRACKER: 'github',
      FIX_MAX_TURNS: 40,
      FIX_MAX_BUDGET_USD: 2.5,
    });
  });

  it('refuses tuning values the processor would refuse, and github without a repository', () => {
    let error: unknown;
    try {
      settingsFrom({
        issueTracker: 'github',
        anthropicModel: 'claude sonnet',
        fixVerifyCommand: 'npm test\nrm -rf /',
        fixMaxTurns: '0',
        fixMaxBudgetUsd: 'lots',
        fixTimeoutSeconds: '10',
        fixMaxChangedFiles: '1.5',
        fixMaxDiffLines: '-1',
        fixPerUserPerHour: '100000',
      });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.map((problem) => problem.split(':')[0]);
    expect(problems.sort()).toEqual(
      [
        'anthropicModel',
        'fixMaxBudgetUsd',
        'fixMaxChangedFiles',
        'fixMaxDiffLines',
        'fixMaxTurns',
        'fixPerUserPerHour',
        'fixTimeoutSeconds',
        'fixVerifyCommand',
      ].sort(),
    );
    expect(() => settingsFrom({ issueTracker: 'github' })).toThrow(
      /githubRepo: is required when issueTracker is github/,
    );
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
