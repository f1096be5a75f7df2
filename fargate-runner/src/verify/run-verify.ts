import { mkdir, open } from 'node:fs/promises';
import { join } from 'node:path';
import { runProcess, tailText } from '../process/run-process.js';

/**
 * The deployer's check (e.g. `npm ci && npm test`), run by the runner after the gate, in the
 * workspace, with a scrubbed environment and a time limit that kills its whole process tree.
 *
 * It is configuration, not agent input, so it runs through `sh -c`. It does run code the agent
 * wrote (the fix and its tests), which is why it sees no secret in its environment.
 */

export const VERIFY_OUTPUT_TAIL_BYTES = 4096;

export interface VerifyInput {
  readonly command: string;
  readonly timeoutSeconds: number;
  readonly workspace: string;
  /** A directory of the runner's for HOME, caches and the output file. */
  readonly scratch: string;
  readonly path: string;
}

export interface VerifyOutcome {
  readonly command: string;
  /** Null when it was killed (timeout or signal). */
  readonly exitCode: number | null;
  readonly outputTail: string;
  readonly timedOut: boolean;
  readonly durationMs: number;
}

export async function runVerify(input: VerifyInput): Promise<VerifyOutcome> {
  const home = join(input.scratch, 'home');
  await mkdir(join(home, 'tmp'), { recursive: true });
  const outputPath = join(input.scratch, 'output.log');
  const output = await open(outputPath, 'w+');
  let outcome: Awaited<ReturnType<typeof runProcess>>;
  let written: Buffer;
  try {
    outcome = await runProcess('sh', ['-c', input.command], {
      cwd: input.workspace,
      env: {
        PATH: input.path,
        HOME: home,
        TMPDIR: join(home, 'tmp'),
        LANG: 'C.UTF-8',
        CI: '1',
        npm_config_cache: join(home, '.npm'),
        npm_config_update_notifier: 'false',
        GIT_CONFIG_NOSYSTEM: '1',
        GIT_CONFIG_GLOBAL: '/dev/null',
        GIT_TERMINAL_PROMPT: '0',
      },
      timeoutMs: input.timeoutSeconds * 1000,
      outputFd: output.fd,
    });
    // Only the tail is kept; a chatty test run may write far more than we want to hold.
    const { size } = await output.stat();
    const length = Math.min(size, VERIFY_OUTPUT_TAIL_BYTES * 2);
    written = Buffer.alloc(length);
    await output.read(written, 0, length, size - length);
  } finally {
    await output.close();
  }
  let tail = tailText(written.toString('utf8'), VERIFY_OUTPUT_TAIL_BYTES);
  if (outcome.timedOut)
    tail += `\n[bugbot] verify did not finish within ${input.timeoutSeconds} s and was stopped`;
  return {
    command: input.command,
    exitCode: outcome.timedOut ? null : outcome.exitCode,
    outputTail: tail,
    timedOut: outcome.timedOut,
    durationMs: outcome.durationMs,
  };
}
