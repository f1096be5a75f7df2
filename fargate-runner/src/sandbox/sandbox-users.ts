import { randomInt } from 'node:crypto';
import { accessSync, constants as fsConstants } from 'node:fs';
import { lstat, mkdir, open, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { BugbotError } from '../../../shared/domain/errors.js';
import { runProcess } from '../process/run-process.js';
import { listProcessesOf } from './processes.js';

/**
 * The users a run's untrusted parts run as (fargate-runner/README.md, "The sandbox").
 *
 * The runner itself is root: ECS puts the task's secrets into its environment, and the kernel lets
 * only the same user (or CAP_SYS_PTRACE) read `/proc/<pid>/environ` and `/proc/<pid>/mem`. Two
 * other users, fresh for every run, get what must not be root:
 * - `agent` runs the Claude Code CLI, which holds the Anthropic key;
 * - `tests` runs code the agent wrote (`verify.command`), with nothing secret at all.
 * Neither can read the other's processes or files, nor the runner's. Each is stopped whole
 * (`kill -KILL -1` run as that user, until /proc shows none of its processes) before the next
 * step, and before anything is pushed.
 *
 * The ids are picked at random from a range nobody uses and locked for the run (a file in a
 * root-only directory), so runs sharing a machine never share, or kill, each other's users.
 */

export interface SandboxUser {
  readonly uid: number;
  readonly gid: number;
}

export interface Sandbox {
  readonly available: true;
  readonly agent: SandboxUser;
  readonly tests: SandboxUser;
  /** `setpriv`, which every sandboxed command runs through (no-new-privs, no inheritable caps). */
  readonly setpriv: string;
}

/**
 * Only when the runner is not root (a developer's machine): the CLI then runs as the runner's own
 * user, as before, and agent-written code does not run at all. As root, a sandbox that cannot be
 * had is an error, never a fallback: the agent must not run as root.
 */
export interface NoSandbox {
  readonly available: false;
  /** Why agent-written code cannot run here, for result.json. */
  readonly reason: string;
}

export type SandboxState = Sandbox | NoSandbox;

export interface AcquiredSandbox {
  readonly state: SandboxState;
  /** Stops whatever the sandbox users left running and frees their ids. Safe to call twice. */
  release(): Promise<void>;
}

/** Above any system, user, systemd-dynamic or container id range; below 2^31 for old tools. */
export const SANDBOX_UID_BASE = 1_900_000_000;
const SANDBOX_SLOTS = 100_000;
const LOCK_DIR_NAME = 'bugbot-sandbox-users';

export class SandboxError extends BugbotError {}

export interface AcquireSandboxOptions {
  /** Where the per-run locks live. Default `<tmpdir>/bugbot-sandbox-users`. */
  readonly lockDir?: string;
  readonly path?: string;
}

export async function acquireSandbox(options: AcquireSandboxOptions = {}): Promise<AcquiredSandbox> {
  const unavailable = (reason: string): AcquiredSandbox => ({
    state: { available: false, reason },
    release: async () => {},
  });
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) {
    return unavailable(
      'the runner does not run as root, so it cannot run code the agent wrote as a user of its own',
    );
  }
  const path = options.path ?? process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin';
  const setpriv = findExecutable('setpriv', path);
  // As root, a sandbox that cannot be had fails the run: the agent must never run as root.
  if (!setpriv)
    throw new SandboxError('setpriv (util-linux) is not installed, so the sandbox cannot drop privileges');

  const lockDir = options.lockDir ?? join(tmpdir(), LOCK_DIR_NAME);
  await mkdir(lockDir, { recursive: true, mode: 0o700 });
  const lockStat = await lstat(lockDir);
  // Anyone who could write here could plant or remove locks; it must be root's alone.
  if (!lockStat.isDirectory() || lockStat.uid !== 0 || (lockStat.mode & 0o077) !== 0) {
    throw new SandboxError(`the sandbox lock directory ${lockDir} is not private to root`);
  }

  for (let attempt = 0; attempt < 20; attempt += 1) {
    const slot = randomInt(0, SANDBOX_SLOTS);
    const agent = { uid: SANDBOX_UID_BASE + slot * 2, gid: SANDBOX_UID_BASE + slot * 2 };
    const tests = { uid: agent.uid + 1, gid: agent.gid + 1 };
    const lockPath = join(lockDir, String(slot));
    let lock: Awaited<ReturnType<typeof open>>;
    try {
      lock = await open(lockPath, 'wx', 0o600);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') continue;
      throw error;
    }
    await lock.writeFile(`${process.pid}\n`);
    await lock.close();
    // A run that crashed without releasing may have left processes under these ids: the slot
    // stays locked (this lock is never removed) and another is tried.
    if ((await listProcessesOf([agent.uid, tests.uid])).length > 0) continue;

    const state: Sandbox = { available: true, agent, tests, setpriv };
    const probe = await probeUser(state, tests, path);
    if (probe) {
      await unlink(lockPath).catch(() => {});
      throw new SandboxError(probe);
    }
    let released = false;
    return {
      state,
      release: async () => {
        if (released) return;
        released = true;
        await stopUser(state, agent).catch(() => {});
        await stopUser(state, tests).catch(() => {});
        await unlink(lockPath).catch(() => {});
      },
    };
  }
  throw new SandboxError('could not reserve a pair of sandbox user ids after 20 attempts');
}

/** Switching to the user must work (root without CAP_SETUID, a user namespace without the id…). */
async function probeUser(sandbox: Sandbox, user: SandboxUser, path: string): Promise<string | null> {
  try {
    const outcome = await runProcess('id', ['-u'], {
      env: { PATH: path },
      timeoutMs: 10_000,
      user,
      setpriv: sandbox.setpriv,
    });
    if (outcome.exitCode === 0 && outcome.stdout.toString().trim() === String(user.uid)) return null;
    return `switching to an unprivileged user failed (exit ${outcome.exitCode ?? outcome.signal})`;
  } catch {
    return 'switching to an unprivileged user failed';
  }
}

/**
 * Kills every process of `user`: `kill -KILL -1` run as that user reaches exactly its processes
 * (the kernel holds off new forks while it delivers), repeated until /proc shows none alive.
 */
export async function stopUser(sandbox: Sandbox, user: SandboxUser): Promise<void> {
  for (let attempt = 0; attempt < 50; attempt += 1) {
    if ((await listProcessesOf([user.uid])).length === 0) return;
    await runProcess('sh', ['-c', 'kill -KILL -1'], {
      env: { PATH: '/usr/bin:/bin' },
      timeoutMs: 10_000,
      user,
      setpriv: sandbox.setpriv,
    }).catch(() => {});
    await new Promise((resolve) => setTimeout(resolve, Math.min(5 * attempt, 50)));
  }
  const left = await listProcessesOf([user.uid]);
  if (left.length > 0) {
    throw new SandboxError(`${left.length} process(es) of sandbox user ${user.uid} would not stop`);
  }
}

/** `chown -R` (never following symlinks), before the user runs anything in the tree. */
export async function handOver(paths: readonly string[], user: SandboxUser): Promise<void> {
  if (paths.length === 0) return;
  const outcome = await runProcess('chown', ['-R', '-P', `${user.uid}:${user.gid}`, '--', ...paths], {
    env: { PATH: '/usr/bin:/bin' },
    timeoutMs: 5 * 60_000,
  });
  if (outcome.exitCode !== 0) {
    throw new SandboxError(`could not hand the run's files to the sandbox user: ${outcome.stderr.trim()}`);
  }
}

function findExecutable(name: string, path: string): string | null {
  for (const dir of [...path.split(delimiter), '/usr/bin', '/bin', '/usr/sbin', '/sbin']) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, fsConstants.X_OK);
      return candidate;
    } catch {
      // Not here.
    }
  }
  return null;
}
