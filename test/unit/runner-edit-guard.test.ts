import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evaluateToolCall } from '../../fargate-runner/src/agent/edit-guard.js';

let root: string;
let workspace: string;
const allowlist = ['src/'];

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'bugbot-guard-'));
  workspace = join(root, 'workspace');
  await mkdir(join(workspace, 'src'), { recursive: true });
  await mkdir(join(root, 'outside'));
  await writeFile(join(workspace, 'src/a.ts'), 'x');
  await symlink(join(root, 'outside'), join(workspace, 'src/escape'));
  await symlink('a.ts', join(workspace, 'src/alias.ts'));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const call = (tool_name: string, tool_input: Record<string, unknown>) =>
  evaluateToolCall({ tool_name, tool_input }, { workspace, allowlist });

describe('evaluateToolCall', () => {
  it('allows edits under the allowlist, by absolute or relative path, existing or new', () => {
    expect(call('Edit', { file_path: join(workspace, 'src/a.ts') })).toEqual({ allow: true });
    expect(call('Write', { file_path: 'src/new/dir/b.ts' })).toEqual({ allow: true });
    expect(call('Write', { file_path: join(workspace, 'src/alias.ts') })).toEqual({ allow: true });
  });

  it('refuses edits outside the allowlist or the workspace, and through symlinks out of it', () => {
    expect(call('Write', { file_path: join(workspace, 'package.json') }).allow).toBe(false);
    expect(call('Write', { file_path: join(workspace, 'src/../package.json') }).allow).toBe(false);
    expect(call('Write', { file_path: join(workspace, 'src/escape/x.ts') })).toEqual({
      allow: false,
      reason: 'Only files inside the repository workspace may be used.',
    });
    expect(call('Write', { file_path: join(root, 'outside/x') }).allow).toBe(false);
    expect(call('Edit', { file_path: join(workspace, '.git/config') }).allow).toBe(false);
    expect(call('NotebookEdit', { notebook_path: join(workspace, 'notebook.ipynb') }).allow).toBe(false);
    expect(call('Write', {}).allow).toBe(false);
  });

  it('keeps reads, globs and greps inside the workspace', () => {
    expect(call('Read', { file_path: join(workspace, 'package.json') })).toEqual({ allow: true });
    expect(call('Glob', { pattern: '**/*.ts' })).toEqual({ allow: true });
    expect(call('Grep', { pattern: 'x', path: 'src', glob: '*.ts' })).toEqual({ allow: true });
    expect(call('Read', { file_path: '/etc/passwd' }).allow).toBe(false);
    expect(call('Read', { file_path: join(workspace, 'src/escape/secret') }).allow).toBe(false);
    expect(call('Glob', { pattern: '/etc/**' }).allow).toBe(false);
    expect(call('Glob', { pattern: '../**/*' }).allow).toBe(false);
    expect(call('Glob', { pattern: '*', path: '/' }).allow).toBe(false);
    expect(call('Grep', { pattern: 'x', path: '/proc' }).allow).toBe(false);
    expect(call('Grep', { pattern: 'x', glob: '../../**' }).allow).toBe(false);
  });

  it('refuses any other tool', () => {
    expect(call('Bash', { command: 'ls' }).allow).toBe(false);
    expect(call('WebFetch', { url: 'https://example.com' }).allow).toBe(false);
  });
});
