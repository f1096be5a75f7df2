import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

/**
 * The shell command Claude Code runs for our PreToolUse hook. Bundled (the image), the hook is
 * `edit-guard-hook.mjs` beside `main.mjs`; from source (`npx tsx …/main.ts`, tests), it is the
 * TypeScript entry run through tsx's loader.
 */
export function buildEditGuardCommand(configPath: string): string {
  const here = import.meta.url;
  const bundled = !here.endsWith('.ts');
  const argv = bundled
    ? [process.execPath, fileURLToPath(new URL('./edit-guard-hook.mjs', here)), configPath]
    : [
        process.execPath,
        '--import',
        pathToFileURL(createRequire(here).resolve('tsx')).href,
        fileURLToPath(new URL('../edit-guard-hook.ts', here)),
        configPath,
      ];
  return argv.map(quoteForShell).join(' ');
}

export function quoteForShell(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}
