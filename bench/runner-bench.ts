import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { type RunFixReport, runFix } from '../fargate-runner/src/run-fix.js';
import type { FixJobSpec } from '../shared/jobs/fix-job-spec.js';
import { median } from './support/stats.js';
import { type BenchRow, printSection } from './support/table.js';

/**
 * The fix runner's own overhead — everything but the model: clone, gate, commit, push — on a
 * generated repository of more than 50 MB with a long history, partial clone (the runner's
 * default) beside a full clone. The agent is a stand-in `claude` that makes one small edit and
 * prints the CLI's JSON result, so its time is the same in both columns and left out.
 *
 * The repository is generated deterministically (same bytes every time) with `git fast-import`
 * and cached under `.local/bench/` between runs.
 *
 *   npx tsx bench/runner-bench.ts
 */

const GENERATOR_VERSION = 'v1';
const TEXT_FILES = 3000;
const COMPONENT_DIRS = 50;
const ASSETS = 24;
const ASSET_BYTES = 512 * 1024;
const HISTORY_COMMITS = 2400;
const ASSET_REWRITE_EVERY = 20;
const RUNS = Number(process.env.RUNNER_BENCH_RUNS ?? 3);

const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
const CACHE_DIR = join(REPO_ROOT, '.local', 'bench', `runner-repo-${GENERATOR_VERSION}`);

export async function runRunnerBench(): Promise<BenchRow[]> {
  const origin = await ensureBenchRepository();
  const work = await mkdtemp(join(tmpdir(), 'bugbot-runner-bench-'));
  try {
    const claudeBin = await writeBenchClaude(work);
    const rows: BenchRow[] = [
      {
        name: 'repository size, bare and packed (MiB)',
        value: formatMiB(origin.bytes),
        note: `${origin.commits} commits`,
      },
      {
        name: 'repository shape',
        value: `${TEXT_FILES + ASSETS + 2} files`,
        note: `${ASSETS} incompressible assets of ${ASSET_BYTES / 1024} KiB, rewritten ${Math.floor(HISTORY_COMMITS / ASSET_REWRITE_EVERY)} times in history`,
      },
    ];
    const results: Record<'partial' | 'full', RunFixReport[]> = { partial: [], full: [] };
    const disk: Record<'partial' | 'full', number[]> = { partial: [], full: [] };
    for (let run = 0; run < RUNS; run += 1) {
      // Alternate, so drift on a shared machine hits both columns alike.
      for (const mode of run % 2 === 0 ? (['partial', 'full'] as const) : (['full', 'partial'] as const)) {
        const workDir = join(work, `${mode}-${run}`);
        const branch = `bugbot/bench-${mode}-${run}`;
        const report = await runFix(benchSpec(origin.url, branch), {
          claudeBin,
          anthropicApiKey: 'bench-not-used',
          secretValues: [],
          path: process.env.PATH ?? '/usr/bin:/bin',
          workDir,
          partialClone: mode === 'partial',
        });
        if (report.result.status !== 'pushed') {
          throw new Error(`bench run ended ${report.result.status}: ${report.result.error ?? ''}`);
        }
        results[mode].push(report);
        disk[mode].push(await directoryBytes(join(workDir, 'runner.git')));
        await rm(workDir, { recursive: true, force: true });
        await git(origin.path, ['update-ref', '-d', `refs/heads/${branch}`]);
      }
    }
    const phases = [
      ['clone.fetch', 'clone: fetch history (commits, trees; all blobs when full)'],
      ['clone.checkout', 'clone: check out the base tree (+ its blobs when partial)'],
      ['gate', 'gate: snapshot the tree, diff, read new blobs, decide'],
      ['commit', 'commit: one fresh commit on the base'],
      ['push', 'push: one branch by explicit URL'],
    ] as const;
    for (const [phase, label] of phases) {
      rows.push(row(`${label} (ms)`, results, (report) => report.timings[phase] ?? 0));
    }
    rows.push(
      row('overhead: clone + gate + commit + push (ms)', results, (report) =>
        ['clone', 'gate', 'commit', 'push'].reduce((sum, phase) => sum + (report.timings[phase] ?? 0), 0),
      ),
    );
    rows.push({
      name: 'runner.git on disk after the run (MiB)',
      value: `${formatMiB(median(disk.partial))} / ${formatMiB(median(disk.full))}`,
      note: 'partial / full',
    });
    rows.push(await measurePushAfterBaseMoved(origin, work));
    rows.push({
      name: 'agent stand-in (not overhead)',
      value: Math.round(median(results.partial.map((report) => report.timings.agent ?? 0))),
      note: 'ms; fixed small edit, same for both',
    });
    return rows;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

function formatMiB(bytes: number): string {
  return (bytes / 1024 / 1024).toFixed(1);
}

/**
 * The base branch usually moves on while the agent works. A push from a partial clone must not
 * then fetch the history's blobs to send them back (push.negotiate): one partial run where the
 * stand-in agent moves `main` forward by a commit with new content before it edits.
 */
async function measurePushAfterBaseMoved(origin: BenchRepository, work: string): Promise<BenchRow> {
  const base = (await git(origin.path, ['rev-parse', 'refs/heads/main'])).trim();
  const blob = (
    await git(origin.path, ['hash-object', '-w', '--stdin'], async (stdin) => {
      stdin.write('moved on\n');
    })
  ).trim();
  const tree = (
    await git(origin.path, ['mktree'], async (stdin) => {
      stdin.write(`100644 blob ${blob}\tMOVED.md\n`);
    })
  ).trim();
  const moved = (
    await git(origin.path, ['commit-tree', tree, '-p', base, '-m', 'moved on'], undefined, {
      GIT_AUTHOR_NAME: 'Bench Dev',
      GIT_AUTHOR_EMAIL: 'bench@example.test',
      GIT_COMMITTER_NAME: 'Bench Dev',
      GIT_COMMITTER_EMAIL: 'bench@example.test',
    })
  ).trim();
  const claudeBin = await writeBenchClaude(work, `git -C ${origin.path} update-ref refs/heads/main ${moved}`);
  const branch = 'bugbot/bench-moved';
  try {
    const report = await runFix(benchSpec(origin.url, branch), {
      claudeBin,
      anthropicApiKey: 'bench-not-used',
      secretValues: [],
      path: process.env.PATH ?? '/usr/bin:/bin',
      workDir: join(work, 'moved'),
    });
    if (report.result.status !== 'pushed') throw new Error(`bench run ended ${report.result.status}`);
    return {
      name: 'push after main moved on (ms)',
      value: report.timings.push ?? 0,
      note: 'partial clone, one run',
    };
  } finally {
    await git(origin.path, ['update-ref', 'refs/heads/main', base]);
    await git(origin.path, ['update-ref', '-d', `refs/heads/${branch}`]).catch(() => '');
    await rm(join(work, 'moved'), { recursive: true, force: true });
  }
}

function row(
  name: string,
  results: Record<'partial' | 'full', RunFixReport[]>,
  pick: (report: RunFixReport) => number,
): BenchRow {
  const partial = Math.round(median(results.partial.map(pick)));
  const full = Math.round(median(results.full.map(pick)));
  return { name, value: `${partial} / ${full}`, note: `partial / full, median of ${RUNS}` };
}

function benchSpec(cloneUrl: string, branch: string): FixJobSpec {
  return {
    jobId: branch.replace(/\//g, '-'),
    repo: { cloneUrl, baseBranch: 'main' },
    branch,
    task: { title: 'Bench: a one-line fix', body: 'The first component renders the wrong label.' },
    allowlist: ['src/'],
    limits: { maxTurns: 5, maxBudgetUsd: 1, timeoutSeconds: 120, maxChangedFiles: 5, maxDiffLines: 50 },
  };
}

/** A stand-in `claude`: one fixed small edit (after `before`), then the CLI's JSON result. */
async function writeBenchClaude(dir: string, before = ''): Promise<string> {
  const path = join(dir, before ? 'bench-claude-moved.sh' : 'bench-claude.sh');
  const result = JSON.stringify({
    type: 'result',
    subtype: 'success',
    is_error: false,
    num_turns: 3,
    result: 'Fixed the label.',
    total_cost_usd: 0,
  });
  await writeFile(
    path,
    `#!/bin/sh\n${before}\nsed -i 's/label = "Component 0"/label = "Component zero"/' ${textFilePath(0)}\necho '${result}'\n`,
  );
  await chmod(path, 0o755);
  return path;
}

// ------------------------------------------------------------------------------------------------
// The generated repository

interface BenchRepository {
  readonly path: string;
  readonly url: string;
  readonly bytes: number;
  readonly commits: number;
}

async function ensureBenchRepository(): Promise<BenchRepository> {
  const path = join(CACHE_DIR, 'origin.git');
  const marker = join(CACHE_DIR, 'complete');
  if (!existsSync(marker)) {
    await rm(CACHE_DIR, { recursive: true, force: true });
    await mkdir(CACHE_DIR, { recursive: true });
    await git(CACHE_DIR, ['init', '--quiet', '--bare', '--initial-branch=main', path]);
    await git(path, ['fast-import', '--quiet'], generateHistory);
    await git(path, ['repack', '-a', '-d', '--quiet']);
    await git(path, ['config', 'uploadpack.allowFilter', 'true']);
    await git(path, ['config', 'uploadpack.allowAnySHA1InWant', 'true']);
    await writeFile(marker, `${GENERATOR_VERSION}\n`);
  }
  const commits = Number((await git(path, ['rev-list', '--count', 'main'])).trim());
  return { path, url: pathToFileURL(path).href, bytes: await directoryBytes(path), commits };
}

function textFilePath(index: number): string {
  return `src/components/c${String(index % COMPONENT_DIRS).padStart(2, '0')}/Component${index}.tsx`;
}

function textFile(index: number, revision: number): string {
  const lines = [
    `// Component ${index}, revision ${revision}`,
    `export const label = "Component ${index}";`,
    `export function render${index}(props: { count: number }) {`,
  ];
  for (let line = 0; line < 40; line += 1) {
    lines.push(
      `  const value${line} = props.count * ${(index * 31 + line * 7 + revision) % 997}; // ${index}:${line}`,
    );
  }
  lines.push(`  return \`<div>\${label} \${value0}</div>\`;`, '}', '');
  return lines.join('\n');
}

/** Deterministic, incompressible bytes (xorshift32), so assets weigh what they say. */
function assetBytes(asset: number, revision: number): Buffer {
  const words = new Uint32Array(ASSET_BYTES / 4);
  let state = (asset * 2654435761 + revision * 40503 + 1) >>> 0 || 1;
  for (let index = 0; index < words.length; index += 1) {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    words[index] = state;
  }
  return Buffer.from(words.buffer);
}

/** Writes a fast-import stream: one big initial commit, then a long history of small commits. */
async function generateHistory(stdin: NodeJS.WritableStream): Promise<void> {
  let failed: unknown;
  stdin.once('error', (error) => {
    failed = error;
  });
  const write = (chunk: string | Buffer) =>
    new Promise<void>((resolve, reject) => {
      if (failed) reject(failed);
      else if (stdin.write(chunk)) resolve();
      else stdin.once('drain', resolve);
    });
  const data = async (content: string | Buffer) => {
    const bytes = typeof content === 'string' ? Buffer.from(content) : content;
    await write(`data ${bytes.length}\n`);
    await write(bytes);
    await write('\n');
  };
  const file = async (path: string, content: string | Buffer) => {
    await write(`M 100644 inline ${path}\n`);
    await data(content);
  };
  const header = async (mark: number, message: string) => {
    const when = 1_600_000_000 + mark * 3600;
    await write(`commit refs/heads/main\nmark :${mark}\n`);
    await write(`author Bench Dev <bench@example.test> ${when} +0000\n`);
    await write(`committer Bench Dev <bench@example.test> ${when} +0000\n`);
    await data(message);
    if (mark > 1) await write(`from :${mark - 1}\n`);
  };

  await header(1, 'Initial import');
  await file('package.json', '{ "name": "bench-shop", "private": true }\n');
  await file('README.md', '# Bench shop\n');
  for (let index = 0; index < TEXT_FILES; index += 1) await file(textFilePath(index), textFile(index, 0));
  for (let asset = 0; asset < ASSETS; asset += 1)
    await file(`public/assets/asset-${asset}.bin`, assetBytes(asset, 0));
  for (let commit = 2; commit <= HISTORY_COMMITS + 1; commit += 1) {
    await header(commit, `Change ${commit}`);
    for (let touched = 0; touched < 3; touched += 1) {
      // Never the file the bench edits, so its base content stays known.
      const index = 1 + ((commit * 37 + touched * 101) % (TEXT_FILES - 1));
      await file(textFilePath(index), textFile(index, commit));
    }
    if (commit % ASSET_REWRITE_EVERY === 0) {
      const asset = (commit / ASSET_REWRITE_EVERY) % ASSETS;
      await file(`public/assets/asset-${asset}.bin`, assetBytes(asset, commit));
    }
  }
  await write('done\n');
}

// ------------------------------------------------------------------------------------------------

function git(
  cwd: string,
  args: readonly string[],
  feed?: (stdin: NodeJS.WritableStream) => Promise<void>,
  extraEnv: Record<string, string> = {},
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('git', args, {
      cwd,
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: cwd,
        GIT_CONFIG_NOSYSTEM: '1',
        GIT_CONFIG_GLOBAL: '/dev/null',
        ...extraEnv,
      },
      stdio: [feed ? 'pipe' : 'ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });
    child.once('error', reject);
    child.once('close', (code) => {
      if (code === 0) resolve(stdout);
      else reject(new Error(`git ${args[0]} failed (${code}): ${stderr.slice(0, 500)}`));
    });
    if (feed && child.stdin) {
      feed(child.stdin).then(
        () => child.stdin?.end(),
        (error: unknown) => {
          child.kill();
          reject(error);
        },
      );
    }
  });
}

async function directoryBytes(path: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(path, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) total += (await stat(join(entry.parentPath, entry.name))).size;
  }
  return total;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  printSection('Fix runner', await runRunnerBench());
}
