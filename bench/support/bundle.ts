import { readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Metafile, type Plugin } from 'esbuild';
import { lambdaEsbuildOptions } from '../../infra/bundling.js';

export const REPOSITORY_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface LambdaBundle {
  readonly name: string;
  /** Repository-relative entry, as the metafile names it. */
  readonly entry: string;
  readonly file: string;
  readonly bytes: number;
  readonly metafile: Metafile;
}

/**
 * Bundles one entry the way `NodejsFunction` does with `lambdaEsbuildOptions` (local esbuild,
 * ESM written as `index.mjs`). CDK takes the banner as a string and `externalModules`; the esbuild
 * API wants `banner.js` and `external`: the same settings, spelled for the API.
 */
export async function bundleLikeLambda(input: {
  name: string;
  /** Repository-relative entry file; or `contents`, a module resolved from the repository root. */
  entry: string;
  contents?: string;
  outDir: string;
  plugins?: Plugin[];
}): Promise<LambdaBundle> {
  const { banner, external, ...options } = lambdaEsbuildOptions;
  const file = join(input.outDir, input.name, 'index.mjs');
  const result = await build({
    ...options,
    banner: { js: banner },
    external: [...external],
    ...(input.contents === undefined
      ? { entryPoints: [join(REPOSITORY_ROOT, input.entry)] }
      : { stdin: { contents: input.contents, resolveDir: REPOSITORY_ROOT, loader: 'ts' as const } }),
    outfile: file,
    absWorkingDir: REPOSITORY_ROOT,
    metafile: true,
    logLevel: 'error',
    plugins: input.plugins ?? [],
  });
  const output = Object.values(result.metafile.outputs)[0];
  if (!output) throw new Error(`esbuild wrote nothing for ${input.entry}`);
  return { name: input.name, entry: input.entry, file, bytes: output.bytes, metafile: result.metafile };
}

export interface Contributor {
  readonly name: string;
  readonly bytes: number;
}

/** Bytes in the bundle per npm package (or per first-party folder such as `shared/webhooks`). */
export function contributorsByPackage(bundle: LambdaBundle): Contributor[] {
  const output = Object.values(bundle.metafile.outputs)[0];
  const totals = new Map<string, number>();
  for (const [path, input] of Object.entries(output?.inputs ?? {})) {
    const name = packageOf(path);
    totals.set(name, (totals.get(name) ?? 0) + input.bytesInOutput);
  }
  return [...totals].map(([name, bytes]) => ({ name, bytes })).sort((a, b) => b.bytes - a.bytes);
}

/** zod's bytes split by what they are for, to show what a leaner import would drop. */
export function zodBreakdown(bundle: LambdaBundle): Contributor[] {
  const output = Object.values(bundle.metafile.outputs)[0];
  const totals = new Map<string, number>();
  for (const [path, input] of Object.entries(output?.inputs ?? {})) {
    const inside = /node_modules\/zod\/(.*)$/.exec(path)?.[1];
    if (inside === undefined) continue;
    const part = inside.includes('/locales/')
      ? 'zod locales (every language)'
      : /json-schema/.test(inside)
        ? 'zod JSON Schema (to/from)'
        : inside.includes('/classic/')
          ? 'zod classic API'
          : inside.includes('/mini/')
            ? 'zod mini API'
            : 'zod core';
    totals.set(part, (totals.get(part) ?? 0) + input.bytesInOutput);
  }
  return [...totals].map(([name, bytes]) => ({ name, bytes })).sort((a, b) => b.bytes - a.bytes);
}

/**
 * First-party files that import `specifier` (exactly), each with the import chain from the
 * entry that pulls it into the bundle: the files a fix has to touch.
 */
export function importersOf(bundle: LambdaBundle, specifier: string): { file: string; chain: string[] }[] {
  const inputs = bundle.metafile.inputs;
  const parents = new Map<string, string>();
  const queue = [bundle.entry];
  const seen = new Set(queue);
  while (queue.length > 0) {
    const current = queue.shift() as string;
    for (const imported of inputs[current]?.imports ?? []) {
      if (imported.external || seen.has(imported.path) || imported.path.includes('node_modules')) continue;
      seen.add(imported.path);
      parents.set(imported.path, current);
      queue.push(imported.path);
    }
  }
  const importers: { file: string; chain: string[] }[] = [];
  for (const file of seen) {
    const imports = inputs[file]?.imports ?? [];
    if (!imports.some((imported) => imported.original === specifier)) continue;
    const chain = [file];
    for (let parent = parents.get(file); parent !== undefined; parent = parents.get(parent))
      chain.unshift(parent);
    importers.push({ file, chain });
  }
  return importers;
}

/**
 * What-if: rewrites `import { z } from 'zod'` to `import * as z from 'zod'` in first-party
 * sources while bundling. The named import binds zod's namespace object `z`, which re-exports
 * `locales` and the JSON Schema converters, so esbuild must keep all of them; a namespace import
 * lets it drop what the code never touches. Same runtime API, so the bundle still works.
 */
export function zodNamespaceImportPlugin(rewritten: Set<string>): Plugin {
  return {
    name: 'bench-zod-namespace-import',
    setup(builder) {
      builder.onLoad({ filter: /\.ts$/ }, async (args) => {
        if (args.path.includes('node_modules')) return undefined;
        const source = await readFile(args.path, 'utf8');
        const contents = source.replace(/import \{ z \} from 'zod';/g, "import * as z from 'zod';");
        if (contents !== source) rewritten.add(relative(REPOSITORY_ROOT, args.path));
        return { contents, loader: 'ts' };
      });
    },
  };
}

function packageOf(path: string): string {
  const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path);
  if (match?.[1]) return match[1];
  const parts = path.split('/');
  return parts.length > 2 ? parts.slice(0, 2).join('/') : path;
}
