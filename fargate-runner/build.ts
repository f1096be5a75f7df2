import { rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

/**
 * Bundles the runner for its image: `fargate-runner/dist/main.mjs` (the entry point) and
 * `fargate-runner/dist/edit-guard-hook.mjs` (the PreToolUse hook Claude Code runs; the runner
 * finds it beside itself). Everything is bundled — the image needs no node_modules for the
 * runner; only the Claude Code CLI is installed there, globally.
 *
 *   npx tsx fargate-runner/build.ts      (run before `docker build`, or by the CDK asset step)
 */

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

export async function buildRunner(outdir = here('./dist')): Promise<void> {
  await rm(outdir, { recursive: true, force: true });
  await build({
    entryPoints: { main: here('./src/main.ts'), 'edit-guard-hook': here('./src/edit-guard-hook.ts') },
    outdir,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    platform: 'node',
    target: 'node22',
    format: 'esm',
    minify: false,
    sourcemap: true,
    legalComments: 'none',
    // Some dependencies still call require(); give the ESM bundle a require that works.
    banner: {
      js: "import { createRequire as __bugbotCreateRequire } from 'node:module'; const require = __bugbotCreateRequire(import.meta.url);",
    },
    mainFields: ['module', 'main'],
    logLevel: 'warning',
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await buildRunner();
}
