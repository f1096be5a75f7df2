import { existsSync } from 'node:fs';
import { chmod, chown, mkdir, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { runProcess } from '../process/run-process.js';
import { handOver, type Sandbox, type SandboxUser, stopUser } from '../sandbox/sandbox-users.js';
import { buildEditGuardCommand } from './edit-guard-command.js';

/**
 * Runs the Claude Code CLI headless on the workspace, as tightly as its flags allow:
 * - only our settings: `--setting-sources user` with a throwaway HOME/CLAUDE_CONFIG_DIR (so the
 *   repository's `.claude/settings*.json`, hooks, CLAUDE.md and `.mcp.json` are never loaded), plus
 *   `--settings` with our PreToolUse hook and deny rules; `--strict-mcp-config` with no servers;
 * - tools: Read, Glob, Grep, Edit, Write — no shell, no web, no subagents;
 * - `--permission-mode acceptEdits`: edits inside the workspace proceed, anything that would
 *   need a permission prompt (paths outside it, sensitive files) is refused in print mode;
 * - `--max-turns`, `--max-budget-usd`, and a wall-clock limit that kills the process tree;
 * - a scrubbed environment (no GitHub token, no AWS credentials) and stdin closed;
 * - with a sandbox, as the run's agent user: its own HOME, the workspace, read-only settings, and
 *   every process of that user stopped when the CLI is done.
 */

export const AGENT_TOOLS = ['Read', 'Glob', 'Grep', 'Edit', 'Write'] as const;
export const DENIED_TOOLS = ['Bash', 'WebFetch', 'WebSearch', 'NotebookEdit', 'Agent', 'Task'] as const;

export interface AgentLimits {
  readonly maxTurns: number;
  readonly maxBudgetUsd: number;
  readonly timeoutSeconds: number;
}

export interface RunAgentInput {
  readonly claudeBin: string;
  readonly workspace: string;
  /** A directory outside the workspace: the CLI's HOME and config. */
  readonly agentHome: string;
  /** Our settings and hook configuration, outside the agent's HOME (it may read, not write). */
  readonly settingsDir: string;
  /** Runs the CLI as the sandbox's agent user; without one, as the runner itself. */
  readonly sandbox?: Sandbox | null;
  readonly prompt: string;
  readonly allowlist: readonly string[];
  readonly limits: AgentLimits;
  readonly anthropicApiKey: string;
  readonly anthropicBaseUrl?: string;
  readonly model?: string;
  readonly path: string;
}

export type AgentOutcome =
  | {
      readonly status: 'completed';
      readonly summary: string;
      readonly costUsd: number;
      readonly turns: number;
    }
  | {
      readonly status: 'failed';
      readonly reason: string;
      readonly summary: string;
      readonly costUsd: number;
    };

/** The fields of `claude -p --output-format json` we use. */
interface CliResult {
  readonly type?: unknown;
  readonly subtype?: unknown;
  readonly is_error?: unknown;
  readonly result?: unknown;
  readonly num_turns?: unknown;
  readonly total_cost_usd?: unknown;
  readonly errors?: unknown;
}

export function locateClaudeBin(configured: string | undefined): string {
  if (configured) return configured;
  try {
    const packageJson = createRequire(import.meta.url).resolve('@anthropic-ai/claude-code/package.json');
    const bin = join(dirname(packageJson), 'bin', 'claude.exe');
    if (existsSync(bin)) return bin;
  } catch {
    // Not installed beside the runner (the image installs it globally): use PATH.
  }
  return 'claude';
}

export async function runAgent(input: RunAgentInput): Promise<AgentOutcome> {
  const configDir = join(input.agentHome, '.claude');
  const settingsDir = input.settingsDir;
  const user: SandboxUser | null = input.sandbox ? input.sandbox.agent : null;
  await mkdir(configDir, { recursive: true, mode: 0o700 });
  await mkdir(join(input.agentHome, 'tmp'), { recursive: true, mode: 0o700 });
  await mkdir(settingsDir, { recursive: true, mode: 0o750 });
  const guardConfigPath = join(settingsDir, 'edit-guard.json');
  const settingsPath = join(settingsDir, 'settings.json');
  const mcpConfigPath = join(settingsDir, 'mcp.json');
  const settingsFiles: Array<[string, string]> = [
    [guardConfigPath, JSON.stringify({ workspace: input.workspace, allowlist: input.allowlist })],
    [settingsPath, JSON.stringify(buildAgentSettings(buildEditGuardCommand(guardConfigPath)), null, 2)],
    [mcpConfigPath, JSON.stringify({ mcpServers: {} })],
  ];
  for (const [path, content] of settingsFiles) await writeFile(path, content, { mode: 0o640 });
  if (user) {
    await handOver([input.agentHome], user);
    // Root's, readable by the agent's group: a misled agent cannot rewrite its own hooks.
    for (const path of [settingsDir, ...settingsFiles.map(([file]) => file)]) await chown(path, 0, user.gid);
    await chmod(settingsDir, 0o750);
  }

  let outcome: Awaited<ReturnType<typeof runProcess>>;
  try {
    outcome = await runProcess(input.claudeBin, buildClaudeArgs(input, { settingsPath, mcpConfigPath }), {
      cwd: input.workspace,
      env: buildAgentEnv(input, configDir),
      timeoutMs: input.limits.timeoutSeconds * 1000,
      maxStdoutBytes: 4 * 1024 * 1024,
      ...(input.sandbox ? { user: input.sandbox.agent, setpriv: input.sandbox.setpriv } : {}),
    });
  } finally {
    // Whatever the CLI or its hooks left behind (even outside its process group) stops here,
    // before the runner reads the workspace.
    if (input.sandbox) await stopUser(input.sandbox, input.sandbox.agent);
  }
  if (outcome.timedOut) {
    return {
      status: 'failed',
      reason: `the agent did not finish within ${input.limits.timeoutSeconds} s and was stopped`,
      summary: '',
      costUsd: 0,
    };
  }
  const parsed = parseCliResult(outcome.stdout.toString('utf8'));
  if (!parsed) {
    return {
      status: 'failed',
      reason: `the Claude Code CLI exited with ${outcome.exitCode ?? outcome.signal} without a result${describeStderr(outcome.stderr)}`,
      summary: '',
      costUsd: 0,
    };
  }
  const costUsd =
    typeof parsed.total_cost_usd === 'number' && parsed.total_cost_usd >= 0 ? parsed.total_cost_usd : 0;
  const summary = typeof parsed.result === 'string' ? parsed.result : '';
  if (parsed.is_error === true || parsed.subtype !== 'success' || outcome.exitCode !== 0) {
    return { status: 'failed', reason: describeCliError(parsed, outcome.exitCode), summary, costUsd };
  }
  return {
    status: 'completed',
    summary,
    costUsd,
    turns: typeof parsed.num_turns === 'number' ? parsed.num_turns : 0,
  };
}

export function buildClaudeArgs(
  input: Pick<RunAgentInput, 'prompt' | 'limits' | 'model'>,
  files: { settingsPath: string; mcpConfigPath: string },
): string[] {
  return [
    '--print',
    '--output-format',
    'json',
    '--max-turns',
    String(input.limits.maxTurns),
    '--max-budget-usd',
    String(input.limits.maxBudgetUsd),
    '--setting-sources',
    'user',
    '--settings',
    files.settingsPath,
    '--strict-mcp-config',
    '--mcp-config',
    files.mcpConfigPath,
    '--tools',
    AGENT_TOOLS.join(','),
    '--disallowedTools',
    DENIED_TOOLS.join(','),
    '--permission-mode',
    'acceptEdits',
    '--no-session-persistence',
    '--disable-slash-commands',
    ...(input.model ? ['--model', input.model] : []),
    // The prompt last, after `--`, so nothing in it can be read as an option.
    '--',
    input.prompt,
  ];
}

export function buildAgentSettings(hookCommand: string): Record<string, unknown> {
  return {
    hooks: {
      PreToolUse: [{ matcher: '*', hooks: [{ type: 'command', command: hookCommand, timeout: 60 }] }],
    },
    permissions: { deny: [...DENIED_TOOLS], defaultMode: 'acceptEdits' },
    enableAllProjectMcpServers: false,
    includeCoAuthoredBy: false,
    cleanupPeriodDays: 1,
  };
}

/** How often the agent's CLI retries a failed model call (its `CLAUDE_CODE_MAX_RETRIES`). */
export const AGENT_MAX_API_RETRIES = 5;

export function buildAgentEnv(
  input: Pick<RunAgentInput, 'anthropicApiKey' | 'anthropicBaseUrl' | 'path' | 'agentHome'>,
  configDir: string,
): Record<string, string> {
  return {
    PATH: input.path,
    HOME: input.agentHome,
    CLAUDE_CONFIG_DIR: configDir,
    TMPDIR: join(input.agentHome, 'tmp'),
    LANG: 'C.UTF-8',
    ANTHROPIC_API_KEY: input.anthropicApiKey,
    ...(input.anthropicBaseUrl ? { ANTHROPIC_BASE_URL: input.anthropicBaseUrl } : {}),
    DISABLE_TELEMETRY: '1',
    DISABLE_AUTOUPDATER: '1',
    DISABLE_ERROR_REPORTING: '1',
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
    // Bounded retries of the model API: the CLI's own default (10, backing off to half a minute
    // apiece) holds a task for minutes while Anthropic is down; five ride out a short overload
    // (about 15 s of backoff) and then the fix fails and the thread is told.
    CLAUDE_CODE_MAX_RETRIES: String(AGENT_MAX_API_RETRIES),
    // Claude Code runs git in the workspace itself (status for its context); make sure that git
    // trusts no config there either.
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_TERMINAL_PROMPT: '0',
    GIT_CONFIG_COUNT: '3',
    GIT_CONFIG_KEY_0: 'core.hooksPath',
    GIT_CONFIG_VALUE_0: '/dev/null',
    GIT_CONFIG_KEY_1: 'core.fsmonitor',
    GIT_CONFIG_VALUE_1: 'false',
    GIT_CONFIG_KEY_2: 'protocol.allow',
    GIT_CONFIG_VALUE_2: 'never',
  };
}

export function parseCliResult(stdout: string): CliResult | null {
  const lines = stdout.split('\n').filter((line) => line.trim().startsWith('{'));
  for (const line of lines.reverse()) {
    try {
      const value = JSON.parse(line) as CliResult;
      if (value && typeof value === 'object' && value.type === 'result') return value;
    } catch {
      // Not the result line.
    }
  }
  return null;
}

function describeCliError(result: CliResult, exitCode: number | null): string {
  switch (result.subtype) {
    case 'error_max_turns':
      return 'the agent reached its turn limit before finishing';
    case 'error_max_budget_usd':
      return 'the agent reached its budget before finishing';
    case 'error_during_execution':
      return 'the agent stopped with an error during execution';
    default: {
      const errors = Array.isArray(result.errors) ? result.errors.filter((e) => typeof e === 'string') : [];
      const detail = errors.length > 0 ? `: ${errors.join('; ').slice(0, 300)}` : '';
      return `the agent ended with an error (${String(result.subtype ?? 'unknown')}, exit ${exitCode})${detail}`;
    }
  }
}

function describeStderr(stderr: string): string {
  const line = stderr.trim().split('\n').filter(Boolean).at(-1);
  return line ? `: ${line.slice(0, 300)}` : '';
}
