import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { runProcess, tailText } from '../process/run-process.js';
import { type Sandbox, stopUser } from '../sandbox/sandbox-users.js';

/**
 * The deployer's check (e.g. `npm ci && npm test`), run by the runner after the gate on a tree it
 * checked out itself, as the sandbox's tests user, with an environment built from scratch and a
 * time limit that kills its whole process tree. Everything it starts is stopped afterwards.
 *
 * It is configuration, not agent input, so it runs through `sh -c`. It does run code the agent
 * wrote (the fix and its tests), which is why it runs as a user that can reach no secret: not in
 * its environment, not in another process's /proc, not in a file (README "The sandbox").
 */

export const VERIFY_OUTPUT_TAIL_BYTES = 4096;

export interface VerifyInput {
  readonly command: string;
  readonly timeoutSeconds: number;
  /** The checkout to run in, owned by the tests user. */
  readonly cwd: string;
  /** HOME for the command (with `tmp/` inside), owned by the tests user. */
  readonly home: string;
  /** The runner's own file for the output (the command only gets the open descriptor). */
  readonly outputPath: string;
  readonly path: string;
  readonly sandbox: Sandbox;
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
  const output = await open(input.outputPath, 'w+', 0o600);
  let outcome: Awaited<ReturnType<typeof runProcess>>;
  let written: Buffer;
  try {
    try {
      outcome = await runProcess('sh', ['-c', input.command], {
        cwd: input.cwd,
        env: buildVerifyEnv(input.path, input.home),
        timeoutMs: input.timeoutSeconds * 1000,
        outputFd: output.fd,
        user: input.sandbox.tests,
        setpriv: input.sandbox.setpriv,
      });
    } finally {
      await stopUser(input.sandbox, input.sandbox.tests);
    }
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

/** Nothing of the runner's: no token, no AWS_* (no credentials endpoint), no ECS_* (no metadata URI). */
export function buildVerifyEnv(path: string, home: string): Record<string, string> {
  return {
    PATH: path,
    HOME: home,
    TMPDIR: join(home, 'tmp'),
    LANG: 'C.UTF-8',
    CI: '1',
    npm_config_cache: join(home, '.npm'),
    npm_config_update_notifier: 'false',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_TERMINAL_PROMPT: '0',
  };
}
