import { realpathSync } from 'node:fs';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { decideToolUse, type ToolUseDecision } from '../../../shared/domain/allowlist-gate.js';

/**
 * The PreToolUse hook's logic: Claude Code runs our hook before every tool call and, on exit
 * code 2, refuses the call and shows the model our reason. Defense in depth — the gate after the
 * agent decides what leaves — but it keeps an honest agent on track and a misled one from even
 * trying: writes only under the allowlist, reads only inside the workspace (no /proc, no HOME,
 * no runner files).
 */

export interface EditGuardConfig {
  /** Absolute path of the agent's workspace. */
  readonly workspace: string;
  readonly allowlist: readonly string[];
}

/** The part of Claude Code's PreToolUse hook input we read. */
export interface HookInput {
  readonly tool_name?: unknown;
  readonly tool_input?: unknown;
}

const GLOB_CHARS = /[*?[\]{}]/;

export function evaluateToolCall(input: HookInput, config: EditGuardConfig): ToolUseDecision {
  const toolName = typeof input.tool_name === 'string' ? input.tool_name : '';
  const toolInput = (
    typeof input.tool_input === 'object' && input.tool_input !== null ? input.tool_input : {}
  ) as Record<string, unknown>;
  const workspace = realpathSync(config.workspace);
  const paths = listToolPaths(toolName, toolInput).map((path) =>
    path === null ? null : toWorkspacePath(workspace, config.workspace, path),
  );
  return decideToolUse(toolName, paths, config.allowlist);
}

/** The paths a tool call touches; `null` for one that cannot be judged (and is refused). */
function listToolPaths(toolName: string, toolInput: Record<string, unknown>): Array<string | null> {
  const text = (key: string): string | undefined =>
    typeof toolInput[key] === 'string' ? (toolInput[key] as string) : undefined;
  switch (toolName) {
    case 'Write':
    case 'Edit':
    case 'MultiEdit':
    case 'Read':
      return [text('file_path') ?? null];
    case 'NotebookEdit':
      return [text('notebook_path') ?? null];
    case 'LS':
      return [text('path') ?? '.'];
    case 'Glob': {
      const pattern = text('pattern') ?? '';
      const paths: Array<string | null> = [text('path') ?? '.'];
      if (hasParentSegment(pattern)) paths.push(null);
      else if (isAbsolute(pattern)) paths.push(staticPrefix(pattern));
      return paths;
    }
    case 'Grep': {
      const glob = text('glob') ?? '';
      return [text('path') ?? '.', hasParentSegment(glob) || isAbsolute(glob) ? null : '.'];
    }
    default:
      return [];
  }
}

function hasParentSegment(pattern: string): boolean {
  return pattern.split(/[\\/]/).includes('..');
}

/** `/a/b/**\/*.ts` → `/a/b`: the directory a glob cannot escape. */
function staticPrefix(pattern: string): string {
  const segments = pattern.split('/');
  const firstGlob = segments.findIndex((segment) => GLOB_CHARS.test(segment));
  return segments.slice(0, firstGlob < 0 ? segments.length : firstGlob).join('/') || '/';
}

/**
 * The path relative to the workspace after resolving symlinks (through the deepest part that
 * exists), or null when it lies outside.
 */
function toWorkspacePath(realWorkspace: string, workspace: string, path: string): string | null {
  const absolute = resolve(workspace, path);
  const real = resolveExisting(absolute);
  const relativePath = relative(realWorkspace, real);
  if (relativePath === '') return '';
  if (relativePath.startsWith(`..${sep}`) || relativePath === '..' || isAbsolute(relativePath)) return null;
  return relativePath.split(sep).join('/');
}

function resolveExisting(absolute: string): string {
  const pending: string[] = [];
  let current = absolute;
  for (;;) {
    try {
      return join(realpathSync(current), ...pending.reverse());
    } catch {
      const parent = resolve(current, '..');
      if (parent === current) return absolute;
      pending.push(current.slice(parent.length).replace(/^[\\/]/, ''));
      current = parent;
    }
  }
}
