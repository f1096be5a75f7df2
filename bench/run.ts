import { existsSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { type BenchRow, printSection } from './support/table.js';

/**
 * `npm run bench [-- section...]`: measures, never asserts. Sections by name (default: all);
 * sections written by others are run when their files exist.
 */

type SectionRunner = () => Promise<BenchRow[]>;

interface Section {
  readonly name: string;
  readonly title: string;
  /** Module beside this file, and the function it exports. */
  readonly module: string;
  readonly run: string;
}

const SECTIONS: readonly Section[] = [
  { name: 'ingress', title: 'Ingress Lambdas', module: './ingress-bench.ts', run: 'runIngressBench' },
  { name: 'processor', title: 'Processor', module: './processor-bench.ts', run: 'runProcessorBench' },
  {
    name: 'duplicates',
    title: 'Duplicate detection',
    module: './duplicates-bench.ts',
    run: 'runDuplicatesBench',
  },
  { name: 'storm', title: 'Incident storm', module: './storm-bench.ts', run: 'runStormBench' },
  { name: 'runner', title: 'Fix runner', module: './runner-bench.ts', run: 'runRunnerBench' },
  {
    name: 'candidates',
    title: 'Candidate files for the fix agent (code search)',
    module: './candidate-files-bench.ts',
    run: 'runCandidateFilesBench',
  },
  { name: 'console', title: 'Console page (Chromium)', module: './console-bench.ts', run: 'runConsoleBench' },
];

/**
 * The AWS SDK warns once per process that it will need Node 22 from 2027 (Lambda runs 22); keep
 * that out of the tables and let every other warning through.
 */
function quietNodeVersionNotice(): void {
  const printers = process.listeners('warning');
  process.removeAllListeners('warning');
  process.on('warning', (warning) => {
    if (warning.message.startsWith('NodeVersionSupportWarning')) return;
    for (const print of printers) print(warning);
  });
}

async function main(): Promise<void> {
  quietNodeVersionNotice();
  const wanted = process.argv.slice(2).filter((argument) => !argument.startsWith('-'));
  const unknown = wanted.filter((name) => !SECTIONS.some((section) => section.name === name));
  if (unknown.length > 0) {
    console.error(
      `unknown section(s): ${unknown.join(', ')}; choose from ${SECTIONS.map((s) => s.name).join(', ')}`,
    );
    process.exitCode = 2;
    return;
  }
  const selected = SECTIONS.filter((section) => wanted.length === 0 || wanted.includes(section.name));
  const cpu = cpus();
  console.log(
    `bugbot bench · node ${process.version} · ${cpu.length} CPU (${cpu[0]?.model.trim() ?? 'unknown'}) · ` +
      `load ${loadavg()
        .map((load) => load.toFixed(2))
        .join(' ')} · ${new Date().toISOString()}`,
  );

  for (const section of selected) {
    const file = fileURLToPath(new URL(section.module, import.meta.url));
    if (!existsSync(file)) {
      console.log(`\n## ${section.title}\n\n(skipped: ${section.module} does not exist yet)`);
      continue;
    }
    const started = performance.now();
    let rows: BenchRow[];
    try {
      // A computed specifier: sections others own may not exist yet, and tsc must not resolve them.
      const module = (await import(section.module)) as Record<string, unknown>;
      const run = module[section.run];
      if (typeof run !== 'function') throw new Error(`${section.module} does not export ${section.run}()`);
      rows = await (run as SectionRunner)();
    } catch (error) {
      rows = [{ name: 'error', value: 'section failed', note: describe(error) }];
      process.exitCode = 1;
    }
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    // The machine is shared: the load average says how much to trust the section's numbers.
    printSection(`${section.title} (${seconds} s, load ${loadavg()[0]?.toFixed(2)})`, rows);
  }
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  return (error.stack ?? error.message).split('\n').slice(0, 4).join(' | ');
}

await main();
