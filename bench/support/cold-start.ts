import { execFile } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface ColdStartSample {
  /** `await import(bundle)`: reading, compiling and evaluating the module, the composition root included. */
  readonly importMs: number;
  /** The first invocation right after: lazy SDK setup, the first connection, first-run JIT. */
  readonly firstInvokeMs: number | null;
  readonly status: number | null;
}

// Runs in a fresh `node`; the result goes out on a marked line because the handler logs to stdout too.
const SCRIPT = `
import { readFileSync } from 'node:fs';
const started = performance.now();
const module = await import(process.env.BENCH_BUNDLE_URL);
const importMs = performance.now() - started;
let firstInvokeMs = null;
let status = null;
if (process.env.BENCH_EVENT_FILE) {
  const event = JSON.parse(readFileSync(process.env.BENCH_EVENT_FILE, 'utf8'));
  const invoked = performance.now();
  const result = await module.handler(event);
  firstInvokeMs = performance.now() - invoked;
  status = result.statusCode;
}
process.stdout.write('\\nBENCH_RESULT ' + JSON.stringify({ importMs, firstInvokeMs, status }) + '\\n');
process.exit(0);
`;

/**
 * One fresh process per sample, with only the Lambda's environment: what a cold start pays before
 * (import) and during (first invocation) the first request. Samples run one after another.
 */
export async function measureColdStarts(input: {
  file: string;
  env: Record<string, string>;
  eventFile?: string;
  samples: number;
}): Promise<ColdStartSample[]> {
  const samples: ColdStartSample[] = [];
  for (let index = 0; index < input.samples; index += 1) {
    const { stdout } = await run(process.execPath, ['--no-warnings', '--input-type=module', '-e', SCRIPT], {
      env: {
        PATH: process.env.PATH ?? '',
        ...input.env,
        BENCH_BUNDLE_URL: pathToFileURL(input.file).href,
        ...(input.eventFile ? { BENCH_EVENT_FILE: input.eventFile } : {}),
      },
      timeout: 30_000,
      maxBuffer: 4 * 1024 * 1024,
    });
    const line = stdout.split('\n').find((candidate) => candidate.startsWith('BENCH_RESULT '));
    if (!line) throw new Error(`cold start of ${input.file} printed no result: ${stdout.slice(-500)}`);
    samples.push(JSON.parse(line.slice('BENCH_RESULT '.length)) as ColdStartSample);
  }
  return samples;
}
