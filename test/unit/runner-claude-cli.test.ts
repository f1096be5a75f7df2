import { describe, expect, it } from 'vitest';
import { buildEditGuardCommand, quoteForShell } from '../../fargate-runner/src/agent/edit-guard-command.js';
import {
  buildAgentEnv,
  buildAgentSettings,
  buildClaudeArgs,
  parseCliResult,
} from '../../fargate-runner/src/agent/run-claude.js';
import { buildAuth, buildCommitMessage, exitCodeFor } from '../../fargate-runner/src/run-fix.js';
import type { FixJobSpec } from '../../shared/jobs/fix-job-spec.js';

describe('buildClaudeArgs', () => {
  it('runs headless with JSON output, limits, only our settings, no MCP, a fixed tool set', () => {
    const args = buildClaudeArgs(
      { prompt: 'Fix the bug', limits: { maxTurns: 25, maxBudgetUsd: 1.5, timeoutSeconds: 600 } },
      {
        settingsPath: '/run/agent-home/bugbot/settings.json',
        mcpConfigPath: '/run/agent-home/bugbot/mcp.json',
      },
    );
    expect(args).toEqual([
      '--print',
      '--output-format',
      'json',
      '--max-turns',
      '25',
      '--max-budget-usd',
      '1.5',
      '--setting-sources',
      'user',
      '--settings',
      '/run/agent-home/bugbot/settings.json',
      '--strict-mcp-config',
      '--mcp-config',
      '/run/agent-home/bugbot/mcp.json',
      '--tools',
      'Read,Glob,Grep,Edit,Write',
      '--disallowedTools',
      'Bash,WebFetch,WebSearch,NotebookEdit,Agent,Task',
      '--permission-mode',
      'acceptEdits',
      '--no-session-persistence',
      '--disable-slash-commands',
      '--',
      'Fix the bug',
    ]);
  });

  it('puts the prompt after --, so a prompt starting with a dash is not an option', () => {
    const args = buildClaudeArgs(
      {
        prompt: '--dangerously-skip-permissions',
        limits: { maxTurns: 1, maxBudgetUsd: 1, timeoutSeconds: 1 },
      },
      { settingsPath: 's', mcpConfigPath: 'm' },
    );
    expect(args.slice(-2)).toEqual(['--', '--dangerously-skip-permissions']);
  });
});

describe('buildAgentEnv', () => {
  it('is built from scratch: the key, a throwaway home, telemetry off, git hardened', () => {
    const env = buildAgentEnv(
      {
        anthropicApiKey: 'sk-ant-x',
        anthropicBaseUrl: 'http://127.0.0.1:1/_sandbox/anthropic',
        path: '/usr/bin',
        agentHome: '/run/agent-home',
      },
      '/run/agent-home/.claude',
    );
    expect(Object.keys(env).sort()).toEqual(
      [
        'ANTHROPIC_API_KEY',
        'ANTHROPIC_BASE_URL',
        'CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC',
        'CLAUDE_CODE_MAX_RETRIES',
        'CLAUDE_CONFIG_DIR',
        'DISABLE_AUTOUPDATER',
        'DISABLE_ERROR_REPORTING',
        'DISABLE_TELEMETRY',
        'GIT_CONFIG_COUNT',
        'GIT_CONFIG_GLOBAL',
        'GIT_CONFIG_KEY_0',
        'GIT_CONFIG_KEY_1',
        'GIT_CONFIG_KEY_2',
        'GIT_CONFIG_NOSYSTEM',
        'GIT_CONFIG_VALUE_0',
        'GIT_CONFIG_VALUE_1',
        'GIT_CONFIG_VALUE_2',
        'GIT_TERMINAL_PROMPT',
        'HOME',
        'LANG',
        'PATH',
        'TMPDIR',
      ].sort(),
    );
    expect(env).toMatchObject({
      HOME: '/run/agent-home',
      CLAUDE_CONFIG_DIR: '/run/agent-home/.claude',
      // Bounded: the CLI's default backs off for minutes while the API is down.
      CLAUDE_CODE_MAX_RETRIES: '5',
    });
  });
});

describe('buildAgentSettings', () => {
  it('registers our hook for every tool and denies the dangerous tools', () => {
    expect(buildAgentSettings("'/usr/bin/node' '/app/edit-guard-hook.mjs' '/cfg.json'")).toMatchObject({
      hooks: {
        PreToolUse: [
          {
            matcher: '*',
            hooks: [{ type: 'command', command: "'/usr/bin/node' '/app/edit-guard-hook.mjs' '/cfg.json'" }],
          },
        ],
      },
      permissions: { deny: ['Bash', 'WebFetch', 'WebSearch', 'NotebookEdit', 'Agent', 'Task'] },
      enableAllProjectMcpServers: false,
    });
  });
});

describe('buildEditGuardCommand', () => {
  it('runs the TypeScript hook through tsx from source, every argument quoted', () => {
    const command = buildEditGuardCommand("/tmp/run dir/it's.json");
    expect(command).toMatch(
      /^'[^']*node[^']*' '--import' 'file:\/\/[^']*tsx[^']*' '[^']*fargate-runner\/src\/edit-guard-hook\.ts' /,
    );
    expect(command.endsWith(` '/tmp/run dir/it'\\''s.json'`)).toBe(true);
  });

  it('quotes for sh', () => {
    expect(quoteForShell("a'b $(x)")).toBe(`'a'\\''b $(x)'`);
  });
});

describe('parseCliResult', () => {
  it('finds the result line among other output', () => {
    const stdout =
      'warming up\n{"type":"system"}\n{"type":"result","subtype":"success","result":"ok","total_cost_usd":0.5}\n';
    expect(parseCliResult(stdout)).toMatchObject({ subtype: 'success', result: 'ok', total_cost_usd: 0.5 });
  });

  it('returns null without one', () => {
    expect(parseCliResult('Error: not logged in\n')).toBeNull();
    expect(parseCliResult('{"type":"result"')).toBeNull();
  });
});

describe('buildAuth', () => {
  it('scopes a basic-auth header to the https origin', () => {
    expect(buildAuth('https://github.com/acme/shop.git', 'ghs_token')).toEqual({
      origin: 'https://github.com/',
      header: `Authorization: Basic ${Buffer.from('x-access-token:ghs_token').toString('base64')}`,
    });
  });

  it('uses nothing for local repositories and insists on a token for https', () => {
    expect(buildAuth('file:///srv/shop.git', 'ghs_token')).toBeUndefined();
    expect(buildAuth('http://127.0.0.1:3000/_sandbox/github/acme/shop.git', undefined)).toBeUndefined();
    expect(buildAuth('http://127.0.0.1:3000/_sandbox/github/acme/shop.git', 'ghs_token')?.origin).toBe(
      'http://127.0.0.1:3000/',
    );
    expect(() => buildAuth('https://github.com/acme/shop.git', undefined)).toThrow(
      /GITHUB_TOKEN is required/,
    );
  });
});

describe('buildCommitMessage', () => {
  it('makes a one-line subject from the reported title', () => {
    const spec = {
      jobId: 'job-9',
      task: {
        title: 'Cart\n\nSigned-off-by: someone `else`',
        body: '',
        url: 'https://linear.app/acme/issue/SHOP-9',
      },
    } as FixJobSpec;
    expect(buildCommitMessage(spec)).toBe(
      'fix: Cart Signed-off-by: someone else\n\nDrafted by bugbot for fix job job-9.\nIssue: https://linear.app/acme/issue/SHOP-9\n',
    );
  });
});

describe('exitCodeFor', () => {
  it('maps statuses to the contract exit codes', () => {
    expect(['pushed', 'no_changes', 'rejected', 'failed'].map((s) => exitCodeFor(s as never))).toEqual([
      0, 0, 2, 1,
    ]);
  });
});
