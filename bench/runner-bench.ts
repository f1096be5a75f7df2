import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { type RunFixReport, runFix } from '../fargate-runner/src/run-fix.js';
import { ensureSandboxRepo } from '../local/sandbox-repo.js';
import { SANDBOX_REGRESSION_TEST, SANDBOX_TEST_PATH } from '../local/stand-ins/anthropic/sandbox-agent.js';
import { decideGate, numberAddedLines } from '../shared/domain/allowlist-gate.js';
import { findFixRisks } from '../shared/domain/fix-risks.js';
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
 * Also: what a fix proving itself adds (the `before` run: the base tree plus the agent's test,
 * checked out and run as the sandbox user) on the sandbox repository and on the big one, and the
 * gate on a 1 MiB single-line file (its credential scan was quadratic on one long line).
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

const exec$ = promisify(execFile);
const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
const CACHE_DIR = join(REPO_ROOT, '.local', 'bench', `runner-repo-${GENERATOR_VERSION}`);

export async function runRunnerBench(): Promise<BenchRow[]> {
  const origin = await ensureBenchRepository();
  const work = await mkdtemp(join(tmpdir(), 'bugbot-runner-bench-'));
  // The runner's sandbox users must pass through to the run directories (README "The sandbox").
  await chmod(work, 0o711);
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
    rows.push(
      row1('sandbox users: reserve and probe (ms)', results.partial, (report) => report.timings.sandbox ?? 0),
    );
    rows.push(...(await measureReproduction('sandbox repo (acme/shop)', await sandboxRepoCase(work), work)));
    rows.push(...(await measureReproduction('77 MiB repo', benchRepoCase(origin), work)));
    rows.push(...measureGateOnLongLine());
    rows.push(await measureGatePhaseOnLongLine(work));
    return rows;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

interface ReproductionCase {
  readonly cloneUrl: string;
  /** The stand-in agent: writes a failing test, then the fix. */
  readonly script: string;
  readonly allowlist: readonly string[];
  readonly command: string;
  readonly cleanup: () => Promise<void>;
}

/** The sandbox repository and the sandbox agent's test and fix, as the local stack runs them. */
async function sandboxRepoCase(work: string): Promise<ReproductionCase> {
  const dataDir = join(work, 'sandbox-data');
  const sandbox = await ensureSandboxRepo(dataDir, { fresh: true });
  return {
    cloneUrl: pathToFileURL(sandbox.bareDir).href,
    script: [
      `cat > ${SANDBOX_TEST_PATH} <<'BUGBOT_TEST'`,
      SANDBOX_REGRESSION_TEST.trimEnd(),
      'BUGBOT_TEST',
      "sed -i 's/items.map(lineTotal)/(items ?? []).map(lineTotal)/' src/cart.js",
    ].join('\n'),
    allowlist: ['src/', 'components/', 'pages/'],
    command: 'node --test',
    cleanup: () => rm(dataDir, { recursive: true, force: true }),
  };
}

/** The big repository: a test that reads the component's label, then the label fix. */
function benchRepoCase(origin: BenchRepository): ReproductionCase {
  const component = textFilePath(0);
  const testPath = component.replace(/\.tsx$/, '.test.mjs');
  const test = [
    "import { test } from 'node:test';",
    "import assert from 'node:assert/strict';",
    "import { readFileSync } from 'node:fs';",
    "test('the first component is labelled in words', () => {",
    `  assert.match(readFileSync(new URL('./Component0.tsx', import.meta.url), 'utf8'), /Component zero/);`,
    '});',
  ].join('\n');
  return {
    cloneUrl: origin.url,
    script: [
      `cat > ${testPath} <<'BUGBOT_TEST'`,
      test,
      'BUGBOT_TEST',
      `sed -i 's/label = "Component 0"/label = "Component zero"/' ${component}`,
    ].join('\n'),
    allowlist: ['src/'],
    command: 'node --test',
    cleanup: async () => {},
  };
}

/**
 * Runs the case RUNS times and reports the phases a proof adds: `reproduce` (build the base tree
 * plus the agent's tests, check it out, hand it to the sandbox user, run verify, stop its
 * processes) beside `verify` (the same on the final tree, which verify always needed).
 */
async function measureReproduction(
  label: string,
  fixCase: ReproductionCase,
  work: string,
): Promise<BenchRow[]> {
  const claudeBin = await writeStandInClaude(work, `proof-${label.replace(/\W+/g, '-')}`, fixCase.script);
  const reports: RunFixReport[] = [];
  try {
    for (let run = 0; run < RUNS; run += 1) {
      const branch = `bugbot/bench-proof-${run}`;
      const workDir = join(work, `proof-${run}`);
      const report = await runFix(
        {
          ...benchSpec(fixCase.cloneUrl, branch),
          allowlist: [...fixCase.allowlist],
          verify: { command: fixCase.command, timeoutSeconds: 300 },
        },
        {
          claudeBin,
          anthropicApiKey: 'bench-not-used',
          secretValues: [],
          path: process.env.PATH ?? '/usr/bin:/bin',
          workDir,
        },
      );
      const proven =
        report.result.reproduction?.status === 'reproduced' &&
        report.result.reproduction.after?.exitCode === 0;
      if (report.result.status !== 'pushed' || !proven) {
        throw new Error(
          `${label}: the proof run ended ${report.result.status} / ${report.result.reproduction?.status ?? 'no reproduction'}: ${report.result.error ?? report.result.verify?.outputTail ?? ''}`,
        );
      }
      reports.push(report);
      await rm(workDir, { recursive: true, force: true });
      const bare = fileURLToPath(fixCase.cloneUrl);
      await git(bare, ['update-ref', '-d', `refs/heads/${branch}`]);
    }
  } finally {
    await fixCase.cleanup();
  }
  const note = `ms, median of ${RUNS}; reproduced, after passing`;
  return [
    row1(`${label}: reproduction added, the before run (ms)`, reports, (r) => r.timings.reproduce ?? 0, note),
    row1(
      `${label}:   of which checkout + hand-over (ms)`,
      reports,
      (r) => r.timings['reproduce.checkout'] ?? 0,
      note,
    ),
    row1(
      `${label}: verify on the final tree, the after run (ms)`,
      reports,
      (r) => r.timings.verify ?? 0,
      note,
    ),
    row1(
      `${label}:   of which checkout + hand-over (ms)`,
      reports,
      (r) => r.timings['verify.checkout'] ?? 0,
      note,
    ),
  ];
}

/**
 * The gate's decision and the risk scan on one added file that is a single 1 MiB line, in three
 * shapes: minified code, plain letters, and `a+a+…` (what made the old URL-with-credentials
 * pattern quadratic). Beside it, the old pattern on 32 KiB of `a+`, extrapolated to 1 MiB.
 */
function measureGateOnLongLine(): BenchRow[] {
  const size = 1024 * 1024;
  const shapes: Array<[string, string]> = [
    [
      'minified code',
      'var a0=b.c(d,"e"),f=function(g){return g+1};'.repeat(Math.ceil(size / 45)).slice(0, size),
    ],
    ['letters', 'a'.repeat(size)],
    ['a+a+a+… (the old worst case)', 'a+'.repeat(size / 2)],
  ];
  const rows: BenchRow[] = [];
  for (const [name, line] of shapes) {
    const samples: number[] = [];
    for (let run = 0; run < 5; run += 1) {
      const started = performance.now();
      decideGate({
        allowlist: ['src/'],
        limits: { maxChangedFiles: 5, maxDiffLines: 10 },
        entries: [
          {
            status: 'A',
            oldMode: '000000',
            newMode: '100644',
            oldBlob: '0'.repeat(40),
            newBlob: 'a'.repeat(40),
            oldPath: null,
            newPath: 'src/bundle.js',
          },
        ],
        numstat: [{ path: 'src/bundle.js', added: 1, deleted: 0 }],
        contents: [{ path: 'src/bundle.js', binary: false, tooLarge: false, addedLines: [line] }],
        secretValues: ['sk-ant-bench-secret-value-0123456789', 'ghs_benchToken0123456789abcdefABCDEF'],
      });
      findFixRisks({
        files: [{ path: 'src/bundle.js', addedLines: numberAddedLines('', line) }],
        baseHosts: [],
        manifests: [],
        builtinModules: [],
        localNames: [],
      });
      samples.push(performance.now() - started);
    }
    rows.push({
      name: `gate + risks on a 1 MiB single-line file: ${name} (ms)`,
      value: Math.round(median(samples)),
      note: 'median of 5; decideGate (credential scan) and findFixRisks',
    });
  }
  const OLD_URL_PATTERN = /\b[a-z][a-z0-9+.-]*:\/\/[^\s:/@'"`]+:[^\s@/'"`]{6,}@/i;
  const sample = 'a+'.repeat(16 * 1024);
  const started = performance.now();
  OLD_URL_PATTERN.test(sample);
  const oldMs = performance.now() - started;
  rows.push({
    name: 'the old URL-with-credentials pattern on 32 KiB of a+ (ms)',
    value: Math.round(oldMs),
    note: `quadratic: about ${((oldMs * 1024) / 60_000).toFixed(1)} min for 1 MiB (×32²)`,
  });
  return rows;
}

/** The whole gate phase (snapshot, diff, read, decide) and the risk phase, through a real run. */
async function measureGatePhaseOnLongLine(work: string): Promise<BenchRow> {
  const dataDir = join(work, 'gate-data');
  const sandbox = await ensureSandboxRepo(dataDir, { fresh: true });
  // Generated in the workspace: one line, a byte short of the 1 MiB the gate still reads.
  const claudeBin = await writeStandInClaude(
    work,
    'long-line',
    `node -e 'process.stdout.write("var a0=b.c(d,e),f=function(g){return g+1};".repeat(30000).slice(0, 1048575))' > src/bundle.min.js`,
  );
  const reports: RunFixReport[] = [];
  try {
    for (let run = 0; run < RUNS; run += 1) {
      const branch = `bugbot/bench-long-line-${run}`;
      const workDir = join(work, `long-line-${run}`);
      reports.push(
        await runFix(
          { ...benchSpec(pathToFileURL(sandbox.bareDir).href, branch), allowlist: ['src/'] },
          {
            claudeBin,
            anthropicApiKey: 'bench-not-used',
            secretValues: [],
            path: process.env.PATH ?? '/usr/bin:/bin',
            workDir,
          },
        ),
      );
      await rm(workDir, { recursive: true, force: true });
    }
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
  return row1(
    'gate phase + risk phase, a 1 MiB single-line file added to the sandbox repo (ms)',
    reports,
    (report) => (report.timings.gate ?? 0) + (report.timings.risks ?? 0),
    `median of ${RUNS}; snapshot, diff, read, decide, scan (run ended ${reports[0]?.result.status})`,
  );
}

function row1(
  name: string,
  reports: readonly RunFixReport[],
  pick: (report: RunFixReport) => number,
  note = `ms, median of ${RUNS}`,
): BenchRow {
  return { name, value: Math.round(median(reports.map(pick))), note };
}

/** A stand-in `claude` running `script` in the workspace, then printing the CLI's JSON result. */
async function writeStandInClaude(dir: string, name: string, script: string): Promise<string> {
  const path = join(dir, `${name}.sh`);
  const result = JSON.stringify({
    type: 'result',
    subtype: 'success',
    is_error: false,
    num_turns: 3,
    result: 'Wrote a failing test, then fixed it.',
    total_cost_usd: 0,
  });
  await writeFile(path, `#!/bin/sh\nset -e\n${script}\necho '${result}'\n`);
  await chmod(path, 0o755);
  return path;
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
  // The stand-in agent runs as the sandbox's agent user: it may move main on this bench origin.
  await exec$('chmod', ['-R', 'a+rwX', origin.path]);
  const claudeBin = await writeBenchClaude(
    work,
    `git -c safe.directory='*' -C ${origin.path} update-ref refs/heads/main ${moved}`,
  );
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
