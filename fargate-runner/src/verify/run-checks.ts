import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { isTestPath, type RawDiffEntry } from '../../../shared/domain/allowlist-gate.js';
import type { FixReproduction, FixResult } from '../../../shared/jobs/job-schemas.js';
import { buildTreeWith, checkoutTree, type TreeFile } from '../git/trees.js';
import type { RunLayout } from '../git/workspace.js';
import { handOver, type SandboxState } from '../sandbox/sandbox-users.js';
import { runVerify, type VerifyOutcome } from './run-verify.js';

/**
 * A fix proves itself (DESIGN "Fix runner"). The runner, not the agent, runs `verify.command`:
 * - `before`: on the base tree plus only the test files the agent added or changed — it must
 *   fail, or the tests do not catch the bug;
 * - `after`: on the final (gated) tree — it must pass.
 * Each on a fresh checkout of its own, as the sandbox's tests user, with a HOME of its own (the
 * `before` run leaves nothing the `after` run could pick up). Without a sandbox, agent-written
 * code does not run at all: `verify` says why, and there is no `reproduction`.
 */

export interface RunChecksInput {
  readonly layout: RunLayout;
  readonly sandbox: SandboxState;
  readonly verify: { readonly command: string; readonly timeoutSeconds: number };
  readonly baseTree: string;
  readonly finalTree: string;
  /** The gate's diff of the final tree against the base. */
  readonly entries: readonly RawDiffEntry[];
  readonly path: string;
  /** Called around each step, for the run's timings (`reproduce`, `verify`). */
  readonly timed: <T>(phase: string, work: () => Promise<T>) => Promise<T>;
}

export interface ChecksOutcome {
  readonly verify: NonNullable<FixResult['verify']>;
  readonly reproduction?: FixReproduction;
}

const REGULAR_MODES = new Set(['100644', '100755']);

/** The agent's added or changed test files (new side), which alone go onto the base tree. */
export function listAgentTests(entries: readonly RawDiffEntry[]): TreeFile[] {
  return entries
    .filter(
      (entry) =>
        entry.newPath !== null &&
        ['A', 'M', 'R'].includes(entry.status) &&
        REGULAR_MODES.has(entry.newMode) &&
        isTestPath(entry.newPath),
    )
    .map((entry) => ({ path: entry.newPath as string, mode: entry.newMode, blob: entry.newBlob }));
}

export async function runChecks(input: RunChecksInput): Promise<ChecksOutcome> {
  const { sandbox, verify } = input;
  if (!sandbox.available) {
    return {
      verify: {
        command: verify.command,
        exitCode: null,
        outputTail: `[bugbot] verify was not run: ${sandbox.reason}. Code the agent wrote runs only as a user of its own.`,
      },
    };
  }
  const tests = listAgentTests(input.entries);
  let before: VerifyOutcome | undefined;
  if (tests.length > 0) {
    before = await input.timed('reproduce', async () => {
      const tree = await buildTreeWith(
        input.layout,
        input.baseTree,
        tests,
        join(input.layout.privateDir, 'before-tree.index'),
      );
      return runOnTree(input, 'before', tree, 'reproduce.checkout');
    });
  }
  const after = await input.timed('verify', () =>
    runOnTree(input, 'after', input.finalTree, 'verify.checkout'),
  );
  const run = (outcome: VerifyOutcome) => ({ exitCode: outcome.exitCode, outputTail: outcome.outputTail });
  const reproduction: FixReproduction = before
    ? {
        status: before.exitCode === 0 ? 'not_reproduced' : 'reproduced',
        tests: tests.map((test) => test.path),
        before: run(before),
        after: run(after),
      }
    : { status: 'no_test', tests: [], after: run(after) };
  return { verify: { command: verify.command, ...run(after) }, reproduction };
}

async function runOnTree(
  input: RunChecksInput,
  name: 'before' | 'after',
  tree: string,
  checkoutPhase: string,
): Promise<VerifyOutcome> {
  const sandbox = input.sandbox;
  if (!sandbox.available) throw new Error('no sandbox');
  const dir = join(input.layout.verifyDir, name);
  const repo = join(dir, 'repo');
  const home = join(dir, 'home');
  await mkdir(input.layout.verifyDir, { recursive: true, mode: 0o711 });
  await mkdir(repo, { recursive: true, mode: 0o700 });
  await mkdir(join(home, 'tmp'), { recursive: true, mode: 0o700 });
  await input.timed(checkoutPhase, async () => {
    await checkoutTree(input.layout, tree, repo, join(input.layout.privateDir, `${name}.index`));
    await handOver([dir], sandbox.tests);
  });
  return runVerify({
    command: input.verify.command,
    timeoutSeconds: input.verify.timeoutSeconds,
    cwd: repo,
    home,
    outputPath: join(input.layout.privateDir, `verify-${name}.log`),
    path: input.path,
    sandbox,
  });
}
